//! `rolecall serve` driven by the AWS clients people point at it: boto3 and
//! the AWS CLI (v1), installed pinned in target/python-env by
//! scripts/python-env.sh. Each test starts the server on a fresh account,
//! runs one function of a script in tests/python/ (rc.py there says what a
//! script is given), stops the server with SIGTERM (it must exit 0), and
//! fails with the script's output when the script fails.

mod conformance_table;
mod support;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ROLECALL: &str = env!("CARGO_BIN_EXE_rolecall");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A finished process: its status and output.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn describe(&self) -> String {
        format!(
            "{}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to the end, killed after `limit` (then this panics). Output
/// goes to files, so a chatty child never blocks on a full pipe.
fn run_bounded(cmd: &mut Command, limit: Duration) -> Finished {
    let mut stdout = tempfile::tempfile().unwrap();
    let mut stderr = tempfile::tempfile().unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().unwrap())
        .stderr(stderr.try_clone().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |file: &mut File| {
        let mut text = String::new();
        file.rewind().unwrap();
        file.read_to_string(&mut text).unwrap();
        text
    };
    let (stdout, stderr) = (read(&mut stdout), read(&mut stderr));
    match status {
        Some(status) => Finished {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "{cmd:?} still running after {limit:?}: killed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        ),
    }
}

/// The pinned virtual environment's Python (boto3, the AWS CLI).
fn python() -> PathBuf {
    support::moto::python_env().join("bin/python")
}

/// `rolecall` on `account`, to the end.
fn rolecall(account: &Path, args: &[&str]) -> Finished {
    let out = run_bounded(
        Command::new(ROLECALL)
            .arg("--account")
            .arg(account)
            .args(args)
            .env_remove("ROLECALL_ACCOUNT")
            .env("NO_COLOR", "1"),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "rolecall {args:?} failed: {}",
        out.describe()
    );
    out
}

/// `rolecall serve --listen 127.0.0.1:0` on a fresh account; killed on drop.
struct Server {
    child: Child,
    dir: tempfile::TempDir,
    account: PathBuf,
    endpoint: String,
    key: String,
    secret: String,
    /// The `export` lines serve printed, as (name, value).
    exports: Vec<(String, String)>,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let account = dir.path().join("account.db");
        let creds: Value = serde_json::from_str(
            &rolecall(&account, &["emulator", "credentials", "--format", "json"]).stdout,
        )
        .expect("credentials --format json is JSON");
        let key = creds["AccessKeyId"].as_str().unwrap().to_string();
        let secret = creds["SecretAccessKey"].as_str().unwrap().to_string();
        assert!(key.starts_with("AKIA"), "access key {key}");

        let mut child = Command::new(ROLECALL)
            .arg("--account")
            .arg(&account)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("ROLECALL_ACCOUNT")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(dir.path().join("serve.stderr")).unwrap())
            .spawn()
            .expect("rolecall serve starts");
        // Its stdout is read on a thread (to the end, so the server never
        // blocks writing) and its first lines handed over.
        let (lines, got) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            dir,
            account,
            endpoint: String::new(),
            key,
            secret,
            exports: Vec::new(),
        };
        // Its stdout is `export NAME=VALUE` lines, all written at once:
        // AWS_ENDPOINT_URL first, then the region (AWS_REGION, and
        // AWS_DEFAULT_REGION, which botocore and the AWS CLI v1 read).
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen: Vec<String> = Vec::new();
        loop {
            let left = if seen.len() < 2 {
                deadline.saturating_duration_since(Instant::now())
            } else {
                Duration::from_millis(300)
            };
            match got.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) if seen.len() >= 2 => break,
                Err(_) => panic!(
                    "rolecall serve printed {seen:?} in 30 s, not its export lines\n{}",
                    server.log()
                ),
            }
        }
        for line in &seen {
            let (name, value) = line
                .strip_prefix("export ")
                .and_then(|l| l.split_once('='))
                .unwrap_or_else(|| panic!("serve printed {line:?}, not an export line"));
            server.exports.push((name.to_string(), value.to_string()));
        }
        let endpoint = seen[0]
            .strip_prefix("export AWS_ENDPOINT_URL=http://127.0.0.1:")
            .and_then(|port| port.parse::<u16>().ok())
            .filter(|port| *port != 0)
            .unwrap_or_else(|| panic!("first line of serve: {:?}", seen[0]));
        assert_eq!(
            seen[1], "export AWS_REGION=us-east-1",
            "second line of serve"
        );
        server.endpoint = format!("http://127.0.0.1:{endpoint}");
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.stderr")).unwrap_or_default()
    }

    /// Runs `tests/python/SCRIPT TEST` as an AWS client of this server
    /// would be set up; panics with its output unless it succeeds.
    fn python(&mut self, script: &str, test: &str, env: &[(&str, &str)], limit: Duration) {
        let empty = self.dir.path().join("aws-empty");
        File::create(&empty).unwrap();
        let mut cmd = Command::new(python());
        cmd.arg(repo().join("tests/python").join(script))
            .arg(test)
            .current_dir(repo());
        // Nothing of the user's AWS set-up leaks in.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(name);
            }
        }
        // What serve printed, as `eval "$(rolecall serve)"` would set it.
        cmd.envs(self.exports.iter().map(|(k, v)| (k, v)));
        cmd.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", &empty)
            .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("ROLECALL", ROLECALL)
            .env("ROLECALL_ACCOUNT", &self.account)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied());
        let out = run_bounded(&mut cmd, limit);
        assert!(
            out.status.success(),
            "tests/python/{script} {test} failed: {}\n--- rolecall serve's stderr\n{}",
            out.describe(),
            self.log()
        );
        print!("{}", out.stdout);
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "rolecall serve died during {script} {test}\n{}",
            self.log()
        );
    }

    /// SIGTERM: the server must exit 0 within 10 s, having printed no secret.
    fn stop(mut self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid, which has not been reaped.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "rolecall serve still running 10 s after SIGTERM\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let log = self.log();
        assert!(
            status.success(),
            "rolecall serve exited {status} on SIGTERM\n{log}"
        );
        assert!(
            !log.contains(&self.secret),
            "rolecall serve printed the secret key on stderr\n{log}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts a server, runs one Python test against it, stops it.
fn client_test(script: &str, test: &str) {
    let mut server = Server::start();
    server.python(script, test, &[], Duration::from_secs(300));
    server.stop();
}

#[test]
fn every_operation_through_boto3() {
    client_test("operations.py", "every_operation");
}

/// The conformance table as JSON for tests/python/conformance.py: the rows
/// of tests/conformance_table with their shorthands expanded, `$I` and `$A`
/// left for the script (they are the ids the row's own calls return).
fn conformance_cases() -> Value {
    use conformance_table::{CASES, call_params, expand, long_values};
    let step = |text: &str| {
        if let Some(n) = text.strip_prefix("QUOTA ") {
            return json!({"quota": n.parse::<u32>().unwrap()});
        }
        let (operation, params) = call_params(text);
        json!({"operation": operation, "params": params})
    };
    let rows: Vec<Value> = CASES
        .iter()
        .map(|(name, setup, call, expected)| {
            let setup: Vec<Value> = setup
                .iter()
                .flat_map(|s| expand(s))
                .map(|s| step(&s))
                .collect();
            json!({
                "name": name,
                "setup": setup,
                "call": step(call),
                "expected": long_values(expected),
            })
        })
        .collect();
    Value::Array(rows)
}

#[test]
fn conformance_table_through_the_wire() {
    let mut server = Server::start();
    let cases = server.dir.path().join("conformance.json");
    std::fs::write(&cases, conformance_cases().to_string()).unwrap();
    let cases = cases.to_str().unwrap().to_string();
    server.python(
        "conformance.py",
        "table",
        &[("CONFORMANCE_CASES", &cases)],
        Duration::from_secs(900),
    );
    server.stop();
}

#[test]
fn unsigned_requests_are_refused() {
    client_test("auth.py", "unsigned");
}

#[test]
fn unknown_keys_are_refused() {
    client_test("auth.py", "unknown_key");
}

#[test]
fn wrong_signatures_are_refused() {
    client_test("auth.py", "wrong_secret");
}

#[test]
fn requests_outside_the_clock_window_are_refused() {
    client_test("auth.py", "clock_skew");
}

#[test]
fn refused_requests_change_nothing() {
    client_test("auth.py", "rejected_requests_change_nothing");
}

#[test]
fn a_rotated_key_stops_working() {
    client_test("auth.py", "rotated_key");
}

#[test]
fn concurrent_clients() {
    client_test("concurrency.py", "concurrent_clients");
}

#[test]
fn keep_alive() {
    client_test("concurrency.py", "keep_alive");
}

#[test]
fn malformed_requests_get_aws_errors() {
    // One server for all: after each, it must still answer.
    let mut server = Server::start();
    for test in [
        "unknown_action",
        "missing_action",
        "bad_percent_encoding",
        "invalid_utf8",
        "oversized_body",
        "broken_connections",
    ] {
        server.python("malformed.py", test, &[], Duration::from_secs(120));
    }
    server.stop();
}

#[test]
fn aws_cli_get_role_matches_emulator_get_role() {
    client_test("aws_cli.py", "get_role_matches_emulator");
}

#[test]
fn aws_cli_calls() {
    client_test("aws_cli.py", "cli_calls");
}

#[test]
fn assume_role_allowed_gives_working_credentials() {
    client_test("sts.py", "assume_role_allowed");
}

#[test]
fn assume_role_denied() {
    client_test("sts.py", "assume_role_denied");
}

#[test]
fn throttling_through_the_endpoint() {
    client_test("faults.py", "throttling");
}

#[test]
fn injected_failures_through_the_endpoint() {
    client_test("faults.py", "injected_failure");
}

#[test]
fn serve_and_apply_share_the_account() {
    client_test("shared_account.py", "apply_while_clients_read");
}

#[test]
fn role_sessions_are_decided_by_their_policies() {
    client_test("authorization.py", "sessions_decided_by_policies");
}

#[test]
fn denied_calls_are_in_the_trail_and_drift_names_the_session() {
    client_test("authorization.py", "denied_calls_in_trail_and_drift");
}

#[test]
fn customer_managed_policies_roll_and_decide_role_sessions() {
    client_test("policies.py", "customer_managed_story");
}

#[test]
fn imds_gives_sdks_the_instance_role() {
    client_test("imds.py", "sdk_credentials");
}

#[test]
fn imds_serves_the_new_role_after_a_profile_replacement() {
    client_test("imds.py", "profile_replacement");
}

#[test]
fn imds_gives_no_credentials_of_a_role_ec2_may_not_assume() {
    client_test("imds.py", "untrusted_role");
}

#[test]
fn imds_of_an_instance_without_a_profile() {
    client_test("imds.py", "no_profile");
}

#[test]
fn imds_protocol_as_ec2_answers_it() {
    client_test("imds.py", "protocol");
}

#[test]
fn an_instance_gets_its_roles_permissions_and_loses_them_when_revoked() {
    client_test("lab_story.py", "instance_story");
}

#[test]
fn pass_role_role_paths_and_recreated_roles_are_decided_as_on_aws() {
    client_test("authorization.py", "pass_role_paths_and_recreated_roles");
}
