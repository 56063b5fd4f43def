//! Managing back-office users (owners only).

use crate::http::error::{WebError, WebResult};
use crate::http::layout::AdminLayout;
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::identity::check_new_user;
use candor_core::access::Role;
use std::collections::HashMap;

/// How long an invitation link works.
const INVITE_SECS: i64 = 72 * 3600;

struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: &'static str,
    state: &'static str,
    is_self: bool,
    disabled: bool,
    mfa: bool,
    /// What a role change would do to the API tokens this user made, when they made any.
    tokens_note: Option<String>,
}

/// `?notice=...&changed=ID` after a role change.
#[derive(Default, Debug, serde::Deserialize)]
pub struct UsersQuery {
    notice: Option<String>,
    changed: Option<i64>,
}

/// "an auditor", "a triager".
fn with_article(role: Role) -> String {
    let name = role.label().to_lowercase();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

fn api_tokens(n: i64) -> String {
    if n == 1 {
        "1 API token".to_owned()
    } else {
        format!("{n} API tokens")
    }
}

/// A token acts with its creator's current role, so a role change changes what it may do.
fn tokens_note(n: i64, role: Role, disabled: bool) -> Option<String> {
    if n == 0 {
        return None;
    }
    let tokens = api_tokens(n);
    Some(if disabled {
        format!("{tokens} made by this user stop working while the user is disabled.")
    } else {
        format!(
            "{tokens} made by this user may do only what {} may do; a new role limits them to what it allows, at once.",
            with_article(role)
        )
    })
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: AdminLayout,
    users: Vec<UserRow>,
    roles: Vec<(&'static str, &'static str)>,
    invite_link: Option<String>,
    error: Option<String>,
    /// After a role change: what it did to the user's API tokens.
    role_change: Option<String>,
    /// Whether the organization requires two-factor sign-in of every back-office user.
    mfa_required: bool,
}

async fn page(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    invite_link: Option<String>,
    error: Option<String>,
) -> WebResult<Response> {
    page_after(state, admin, notice, None, invite_link, error).await
}

async fn page_after(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    changed: Option<i64>,
    invite_link: Option<String>,
    error: Option<String>,
) -> WebResult<Response> {
    let tokens = state.store().live_api_tokens_by_creator(state.org()).await?;
    let users = state.store().users(state.org()).await?;
    let role_change = changed.and_then(|id| users.iter().find(|u| u.id == id)).and_then(|u| {
        let n = tokens.get(&u.id).copied().unwrap_or(0);
        (n > 0).then(|| {
            format!(
                "{} made by {} {} now limited to what {} may do.",
                api_tokens(n),
                u.email,
                if n == 1 { "is" } else { "are" },
                with_article(u.role)
            )
        })
    });
    let users = users
        .into_iter()
        .map(|u| UserRow {
            tokens_note: tokens_note(tokens.get(&u.id).copied().unwrap_or(0), u.role, u.disabled),
            id: u.id,
            state: if u.disabled {
                "Disabled"
            } else if u.has_password {
                "Active"
            } else {
                "Invited"
            },
            is_self: u.id == admin.0.user.id,
            disabled: u.disabled,
            mfa: u.mfa_enabled,
            email: u.email,
            name: u.name,
            role: u.role.as_str(),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mfa_required = state.app().mfa_required().await?;
    let html = UsersPage {
        mfa_required,
        layout: AdminLayout::new(admin, notice),
        users,
        roles: Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
        invite_link,
        error,
        role_change,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

pub async fn list(State(state): State<AppState>, admin: Admin, Query(q): Query<UsersQuery>) -> WebResult<Response> {
    page_after(&state, &admin, q.notice.as_deref(), q.changed, None, None).await
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let email = form.get("email").map(|s| s.trim()).unwrap_or("");
    let name = form.get("name").map(|s| s.trim()).unwrap_or("");
    let Some(role) = form.get("role").and_then(|r| Role::parse(r)) else {
        return page(
            &state,
            &admin,
            None,
            None,
            Some("Role: choose one of the listed roles.".into()),
        )
        .await;
    };
    if let Err(message) = check_new_user(email, name) {
        return page(&state, &admin, None, None, Some(message)).await;
    }
    let done = match state
        .app()
        .invite_user(&admin.who(), email, name, role, INVITE_SECS)
        .await
    {
        Ok(done) => done,
        Err(candor_app::Error::Conflict(_)) => {
            return page(
                &state,
                &admin,
                None,
                None,
                Some(format!("A user with the email {email} already exists.")),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    state.apply(done.effects).await;
    let (_, token) = done.value;
    let link = format!("{}/admin/reset/{}", state.config().public_url, token.expose());
    page(&state, &admin, None, Some(link), None).await
}

async fn set_disabled(
    state: &AppState,
    admin: &Admin,
    form: &HashMap<String, String>,
    id: i64,
    disabled: bool,
) -> WebResult<Response> {
    admin.check_csrf(form)?;
    let user = state.store().user(state.org(), id).await?.ok_or(WebError::NotFound)?;
    let done = state
        .app()
        .set_user_disabled(&admin.who(), Some(admin.0.user.id), &user, disabled)
        .await?;
    state.apply(done.effects).await;
    let notice = if disabled { "user-disabled" } else { "user-enabled" };
    Ok(Redirect::to(&format!("/admin/users?notice={notice}")).into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    set_disabled(&state, &admin, &form, id, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    set_disabled(&state, &admin, &form, id, false).await
}

pub async fn change_role(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let Some(role) = form.get("role").and_then(|r| Role::parse(r)) else {
        return Err(WebError::BadRequest("Role: choose one of the listed roles.".into()));
    };
    let user = state.store().user(state.org(), id).await?.ok_or(WebError::NotFound)?;
    let done = state
        .app()
        .change_role(&admin.who(), Some(admin.0.user.id), &user, role)
        .await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/users?notice=role-changed&changed={id}")).into_response())
}

pub async fn end_sessions(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let user = state.store().user(state.org(), id).await?.ok_or(WebError::NotFound)?;
    let done = state.app().end_user_sessions(&admin.who(), &user).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/users?notice=user-sessions-revoked").into_response())
}

/// An owner turns off a user's second factor (lost phone, no recovery codes left). The user's
/// sessions end; if the organization requires MFA they must enrol again at their next sign-in.
pub async fn reset_mfa(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let user = state.store().user(state.org(), id).await?.ok_or(WebError::NotFound)?;
    let done = state.app().reset_mfa(&admin.who(), &user).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/users?notice=mfa-reset").into_response())
}
