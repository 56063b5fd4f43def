//! Public pages: served from the in-memory site.

use crate::site::serve::{respond, ASSET_CACHE, IMMUTABLE, PAGE_CACHE};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.store().ping().await {
        "ready\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
    }
}

/// Any GET that no other route took: a page from the cache (in the encoding the client prefers,
/// or `304 Not Modified`), or the 404 page.
pub async fn page(State(state): State<AppState>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")]).into_response();
    }
    let site = state.site().await;
    let path = uri.path();
    match site.pages.get(path) {
        Some(p) => {
            let cache = if crate::site::is_immutable(path) {
                IMMUTABLE
            } else if path.starts_with("/assets/") {
                ASSET_CACHE
            } else {
                PAGE_CACHE
            };
            let res = respond(p, &headers, cache);
            state
                .page_views()
                .note(&method, path, p.content_type, res.status(), &headers);
            res
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            site.not_found.clone(),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn search(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> Response {
    let site = state.site().await;
    let html = crate::site::render_search(&site.layout, &site.search, q.q.trim());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}
