//! Changing your own password: the current one is required, the new one must pass the policy,
//! and every other session of yours ends.

use super::FormMap;
use crate::http::error::AppResult;
use crate::http::layout::AdminLayout;
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_crypto::{hash_password, verify_password};

#[derive(Template)]
#[template(path = "admin/change_password.html")]
struct ChangePasswordPage {
    layout: AdminLayout,
    errors: Vec<String>,
}

fn page(admin: &Admin, errors: Vec<String>) -> AppResult<Response> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = ChangePasswordPage {
        layout: AdminLayout::new(admin, None),
        errors,
    }
    .render()
    .map_err(anyhow::Error::from)?;
    Ok((status, Html(html)).into_response())
}

pub async fn form(admin: Admin) -> AppResult<Response> {
    page(&admin, vec![])
}

pub async fn change(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    // A stolen session must not become an unlimited oracle for the account's password.
    let key = format!("pwchange:{}", admin.0.user.id);
    if let Err(secs) = state.login_backoff().check(&key) {
        return Err(crate::http::error::AppError::TooManyRequests { retry_after_secs: secs });
    }
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let stored = state.store().password_hash(admin.0.user.id).await?;
    let current = field("current");
    let ok = tokio::task::spawn_blocking(move || verify_password(&current, stored.as_deref()))
        .await
        .map_err(anyhow::Error::from)?;
    let mut errors = vec![];
    if !ok {
        errors.push("Current password: it is not correct.".to_owned());
    }
    let new = field("password");
    if let Err(why) = candor_core::password::check_new_password(&new) {
        errors.push(format!("New password: {why}."));
    }
    if new != field("confirm") {
        errors.push("Confirm password: the two new passwords differ; type the same password twice.".into());
    }
    if !errors.is_empty() {
        if !ok {
            admin
                .audit(&state, "auth.password.change.failed", "", serde_json::json!({}))
                .await;
        }
        return page(&admin, errors);
    }
    let hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(anyhow::Error::from)?;
    let ended = state
        .store()
        .change_password(admin.0.user.id, &hash, &admin.0.public_id)
        .await?;
    admin
        .audit(
            &state,
            "auth.password.change",
            "",
            serde_json::json!({"other_sessions_ended": ended}),
        )
        .await;
    Ok(Redirect::to("/admin/sessions?notice=password-changed").into_response())
}
