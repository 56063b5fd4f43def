//! Candor's HTTP server: the public trust center, the back office and the API.

mod admin;
mod api;
pub mod bootstrap;
pub mod config;
mod error;
mod headers;
mod public;
mod ratelimit;
pub mod site;
mod state;

pub use config::Config;
pub use state::AppState;

use axum::routing::get;
use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(public::healthz))
        .route("/readyz", get(public::readyz))
        .route("/search", get(public::search))
        .merge(admin::router())
        .nest("/api/v1", api::router())
        .fallback(public::page)
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .with_state(state)
}

/// Serves until `shutdown` completes; requests in flight are allowed to finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
