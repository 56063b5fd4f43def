//! Your own profile in the back office: who you are signed in as, and the mail you get. A person
//! whose role decides access requests can turn off the mail sent when one waits; the choice is
//! stored per person and is theirs alone.

use crate::http::error::WebResult;
use crate::http::layout::{html, AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use candor_core::access::{allows, Permission};

#[derive(Template)]
#[template(path = "admin/profile.html")]
struct ProfilePage {
    layout: AdminLayout,
    name: String,
    role_label: &'static str,
    /// The role decides access requests, so the mail about waiting ones applies.
    decides_access: bool,
    access_request_mail: bool,
}

pub async fn page(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    let user = &admin.0.user;
    html(ProfilePage {
        name: user.name.clone(),
        role_label: user.role.label(),
        decides_access: allows(user.role, Permission::ManageAccessRequests),
        access_request_mail: state.app().access_request_mail(user.id).await?,
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
    })
}

pub async fn save(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let wanted = form.get("access_request_mail").is_some_and(|v| v == "on");
    let done = state
        .app()
        .set_access_request_mail(&admin.who(), admin.0.user.id, wanted)
        .await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/profile?notice=profile-saved").into_response())
}
