//! HTTP/1.1 for the endpoint: connections with keep-alive, bodies read up
//! to [`MAX_BODY_BYTES`] within a deadline, and a graceful stop.
//!
//! Each connection has a thread of its own, which reads its requests and
//! makes their calls itself. A call is blocking work (a SQLite transaction,
//! an fsync for a write), so an async worker would have to hand it to a
//! blocking pool and take the answer back: two thread wake-ups per request,
//! about a third of what the endpoint added to a call on 2 cores. A thread
//! per connection needs none, and connections still never wait for each
//! other: a read on one runs while a write on another waits for the disk.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ServeError;
use super::endpoint::{Endpoint, MAX_BODY_BYTES, Reply};
use super::imds::{self, Imds};

/// A client has this long to send a request's headers, and again its body:
/// a stalled client holds only its own connection's thread, and not longer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long requests in flight may take to finish once the server stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once (one thread each); the next ones wait in
/// the listener's backlog until one closes. Each takes three file
/// descriptors (its socket, its runtime's epoll and eventfd): 256 of them
/// stay within the usual soft limit of 1024 with room for the account's
/// SQLite handles.
const MAX_CONNECTIONS: usize = 256;

pub async fn serve(
    listener: std::net::TcpListener,
    endpoint: Arc<Endpoint>,
    imds: Arc<Imds>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    listener
        .set_nonblocking(true)
        .map_err(ServeError::Runtime)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(ServeError::Runtime)?;
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = accept(&listener, &open) => accepted,
            () = &mut shutdown => break,
        };
        let Some((stream, peer, permit)) = accepted else {
            continue;
        };
        let endpoint = Arc::clone(&endpoint);
        let imds = Arc::clone(&imds);
        let watcher = graceful.watcher();
        let spawned = std::thread::Builder::new()
            .name("rolecall-conn".into())
            .spawn(move || {
                serve_connection(stream, peer, endpoint, imds, watcher);
                drop(permit);
            });
        if let Err(error) = spawned {
            tracing::warn!("no thread for the connection from {peer}: {error}");
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("stopped with requests still in flight after {DRAIN_TIMEOUT:?}");
        }
    }
    Ok(())
}

/// The next connection, once fewer than [`MAX_CONNECTIONS`] are open;
/// `None` when accepting failed (the next may do better).
async fn accept(
    listener: &tokio::net::TcpListener,
    open: &Arc<Semaphore>,
) -> Option<(std::net::TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    let permit = Arc::clone(open)
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    let (stream, peer) = match listener.accept().await {
        Ok(accepted) => accepted,
        // Out of file descriptors, a connection reset before it was
        // accepted...: wait a little rather than spin.
        Err(error) => {
            tracing::warn!("accepting a connection: {error}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            return None;
        }
    };
    // Small requests and answers: send them at once.
    let _ = stream.set_nodelay(true);
    match stream.into_std() {
        Ok(stream) => Some((stream, peer, permit)),
        Err(error) => {
            tracing::warn!("taking the connection from {peer}: {error}");
            None
        }
    }
}

/// Serves one connection until it closes or the server stops, on the
/// calling thread (a runtime of its own drives the connection's I/O).
fn serve_connection(
    stream: std::net::TcpStream,
    peer: SocketAddr,
    endpoint: Arc<Endpoint>,
    imds: Arc<Imds>,
    watcher: Watcher,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::warn!("no runtime for a connection: {error}");
            return;
        }
    };
    runtime.block_on(async move {
        let stream = match tokio::net::TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!("serving a connection: {error}");
                return;
            }
        };
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(READ_TIMEOUT)
            .keep_alive(true)
            .serve_connection(
                TokioIo::new(stream),
                service_fn(move |request| {
                    answer(Arc::clone(&endpoint), Arc::clone(&imds), peer, request)
                }),
            );
        if let Err(error) = watcher.watch(connection).await {
            tracing::debug!("connection closed: {error}");
        }
    });
}

async fn answer(
    endpoint: Arc<Endpoint>,
    imds: Arc<Imds>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Ok(to_response(endpoint.too_large(&parts)));
    }
    let body = match tokio::time::timeout(
        READ_TIMEOUT,
        Limited::new(body, MAX_BODY_BYTES).collect(),
    )
    .await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) => {
            // Limited's own error type says the body was too long; any other
            // is the connection failing, which no answer reaches.
            if error.is::<http_body_util::LengthLimitError>() {
                return Ok(to_response(endpoint.too_large(&parts)));
            }
            return Ok(to_response(endpoint.unreadable(&parts)));
        }
        Err(_) => return Ok(to_response(endpoint.timed_out(&parts))),
    };
    // The instances' metadata service, not AWS's API: a path of its own.
    if parts.uri.path().starts_with(imds::PREFIX) {
        let answer = std::panic::catch_unwind(AssertUnwindSafe(|| imds.answer(&parts)));
        return Ok(answer.unwrap_or_else(|_| {
            let mut failed = Response::new(Full::new(Bytes::new()));
            *failed.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            failed
        }));
    }
    // On this connection's own thread: nothing else waits for it.
    let reply =
        std::panic::catch_unwind(AssertUnwindSafe(|| endpoint.respond(&parts, &body, peer)))
            .unwrap_or_else(|_| Reply::internal_error());
    Ok(to_response(reply))
}

fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/xml"),
    );
    if let Ok(id) = hyper::header::HeaderValue::from_str(&reply.request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere than Unix), caught from the moment
/// it is installed.
pub struct TerminationSignal {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl TerminationSignal {
    /// Catches the signals from now on; inside a tokio runtime's context.
    pub fn install() -> std::io::Result<TerminationSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(TerminationSignal {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(TerminationSignal {})
        }
    }

    /// Completes when one of the signals arrives.
    pub async fn received(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
