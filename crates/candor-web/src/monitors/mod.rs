//! Built-in monitors in the back office: the list with each monitor's last result, and the form
//! that adds, changes and removes one. The checks themselves run in [`runner`].

pub(crate) mod runner;

use crate::http::error::{WebError, WebResult};
use crate::http::format::display_time;
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_core::access::{allows, Permission};
use candor_core::content::FieldError;
use candor_core::status::monitor::{CheckStatus, MonitorForm, MonitorKind, HTTP_METHODS};
use candor_core::status::ComponentStatus;
use candor_store::Monitor;
use std::collections::HashMap;

struct Row {
    id: i64,
    name: String,
    component: String,
    kind: &'static str,
    target: String,
    every: String,
    enabled: bool,
    last: LastResult,
}

/// A check result as shown: its words, the badge's class, when, how long, what failed.
struct LastResult {
    label: &'static str,
    class: &'static str,
    at: String,
    latency: String,
    detail: String,
}

impl LastResult {
    fn of(status: Option<CheckStatus>, at: Option<i64>, latency_ms: Option<i64>, detail: Option<&str>) -> LastResult {
        let (label, class) = match status {
            Some(CheckStatus::Up) => ("Up", "status-certified"),
            Some(CheckStatus::Degraded) => ("Degraded", "status-in-progress"),
            Some(CheckStatus::Down) => ("Down", "status-expired"),
            None => ("Not checked yet", ""),
        };
        LastResult {
            label,
            class,
            at: display_time(at),
            latency: latency_ms.map(|l| format!("{l} ms")).unwrap_or_default(),
            detail: detail.unwrap_or_default().to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/monitors.html")]
struct ListPage {
    layout: AdminLayout,
    monitors: Vec<Row>,
    can_manage: bool,
    has_components: bool,
}

#[derive(Template)]
#[template(path = "admin/monitor.html")]
struct FormPage {
    layout: AdminLayout,
    heading: String,
    /// None for a new monitor.
    id: Option<i64>,
    form: MonitorForm,
    errors: Vec<FieldError>,
    components: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    methods: &'static [&'static str],
    down_statuses: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    last: Option<LastResult>,
    results: Vec<LastResult>,
}

impl FormPage {
    /// The error of one field, for the message under it.
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

fn can_manage(admin: &Admin) -> bool {
    allows(admin.0.user.role, Permission::ManageStatus)
}

fn page(html: String, status: StatusCode) -> Response {
    (status, [(axum::http::header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

pub async fn list(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    let org = state.org();
    let components = state.store().status_components(org).await?;
    let name_of = |id: i64| {
        components
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let monitors = state
        .store()
        .monitors(org)
        .await?
        .into_iter()
        .map(|m| Row {
            id: m.id,
            component: name_of(m.component_id),
            kind: m.spec.kind.as_str(),
            target: m.spec.target.clone(),
            every: format!("{} s", m.spec.interval_secs),
            enabled: m.enabled,
            last: LastResult::of(
                m.last_status,
                m.last_checked_at,
                m.last_latency_ms,
                m.last_detail.as_deref(),
            ),
            name: m.name,
        })
        .collect();
    let html = ListPage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        monitors,
        can_manage: can_manage(&admin),
        has_components: !components.is_empty(),
    }
    .render()?;
    Ok(page(html, StatusCode::OK))
}

/// The form page, with what was typed and what is wrong with it.
async fn form_page(
    state: &AppState,
    admin: &Admin,
    monitor: Option<&Monitor>,
    form: MonitorForm,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let org = state.org();
    let components = state
        .store()
        .status_components(org)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect();
    let results = match monitor {
        Some(m) => state
            .store()
            .monitor_results(org, m.id, 20)
            .await?
            .into_iter()
            .map(|r| {
                // Stored results keep up/down; a degraded check is up with words saying why.
                let status = match (r.ok, r.detail.is_empty()) {
                    (false, _) => CheckStatus::Down,
                    (true, true) => CheckStatus::Up,
                    (true, false) => CheckStatus::Degraded,
                };
                LastResult::of(Some(status), Some(r.at), Some(r.latency_ms), Some(&r.detail))
            })
            .collect(),
        None => vec![],
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = FormPage {
        layout: AdminLayout::new(admin, notice),
        heading: monitor.map_or_else(|| "New monitor".to_owned(), |m| format!("Monitor: {}", m.name)),
        id: monitor.map(|m| m.id),
        form,
        errors,
        components,
        kinds: MonitorKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
        methods: HTTP_METHODS,
        down_statuses: ComponentStatus::ALL
            .iter()
            .filter(|s| s.is_disrupted())
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        can_manage: can_manage(admin),
        last: monitor.map(|m| {
            LastResult::of(
                m.last_status,
                m.last_checked_at,
                m.last_latency_ms,
                m.last_detail.as_deref(),
            )
        }),
        results,
    }
    .render()?;
    Ok(page(html, status))
}

pub async fn new_form(State(state): State<AppState>, admin: Admin) -> WebResult<Response> {
    form_page(&state, &admin, None, MonitorForm::blank(), vec![], None).await
}

/// The typed fields (the CSRF token and anything unknown are left out).
fn typed(form: &HashMap<String, String>) -> WebResult<MonitorForm> {
    let value = serde_json::to_value(form).map_err(anyhow::Error::from)?;
    Ok(serde_json::from_value(value).map_err(anyhow::Error::from)?)
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&fields)?;
    let form = typed(&fields)?;
    let draft = match form.parse() {
        Ok(d) => d,
        Err(errors) => return form_page(&state, &admin, None, form, errors, None).await,
    };
    match state.app().create_monitor(&admin.who(), &draft).await {
        Ok(done) => {
            state.apply(done.effects).await;
            state.monitors_changed();
            Ok(Redirect::to(&format!("/admin/status/monitors/{}?notice=monitor-saved", done.value)).into_response())
        }
        Err(candor_app::Error::Invalid(errors)) => form_page(&state, &admin, None, form, errors, None).await,
        Err(e) => Err(e.into()),
    }
}

async fn load(state: &AppState, id: i64) -> WebResult<Monitor> {
    state
        .store()
        .monitor(state.org(), id)
        .await?
        .ok_or_else(|| WebError::NotFound)
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let m = load(&state, id).await?;
    let form = MonitorForm::of(&m.draft());
    form_page(&state, &admin, Some(&m), form, vec![], q.notice.as_deref()).await
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(fields): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&fields)?;
    let m = load(&state, id).await?;
    let form = typed(&fields)?;
    let draft = match form.parse() {
        Ok(d) => d,
        Err(errors) => return form_page(&state, &admin, Some(&m), form, errors, None).await,
    };
    match state.app().edit_monitor(&admin.who(), id, &draft).await {
        Ok(done) => {
            state.apply(done.effects).await;
            state.monitors_changed();
            Ok(Redirect::to(&format!("/admin/status/monitors/{id}?notice=monitor-saved")).into_response())
        }
        Err(candor_app::Error::Invalid(errors)) => form_page(&state, &admin, Some(&m), form, errors, None).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(fields): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&fields)?;
    let done = state.app().delete_monitor(&admin.who(), id).await?;
    state.apply(done.effects).await;
    state.monitors_changed();
    Ok(Redirect::to("/admin/status/monitors?notice=monitor-deleted").into_response())
}
