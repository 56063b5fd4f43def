//! "Remove the demo": a confirmation page that says what goes, and the one use case that removes
//! every demo item, demo document and demo status page part at once.

use crate::http::error::WebResult;
use crate::http::layout::{html, AdminLayout};
use crate::http::session::Admin;
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use candor_core::Kind;

#[derive(Template)]
#[template(path = "admin/demo_remove.html")]
struct RemoveDemoPage {
    layout: AdminLayout,
    /// (label of the kind, how many), for the kinds the demo still has.
    kinds: Vec<(&'static str, usize)>,
    items: usize,
    documents: Vec<String>,
    /// (what, how many) for the demo's status page, the parts it still has.
    status: Vec<(&'static str, usize)>,
}

/// What removing the demo would take away, and the button that does it.
pub async fn confirm(State(state): State<AppState>, admin: Admin) -> WebResult<Response> {
    let demo = state.app().demo_content().await?;
    let kinds = Kind::ALL
        .iter()
        .map(|&k| (k.label(), demo.items.iter().filter(|(kind, _)| *kind == k).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    let parts = &demo.status;
    let status = [
        ("Status page groups", parts.groups.len()),
        (
            "Status page components, with their uptime history",
            parts.components.len(),
        ),
        ("Incidents and security notices", parts.incidents.len()),
        ("Maintenance windows", parts.maintenances.len()),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect();
    html(RemoveDemoPage {
        layout: AdminLayout::new(&admin, None),
        kinds,
        items: demo.items.len(),
        documents: demo.documents,
        status,
    })
}

/// Removes the demo in one step; the public site is rendered again without it.
pub async fn remove(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().remove_demo(&admin.who()).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin?notice=demo-removed").into_response())
}
