//! Content items over the API: the same use cases as the back office, with the token as actor.

use crate::http::api_token::ApiCaller;
use crate::http::error::{WebError, WebResult};
use crate::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use candor_core::access::Permission;
use candor_core::{Kind, Slug};
use candor_store::Item;
use serde::Deserialize;
use serde_json::{json, Value};

fn kind_of(s: &str) -> WebResult<Kind> {
    Kind::parse(s).ok_or_else(|| {
        WebError::Missing(format!(
            "there is no content kind {s:?}; use one of: {}",
            Kind::ALL.iter().map(|k| k.plural()).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// An item as the API shows it.
pub fn item_json(i: &Item) -> Value {
    json!({
        "kind": i.kind.as_str(),
        "slug": i.slug,
        "position": i.position,
        "updated": i.updated.to_string(),
        "state": i.state().as_str(),
        "draft": i.draft,
        "published": i.published,
    })
}

fn json_body(body: Result<Json<Value>, JsonRejection>) -> WebResult<Value> {
    body.map(|Json(v)| v).map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            WebError::TooLarge("the request body is larger than 2 MiB; send a smaller body".into())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            WebError::UnsupportedType("send the body as JSON with the header `Content-Type: application/json`".into())
        }
        _ => WebError::BadRequest(format!(
            "the request body is not valid JSON for this endpoint: {}",
            e.body_text()
        )),
    })
}

/// `?publish=...`, which must be `true` or `false` when given.
fn publish_flag(q: Result<Query<PublishFlag>, QueryRejection>) -> WebResult<bool> {
    q.map(|Query(f)| f.publish)
        .map_err(|_| WebError::BadRequest("the query parameter publish must be true or false".into()))
}

pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(kind): Path<String>,
) -> WebResult<Json<Value>> {
    let kind = kind_of(&kind)?;
    let items = state.store().items(state.org(), kind).await?;
    Ok(Json(json!({"items": items.iter().map(item_json).collect::<Vec<_>>()})))
}

pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path((kind, slug)): Path<(String, String)>,
) -> WebResult<Json<Value>> {
    let kind = kind_of(&kind)?;
    let item = state
        .store()
        .item(state.org(), kind, &slug)
        .await?
        .ok_or_else(|| WebError::Missing(format!("{kind} {slug:?} was not found")))?;
    Ok(Json(item_json(&item)))
}

#[derive(Deserialize, Default)]
pub struct PublishFlag {
    #[serde(default)]
    publish: bool,
}

/// `POST /api/v1/{kind}` with `{"slug": "...", "body": {...}}`; `?publish=true` publishes at once.
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(kind): Path<String>,
    flag: Result<Query<PublishFlag>, QueryRejection>,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Response> {
    let kind = kind_of(&kind)?;
    let publish = publish_flag(flag)?;
    if publish {
        caller.require(&state, Permission::PublishContent).await?;
    }
    if kind == Kind::Profile {
        return Err(WebError::Conflict(
            "there is exactly one profile; update it with PUT /api/v1/profile/profile".into(),
        ));
    }
    let req = json_body(body)?;
    let Some(content) = req.get("body") else {
        return Err(WebError::BadRequest(
            "send {\"slug\": \"...\", \"body\": {...}}; the body object is missing".into(),
        ));
    };
    let checked = state.app().check_body(kind, content).await?;
    let slug = match req.get("slug").and_then(Value::as_str) {
        Some(s) => Slug::parse(s)
            .map_err(|e| WebError::Invalid(vec![candor_core::content::FieldError::new("slug", e.to_string())]))?,
        None => Slug::from_title(&kind.title_of(&checked))
            .ok_or_else(|| WebError::BadRequest("give a slug; none can be derived from the title".into()))?,
    };
    let done = state.app().create(&caller.who(), kind, &slug, content, publish).await?;
    state.apply(done.effects).await;
    tracing::info!(token.id = caller.token_id(), item.kind = %kind, item.slug = %slug, "created via API");
    Ok((StatusCode::CREATED, Json(item_json(&done.value))).into_response())
}

/// `PUT /api/v1/{kind}/{slug}` with `{"body": {...}}` replaces the draft.
pub async fn replace(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((kind, slug)): Path<(String, String)>,
    flag: Result<Query<PublishFlag>, QueryRejection>,
    body: Result<Json<Value>, JsonRejection>,
) -> WebResult<Json<Value>> {
    let kind = kind_of(&kind)?;
    let publish = publish_flag(flag)?;
    if publish {
        caller.require(&state, Permission::PublishContent).await?;
    }
    let req = json_body(body)?;
    let Some(content) = req.get("body") else {
        return Err(WebError::BadRequest(
            "send {\"body\": {...}}; the body object is missing".into(),
        ));
    };
    let done = state.app().save(&caller.who(), kind, &slug, content, publish).await?;
    state.apply(done.effects).await;
    Ok(Json(item_json(&done.value)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((kind, slug)): Path<(String, String)>,
) -> WebResult<StatusCode> {
    let kind = kind_of(&kind)?;
    let done = state.app().delete(&caller.who(), kind, &slug).await?;
    state.apply(done.effects).await;
    tracing::info!(token.id = caller.token_id(), item.kind = %kind, item.slug = %slug, "deleted via API");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn publish(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((kind, slug)): Path<(String, String)>,
) -> WebResult<Json<Value>> {
    let kind = kind_of(&kind)?;
    let done = state.app().publish(&caller.who(), kind, &slug).await?;
    state.apply(done.effects).await;
    Ok(Json(item_json(&done.value)))
}

pub async fn unpublish(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((kind, slug)): Path<(String, String)>,
) -> WebResult<Json<Value>> {
    let kind = kind_of(&kind)?;
    let done = state.app().unpublish(&caller.who(), kind, &slug).await?;
    state.apply(done.effects).await;
    Ok(Json(item_json(&done.value)))
}

pub async fn revisions(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path((kind, slug)): Path<(String, String)>,
) -> WebResult<Json<Value>> {
    let kind = kind_of(&kind)?;
    let item = state
        .store()
        .item(state.org(), kind, &slug)
        .await?
        .ok_or_else(|| WebError::Missing(format!("{kind} {slug:?} was not found")))?;
    let revs = state.store().revisions(item.id).await?;
    Ok(Json(json!({"revisions": revs.iter().map(|r| json!({
        "number": r.number, "action": r.action, "actor": r.actor,
        "at": chrono::DateTime::from_timestamp(r.at, 0).map(|t| t.to_rfc3339()),
        "body": r.body,
    })).collect::<Vec<_>>()})))
}
