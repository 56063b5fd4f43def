//! `/api/v1/status/maintenances`: scheduled maintenance — list, schedule, read, edit, delete,
//! and updates (scheduled → in progress → verifying → completed).

use super::incidents::{boolean, limit, query};
use super::{created, maintenance_json, path_id, Body};
use crate::http::api_token::ApiCaller;
use crate::http::error::{WebError, WebResult};
use crate::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use candor_app::status::MaintenanceDraft;
use candor_core::status::MaintenanceStatus;
use candor_store::Maintenance;
use serde_json::{json, Value};
use std::collections::HashMap;

const SCHEDULE_FIELDS: &[&str] = &[
    "title",
    "body",
    "scheduled_for",
    "scheduled_until",
    "auto",
    "components",
];
const EDIT_FIELDS: &[&str] = &["title", "scheduled_for", "scheduled_until", "auto", "components"];
const UPDATE_FIELDS: &[&str] = &["status", "body"];

async fn find(state: &AppState, id: i64) -> WebResult<Maintenance> {
    state
        .store()
        .maintenance(state.org(), id)
        .await?
        .ok_or_else(|| WebError::Missing(format!("there is no maintenance with id {id}")))
}

/// `GET ?unfinished=true&limit=N`: newest window first, or (unfinished) those not completed,
/// soonest first.
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> WebResult<Json<Value>> {
    let q = query(q)?;
    let limit = limit(&q)?;
    let mut list = state
        .store()
        .maintenances(state.org(), boolean(&q, "unfinished")?, limit)
        .await?;
    list.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(Json(
        json!({"maintenances": list.iter().map(maintenance_json).collect::<Vec<_>>()}),
    ))
}

pub async fn show(State(state): State<AppState>, _caller: ApiCaller, Path(id): Path<String>) -> WebResult<Json<Value>> {
    let id = path_id("maintenance", &id)?;
    Ok(Json(maintenance_json(&find(&state, id).await?)))
}

/// `POST`: announces a window.
pub async fn schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Response> {
    let mut b = Body::read(body, SCHEDULE_FIELDS)?;
    let title = b.text("title");
    let title = b.require("title", title);
    let text = b.text("body");
    let text = b.require("body", text);
    let from = b.time("scheduled_for");
    let from = b.require("scheduled_for", from);
    let until = b.time("scheduled_until");
    let until = b.require("scheduled_until", until);
    let auto = b.flag("auto");
    let components = b.ids("components");
    b.finish()?;
    let draft = MaintenanceDraft {
        title: title.unwrap_or_default(),
        body: text.unwrap_or_default(),
        scheduled_for: from.unwrap_or_default(),
        scheduled_until: until.unwrap_or_default(),
        auto: auto.unwrap_or(true),
        components: components.unwrap_or_default(),
    };
    let done = state.app().schedule_maintenance(&caller.who(), &draft).await?;
    state.apply(done.effects).await;
    Ok(created(maintenance_json(&find(&state, done.value).await?)))
}

/// `PATCH`: changes the fields sent and keeps the others.
pub async fn edit(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Json<Value>> {
    let id = path_id("maintenance", &id)?;
    let mut b = Body::read(body, EDIT_FIELDS)?;
    let title = b.text("title");
    let from = b.time("scheduled_for");
    let until = b.time("scheduled_until");
    let auto = b.flag("auto");
    let components = b.ids("components");
    b.finish()?;
    let now = find(&state, id).await?;
    let draft = MaintenanceDraft {
        title: title.unwrap_or(now.title),
        body: String::new(),
        scheduled_for: from.unwrap_or(now.scheduled_for),
        scheduled_until: until.unwrap_or(now.scheduled_until),
        auto: auto.unwrap_or(now.auto),
        components: components.unwrap_or(now.components),
    };
    let done = state.app().edit_maintenance(&caller.who(), id, &draft).await?;
    state.apply(done.effects).await;
    Ok(Json(maintenance_json(&find(&state, id).await?)))
}

pub async fn delete(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> WebResult<StatusCode> {
    let id = path_id("maintenance", &id)?;
    let done = state.app().delete_maintenance(&caller.who(), id).await?;
    state.apply(done.effects).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST .../updates`: moves the window on (forward only) with a message.
pub async fn post_update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Response> {
    let id = path_id("maintenance", &id)?;
    let mut b = Body::read(body, UPDATE_FIELDS)?;
    let status = b.choice("status", MaintenanceStatus::ALL, MaintenanceStatus::as_str);
    let status = b.require("status", status);
    let text = b.text("body");
    let text = b.require("body", text);
    b.finish()?;
    let done = state
        .app()
        .post_maintenance_update(
            &caller.who(),
            id,
            status.unwrap_or(MaintenanceStatus::Scheduled),
            &text.unwrap_or_default(),
        )
        .await?;
    state.apply(done.effects).await;
    Ok(created(maintenance_json(&find(&state, id).await?)))
}
