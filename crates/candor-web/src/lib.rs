//! Candor's HTTP server: the public trust center, the back office and the API.

mod audit;
mod backup;
pub mod bootstrap;
pub mod config;
mod content;
mod documents;
mod engagement;
pub mod http;
pub mod identity;
pub mod leader;
mod monitors;
mod onboarding;
mod ops;
mod outbox;
mod public;
mod public_direct;
mod routes;
mod server;
pub mod simple_pdf;
pub mod site;
mod site_notice;
mod state;
pub mod status;
mod subscriptions;
pub mod tls;
mod tokens;
pub mod watermark;

pub use config::Config;
/// Paths kept for the CLI and tests: the demo's documents and the orphan sweep live in `documents`.
pub use documents::{blob_sweep, demo as demo_documents};
pub use routes::{table as route_table, Access, Area, RouteSpec};
pub use state::AppState;

use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    routes::router(&state)
        .fallback(public::page)
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            http::headers::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), forwarded_client))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Serves until `shutdown` completes; requests in flight then get the configured grace period.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_tls(listener, state, None, shutdown).await
}

/// Serves the application over plain HTTP, or over TLS when `tls` is given, with the background
/// tasks that go with it (content watcher, mail and webhook delivery).
pub(crate) async fn serve_with_tls(
    listener: TcpListener,
    state: AppState,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let watcher = tokio::spawn(state.clone().watch_content(state.config().content_watch_every));
    let leader = tokio::spawn(leader::run(state.clone(), background_jobs));
    // Every instance flushes its own page views, leader or not; and once more when it stops.
    let views = tokio::spawn(http::page_views::flush_regularly(state.clone()));
    let last_flush = state.clone();
    let served = server::Listener {
        limits: state.config().http.clone(),
        tls,
        header_block: state.security_headers().as_head_lines(),
        direct: Some(public_direct::DirectPages::new(state.clone())),
        app: router(state),
    };
    let result = server::run(listener, served, shutdown).await;
    watcher.abort();
    leader.abort();
    views.abort();
    http::page_views::flush(&last_flush).await;
    result
}

/// The jobs that must run exactly once across instances: only the leader starts them
/// ([`leader::run`]), and stops them when it loses the lead. A new job is one more line here.
fn background_jobs(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let mut jobs = vec![
        tokio::spawn(blob_sweep::sweep_regularly(state.clone(), blob_sweep::SWEEP_EVERY)),
        tokio::spawn(status::jobs::run(state.clone())),
        tokio::spawn(monitors::runner::run(state.clone())),
        tokio::spawn(subscriptions::worker::run(state.clone())),
        tokio::spawn(crate::http::ratelimit::prune_regularly(state.clone())),
        tokio::spawn(backup::run_scheduled_backups(state.clone())),
    ];
    jobs.extend(outbox_worker(state).map(tokio::spawn));
    jobs
}

/// The mail delivery loop, when mail is configured. Without `smtp_host`, queued mail waits.
fn outbox_worker(state: &AppState) -> Option<impl Future<Output = ()> + Send + 'static> {
    let settings = state.config().smtp.as_ref()?;
    // The configuration was checked at load time, so this only fails if it was built by hand.
    let mailer = match candor_notify::Mailer::new(settings) {
        Ok(m) => m,
        Err(why) => {
            tracing::error!(error = %why, "mail is not sent: the SMTP settings are not usable");
            return None;
        }
    };
    Some(candor_notify::run(
        state.store().clone(),
        mailer,
        state.config().mail_retry,
        state.outbox_wake(),
        {
            let state = state.clone();
            move |every| state.metrics().job_ran("outbox", every)
        },
    ))
}

/// The outermost layer (it sees the connection's own address, before `X-Forwarded-For`): gives
/// the request its id (see [`ops::request_id`]), answers it inside a `request` span carrying the
/// id so every log line of the request names it, returns the id in `X-Request-Id`, counts the
/// request for `/metrics` and writes one debug-level line for it. Routes are counted and logged
/// by their template (`/admin/setup/{token}`), never by the concrete path, so tokens in URLs stay
/// out of logs and each route is one series; query strings are never logged. Requests no route
/// took (pages of the public site, 404s) are counted under one label.
async fn observe(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let id = ops::request_id::choose(&state, &mut req);
    let _in_flight = state.metrics().request_started();
    let method = req.method().clone();
    let route = req.extensions().get::<axum::extract::MatchedPath>().cloned();
    // Pages from the in-memory site (the fallback) log nothing of their own, and a span per
    // request was the whole of this layer's cost on them (a third of the requests per second in
    // a debug build): they get the id in the response and the debug line, but no span.
    let span = match route {
        Some(_) => tracing::info_span!("request", request_id = id.to_str().unwrap_or_default()),
        None => tracing::Span::none(),
    };
    // The log names a public page by its path (the back office's paths may hold tokens).
    let logged_path = (route.is_none() && tracing::enabled!(tracing::Level::DEBUG)).then(|| {
        let path = req.uri().path();
        if path.starts_with("/admin") {
            "/admin/…".to_owned()
        } else {
            path.to_owned()
        }
    });
    let mut res = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    let route = route.as_ref().map_or(http::metrics::FALLBACK_ROUTE, |p| p.as_str());
    let status = res.status().as_u16();
    state.metrics().request_done(&method, route, status, took);
    let logged = logged_path.as_deref().unwrap_or(route);
    let ms = took.as_millis() as u64;
    if span.is_none() {
        tracing::debug!(request_id = id.to_str().unwrap_or_default(), http.method = %method, http.route = %logged, http.status = status, duration_ms = ms, "request");
    } else {
        span.in_scope(|| {
            tracing::debug!(http.method = %method, http.route = %logged, http.status = status, duration_ms = ms, "request");
        });
    }
    res.headers_mut().insert(ops::request_id::HEADER, id);
    res
}

/// Behind a trusted reverse proxy, the client is the address the proxy reports in
/// X-Forwarded-For: the rightmost entry that is not itself a trusted proxy. From anyone else the
/// header is ignored, so a client cannot pick the address that rate limits and the audit log see.
async fn forwarded_client(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let trusted = &state.config().trusted_proxies;
    if !trusted.is_empty() {
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
            let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
            if is_trusted(peer.ip()) {
                let hops: Vec<std::net::IpAddr> = req
                    .headers()
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .filter_map(|h| h.trim().parse().ok())
                    .collect();
                if let Some(client) = hops.iter().rev().find(|ip| !is_trusted(**ip)).or(hops.first()) {
                    req.extensions_mut()
                        .insert(ConnectInfo(SocketAddr::new(*client, peer.port())));
                }
            }
        }
    }
    next.run(req).await
}
