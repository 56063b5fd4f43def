//! Candor's own accept loop over hyper, for plain HTTP and the built-in TLS listener alike.
//!
//! `axum::serve` has no header timeout, no connection cap and waits for ever at shutdown, so a
//! few hundred slow clients could hold every file descriptor and a hung request could keep the
//! process alive. Here:
//! * at most `max_connections` connections are served; at the cap we stop calling `accept`, so the
//!   rest wait in the kernel's queue instead of failing with "too many open files";
//! * each connection's client must keep up ([`guarded_io`]), and a TLS handshake gets the header
//!   timeout;
//! * accept errors back off and are logged at most every few seconds;
//! * at shutdown the listener closes at once, connections finish their requests for up to the
//!   grace period, and whatever is still open then is dropped.

mod guarded_io;
mod unread_body;

use crate::config::HttpLimits;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use guarded_io::{Activity, GuardedIo, InApp, Timeouts};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Largest request head hyper buffers for HTTP/1 (a larger one is answered 431), and the largest
/// HTTP/2 header list. hyper's default is about 400 KiB per connection, which multiplied by the
/// connection cap is more memory than slow clients should be able to pin.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What a listener serves and how.
pub(crate) struct Listener {
    pub app: axum::Router,
    pub limits: HttpLimits,
    /// The TLS handshake to run first, for the HTTPS listener.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Security headers for the responses hyper writes itself (`name: value\r\n` lines).
    pub header_block: Bytes,
    /// Pages answered before the router ([`crate::public_direct`]).
    pub direct: Option<crate::public_direct::DirectPages>,
}

/// Shared by the accept loop and every connection task.
struct Shared {
    listener: Listener,
    http: auto::Builder<TokioExecutor>,
    /// Cancelled when the grace period is over: connections still open are dropped.
    cut_off: CancellationToken,
}

/// Serves connections from `tcp` until `shutdown` completes, then lets requests in flight finish
/// for up to the grace period and returns; connections still open then are closed.
pub(crate) async fn run(
    tcp: TcpListener,
    listener: Listener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = listener.limits.clone();
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        // Our own timeouts (guarded_io) are tighter; hyper's stays as a backstop, and having one
        // makes hyper look at the socket again as soon as a response is done.
        .header_read_timeout(limits.header_timeout + limits.idle_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    http.http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    let shared = Arc::new(Shared {
        listener,
        http,
        cut_off: CancellationToken::new(),
    });
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut accept_errors = AcceptErrors::default();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = tcp.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, peer, shared.clone(), graceful.watcher(), slot));
            }
            Err(e) => {
                let pause = accept_errors.note(&e);
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
    drop(tcp);
    let open = || limits.max_connections - slots.available_permits();
    if open() > 0 {
        tracing::info!(
            connections = open(),
            grace_s = limits.shutdown_grace.as_secs(),
            "no longer accepting connections; waiting for requests in flight"
        );
    }
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = open(),
            grace_s = limits.shutdown_grace.as_secs(),
            "shutdown grace period over; cutting off the connections still open"
        );
        shared.cut_off.cancel();
    }
    Ok(())
}

/// One connection from accept to close; holds its slot until then.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    watcher: Watcher,
    _slot: OwnedSemaphorePermit,
) {
    let header_timeout = shared.listener.limits.header_timeout;
    let served = async {
        match &shared.listener.tls {
            None => serve_http(stream, peer, &shared, watcher).await,
            Some(acceptor) => match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => serve_http(tls, peer, &shared, watcher).await,
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("closing a connection: the TLS handshake took too long"),
            },
        }
    };
    tokio::select! {
        _ = shared.cut_off.cancelled() => {}
        _ = served => {}
    }
}

async fn serve_http<I>(io: I, peer: SocketAddr, shared: &Shared, watcher: Watcher)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = &shared.listener.limits;
    let activity = Activity::new();
    let io = GuardedIo::new(
        io,
        activity.clone(),
        Timeouts {
            header: limits.header_timeout,
            idle: limits.idle_timeout,
        },
        shared.listener.header_block.clone(),
    );
    let app = shared.listener.app.clone();
    let direct = shared.listener.direct.clone();
    let body_timeout = limits.idle_timeout;
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let in_app = activity.enter();
        let direct = direct
            .as_ref()
            .and_then(|d| d.answer(req.method(), req.uri(), req.headers(), peer.ip()));
        let routed = match direct {
            Some(response) => Ok(response),
            None => {
                let http1 = req.version() < hyper::Version::HTTP_2;
                let (parts, body) = req.into_parts();
                let (body, ended) = unread_body::track(body);
                // A client that stops sending its request body is cut off like one that stops reading.
                let body = tower_http::timeout::TimeoutBody::new(body_timeout, body);
                let mut req = hyper::Request::from_parts(parts, body);
                req.extensions_mut().insert(ConnectInfo(peer));
                Err((app.clone().oneshot(req), ended, http1))
            }
        };
        async move {
            let response = match routed {
                Ok(response) => response,
                Err((routing, ended, http1)) => {
                    let mut response = routing.await?;
                    if http1 && !ended.reached() {
                        response.headers_mut().insert(
                            hyper::header::CONNECTION,
                            hyper::header::HeaderValue::from_static("close"),
                        );
                    }
                    response
                }
            };
            Ok::<_, Infallible>(response.map(|body| TrackedBody { body, _in_app: in_app }))
        }
    });
    let connection = shared
        .http
        .serve_connection_with_upgrades(TokioIo::new(io), service)
        .into_owned();
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(error = %e, "connection closed with an error");
    }
}

/// A response body that tells the connection when the application is done with the request:
/// when hyper drops it, after writing it or on a broken connection.
struct TrackedBody {
    body: axum::body::Body,
    _in_app: InApp,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Accept errors, logged at most every ten seconds with a count of those not logged.
#[derive(Default)]
struct AcceptErrors {
    last_logged: Option<tokio::time::Instant>,
    unlogged: u64,
}

impl AcceptErrors {
    /// Records an error and says how long to pause before accepting again.
    fn note(&mut self, e: &std::io::Error) -> Duration {
        use std::io::ErrorKind;
        // A client that gave up before we accepted it is its own business.
        if matches!(
            e.kind(),
            ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
        ) {
            return Duration::ZERO;
        }
        let now = tokio::time::Instant::now();
        if self
            .last_logged
            .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(10))
        {
            tracing::error!(
                error = %e,
                similar_errors_not_logged = self.unlogged,
                "cannot accept connections; lower max_connections or raise the open-file limit (ulimit -n)"
            );
            self.last_logged = Some(now);
            self.unlogged = 0;
        } else {
            self.unlogged += 1;
        }
        // Out of descriptors or memory: give closing connections a moment instead of spinning.
        Duration::from_millis(100)
    }
}
