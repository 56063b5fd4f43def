//! `/admin/status`: the overall status, the components by group with a status to set by hand,
//! and the groups and components themselves (add, rename, edit, reorder, delete).

use super::forms::{choice, path_id, status_class, status_options, text, ticked, unprocessable, DeletePage, Errors};
use crate::http::error::{WebError, WebResult};
use crate::http::layout::{html, AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::status::ComponentDraft;
use candor_app::Error;
use candor_core::content::FieldError;
use candor_core::status::{ComponentStatus, Indicator};
use candor_store::StatusComponent;

const COMPONENT_LABELS: &[(&str, &str)] = &[("name", "Name"), ("description", "Description"), ("group", "Group")];

pub(super) struct ComponentRow {
    id: i64,
    name: String,
    description: String,
    status: &'static str,
    status_label: &'static str,
    status_class: &'static str,
    /// Said when visitors see something else than the set status (a running maintenance).
    shown: Option<&'static str>,
    /// The place to move to for "up" and "down" within its group, if it can move.
    up: Option<i64>,
    down: Option<i64>,
}

pub(super) struct GroupBlock {
    id: Option<i64>,
    name: String,
    components: Vec<ComponentRow>,
    /// A rename of this group that broke a rule.
    rename_error: Option<String>,
}

/// The fields of the component form, as typed.
pub(super) struct ComponentForm {
    name: String,
    description: String,
    group: Option<i64>,
    showcase: bool,
    only_show_if_degraded: bool,
}

impl ComponentForm {
    fn blank() -> ComponentForm {
        ComponentForm {
            name: String::new(),
            description: String::new(),
            group: None,
            showcase: true,
            only_show_if_degraded: false,
        }
    }

    fn of(c: &StatusComponent) -> ComponentForm {
        ComponentForm {
            name: c.name.clone(),
            description: c.description.clone(),
            group: c.group_id,
            showcase: c.showcase,
            only_show_if_degraded: c.only_show_if_degraded,
        }
    }

    fn read(form: &FormMap) -> WebResult<ComponentForm> {
        let group = match form.get("group").map(String::as_str).unwrap_or("") {
            "" => None,
            g => Some(
                g.parse()
                    .map_err(|_| WebError::BadRequest("group: choose one from the list".into()))?,
            ),
        };
        Ok(ComponentForm {
            name: text(form, "name"),
            description: text(form, "description"),
            group,
            showcase: ticked(form, "showcase"),
            only_show_if_degraded: ticked(form, "only_show_if_degraded"),
        })
    }

    /// Whether the form has group `id` chosen (for the template's select).
    fn in_group(&self, id: &i64) -> bool {
        self.group == Some(*id)
    }

    fn draft(&self) -> ComponentDraft {
        ComponentDraft {
            group_id: self.group,
            name: self.name.clone(),
            description: self.description.clone(),
            showcase: self.showcase,
            only_show_if_degraded: self.only_show_if_degraded,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/status/overview.html")]
pub(super) struct OverviewPage {
    layout: AdminLayout,
    description: &'static str,
    indicator_class: &'static str,
    open_incidents: usize,
    running_maintenance: usize,
    upcoming_maintenance: usize,
    groups: Vec<GroupBlock>,
    group_choices: Vec<(i64, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    new_group_error: Option<String>,
    new_component: ComponentForm,
    errors: Errors,
}

/// What a rejected form puts back on the overview.
#[derive(Default)]
struct Rejected {
    new_group: Option<String>,
    rename: Option<(i64, String)>,
    component: Option<(ComponentForm, Vec<FieldError>)>,
}

async fn overview_page(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    rejected: Rejected,
) -> WebResult<OverviewPage> {
    let page = state.app().status_page(candor_store::now()).await?;
    // Every component in display order, for the places "up" and "down" move to.
    let order: Vec<i64> = page.components.iter().map(|v| v.component.id).collect();
    let rank = |id: i64| order.iter().position(|i| *i == id).map(|p| p as i64 + 1);
    let mut blocks: Vec<GroupBlock> = page
        .groups
        .iter()
        .map(|g| GroupBlock {
            id: Some(g.id),
            name: g.name.clone(),
            components: vec![],
            rename_error: rejected
                .rename
                .as_ref()
                .filter(|(id, _)| *id == g.id)
                .map(|(_, e)| e.clone()),
        })
        .collect();
    blocks.push(GroupBlock {
        id: None,
        name: "Not in a group".into(),
        components: vec![],
        rename_error: None,
    });
    for v in &page.components {
        let c = &v.component;
        let at = blocks
            .iter()
            .position(|b| b.id.is_some() && b.id == c.group_id)
            .unwrap_or(blocks.len() - 1);
        blocks[at].components.push(ComponentRow {
            id: c.id,
            name: c.name.clone(),
            description: c.description.clone(),
            status: c.status.as_str(),
            status_label: c.status.label(),
            status_class: status_class(c.status),
            shown: (v.shown != c.status).then(|| v.shown.label()),
            up: None,
            down: None,
        });
    }
    for b in &mut blocks {
        let ids: Vec<i64> = b.components.iter().map(|c| c.id).collect();
        for (i, row) in b.components.iter_mut().enumerate() {
            row.up = i.checked_sub(1).and_then(|j| rank(ids[j]));
            row.down = ids.get(i + 1).and_then(|n| rank(*n));
        }
    }
    // The ungrouped block shows only when it has something, or when there are no groups at all.
    if blocks.len() > 1 && blocks.last().is_some_and(|b| b.components.is_empty()) {
        blocks.pop();
    }
    let (new_component, component_errors) = rejected.component.unwrap_or_else(|| (ComponentForm::blank(), vec![]));
    Ok(OverviewPage {
        layout: AdminLayout::new(admin, notice),
        description: page.description,
        indicator_class: match page.indicator {
            Indicator::None => "published",
            Indicator::Minor => "changed",
            Indicator::Major | Indicator::Critical => "failed",
        },
        open_incidents: page.open_incidents.len(),
        running_maintenance: page.active_maintenances.len(),
        upcoming_maintenance: page.upcoming_maintenances.len(),
        group_choices: page.groups.iter().map(|g| (g.id, g.name.clone())).collect(),
        groups: blocks,
        statuses: status_options(),
        new_group_error: rejected.new_group,
        new_component,
        errors: Errors::new(component_errors, COMPONENT_LABELS),
    })
}

pub async fn overview(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    html(overview_page(&state, &admin, q.notice.as_deref(), Rejected::default()).await?)
}

fn back(notice: &str) -> WebResult<Response> {
    Ok(Redirect::to(&format!("/admin/status?notice={notice}")).into_response())
}

/// The messages of a form with one field, shown at that field.
fn first_message(errors: Vec<FieldError>) -> String {
    errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ")
}

pub async fn create_group(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    match state
        .app()
        .create_status_group(&admin.who(), &text(&form, "name"))
        .await
    {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Invalid(errors)) => {
            let rejected = Rejected {
                new_group: Some(first_message(errors)),
                ..Rejected::default()
            };
            return unprocessable(overview_page(&state, &admin, None, rejected).await?);
        }
        Err(e) => return Err(e.into()),
    }
    back("group-added")
}

pub async fn rename_group(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let id = path_id(&id)?;
    match state
        .app()
        .rename_status_group(&admin.who(), id, &text(&form, "name"))
        .await
    {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Invalid(errors)) => {
            let rejected = Rejected {
                rename: Some((id, first_message(errors))),
                ..Rejected::default()
            };
            return unprocessable(overview_page(&state, &admin, None, rejected).await?);
        }
        Err(e) => return Err(e.into()),
    }
    back("group-renamed")
}

pub async fn delete_group(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().delete_status_group(&admin.who(), path_id(&id)?).await?;
    state.apply(done.effects).await;
    back("group-deleted")
}

pub async fn set_status(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let status = choice(&form, "status", ComponentStatus::parse)?;
    let done = state
        .app()
        .set_status_component_status(&admin.who(), path_id(&id)?, status)
        .await?;
    state.apply(done.effects).await;
    back("status-set")
}

pub async fn move_component(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let position = choice(&form, "position", |s| s.parse::<i64>().ok())?;
    let done = state
        .app()
        .move_status_component(&admin.who(), path_id(&id)?, position)
        .await?;
    state.apply(done.effects).await;
    back("component-saved")
}

pub async fn create_component(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let typed = ComponentForm::read(&form)?;
    match state.app().create_status_component(&admin.who(), &typed.draft()).await {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Invalid(errors)) => {
            let rejected = Rejected {
                component: Some((typed, errors)),
                ..Rejected::default()
            };
            return unprocessable(overview_page(&state, &admin, None, rejected).await?);
        }
        Err(e) => return Err(e.into()),
    }
    back("component-added")
}

#[derive(Template)]
#[template(path = "admin/status/component.html")]
pub(super) struct ComponentPage {
    layout: AdminLayout,
    id: i64,
    heading: String,
    form: ComponentForm,
    group_choices: Vec<(i64, String)>,
    errors: Errors,
}

async fn component_of(state: &AppState, id: i64) -> WebResult<StatusComponent> {
    state
        .store()
        .status_components(state.org())
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(WebError::NotFound)
}

async fn component_page(
    state: &AppState,
    admin: &Admin,
    c: &StatusComponent,
    form: ComponentForm,
    errors: Vec<FieldError>,
) -> WebResult<ComponentPage> {
    let groups = state.store().status_groups(state.org()).await?;
    Ok(ComponentPage {
        layout: AdminLayout::new(admin, None),
        id: c.id,
        heading: format!("Edit “{}”", c.name),
        form,
        group_choices: groups.into_iter().map(|g| (g.id, g.name)).collect(),
        errors: Errors::new(errors, COMPONENT_LABELS),
    })
}

pub async fn edit_component(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let c = component_of(&state, path_id(&id)?).await?;
    html(component_page(&state, &admin, &c, ComponentForm::of(&c), vec![]).await?)
}

pub async fn save_component(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let c = component_of(&state, path_id(&id)?).await?;
    let typed = ComponentForm::read(&form)?;
    match state
        .app()
        .edit_status_component(&admin.who(), c.id, &typed.draft())
        .await
    {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Invalid(errors)) => {
            return unprocessable(component_page(&state, &admin, &c, typed, errors).await?);
        }
        Err(e) => return Err(e.into()),
    }
    back("component-saved")
}

pub async fn delete_component_form(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let c = component_of(&state, path_id(&id)?).await?;
    html(DeletePage {
        layout: AdminLayout::new(&admin, None),
        heading: format!("Delete “{}”?", c.name),
        explain: "The component leaves the status page with its uptime history and its monitors. Incidents and maintenance that named it stay, without it. This cannot be undone.".into(),
        action: format!("/admin/status/components/{}/delete", c.id),
        back: format!("/admin/status/components/{}", c.id),
        button: "Delete the component",
    })
}

pub async fn delete_component(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().delete_status_component(&admin.who(), path_id(&id)?).await?;
    state.apply(done.effects).await;
    back("component-deleted")
}
