//! `/api/v1/status/components`: list, add, read, change (its status included) and delete.

use super::{component_json, created, group_json, path_id, Body};
use crate::http::api_token::ApiCaller;
use crate::http::error::{WebError, WebResult};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use candor_app::status::ComponentDraft;
use candor_core::status::ComponentStatus;
use candor_store::StatusComponent;
use serde_json::{json, Value};

const FIELDS: &[&str] = &["name", "description", "group_id", "showcase", "only_show_if_degraded"];
const PUT_FIELDS: &[&str] = &[
    "name",
    "description",
    "group_id",
    "showcase",
    "only_show_if_degraded",
    "status",
];

/// The use cases call the group `group`; the API's field is `group_id`.
fn api_error(e: candor_app::Error) -> WebError {
    match e {
        candor_app::Error::Invalid(mut errors) => {
            for e in &mut errors {
                if e.field == "group" {
                    e.field = "group_id".into();
                }
            }
            WebError::Invalid(errors)
        }
        e => e.into(),
    }
}

async fn find(state: &AppState, id: i64) -> WebResult<StatusComponent> {
    state
        .store()
        .status_components(state.org())
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| WebError::Missing(format!("there is no component with id {id}")))
}

/// The fields of a component as sent; what is absent is None.
struct Sent {
    name: Option<String>,
    description: Option<String>,
    group_id: Option<Option<i64>>,
    showcase: Option<bool>,
    only_show_if_degraded: Option<bool>,
}

fn read_fields(b: &mut Body) -> Sent {
    Sent {
        name: b.text("name"),
        description: b.text("description"),
        group_id: b.nullable_id("group_id"),
        showcase: b.flag("showcase"),
        only_show_if_degraded: b.flag("only_show_if_degraded"),
    }
}

pub async fn list(State(state): State<AppState>, _caller: ApiCaller) -> WebResult<Json<Value>> {
    let components = state.store().status_components(state.org()).await?;
    let groups = state.store().status_groups(state.org()).await?;
    Ok(Json(json!({
        "components": components.iter().map(component_json).collect::<Vec<_>>(),
        "groups": groups.iter().map(group_json).collect::<Vec<_>>(),
    })))
}

pub async fn show(State(state): State<AppState>, _caller: ApiCaller, Path(id): Path<String>) -> WebResult<Json<Value>> {
    let id = path_id("component", &id)?;
    Ok(Json(component_json(&find(&state, id).await?)))
}

/// `POST`: a new component, operational, at the end of the list.
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Response> {
    let mut b = Body::read(body, FIELDS)?;
    let sent = read_fields(&mut b);
    let name = b.require("name", sent.name);
    b.finish()?;
    let draft = ComponentDraft {
        group_id: sent.group_id.flatten(),
        name: name.unwrap_or_default(),
        description: sent.description.unwrap_or_default(),
        showcase: sent.showcase.unwrap_or(true),
        only_show_if_degraded: sent.only_show_if_degraded.unwrap_or(false),
    };
    let done = state
        .app()
        .create_status_component(&caller.who(), &draft)
        .await
        .map_err(api_error)?;
    state.apply(done.effects).await;
    Ok(created(component_json(&find(&state, done.value).await?)))
}

/// `PUT`: changes the fields sent and keeps the others; `status` sets the status by hand (an
/// alerting system may send only that).
pub async fn replace(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Json<Value>> {
    let id = path_id("component", &id)?;
    let mut b = Body::read(body, PUT_FIELDS)?;
    let sent = read_fields(&mut b);
    let status = b.choice("status", ComponentStatus::ALL, ComponentStatus::as_str);
    b.finish()?;
    let now = find(&state, id).await?;
    let edits = sent.name.is_some()
        || sent.description.is_some()
        || sent.group_id.is_some()
        || sent.showcase.is_some()
        || sent.only_show_if_degraded.is_some();
    if edits {
        let draft = ComponentDraft {
            group_id: sent.group_id.unwrap_or(now.group_id),
            name: sent.name.unwrap_or(now.name),
            description: sent.description.unwrap_or(now.description),
            showcase: sent.showcase.unwrap_or(now.showcase),
            only_show_if_degraded: sent.only_show_if_degraded.unwrap_or(now.only_show_if_degraded),
        };
        let done = state
            .app()
            .edit_status_component(&caller.who(), id, &draft)
            .await
            .map_err(api_error)?;
        state.apply(done.effects).await;
    }
    if let Some(status) = status {
        let done = state
            .app()
            .set_status_component_status(&caller.who(), id, status)
            .await?;
        state.apply(done.effects).await;
    }
    Ok(Json(component_json(&find(&state, id).await?)))
}

pub async fn delete(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> WebResult<StatusCode> {
    let id = path_id("component", &id)?;
    let done = state.app().delete_status_component(&caller.who(), id).await?;
    state.apply(done.effects).await;
    Ok(StatusCode::NO_CONTENT)
}
