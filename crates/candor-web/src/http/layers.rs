//! The layers around each area of routes (see `crate::routes::Area`).

use crate::AppState;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;

/// The visitor's forms and the viewer's pages hold links, names and documents meant for one
/// person: never cached; forms pass the Origin check.
pub fn visitor(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    router
        .layer(axum::middleware::map_response(super::no_store))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::session::same_origin_writes,
        ))
}

/// Back-office pages hold drafts and secrets shown once: never cached. They may run our own
/// script (the passkey ceremonies), so they get the back office's CSP; the public site runs none.
pub fn back_office(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    router
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            back_office_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::session::same_origin_writes,
        ))
}

async fn back_office_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut res: Response,
) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        state.security_headers().admin_csp.clone(),
    );
    res
}

/// The API: an unknown endpoint is a JSON 404 (the catch-all covers only `/api/v1`), and no
/// answer is cached.
pub fn api(router: Router<AppState>) -> Router<AppState> {
    router
        .fallback(|| async { super::error::WebError::Missing("no such API endpoint; see /api/v1/openapi.json".into()) })
        .layer(axum::middleware::map_response(super::error::json_errors))
        .layer(axum::middleware::map_response(super::no_store))
}
