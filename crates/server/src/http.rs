//! HTTP/1.1 for the endpoint: connections with keep-alive, bodies read up
//! to [`MAX_BODY_BYTES`] within a deadline, each request answered on the
//! blocking pool (the emulator's calls are SQLite transactions), and a
//! graceful stop.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;

use super::ServeError;
use super::endpoint::{Endpoint, MAX_BODY_BYTES, Reply};

/// A client has this long to send a request's headers, and again its body:
/// a stalled client holds a connection, never a worker.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long requests in flight may take to finish once the server stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn serve(
    listener: std::net::TcpListener,
    endpoint: Arc<Endpoint>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    listener
        .set_nonblocking(true)
        .map_err(ServeError::Runtime)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(ServeError::Runtime)?;
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    // Out of file descriptors, a connection reset before
                    // it was accepted...: the next one may do better.
                    Err(error) => {
                        tracing::warn!("accepting a connection: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Small requests and answers: send them at once.
                let _ = stream.set_nodelay(true);
                let endpoint = Arc::clone(&endpoint);
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(READ_TIMEOUT)
                    .keep_alive(true)
                    .serve_connection(
                        TokioIo::new(stream),
                        service_fn(move |request| answer(Arc::clone(&endpoint), request)),
                    );
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!("connection from {peer}: {error}");
                    }
                });
            }
            () = &mut shutdown => break,
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

async fn answer(
    endpoint: Arc<Endpoint>,
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
    let reply = tokio::task::spawn_blocking(move || endpoint.respond(&parts, &body))
        .await
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
