//! `/api/v1/status/incidents`: incidents and security notices — list, open, read, edit, delete,
//! and updates along the timeline (through to resolved).

use super::{created, incident_json, path_id, Body};
use crate::http::api_token::ApiCaller;
use crate::http::error::{WebError, WebResult};
use crate::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use candor_app::status::{IncidentDraft, UpdateDraft};
use candor_core::status::{Impact, IncidentKind, IncidentStatus};
use candor_store::{Incident, IncidentQuery};
use serde_json::{json, Value};
use std::collections::HashMap;

const OPEN_FIELDS: &[&str] = &["kind", "title", "impact", "status", "body", "components", "display_at"];
const EDIT_FIELDS: &[&str] = &["title", "impact", "postmortem"];
const UPDATE_FIELDS: &[&str] = &["status", "body", "components", "display_at"];

/// How many incidents a list gives when the caller does not say.
const DEFAULT_LIMIT: i64 = 100;

async fn find(state: &AppState, id: i64) -> WebResult<Incident> {
    state
        .store()
        .incident(state.org(), id)
        .await?
        .ok_or_else(|| WebError::Missing(format!("there is no incident with id {id}")))
}

/// The query's parameters, each checked: a misspelt value is refused, not ignored.
pub(crate) fn query(q: Result<Query<HashMap<String, String>>, QueryRejection>) -> WebResult<HashMap<String, String>> {
    q.map(|Query(q)| q)
        .map_err(|_| WebError::BadRequest("the query string could not be read".into()))
}

pub(crate) fn limit(q: &HashMap<String, String>) -> WebResult<i64> {
    match q.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| WebError::BadRequest("limit must be a number from 1 to 1000".into())),
    }
}

pub(crate) fn boolean(q: &HashMap<String, String>, name: &str) -> WebResult<bool> {
    match q.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(WebError::BadRequest(format!("{name} must be true or false"))),
    }
}

/// `GET ?kind=incident|advisory&open=true&limit=N`: newest first.
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> WebResult<Json<Value>> {
    let q = query(q)?;
    let kind = match q.get("kind") {
        None => None,
        Some(k) => Some(
            IncidentKind::parse(k).ok_or_else(|| WebError::BadRequest("kind must be incident or advisory".into()))?,
        ),
    };
    let list = state
        .store()
        .incidents(
            state.org(),
            IncidentQuery {
                kind,
                open_only: boolean(&q, "open")?,
                limit: limit(&q)?,
                offset: 0,
            },
        )
        .await?;
    Ok(Json(
        json!({"incidents": list.iter().map(incident_json).collect::<Vec<_>>()}),
    ))
}

pub async fn show(State(state): State<AppState>, _caller: ApiCaller, Path(id): Path<String>) -> WebResult<Json<Value>> {
    let id = path_id("incident", &id)?;
    Ok(Json(incident_json(&find(&state, id).await?)))
}

/// `POST`: opens an incident or security notice with its first update.
pub async fn open(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Response> {
    let mut b = Body::read(body, OPEN_FIELDS)?;
    let kind = b.choice("kind", IncidentKind::ALL, IncidentKind::as_str);
    let title = b.text("title");
    let title = b.require("title", title);
    let impact = b.choice("impact", Impact::ALL, Impact::as_str);
    let status = b.choice("status", IncidentStatus::ALL, IncidentStatus::as_str);
    let text = b.text("body");
    let text = b.require("body", text);
    let components = b.component_statuses("components");
    let display_at = b.time("display_at");
    b.finish()?;
    let draft = IncidentDraft {
        kind: kind.unwrap_or(IncidentKind::Incident),
        title: title.unwrap_or_default(),
        impact: impact.unwrap_or(Impact::None),
        status: status.unwrap_or(IncidentStatus::Investigating),
        body: text.unwrap_or_default(),
        components: components.unwrap_or_default(),
        display_at,
    };
    let done = state.app().open_incident(&caller.who(), &draft).await?;
    state.apply(done.effects).await;
    tracing::info!(
        token.id = caller.token_id(),
        incident.id = done.value,
        "incident opened via API"
    );
    Ok(created(incident_json(&find(&state, done.value).await?)))
}

/// `PATCH`: changes the title, impact or postmortem sent (`null` removes the postmortem).
pub async fn edit(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Json<Value>> {
    let id = path_id("incident", &id)?;
    let mut b = Body::read(body, EDIT_FIELDS)?;
    let title = b.text("title");
    let impact = b.choice("impact", Impact::ALL, Impact::as_str);
    let postmortem_sent = b.has("postmortem");
    let postmortem = if b.is_null("postmortem") {
        None
    } else {
        b.text("postmortem")
    };
    b.finish()?;
    let now = find(&state, id).await?;
    let postmortem = if postmortem_sent { postmortem } else { now.postmortem };
    let done = state
        .app()
        .edit_incident(
            &caller.who(),
            id,
            title.as_deref().unwrap_or(&now.title),
            impact.unwrap_or(now.impact),
            postmortem.as_deref(),
        )
        .await?;
    state.apply(done.effects).await;
    Ok(Json(incident_json(&find(&state, id).await?)))
}

pub async fn delete(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> WebResult<StatusCode> {
    let id = path_id("incident", &id)?;
    let done = state.app().delete_incident(&caller.who(), id).await?;
    state.apply(done.effects).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST .../updates`: adds an update, moving the incident on (forward only, or reopening a
/// resolved one); `components` replaces the affected components and their statuses.
pub async fn post_update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Response> {
    let id = path_id("incident", &id)?;
    let mut b = Body::read(body, UPDATE_FIELDS)?;
    let status = b.choice("status", IncidentStatus::ALL, IncidentStatus::as_str);
    let status = b.require("status", status);
    let text = b.text("body");
    let text = b.require("body", text);
    let components = b.component_statuses("components");
    let display_at = b.time("display_at");
    b.finish()?;
    let update = UpdateDraft {
        status: status.unwrap_or(IncidentStatus::Investigating),
        body: text.unwrap_or_default(),
        display_at,
        components,
    };
    let done = state.app().post_incident_update(&caller.who(), id, &update).await?;
    state.apply(done.effects).await;
    Ok(created(incident_json(&find(&state, id).await?)))
}
