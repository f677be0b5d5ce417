//! Serving an axum app to a network that may be hostile (the cloud's API, the kiosk's
//! local server). `axum::serve` sets no timer, so a client that opens a connection and
//! never finishes its request headers holds a task and a descriptor forever; a few
//! thousand such clients exhaust the process. [`serve`] speaks HTTP/1.1 through hyper with:
//!
//! - a **header-read timeout** that starts when a connection is accepted and again when a
//!   kept-alive connection waits for its next request (so it is also the idle timeout):
//!   half-open and idle connections are closed when it passes;
//! - a **cap on open connections**: past it, new connections wait in the listen backlog
//!   until one closes, instead of the process running out of descriptors;
//! - the peer's address as axum's `ConnectInfo<SocketAddr>`, upgrades (WebSocket, so
//!   Socket.IO works), and graceful shutdown that lets requests in flight finish.
//!
//! A time limit for a whole request belongs to the app (a `tower_http` timeout layer on the
//! routes that need one): a streamed export or a Socket.IO poll is legitimately long.

pub mod probe;

use std::{future::Future, io, sync::Arc, time::Duration};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, server::conn::http1, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// How much an HTTP client may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Seconds a client has to send a request's headers, from the connection's start or
    /// from the end of its previous answer (the keep-alive idle time).
    pub header_timeout_secs: u64,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Seconds requests in flight may take to finish at shutdown.
    pub shutdown_grace_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout_secs: 10,
            max_connections: 8_192,
            shutdown_grace_secs: 10,
        }
    }
}

impl Limits {
    fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs.max(1))
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then lets the
/// requests in flight finish (for at most `shutdown_grace_secs`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let max_connections = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS) as u32;
    let permits = Arc::new(Semaphore::new(max_connections as usize));
    let stopping = CancellationToken::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout())
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            // Router's error type is Infallible: every request gets an answer.
            app.clone().oneshot(request)
        });
        let connection = http
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = stopping.cancelled() => {
                    // Finish the request in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = ended {
                tracing::debug!(%peer, %error, "HTTP connection ended with an error.");
            }
            drop(permit);
        });
    }
    drop(listener);
    stopping.cancel();
    // Every connection holds a permit until it ends: all permits back = all closed.
    let grace = Duration::from_secs(limits.shutdown_grace_secs);
    if tokio::time::timeout(grace, permits.acquire_many(max_connections))
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = limits.shutdown_grace_secs,
            "HTTP connections still open after the shutdown grace period; dropping them."
        );
    }
    Ok(())
}

/// An accept error: a connection that died in the backlog is nothing; running out of
/// descriptors or memory is worth a warning and a pause rather than a busy loop.
async fn accept_failed(error: &io::Error) {
    use io::ErrorKind::*;
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::warn!(%error, "Accepting an HTTP connection failed; pausing 100 ms.");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
