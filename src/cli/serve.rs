//! `rolecall serve`: the emulated account as an AWS endpoint, until Ctrl-C.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use anyhow::Context;
use clap::Args;

use super::Outcome;
use super::output::{errln, write_stdout};
use super::session::Session;
use crate::server::{REGION, Server};

/// Where `serve` listens unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4599);

const AFTER_HELP: &str = "\
The AWS CLI, boto3 and the SDKs talk to it as to AWS: IAM, EC2 and STS on
one port, every request signed (SigV4) with a key the account holds.

  rolecall serve                              # in one terminal
  export AWS_ENDPOINT_URL=http://127.0.0.1:4599 AWS_DEFAULT_REGION=us-east-1
  eval \"$(rolecall emulator credentials)\"     # in another: the account's key
  aws iam list-roles

Lab instances have instance metadata (IMDSv2) under /imds/INSTANCE-ID/:
with AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:4599/imds/i-.../
and no keys, an SDK gets the credentials of the instance's role, and every
call of a role session is allowed or denied by the role's policies, as on
AWS. Every call is recorded: `rolecall emulator lookup-events`.

stdout carries only `export` lines (AWS_ENDPOINT_URL, AWS_REGION and
AWS_DEFAULT_REGION), so a
script can eval them; `rolecall emulator credentials` prints the key. Every
call is one transaction on the account file, so `rolecall apply` may run
beside the server. -v logs each request (never its keys or parameters).

Only loopback addresses are served unless --listen names another address
as a literal IP: anyone who reaches the port with the key can change the
account, and requests travel as plain HTTP.";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ServeArgs {
    /// Address to listen on: IP:PORT, localhost:PORT, or a bare PORT (on
    /// 127.0.0.1); port 0 picks a free one
    #[arg(long, value_name = "ADDR", default_value_t = DEFAULT_LISTEN.to_string())]
    pub listen: String,
}

/// The address `--listen` names. A host name must resolve to loopback
/// addresses only: serving beyond this machine takes a literal IP address,
/// so it is never the accident of a name resolving elsewhere.
fn listen_address(text: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let resolved: Vec<SocketAddr> = text
        .to_socket_addrs()
        .with_context(|| format!("--listen {text:?}: expected IP:PORT, HOST:PORT or PORT"))?
        .collect();
    match resolved.iter().find(|addr| !addr.ip().is_loopback()) {
        Some(outside) => anyhow::bail!(
            "--listen {text:?} resolves to {}, which is not a loopback address: to serve beyond this machine, name the address itself (e.g. --listen {outside})",
            outside.ip()
        ),
        None => resolved
            .into_iter()
            .next()
            .with_context(|| format!("--listen {text:?} resolves to no address")),
    }
}

pub fn run(session: &Session, args: ServeArgs) -> anyhow::Result<Outcome> {
    let listen = listen_address(&args.listen)?;
    let account = session.backend.account_file("serve")?;
    let server = Server::bind(account, listen)?;
    let addr = server.local_addr().context("reading the address served")?;
    let endpoint = format!("http://{addr}");
    if !addr.ip().is_loopback() {
        // Said even with -q: the user must not miss it.
        errln!(
            "warning: SERVING BEYOND THIS MACHINE on {addr}: anyone who can reach it with the account's key can read and change the account, over plain HTTP"
        );
    }
    let account_flag = if account.path() == crate::emulator::AccountFile::default().path() {
        String::new()
    } else {
        format!(" --account {}", account.path().display())
    };
    let account_id = server.account_id().to_string();
    let mut announced = Ok(());
    // Announced once SIGINT and SIGTERM are caught: a script may signal the
    // moment it reads the address.
    server.run_until_signal(|| {
        announced = write_stdout(&format!(
            // AWS_REGION for the SDKs, AWS_DEFAULT_REGION for the AWS CLI v1 and boto3.
            "export AWS_ENDPOINT_URL={endpoint}\nexport AWS_REGION={REGION}\nexport AWS_DEFAULT_REGION={REGION}\n"
        ));
        if !session.quiet {
            errln!(
                "Serving emulated account {account_id} ({}) at {endpoint}: IAM, EC2 and STS.\n\
                 Point a client at it:\n  \
                 export AWS_ENDPOINT_URL={endpoint} AWS_REGION={REGION} AWS_DEFAULT_REGION={REGION}\n  \
                 eval \"$(rolecall{account_flag} emulator credentials)\"\n\
                 Be a lab instance (its role's credentials from instance metadata, IMDSv2):\n  \
                 export AWS_EC2_METADATA_SERVICE_ENDPOINT={endpoint}/imds/INSTANCE-ID/\n\
                 Ctrl-C stops it.",
                account.path().display(),
            );
        }
    })?;
    announced?;
    if !session.quiet {
        errln!("Stopped.");
    }
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_default_to_loopback_and_names_must_stay_on_it() {
        assert_eq!(listen_address("0").unwrap(), "127.0.0.1:0".parse().unwrap());
        assert_eq!(
            listen_address("0.0.0.0:80").unwrap(),
            "0.0.0.0:80".parse().unwrap()
        );
        assert!(listen_address("localhost:0").unwrap().ip().is_loopback());
        assert!(listen_address("no port").is_err());
    }
}
