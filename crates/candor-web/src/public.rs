//! Public pages: served from the in-memory site.

use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
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

/// Any GET that no other route took: a page from the cache, or the 404 page.
pub async fn page(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")]).into_response();
    }
    let site = state.site().await;
    match site.pages.get(uri.path()) {
        Some(p) => {
            let cache = if uri.path().starts_with("/assets/") {
                "public, max-age=3600"
            } else {
                "public, max-age=60"
            };
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(p.content_type)),
                    (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
                ],
                p.body.clone(),
            )
                .into_response()
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
