//! `/admin/status/incidents`: incidents and security notices — the list (open ones first), a
//! new one, its page with the timeline, updates, edits and deletion.

use super::forms::{
    choice, chosen_components, component_choices, path_id, status_class, status_options, text, unprocessable,
    ComponentChoice, DeletePage, Errors,
};
use crate::http::error::{WebError, WebResult};
use crate::http::format::display_time;
use crate::http::layout::{html, AdminLayout};
use crate::http::session::Admin;
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::status::{IncidentDraft, UpdateDraft};
use candor_app::Error;
use candor_core::content::FieldError;
use candor_core::markdown::to_safe_html;
use candor_core::status::{incident_transition, Impact, IncidentKind, IncidentStatus};
use candor_store::{Incident, IncidentQuery, StatusComponent};
use std::collections::HashMap;

const LABELS: &[(&str, &str)] = &[
    ("kind", "Kind"),
    ("title", "Title"),
    ("impact", "Impact"),
    ("status", "Status"),
    ("body", "Message"),
    ("components", "Affected components"),
    ("display_at", "Shown as written at"),
    ("postmortem", "Postmortem"),
];

/// Incidents per page of the list.
const PER_PAGE: i64 = 50;

pub(super) struct IncidentRow {
    id: i64,
    title: String,
    kind: &'static str,
    status: &'static str,
    status_class: &'static str,
    impact: &'static str,
    created: String,
    updated: String,
}

fn row(i: &Incident) -> IncidentRow {
    IncidentRow {
        id: i.id,
        title: i.title.clone(),
        kind: i.kind.label(),
        status: i.status.label(),
        status_class: if i.status.is_open() { "changed" } else { "published" },
        impact: i.impact.label(),
        created: display_time(Some(i.created_at)),
        updated: display_time(Some(i.updated_at)),
    }
}

#[derive(Template)]
#[template(path = "admin/status/incidents.html")]
pub(super) struct ListPage {
    layout: AdminLayout,
    /// `all`, `incident` or `advisory`.
    filter: &'static str,
    open: Vec<IncidentRow>,
    closed: Vec<IncidentRow>,
    page: i64,
    more: bool,
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let kind = q.get("kind").and_then(|k| IncidentKind::parse(k));
    let page = q.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).max(1);
    let query = |open_only, limit, offset| IncidentQuery {
        kind,
        open_only,
        limit,
        offset,
    };
    let store = state.store();
    let open = store.incidents(state.org(), query(true, 1000, 0)).await?;
    let recent = store
        .incidents(state.org(), query(false, PER_PAGE, (page - 1) * PER_PAGE))
        .await?;
    let total = store.incident_count(state.org(), kind).await?;
    html(ListPage {
        layout: AdminLayout::new(&admin, q.get("notice").map(String::as_str)),
        filter: kind.map_or("all", IncidentKind::as_str),
        open: open.iter().map(row).collect(),
        closed: recent.iter().filter(|i| !i.status.is_open()).map(row).collect(),
        page,
        more: total > page * PER_PAGE,
    })
}

/// The new-incident form's values, as typed.
pub(super) struct Draft {
    kind: &'static str,
    title: String,
    impact: &'static str,
    status: &'static str,
    body: String,
}

#[derive(Template)]
#[template(path = "admin/status/incident_new.html")]
pub(super) struct NewPage {
    layout: AdminLayout,
    draft: Draft,
    kinds: Vec<(&'static str, &'static str)>,
    impacts: Vec<(&'static str, &'static str)>,
    /// A new incident may start anywhere up to resolved (a report of something already over).
    statuses: Vec<(&'static str, &'static str)>,
    component_statuses: Vec<(&'static str, &'static str)>,
    components: Vec<ComponentChoice>,
    errors: Errors,
}

fn impacts() -> Vec<(&'static str, &'static str)> {
    Impact::ALL.iter().map(|i| (i.as_str(), i.label())).collect()
}

async fn new_page(
    state: &AppState,
    admin: &Admin,
    draft: Draft,
    form: Option<&FormMap>,
    errors: Vec<FieldError>,
) -> WebResult<NewPage> {
    let components = state.store().status_components(state.org()).await?;
    Ok(NewPage {
        layout: AdminLayout::new(admin, None),
        draft,
        kinds: IncidentKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
        impacts: impacts(),
        statuses: IncidentStatus::ALL
            .iter()
            .filter(|s| **s != IncidentStatus::Postmortem)
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        component_statuses: status_options(),
        components: component_choices(&components, &[], form),
        errors: Errors::new(errors, LABELS),
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let kind = q
        .get("kind")
        .and_then(|k| IncidentKind::parse(k))
        .unwrap_or(IncidentKind::Incident);
    let draft = Draft {
        kind: kind.as_str(),
        title: String::new(),
        impact: Impact::Minor.as_str(),
        status: IncidentStatus::Investigating.as_str(),
        body: String::new(),
    };
    html(new_page(&state, &admin, draft, None, vec![]).await?)
}

pub async fn create(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let kind = choice(&form, "kind", IncidentKind::parse)?;
    let impact = choice(&form, "impact", Impact::parse)?;
    let status = choice(&form, "status", IncidentStatus::parse)?;
    let components = state.store().status_components(state.org()).await?;
    let chosen = chosen_components(&form, &components, &[])?.unwrap_or_default();
    let draft = IncidentDraft {
        kind,
        title: text(&form, "title"),
        impact,
        status,
        body: text(&form, "body"),
        components: chosen,
        display_at: None,
    };
    let id = match state.app().open_incident(&admin.who(), &draft).await {
        Ok(done) => {
            state.apply(done.effects).await;
            done.value
        }
        Err(Error::Invalid(errors)) => {
            let typed = Draft {
                kind: kind.as_str(),
                title: draft.title,
                impact: impact.as_str(),
                status: status.as_str(),
                body: draft.body,
            };
            return unprocessable(new_page(&state, &admin, typed, Some(&form), errors).await?);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("/admin/status/incidents/{id}?notice=incident-opened")).into_response())
}

pub(super) struct Entry {
    status: &'static str,
    when: String,
    author: String,
    html: String,
}

/// The update and edit forms' values, as typed.
pub(super) struct Typed {
    status: &'static str,
    body: String,
    title: String,
    impact: &'static str,
    postmortem: String,
}

#[derive(Template)]
#[template(path = "admin/status/incident.html")]
pub(super) struct IncidentPage {
    layout: AdminLayout,
    id: i64,
    title: String,
    kind: &'static str,
    is_notice: bool,
    status: &'static str,
    status_class: &'static str,
    impact: &'static str,
    created: String,
    resolved: Option<String>,
    affected: Vec<(String, &'static str, &'static str)>,
    timeline: Vec<Entry>,
    postmortem_html: Option<String>,
    /// The statuses an update may move it to.
    next_statuses: Vec<(&'static str, &'static str)>,
    impacts: Vec<(&'static str, &'static str)>,
    component_statuses: Vec<(&'static str, &'static str)>,
    components: Vec<ComponentChoice>,
    typed: Typed,
    update_errors: Errors,
    edit_errors: Errors,
}

async fn incident_of(state: &AppState, id: &str) -> WebResult<Incident> {
    state
        .store()
        .incident(state.org(), path_id(id)?)
        .await?
        .ok_or(WebError::NotFound)
}

/// Which of the page's forms was sent, and what it was sent with.
enum Sent<'a> {
    Nothing,
    Update(&'a FormMap, Vec<FieldError>),
    Edit(&'a FormMap, Vec<FieldError>),
}

async fn incident_page(
    state: &AppState,
    admin: &Admin,
    i: &Incident,
    notice: Option<&str>,
    sent: Sent<'_>,
) -> WebResult<IncidentPage> {
    let components = state.store().status_components(state.org()).await?;
    let name_of = |id: i64| -> String {
        components
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| format!("Component {id}"), |c| c.name.clone())
    };
    let mut typed = Typed {
        status: i.status.as_str(),
        body: String::new(),
        title: i.title.clone(),
        impact: i.impact.as_str(),
        postmortem: i.postmortem.clone().unwrap_or_default(),
    };
    let (mut update_errors, mut edit_errors, mut update_form) = (vec![], vec![], None);
    match sent {
        Sent::Nothing => {}
        Sent::Update(form, errors) => {
            typed.status = IncidentStatus::parse(&text(form, "status")).map_or(typed.status, IncidentStatus::as_str);
            typed.body = text(form, "body");
            update_errors = errors;
            update_form = Some(form);
        }
        Sent::Edit(form, errors) => {
            typed.title = text(form, "title");
            typed.impact = Impact::parse(&text(form, "impact")).map_or(typed.impact, Impact::as_str);
            typed.postmortem = text(form, "postmortem");
            edit_errors = errors;
        }
    }
    Ok(IncidentPage {
        layout: AdminLayout::new(admin, notice),
        id: i.id,
        title: i.title.clone(),
        kind: i.kind.label(),
        is_notice: i.kind == IncidentKind::Advisory,
        status: i.status.label(),
        status_class: if i.status.is_open() { "changed" } else { "published" },
        impact: i.impact.label(),
        created: display_time(Some(i.created_at)),
        resolved: i.resolved_at.map(|t| display_time(Some(t))),
        affected: i
            .components
            .iter()
            .map(|(id, s)| (name_of(*id), s.label(), status_class(*s)))
            .collect(),
        timeline: i
            .updates
            .iter()
            .map(|u| Entry {
                status: IncidentStatus::parse(&u.status).map_or("Update", IncidentStatus::label),
                when: display_time(Some(u.display_at)),
                author: u.author.clone(),
                html: to_safe_html(&u.body),
            })
            .collect(),
        postmortem_html: i.postmortem.as_deref().map(to_safe_html),
        next_statuses: IncidentStatus::ALL
            .iter()
            .filter(|s| incident_transition(i.status, **s).is_ok())
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        impacts: impacts(),
        component_statuses: status_options(),
        components: component_choices(&components, &i.components, update_form),
        typed,
        update_errors: Errors::new(update_errors, LABELS).prefixed("u-"),
        edit_errors: Errors::new(edit_errors, LABELS).prefixed("e-"),
    })
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let i = incident_of(&state, &id).await?;
    html(incident_page(&state, &admin, &i, q.get("notice").map(String::as_str), Sent::Nothing).await?)
}

pub async fn post_update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let i = incident_of(&state, &id).await?;
    let components: Vec<StatusComponent> = state.store().status_components(state.org()).await?;
    let update = UpdateDraft {
        status: choice(&form, "status", IncidentStatus::parse)?,
        body: text(&form, "body"),
        display_at: None,
        components: chosen_components(&form, &components, &i.components)?,
    };
    match state.app().post_incident_update(&admin.who(), i.id, &update).await {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Invalid(errors)) => {
            return unprocessable(incident_page(&state, &admin, &i, None, Sent::Update(&form, errors)).await?);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/admin/status/incidents/{}?notice=incident-updated", i.id)).into_response())
}

pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let i = incident_of(&state, &id).await?;
    let impact = choice(&form, "impact", Impact::parse)?;
    let postmortem = text(&form, "postmortem");
    let saved = state
        .app()
        .edit_incident(&admin.who(), i.id, &text(&form, "title"), impact, Some(&postmortem))
        .await;
    match saved {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Invalid(errors)) => {
            return unprocessable(incident_page(&state, &admin, &i, None, Sent::Edit(&form, errors)).await?);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/admin/status/incidents/{}?notice=incident-saved", i.id)).into_response())
}

pub async fn delete_form(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> WebResult<Response> {
    let i = incident_of(&state, &id).await?;
    let what = i.kind.label().to_lowercase();
    html(DeletePage {
        layout: AdminLayout::new(&admin, None),
        heading: format!("Delete “{}”?", i.title),
        explain: format!(
            "Delete a {what} only when it was opened by mistake: it leaves the status page and its history with its whole timeline, and the components it affects get their status back. Subscribers who were told about it are not told again. To close a real {what}, post an update that resolves it instead. This cannot be undone."
        ),
        action: format!("/admin/status/incidents/{}/delete", i.id),
        back: format!("/admin/status/incidents/{}", i.id),
        button: "Delete it",
    })
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().delete_incident(&admin.who(), path_id(&id)?).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/status/incidents?notice=incident-deleted").into_response())
}
