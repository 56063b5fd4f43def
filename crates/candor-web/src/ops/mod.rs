//! Operations: the Prometheus `/metrics` page, who may read it, and the request id that ties a
//! request's log lines to its answer.

pub mod request_id;

use crate::http::metrics::Exposition;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// `GET /metrics`: the server's counters and the queues' state, in the Prometheus text format.
/// Read at scrape time, so a scrape costs two small queries.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = Exposition::default();
    out.family(
        "candor_build_info",
        "gauge",
        "The running version of Candor (always 1).",
    );
    out.sample("candor_build_info", &[("version", env!("CARGO_PKG_VERSION"))], 1.0);
    state.metrics().write_to(&mut out);
    database(&state, &mut out).await;
    watermark_queue(&state, &mut out);
    out.gauge(
        "candor_leader",
        "1 while this instance leads (runs the background jobs), 0 while another one does.",
        if state.is_leading() { 1.0 } else { 0.0 },
    );
    if let Some(age) = backup_age_secs(&state).await {
        out.gauge(
            "candor_backup_age_seconds",
            "Seconds since the last successful backup finished.",
            age as f64,
        );
    }
    out.family(
        "candor_site_renders_total",
        "counter",
        "Full renders of the public site since start (an idle server renders nothing).",
    );
    out.sample("candor_site_renders_total", &[], state.site_builds() as f64);
    out.family(
        "candor_site_updates_total",
        "counter",
        "Incremental updates of the public site since start.",
    );
    out.sample("candor_site_updates_total", &[], state.site_updates() as f64);
    (
        [
            (header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        out.finish(),
    )
        .into_response()
}

/// The pool, the outbox and the webhook queue. When the database does not answer, `candor_up`
/// says so and the queue families are left out (a stale number would look healthy).
async fn database(state: &AppState, out: &mut Exposition) {
    let pool = state.store().pool_use();
    out.family(
        "candor_db_pool_connections",
        "gauge",
        "Database connections open now, by whether they are lent out.",
    );
    out.sample("candor_db_pool_connections", &[("state", "idle")], f64::from(pool.idle));
    out.sample(
        "candor_db_pool_connections",
        &[("state", "in_use")],
        f64::from(pool.open - pool.idle),
    );
    out.gauge(
        "candor_db_pool_max_connections",
        "The most connections the pool opens.",
        f64::from(pool.max),
    );
    let now = candor_store::now();
    let outbox = state.store().outbox_depth().await;
    let webhooks = state.store().webhook_depth().await;
    let up = outbox.is_ok() && webhooks.is_ok();
    out.gauge(
        "candor_database_up",
        "Whether the database answered this scrape's queries (1) or not (0).",
        if up { 1.0 } else { 0.0 },
    );
    for (queue, depth, what) in [
        ("outbox", outbox, "mail messages neither sent nor given up on"),
        (
            "webhook",
            webhooks,
            "webhook deliveries neither delivered nor given up on",
        ),
    ] {
        match depth {
            Ok(d) => {
                out.gauge(
                    &format!("candor_{queue}_pending"),
                    &format!("Queued {what}."),
                    d.pending as f64,
                );
                out.gauge(
                    &format!("candor_{queue}_oldest_pending_age_seconds"),
                    &format!("Age of the oldest of the queued {what} (0 when none waits)."),
                    d.oldest_created_at.map_or(0, |t| (now - t).max(0)) as f64,
                );
            }
            Err(e) => tracing::warn!(error = %e, queue, "metrics: could not read the queue"),
        }
    }
}

fn watermark_queue(state: &AppState, out: &mut Exposition) {
    let slots = state.watermark_slots();
    out.gauge(
        "candor_watermark_slots",
        "Watermarking jobs that may run at once (one per core).",
        slots.size() as f64,
    );
    out.gauge(
        "candor_watermark_running",
        "Watermarking jobs running now.",
        slots.size().saturating_sub(slots.available_permits()) as f64,
    );
    out.gauge(
        "candor_watermark_waiting",
        "Watermarking jobs (uploads, downloads) waiting for a slot.",
        slots.waiting() as f64,
    );
}

/// Seconds since the last successful backup, or `None` while Candor keeps no record of backups
/// (the family is then left out, and an alert on its absence fires).
async fn backup_age_secs(state: &AppState) -> Option<i64> {
    let run = state.store().last_good_backup(state.org()).await.ok()??;
    Some((candor_store::now() - run.finished_at).max(0))
}

/// The access rule [`crate::Access::Scraper`]: with `metrics_token` set, the request must carry
/// it as a bearer token; without, it must come from this machine, directly or through a trusted
/// proxy on behalf of a client on this machine. A reverse proxy on the same host would otherwise
/// make every visitor look local.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let settings = &state.config().metrics;
    if let Some(token) = &settings.token {
        let sent = bearer(req.headers());
        if sent.is_some_and(|s| candor_crypto::same_secret(s, token)) {
            return next.run(req).await;
        }
        let why = if sent.is_some() {
            "the bearer token is not the configured metrics_token\n"
        } else {
            "send the configured metrics_token as Authorization: Bearer <token>\n"
        };
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"candor-metrics\"")],
            why,
        )
            .into_response();
    }
    let client = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let peer = req.extensions().get::<request_id::Peer>().map(|p| p.0);
    let relayed = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| req.headers().contains_key(*h));
    let trusted = |ip: std::net::IpAddr| state.config().trusted_proxies.iter().any(|n| n.contains(ip));
    // Relayed by a trusted proxy, the client is the one it reports (see `forwarded_client`).
    let local = match (client, peer) {
        (Some(client), Some(peer)) if relayed => trusted(peer) && client.is_loopback(),
        (Some(client), Some(peer)) => client.is_loopback() && peer.is_loopback(),
        _ => false,
    };
    if local {
        return next.run(req).await;
    }
    (
        StatusCode::FORBIDDEN,
        "/metrics answers clients on this machine only; set metrics_token to scrape from elsewhere\n",
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
