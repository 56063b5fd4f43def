//! The outbox in the back office: mail that has not gone out yet (waiting for its next attempt,
//! or refused for good by the mail server), with its last error, and "retry now" and "discard".
//!
//! A message's text is never shown: password-reset, invitation and sign-in links are
//! credentials. Recipient, subject, purpose and the mail server's words are enough to act on.

use crate::http::error::WebResult;
use crate::http::format::display_time;
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_store::{OutboxStatus, UndeliveredEmail};
use std::collections::HashMap;

/// The most messages the page lists; the counts above the table cover them all.
const SHOWN: i64 = 500;

struct Row {
    id: i64,
    failed: bool,
    recipient: String,
    subject: String,
    purpose: String,
    created: String,
    attempts: i64,
    next_attempt: String,
    last_error: String,
    can_retry: bool,
}

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    layout: AdminLayout,
    mail_configured: bool,
    failed: usize,
    waiting: usize,
    more: bool,
    rows: Vec<Row>,
}

fn row(email: UndeliveredEmail, now: i64) -> Row {
    let failed = email.status == OutboxStatus::Failed;
    Row {
        id: email.id,
        failed,
        recipient: email.recipient,
        subject: email.subject,
        purpose: email.purpose,
        created: display_time(Some(email.created_at)),
        attempts: email.attempts,
        next_attempt: if failed {
            "not retried".into()
        } else if email.next_attempt_at <= now {
            "now".into()
        } else {
            display_time(Some(email.next_attempt_at))
        },
        last_error: email.last_error.unwrap_or_default(),
        can_retry: email.has_text,
    }
}

pub async fn list(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    let emails = state.store().undelivered_emails(state.org(), SHOWN + 1).await?;
    let more = emails.len() as i64 > SHOWN;
    let now = candor_store::now();
    let rows: Vec<Row> = emails.into_iter().take(SHOWN as usize).map(|e| row(e, now)).collect();
    let page = OutboxPage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        mail_configured: state.config().smtp.is_some(),
        failed: rows.iter().filter(|r| r.failed).count(),
        waiting: rows.iter().filter(|r| !r.failed).count(),
        more,
        rows,
    };
    Ok(Html(page.render()?).into_response())
}

/// Makes a waiting or failed message due now and wakes the worker.
pub async fn retry(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().retry_email(&admin.who(), id).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/outbox?notice=mail-retried").into_response())
}

/// Drops a message that has not been delivered.
pub async fn discard(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().discard_email(&admin.who(), id).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/outbox?notice=mail-discarded").into_response())
}
