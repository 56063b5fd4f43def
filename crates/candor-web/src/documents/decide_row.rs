//! Approve or deny one request from its row of the pending list: the row's button posts the
//! list's form (its CSRF token, message and days) to this request's own address, and the same
//! use case as the bulk decision decides it. Ticked boxes of other rows are ignored here.

use super::mail_context;
use crate::http::error::{WebError, WebResult};
use crate::http::session::Admin;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::access::Decision;
use candor_core::requests::{parse_grant_days, GRANT_DAYS_HELP};
use std::collections::HashMap;

/// The first value of each field (the list's form repeats `ids`, which is not read here).
fn fields(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for (k, v) in pairs {
        m.entry(k).or_insert(v);
    }
    m
}

async fn decide(
    state: &AppState,
    admin: &Admin,
    id: i64,
    approve: bool,
    form: HashMap<String, String>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    let decision = if approve {
        let days = match field("days") {
            "" => state.app().access_rules().await?.grant_days,
            d => parse_grant_days(d).ok_or_else(|| WebError::BadRequest(GRANT_DAYS_HELP.into()))?,
        };
        Decision::Approve { days }
    } else {
        Decision::Deny
    };
    let message: String = field("message").chars().take(1000).collect();
    let done = state
        .app()
        .decide_request(&admin.who(), id, decision, &message, &mail_context(state).await)
        .await?;
    state.apply(done.effects).await;
    let notice = match (done.value, approve) {
        (false, _) => "nothing-decided",
        (true, true) => "approved",
        (true, false) => "denied",
    };
    Ok(Redirect::to(&format!("/admin/access-requests?notice={notice}")).into_response())
}

pub async fn approve(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    decide(&state, &admin, id, true, fields(pairs)).await
}

pub async fn deny(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    decide(&state, &admin, id, false, fields(pairs)).await
}
