//! The back office: subscribers (list, remove) and webhook endpoints (create with a secret shown
//! once, edit, enable, disable, delete; the delivery log with re-send). Secrets are never shown
//! again after creation.

use super::{choice_of, component_boxes, field, field_errors, webhook_topic_boxes, ComponentBox, TopicBox};
use crate::http::error::WebResult;
use crate::http::format::display_time;
use crate::http::layout::{html, AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::subscriptions::Choice;
use candor_store::{DeliveryStatus, EndpointFields, WebhookEndpoint};
use std::collections::HashMap;

/// The most subscribers the page lists; the counts cover them all.
const SHOWN: i64 = 1000;
/// The most deliveries an endpoint's page lists.
const DELIVERIES_SHOWN: i64 = 100;

/// Status component names by id, for showing choices.
async fn component_names(state: &AppState) -> WebResult<HashMap<i64, String>> {
    Ok(state
        .store()
        .status_components(state.org())
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

fn describe_choice(
    topics: &[candor_core::events::Topic],
    components: &[i64],
    names: &HashMap<i64, String>,
) -> (String, String) {
    let topics = topics.iter().map(|t| t.label()).collect::<Vec<_>>().join(", ");
    let components = if !topics.contains(candor_core::events::Topic::Status.label()) {
        "—".to_owned()
    } else if components.is_empty() {
        "all".to_owned()
    } else {
        components
            .iter()
            .map(|c| names.get(c).cloned().unwrap_or_else(|| format!("#{c} (deleted)")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    (topics, components)
}

struct SubscriberRow {
    id: i64,
    email: String,
    confirmed: String,
    topics: String,
    components: String,
    created: String,
}

#[derive(Template)]
#[template(path = "admin/subscribers.html")]
struct SubscribersPage {
    layout: AdminLayout,
    confirmed: i64,
    pending: i64,
    more: bool,
    rows: Vec<SubscriberRow>,
}

pub async fn subscribers(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let (confirmed, pending) = state.store().subscriber_counts(state.org()).await?;
    let names = component_names(&state).await?;
    let list = state.store().subscribers(state.org(), SHOWN).await?;
    let rows = list
        .into_iter()
        .map(|s| {
            let (topics, components) = describe_choice(&s.topics, &s.components, &names);
            SubscriberRow {
                id: s.id,
                email: s.email,
                confirmed: match s.confirmed_at {
                    Some(t) => display_time(Some(t)),
                    None => "waiting for confirmation".into(),
                },
                topics,
                components,
                created: display_time(Some(s.created_at)),
            }
        })
        .collect();
    html(SubscribersPage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        confirmed,
        pending,
        more: confirmed + pending > SHOWN,
        rows,
    })
}

pub async fn remove_subscriber(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().remove_subscriber(&admin.who(), id).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/subscribers?notice=subscriber-removed").into_response())
}

struct EndpointRow {
    id: i64,
    url: String,
    description: String,
    topics: String,
    components: String,
    enabled: bool,
    disabled: String,
    failures: i64,
}

fn endpoint_row(e: WebhookEndpoint, names: &HashMap<i64, String>) -> EndpointRow {
    let (topics, components) = describe_choice(&e.topics, &e.components, names);
    EndpointRow {
        id: e.id,
        url: e.url,
        description: e.description,
        topics,
        components,
        enabled: e.enabled,
        disabled: match (e.disabled_at, e.disabled_reason) {
            (Some(at), Some(why)) => format!("{} — {why}", display_time(Some(at))),
            (Some(at), None) => display_time(Some(at)),
            _ => String::new(),
        },
        failures: e.consecutive_failures,
    }
}

/// The endpoint form's values.
struct EndpointForm {
    url: String,
    description: String,
    topics: Vec<TopicBox>,
    components: Vec<ComponentBox>,
}

async fn endpoint_form(state: &AppState, url: &str, description: &str, choice: &Choice) -> WebResult<EndpointForm> {
    Ok(EndpointForm {
        url: url.to_owned(),
        description: description.to_owned(),
        topics: webhook_topic_boxes(&choice.topics),
        components: component_boxes(state, &choice.components).await?,
    })
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct WebhooksPage {
    layout: AdminLayout,
    allow_private: bool,
    endpoints: Vec<EndpointRow>,
    form: EndpointForm,
    errors: Vec<String>,
}

async fn webhooks_page(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    form: EndpointForm,
    errors: Vec<String>,
) -> WebResult<Response> {
    let names = component_names(state).await?;
    let endpoints = state
        .store()
        .webhook_endpoints(state.org())
        .await?
        .into_iter()
        .map(|e| endpoint_row(e, &names))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = WebhooksPage {
        layout: AdminLayout::new(admin, notice),
        allow_private: state.config().webhooks.allow_private,
        endpoints,
        form,
        errors,
    };
    Ok((status, html(page)?).into_response())
}

pub async fn webhooks(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let all = Choice {
        topics: candor_core::events::Topic::ALL.to_vec(),
        components: vec![],
    };
    let form = endpoint_form(&state, "", "", &all).await?;
    webhooks_page(&state, &admin, q.notice.as_deref(), form, vec![]).await
}

fn fields_of(pairs: &[(String, String)]) -> EndpointFields {
    let choice = choice_of(pairs);
    EndpointFields {
        url: field(pairs, "url").trim().to_owned(),
        description: field(pairs, "description").trim().to_owned(),
        topics: choice.topics,
        components: choice.components,
    }
}

fn check_csrf(admin: &Admin, pairs: &[(String, String)]) -> WebResult<()> {
    let csrf: HashMap<String, String> = pairs.iter().filter(|(k, _)| k == "_csrf").cloned().collect();
    admin.check_csrf(&csrf)
}

/// Creates an endpoint and shows its page with the secret, once.
pub async fn create_webhook(
    State(state): State<AppState>,
    admin: Admin,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    check_csrf(&admin, &pairs)?;
    let fields = fields_of(&pairs);
    let allow_private = state.config().webhooks.allow_private;
    match state.app().create_webhook(&admin.who(), &fields, allow_private).await {
        Ok(done) => {
            state.apply(done.effects).await;
            let (id, secret) = done.value;
            endpoint_page(&state, &admin, id, None, Some(secret.expose().to_owned()), None).await
        }
        Err(e) => {
            let errors = field_errors(e)?;
            let choice = choice_of(&pairs);
            let form = endpoint_form(&state, &fields.url, &fields.description, &choice).await?;
            webhooks_page(&state, &admin, None, form, errors).await
        }
    }
}

struct AttemptRow {
    at: String,
    status: String,
    error: String,
    duration_ms: i64,
}

struct DeliveryRow {
    id: i64,
    message_id: String,
    event_type: String,
    created: String,
    state: &'static str,
    next_attempt: String,
    attempts: Vec<AttemptRow>,
    payload: String,
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct EndpointPage {
    layout: AdminLayout,
    allow_private: bool,
    endpoint: EndpointRow,
    new_secret: Option<String>,
    form: EndpointForm,
    errors: Vec<String>,
    deliveries: Vec<DeliveryRow>,
}

/// An endpoint's page: its settings, the secret right after creation, the delivery log.
async fn endpoint_page(
    state: &AppState,
    admin: &Admin,
    id: i64,
    notice: Option<&str>,
    new_secret: Option<String>,
    edited: Option<(EndpointFields, Vec<String>)>,
) -> WebResult<Response> {
    let Some(e) = state.store().webhook_endpoint(state.org(), id).await? else {
        return Err(crate::http::error::WebError::Missing(format!(
            "webhook endpoint {id} was not found"
        )));
    };
    let names = component_names(state).await?;
    let (form, errors) = match edited {
        Some((f, errors)) => {
            let choice = Choice {
                topics: f.topics,
                components: f.components,
            };
            (endpoint_form(state, &f.url, &f.description, &choice).await?, errors)
        }
        None => {
            let choice = Choice {
                topics: e.topics.clone(),
                components: e.components.clone(),
            };
            (endpoint_form(state, &e.url, &e.description, &choice).await?, vec![])
        }
    };
    let now = candor_store::now();
    let deliveries = state
        .store()
        .webhook_deliveries(state.org(), id, DELIVERIES_SHOWN)
        .await?
        .into_iter()
        .map(|d| DeliveryRow {
            id: d.id,
            message_id: d.message_id,
            event_type: d.event_type,
            created: display_time(Some(d.created_at)),
            state: match d.status {
                DeliveryStatus::Delivered => "Delivered",
                DeliveryStatus::Failed => "Failed",
                DeliveryStatus::Pending if d.attempts == 0 => "Queued",
                DeliveryStatus::Pending => "Retrying",
            },
            next_attempt: match d.status {
                DeliveryStatus::Pending if d.next_attempt_at <= now => "now".into(),
                DeliveryStatus::Pending => display_time(Some(d.next_attempt_at)),
                _ => "—".into(),
            },
            attempts: d
                .log
                .into_iter()
                .map(|a| AttemptRow {
                    at: display_time(Some(a.at)),
                    status: a.status.map(|s| s.to_string()).unwrap_or_else(|| "no answer".into()),
                    error: a.error.unwrap_or_default(),
                    duration_ms: a.duration_ms,
                })
                .collect(),
            payload: d.payload,
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EndpointPage {
        layout: AdminLayout::new(admin, notice),
        allow_private: state.config().webhooks.allow_private,
        endpoint: endpoint_row(e, &names),
        new_secret,
        form,
        errors,
        deliveries,
    };
    Ok((status, html(page)?).into_response())
}

pub async fn webhook(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    endpoint_page(&state, &admin, id, q.notice.as_deref(), None, None).await
}

pub async fn edit_webhook(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    check_csrf(&admin, &pairs)?;
    let fields = fields_of(&pairs);
    let allow_private = state.config().webhooks.allow_private;
    match state.app().edit_webhook(&admin.who(), id, &fields, allow_private).await {
        Ok(done) => {
            state.apply(done.effects).await;
            Ok(Redirect::to(&format!("/admin/webhooks/{id}?notice=webhook-saved")).into_response())
        }
        Err(e) => {
            let errors = field_errors(e)?;
            endpoint_page(&state, &admin, id, None, None, Some((fields, errors))).await
        }
    }
}

pub async fn delete_webhook(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().delete_webhook(&admin.who(), id).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/webhooks?notice=webhook-deleted").into_response())
}

pub async fn enable_webhook(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().enable_webhook(&admin.who(), id).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?notice=webhook-enabled")).into_response())
}

pub async fn disable_webhook(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let reason = format!("disabled by {}", admin.actor());
    let done = state.app().disable_webhook(&admin.who(), id, &reason).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?notice=webhook-disabled")).into_response())
}

pub async fn resend(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, delivery)): Path<(i64, i64)>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().resend_webhook(&admin.who(), id, delivery).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?notice=webhook-resent")).into_response())
}
