//! `/admin/status/maintenance`: scheduled maintenance — the list, scheduling a window (times in
//! UTC), its page with the timeline, updates, edits and deletion.

use super::forms::{choice, input_time, parse_utc, path_id, text, ticked, unprocessable, DeletePage, Errors};
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
use candor_app::status::MaintenanceDraft;
use candor_app::Error;
use candor_core::content::FieldError;
use candor_core::markdown::to_safe_html;
use candor_core::status::{maintenance_transition, MaintenanceStatus};
use candor_store::{Maintenance, StatusComponent};
use std::collections::HashMap;

const LABELS: &[(&str, &str)] = &[
    ("title", "Title"),
    ("body", "What will happen"),
    ("scheduled_for", "Start (UTC)"),
    ("scheduled_until", "End (UTC)"),
    ("components", "Components"),
    ("status", "Status"),
];

pub(super) struct Row {
    id: i64,
    title: String,
    status: &'static str,
    status_class: &'static str,
    window: String,
    auto: bool,
}

fn row(m: &Maintenance) -> Row {
    Row {
        id: m.id,
        title: m.title.clone(),
        status: m.status.label(),
        status_class: match m.status {
            MaintenanceStatus::Completed => "published",
            MaintenanceStatus::Scheduled => "",
            _ => "changed",
        },
        window: format!(
            "{} to {}",
            display_time(Some(m.scheduled_for)),
            display_time(Some(m.scheduled_until))
        ),
        auto: m.auto,
    }
}

#[derive(Template)]
#[template(path = "admin/status/maintenances.html")]
pub(super) struct ListPage {
    layout: AdminLayout,
    unfinished: Vec<Row>,
    completed: Vec<Row>,
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let store = state.store();
    let unfinished = store.maintenances(state.org(), true, 1000).await?;
    let recent = store.maintenances(state.org(), false, 100).await?;
    html(ListPage {
        layout: AdminLayout::new(&admin, q.get("notice").map(String::as_str)),
        unfinished: unfinished.iter().map(row).collect(),
        completed: recent
            .iter()
            .filter(|m| m.status == MaintenanceStatus::Completed)
            .map(row)
            .collect(),
    })
}

/// The schedule and edit form's values, as typed.
pub(super) struct Typed {
    title: String,
    body: String,
    scheduled_for: String,
    scheduled_until: String,
    auto: bool,
    /// (id, name, ticked) for every component.
    components: Vec<(i64, String, bool)>,
}

impl Typed {
    fn read(form: &FormMap, all: &[StatusComponent]) -> Typed {
        Typed {
            title: text(form, "title"),
            body: text(form, "body"),
            scheduled_for: text(form, "scheduled_for"),
            scheduled_until: text(form, "scheduled_until"),
            auto: ticked(form, "auto"),
            components: all
                .iter()
                .map(|c| (c.id, c.name.clone(), ticked(form, &format!("component-{}", c.id))))
                .collect(),
        }
    }

    fn of(m: &Maintenance, all: &[StatusComponent]) -> Typed {
        Typed {
            title: m.title.clone(),
            body: String::new(),
            scheduled_for: input_time(m.scheduled_for),
            scheduled_until: input_time(m.scheduled_until),
            auto: m.auto,
            components: all
                .iter()
                .map(|c| (c.id, c.name.clone(), m.components.contains(&c.id)))
                .collect(),
        }
    }

    /// The draft, or the errors of the times (the use case checks the rest).
    fn draft(&self) -> Result<MaintenanceDraft, Vec<FieldError>> {
        let start = parse_utc("scheduled_for", &self.scheduled_for);
        let end = parse_utc("scheduled_until", &self.scheduled_until);
        match (start, end) {
            (Ok(scheduled_for), Ok(scheduled_until)) => Ok(MaintenanceDraft {
                title: self.title.clone(),
                body: self.body.clone(),
                scheduled_for,
                scheduled_until,
                auto: self.auto,
                components: self.components.iter().filter(|c| c.2).map(|c| c.0).collect(),
            }),
            (a, b) => Err([a.err(), b.err()].into_iter().flatten().collect()),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/status/maintenance_new.html")]
pub(super) struct NewPage {
    layout: AdminLayout,
    typed: Typed,
    errors: Errors,
}

pub async fn new_form(State(state): State<AppState>, admin: Admin) -> WebResult<Response> {
    let all = state.store().status_components(state.org()).await?;
    // A suggestion: tomorrow at this hour, for an hour.
    let start = (candor_store::now() / 3600 + 24) * 3600;
    let typed = Typed {
        title: String::new(),
        body: String::new(),
        scheduled_for: input_time(start),
        scheduled_until: input_time(start + 3600),
        auto: true,
        components: all.iter().map(|c| (c.id, c.name.clone(), false)).collect(),
    };
    html(NewPage {
        layout: AdminLayout::new(&admin, None),
        typed,
        errors: Errors::default(),
    })
}

pub async fn create(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let all = state.store().status_components(state.org()).await?;
    let typed = Typed::read(&form, &all);
    let outcome = match typed.draft() {
        Ok(draft) => state.app().schedule_maintenance(&admin.who(), &draft).await,
        Err(errors) => Err(Error::Invalid(errors)),
    };
    let id = match outcome {
        Ok(done) => {
            state.apply(done.effects).await;
            done.value
        }
        Err(Error::Invalid(errors)) => {
            return unprocessable(NewPage {
                layout: AdminLayout::new(&admin, None),
                typed,
                errors: Errors::new(errors, LABELS),
            });
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("/admin/status/maintenance/{id}?notice=maintenance-scheduled")).into_response())
}

pub(super) struct Entry {
    status: &'static str,
    when: String,
    author: String,
    html: String,
}

#[derive(Template)]
#[template(path = "admin/status/maintenance.html")]
pub(super) struct MaintenancePage {
    layout: AdminLayout,
    id: i64,
    title: String,
    status: &'static str,
    status_class: &'static str,
    window: String,
    auto: bool,
    covered: Vec<String>,
    timeline: Vec<Entry>,
    next_statuses: Vec<(&'static str, &'static str)>,
    update_status: &'static str,
    update_body: String,
    typed: Typed,
    update_errors: Errors,
    edit_errors: Errors,
}

async fn maintenance_of(state: &AppState, id: &str) -> WebResult<Maintenance> {
    state
        .store()
        .maintenance(state.org(), path_id(id)?)
        .await?
        .ok_or(WebError::NotFound)
}

/// Which of the page's forms was sent, and what it was sent with.
enum Sent<'a> {
    Nothing,
    Update(&'a FormMap, Vec<FieldError>),
    Edit(Typed, Vec<FieldError>),
}

async fn maintenance_page(
    state: &AppState,
    admin: &Admin,
    m: &Maintenance,
    notice: Option<&str>,
    sent: Sent<'_>,
) -> WebResult<MaintenancePage> {
    let all = state.store().status_components(state.org()).await?;
    let r = row(m);
    let next_statuses: Vec<(&'static str, &'static str)> = MaintenanceStatus::ALL
        .iter()
        .filter(|s| maintenance_transition(m.status, **s).is_ok())
        .map(|s| (s.as_str(), s.label()))
        .collect();
    let mut page = MaintenancePage {
        layout: AdminLayout::new(admin, notice),
        id: m.id,
        title: m.title.clone(),
        status: r.status,
        status_class: r.status_class,
        window: r.window,
        auto: m.auto,
        covered: all
            .iter()
            .filter(|c| m.components.contains(&c.id))
            .map(|c| c.name.clone())
            .collect(),
        timeline: m
            .updates
            .iter()
            .map(|u| Entry {
                status: MaintenanceStatus::parse(&u.status).map_or("Update", MaintenanceStatus::label),
                when: display_time(Some(u.display_at)),
                author: u.author.clone(),
                html: to_safe_html(&u.body),
            })
            .collect(),
        // The next step is the likely choice.
        update_status: next_statuses
            .iter()
            .map(|s| s.0)
            .find(|s| *s != m.status.as_str())
            .unwrap_or(m.status.as_str()),
        next_statuses,
        update_body: String::new(),
        typed: Typed::of(m, &all),
        update_errors: Errors::default(),
        edit_errors: Errors::default(),
    };
    match sent {
        Sent::Nothing => {}
        Sent::Update(form, errors) => {
            if let Some(s) = MaintenanceStatus::parse(&text(form, "status")) {
                page.update_status = s.as_str();
            }
            page.update_body = text(form, "body");
            page.update_errors = Errors::new(errors, LABELS).prefixed("u-");
        }
        Sent::Edit(typed, errors) => {
            page.typed = typed;
            page.edit_errors = Errors::new(errors, LABELS).prefixed("e-");
        }
    }
    Ok(page)
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let m = maintenance_of(&state, &id).await?;
    html(maintenance_page(&state, &admin, &m, q.get("notice").map(String::as_str), Sent::Nothing).await?)
}

pub async fn post_update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let m = maintenance_of(&state, &id).await?;
    let status = choice(&form, "status", MaintenanceStatus::parse)?;
    let posted = state
        .app()
        .post_maintenance_update(&admin.who(), m.id, status, &text(&form, "body"))
        .await;
    match posted {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Invalid(errors)) => {
            return unprocessable(maintenance_page(&state, &admin, &m, None, Sent::Update(&form, errors)).await?);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!(
        "/admin/status/maintenance/{}?notice=maintenance-updated",
        m.id
    ))
    .into_response())
}

pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let m = maintenance_of(&state, &id).await?;
    let all = state.store().status_components(state.org()).await?;
    let typed = Typed::read(&form, &all);
    let outcome = match typed.draft() {
        Ok(draft) => state.app().edit_maintenance(&admin.who(), m.id, &draft).await,
        Err(errors) => Err(Error::Invalid(errors)),
    };
    match outcome {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Invalid(errors)) => {
            return unprocessable(maintenance_page(&state, &admin, &m, None, Sent::Edit(typed, errors)).await?);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/admin/status/maintenance/{}?notice=maintenance-saved", m.id)).into_response())
}

pub async fn delete_form(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> WebResult<Response> {
    let m = maintenance_of(&state, &id).await?;
    html(DeletePage {
        layout: AdminLayout::new(&admin, None),
        heading: format!("Delete “{}”?", m.title),
        explain: "The maintenance window leaves the status page and its history with its timeline; if it is running, its components stop showing maintenance. Subscribers who were told about it are not told again. To call off a window, post an update that completes it instead. This cannot be undone.".into(),
        action: format!("/admin/status/maintenance/{}/delete", m.id),
        back: format!("/admin/status/maintenance/{}", m.id),
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
    let done = state.app().delete_maintenance(&admin.who(), path_id(&id)?).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/status/maintenance?notice=maintenance-deleted").into_response())
}
