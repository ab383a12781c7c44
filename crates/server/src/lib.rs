//! `rolecall serve`: the emulated account as an AWS endpoint. One port
//! answers IAM (query protocol), EC2 (EC2 protocol) and STS (query
//! protocol), told apart by the service in each request's SigV4 credential
//! scope, so the AWS CLI, boto3 and the SDKs talk to a lab as to AWS.
//!
//! The pieces: [`http`] reads requests (keep-alive, bounded bodies, timeouts)
//! and shuts down gracefully; [`endpoint`] turns one request into one
//! answer: authentication ([`sigv4`] against the account's keys), the wire
//! codec (`rolecall_wire`), and the call itself on the emulator, where
//! every call is one SQLite transaction as in process. Each connection is
//! served on a thread of its own, its calls on a pool of emulator handles,
//! one SQLite connection each, so reads never wait for writes (WAL) and
//! calls from `rolecall apply` in another process interleave with these as
//! other clients' calls do on AWS.
//!
//! The same port also serves each lab instance's metadata service (IMDSv2)
//! under `/imds/<instance-id>/` ([`imds`]): a program given that URL as
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` gets the instance role's credentials
//! from its SDK, as on the instance.

mod authorize;
mod endpoint;
mod http;
mod imds;
mod pool;
pub mod sigv4;
mod trail_writer;

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use rolecall_emulator::{AccountFile, EmulatorError};

pub use endpoint::{MAX_BODY_BYTES, REGION};

/// Why the server could not start or stopped on an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Account(#[from] EmulatorError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("starting the server")]
    Runtime(#[source] std::io::Error),
}

/// A bound, not yet serving, endpoint for one account file.
pub struct Server {
    listener: TcpListener,
    endpoint: Arc<endpoint::Endpoint>,
    /// The lab instances' metadata service, under `/imds/<instance-id>/`.
    imds: Arc<imds::Imds>,
}

impl Server {
    /// Opens the account at `account` (creating it, as any first use does,
    /// and giving it an administrator key) and binds `listen`. Nothing is
    /// served until [`Server::run_until`].
    pub fn bind(account: &AccountFile, listen: SocketAddr) -> Result<Server, ServeError> {
        let emulator = account.open(None)?;
        // Makes sure the key exists before the first client asks.
        emulator.admin_key()?;
        let listener = TcpListener::bind(listen).map_err(|source| ServeError::Bind {
            addr: listen,
            source,
        })?;
        Ok(Server {
            listener,
            imds: Arc::new(imds::Imds::new(account.path().to_path_buf())),
            endpoint: Arc::new(endpoint::Endpoint::new(
                account.path().to_path_buf(),
                emulator,
            )?),
        })
    }

    /// The address served (the real port when `listen` asked for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The emulated account's id.
    pub fn account_id(&self) -> &str {
        self.endpoint.account_id()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets the
    /// requests in flight finish and returns, after 5 s at most. A
    /// connection still busy then (a client slow to send its body) is left
    /// to finish on its own thread, within the 30 s read timeout.
    pub fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ServeError> {
        let runtime = runtime()?;
        let endpoint = Arc::clone(&self.endpoint);
        let served = runtime.block_on(http::serve(
            self.listener,
            self.endpoint,
            self.imds,
            shutdown,
        ));
        endpoint.close_trail();
        served
    }

    /// Serves until the process gets SIGINT or SIGTERM (Ctrl-C on Windows).
    /// `ready` runs once the signals are caught and before the first
    /// request is served: what it announces (the address, say) may be acted
    /// on at once, a SIGTERM included, which then stops the server cleanly
    /// instead of killing the process.
    pub fn run_until_signal(self, ready: impl FnOnce()) -> Result<(), ServeError> {
        let runtime = runtime()?;
        let signals = {
            // Signal handlers are installed in a runtime's context.
            let _context = runtime.enter();
            http::TerminationSignal::install().map_err(ServeError::Runtime)?
        };
        ready();
        let endpoint = Arc::clone(&self.endpoint);
        let served = runtime.block_on(http::serve(
            self.listener,
            self.endpoint,
            self.imds,
            signals.received(),
        ));
        endpoint.close_trail();
        served
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ServeError> {
    // One thread accepts connections and waits for the stop; each
    // connection is served on a thread of its own (http.rs). A
    // multi-threaded runtime made every request wake a second worker to
    // steal it: on 2 cores GetRole through the endpoint took about 800 µs
    // that way, against 150 µs now (benches/endpoint.rs).
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("rolecall-serve")
        .build()
        .map_err(ServeError::Runtime)
}

/// A server serving on a thread of its own (for tests and benchmarks),
/// stopped gracefully by [`Running::stop`] or when dropped.
pub struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl Server {
    /// Serves on a new thread until the returned handle stops it.
    pub fn spawn(self) -> Result<Running, ServeError> {
        let addr = self.local_addr().map_err(ServeError::Runtime)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("rolecall-serve".into())
            .spawn(move || {
                self.run_until(async {
                    // A dropped sender stops the server too.
                    let _ = stopped.await;
                })
            })
            .map_err(ServeError::Runtime)?;
        Ok(Running {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Running {
    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish, and waits for the
    /// server to end.
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(ServeError::Runtime(std::io::Error::other(
                "the server's thread panicked",
            ))),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}
