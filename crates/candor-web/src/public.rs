//! Public pages: served from the in-memory site.

use crate::site::serve::{respond, ASSET_CACHE, IMMUTABLE, PAGE_CACHE};
use crate::site::Site;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
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
/// or `304 Not Modified`), or the 404 page. A signed-in viewer with a live grant gets the viewer
/// variant of an HTML page instead, rendered for them and never cached.
pub async fn page(State(state): State<AppState>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")]).into_response();
    }
    let site = state.site().await;
    let path = uri.path();
    if let Some(viewer) = live_viewer(&state, &headers).await {
        if let Some(html) = site.viewer_page(path, |slug| viewer.may_download(slug)) {
            state
                .page_views()
                .note(&method, path, "text/html; charset=utf-8", StatusCode::OK, &headers);
            return viewer_page(html);
        }
    }
    match cached(&state, &site, &method, path, &headers) {
        Some(res) => res,
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            site.not_found.clone(),
        )
            .into_response(),
    }
}

/// The answer to a GET or HEAD of `path` from the rendered site, if it holds that page; counted
/// as a page view (`engagement`) when it is one.
pub(crate) fn cached(
    state: &AppState,
    site: &Site,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    let p = site.pages.get(path)?;
    let cache = if crate::site::is_immutable(path) {
        IMMUTABLE
    } else if path.starts_with("/assets/") {
        ASSET_CACHE
    } else {
        PAGE_CACHE
    };
    let mut res = respond(p, headers, cache);
    if p.content_type.starts_with("text/html") {
        // A signed-in viewer gets another page at the same address: a cache must not answer
        // them (or anyone else) with the copy it kept for a request without their cookie.
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static(VARY_HTML));
    }
    state
        .page_views()
        .note(method, path, p.content_type, res.status(), headers);
    Some(res)
}

/// `Vary` of public HTML pages: their encoding, and the viewer variant behind a cookie.
const VARY_HTML: &str = "accept-encoding, cookie";

/// The signed-in viewer with a live grant making this request, if any. A request without the
/// viewer cookie costs nothing here; a lookup that fails is logged and the public page served.
async fn live_viewer(state: &AppState, headers: &HeaderMap) -> Option<crate::http::viewer_session::LiveViewer> {
    match crate::http::viewer_session::live_viewer(state, headers).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the viewer session; serving the public page");
            None
        }
    }
}

/// A page rendered for one viewer: kept by no cache, shared or private.
fn viewer_page(html: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
            (header::VARY, "cookie"),
        ],
        html,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// The search page. A signed-in viewer with a live grant also finds the NDA-only controls.
pub async fn search(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<SearchQuery>) -> Response {
    let site = state.site().await;
    if live_viewer(&state, &headers).await.is_some() {
        return viewer_page(site.viewer_search(q.q.trim()));
    }
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
