//! Changing your own password: the current one is required, the new one must pass the policy,
//! and every other session of yours ends.

use crate::http::error::WebResult;
use crate::http::layout::AdminLayout;
use crate::http::session::Admin;
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::identity::PasswordChange;

#[derive(Template)]
#[template(path = "admin/change_password.html")]
struct ChangePasswordPage {
    layout: AdminLayout,
    errors: Vec<String>,
}

fn page(admin: &Admin, errors: Vec<String>) -> WebResult<Response> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = ChangePasswordPage {
        layout: AdminLayout::new(admin, None),
        errors,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

pub async fn form(admin: Admin) -> WebResult<Response> {
    page(&admin, vec![])
}

pub async fn change(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    // A stolen session must not become an unlimited oracle for the account's password.
    let key = format!("pwchange:{}", admin.0.user.id);
    if let Err(secs) = state.login_backoff().check(&key).await {
        return Err(crate::http::error::WebError::TooManyRequests { retry_after_secs: secs });
    }
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let change = PasswordChange {
        current: field("current"),
        new: field("password"),
        confirm: field("confirm"),
    };
    let done = state
        .app()
        .change_own_password(&admin.who(), admin.0.user.id, &admin.0.public_id, change)
        .await?;
    state.apply(done.effects).await;
    if let Err(errors) = done.value {
        return page(&admin, errors);
    }
    Ok(Redirect::to("/admin/sessions?notice=password-changed").into_response())
}
