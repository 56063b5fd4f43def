//! "Forgot your password?": a single-use reset link by email.
//!
//! The answer is the same whether or not the address has an account, and it is given before the
//! account is even looked up (the lookup and the mail are queued in a background task), so neither
//! the wording nor the response time says who has an account. Every request counts against a
//! limit per client address and per email address, because each one may send mail.

use super::auth::{check_pre_session_csrf, pre_session_csrf};
use crate::http::error::{WebError, WebResult};
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use candor_crypto::{random_token, token_digest};
use std::collections::HashMap;
use std::net::SocketAddr;

/// How long an emailed reset link works.
pub const RESET_LINK_SECS: i64 = 30 * 60;

#[derive(Template)]
#[template(path = "admin/forgot.html")]
struct ForgotPage<'a> {
    csrf: &'a str,
    mail_enabled: bool,
    sent: bool,
}

fn page(state: &AppState, sent: bool) -> WebResult<Response> {
    let (token, set) = pre_session_csrf(state);
    let html = ForgotPage {
        csrf: token.expose(),
        mail_enabled: state.config().smtp.is_some() && !state.sso_only(),
        sent,
    }
    .render()?;
    Ok(([(header::SET_COOKIE, set)], Html(html)).into_response())
}

pub async fn form(State(state): State<AppState>) -> WebResult<Response> {
    page(&state, false)
}

pub async fn request(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    check_pre_session_csrf(&headers, &form)?;
    if state.config().smtp.is_none() || state.sso_only() {
        return page(&state, false);
    }
    let email: String = form
        .get("email")
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default()
        .chars()
        .take(254)
        .collect();
    if email.is_empty() {
        return Err(WebError::BadRequest(
            "Enter the email address you sign in with, then press the button again.".into(),
        ));
    }
    let ip = peer.ip().to_string();
    let (ip_key, email_key) = (format!("reset-ip:{ip}"), format!("reset-email:{email}"));
    let limit = state.reset_backoff();
    limit.check_pair(&ip_key, &email_key).await.map_err(|secs| {
        tracing::warn!(client.ip = %ip, "password reset refused while backing off");
        WebError::TooManyRequests { retry_after_secs: secs }
    })?;
    limit.failure(&ip_key).await;
    limit.failure(&email_key).await;
    let task_state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send_reset_link(&task_state, &email, &ip).await {
            tracing::error!(error = %e, "could not queue a password reset link");
        }
    });
    page(&state, true)
}

/// What the reset message says, in its plain-text and HTML forms.
struct ResetMail<'a> {
    name: &'a str,
    site: &'a str,
    email: &'a str,
    link: &'a str,
    ip: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct ResetText<'a> {
    m: &'a ResetMail<'a>,
}

#[derive(Template)]
#[template(path = "mail/password_reset.html")]
struct ResetHtml<'a> {
    m: &'a ResetMail<'a>,
}

/// Looks the address up and, for an active account, stores a link and queues its message in one
/// transaction. Audited either way (the audit log is for owners and auditors, not visitors).
async fn send_reset_link(state: &AppState, email: &str, ip: &str) -> anyhow::Result<()> {
    let user = state
        .store()
        .user_by_email(state.org(), email)
        .await?
        .filter(|u| !u.disabled);
    let details = serde_json::json!({"account": user.is_some()});
    let actor = candor_app::Actor::Anonymous { ip: ip.to_owned() };
    state
        .record(
            &actor,
            candor_app::Action::ResetRequested,
            format!("user/{email}"),
            details,
        )
        .await;
    let Some(user) = user else {
        return Ok(());
    };
    let token = random_token();
    let site = state.site().await.layout.org_name.clone();
    let link = format!("{}/admin/reset/{}", state.config().public_url, token.expose());
    let name = if user.name.is_empty() {
        "there"
    } else {
        user.name.as_str()
    };
    let mail = ResetMail {
        name,
        site: &site,
        email,
        link: &link,
        ip,
    };
    let (body_text, body_html) = (ResetText { m: &mail }.render()?, ResetHtml { m: &mail }.render()?);
    let message = candor_store::NewEmail {
        recipient: user.email.clone(),
        subject: format!("Reset your {site} back-office password"),
        body_text,
        body_html: Some(body_html),
        purpose: "password-reset".into(),
        headers: vec![],
    };
    state
        .store()
        .create_user_link_with_email(&user, &token_digest(token.expose()), "reset", RESET_LINK_SECS, &message)
        .await?;
    state.wake_outbox();
    Ok(())
}
