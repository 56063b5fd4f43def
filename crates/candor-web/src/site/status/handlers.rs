//! The status routes that are not plain pages of the rendered site: the JSON (with the header
//! that lets other sites' widgets read it), incidents and maintenance windows older than the
//! snapshot carries, and the paginated history. A page the site holds is served from memory
//! (the incident everyone follows during an outage); only the archive reads the database.

use super::html;
use crate::site::{CachedPage, Site};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use candor_core::status::IncidentKind;
use candor_store::IncidentQuery;
use serde::Deserialize;

/// Incidents on one page of the history.
pub const PER_PAGE: i64 = 20;

const CACHE: &str = "public, max-age=60";

fn cached(p: &CachedPage, req: &HeaderMap) -> Response {
    crate::site::serve::respond(p, req, CACHE)
}

fn html_page(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        body,
    )
        .into_response()
}

fn not_found(site: &Site) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        site.not_found.clone(),
    )
        .into_response()
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "could not read the status history");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The status history could not be read; try again shortly.\n",
    )
        .into_response()
}

/// `/api/v2/*.json`: the document from the rendered site, readable by any origin (status
/// widgets fetch it from other sites; it holds nothing that is not public).
pub async fn json(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    json_from(&*state.site().await, uri.path(), &headers)
}

/// The `/api/v2/` document at `path` from `site` (also answered before the router:
/// `public_direct`).
pub fn json_from(site: &Site, path: &str, headers: &HeaderMap) -> Response {
    let mut res = match site.pages.get(path) {
        Some(p) => cached(p, headers),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"error\":\"not found\"}",
        )
            .into_response(),
    };
    res.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// `/status/incidents/{id}`: from memory when recent, else from the database.
pub async fn incident(State(state): State<AppState>, Path(id): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    let site = state.site().await;
    if let Some(p) = site.pages.get(uri.path()) {
        return cached(p, &headers);
    }
    let Ok(id) = id.parse::<i64>() else {
        return not_found(&site);
    };
    match state.store().incident(state.org(), id).await {
        Ok(Some(i)) => html_page(StatusCode::OK, html::incident(&site.layout, &site.status, &i)),
        Ok(None) => not_found(&site),
        Err(e) => failed(e),
    }
}

/// `/status/maintenance/{id}`: from memory when recent, else from the database.
pub async fn maintenance(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let site = state.site().await;
    if let Some(p) = site.pages.get(uri.path()) {
        return cached(p, &headers);
    }
    let Ok(id) = id.parse::<i64>() else {
        return not_found(&site);
    };
    match state.store().maintenance(state.org(), id).await {
        Ok(Some(m)) => html_page(StatusCode::OK, html::maintenance(&site.layout, &site.status, &m)),
        Ok(None) => not_found(&site),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    page: Option<String>,
}

/// Which page of the history a query asks for: 1 when it names none.
pub fn page_number(raw: Option<&str>) -> Result<i64, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(1),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "\"{s}\" is not a page number: give a whole number from 1, as in /status/history?page=2."
            )),
        },
    }
}

/// `/status/history?page=N`: availability incidents, newest first, [`PER_PAGE`] a page.
pub async fn history(State(state): State<AppState>, Query(q): Query<HistoryQuery>) -> Response {
    let site = state.site().await;
    let page = match page_number(q.page.as_deref()) {
        Ok(n) => n,
        Err(why) => {
            return html_page(
                StatusCode::BAD_REQUEST,
                html::message(&site.layout, "Not a page number", &why),
            )
        }
    };
    let (store, org) = (state.store(), state.org());
    let total = match store.incident_count(org, Some(IncidentKind::Incident)).await {
        Ok(n) => n,
        Err(e) => return failed(e),
    };
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    if page > pages {
        return html_page(
            StatusCode::NOT_FOUND,
            html::message(
                &site.layout,
                "No such page",
                &format!("The incident history has {pages} page(s); page {page} does not exist."),
            ),
        );
    }
    let query = IncidentQuery {
        kind: Some(IncidentKind::Incident),
        open_only: false,
        limit: PER_PAGE,
        offset: (page - 1) * PER_PAGE,
    };
    match store.incidents(org, query).await {
        Ok(list) => html_page(
            StatusCode::OK,
            html::history(&site.layout, &site.status, &list, page, pages, total),
        ),
        Err(e) => failed(e),
    }
}
