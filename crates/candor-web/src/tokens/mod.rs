//! API tokens: created here, shown once, stored as a digest.

use crate::http::error::WebResult;
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::tokens::NewToken;
use std::collections::HashMap;

struct TokenRow {
    id: i64,
    name: String,
    scope: &'static str,
    created: String,
    expires: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    layout: AdminLayout,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    error: Option<String>,
}

use crate::http::format::display_time as date;

async fn page(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    new_token: Option<String>,
    error: Option<String>,
) -> WebResult<Response> {
    let tokens = state
        .store()
        .api_tokens(state.org())
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            scope: t.scope.as_str(),
            created: date(Some(t.created_at)),
            expires: date(t.expires_at),
            last_used: date(t.last_used_at),
            revoked: t.revoked,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let html = TokensPage {
        layout: AdminLayout::new(admin, notice),
        tokens,
        new_token,
        error,
    }
    .render()?;
    Ok((status, [(axum::http::header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

pub async fn list(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    page(&state, &admin, q.notice.as_deref(), None, None).await
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let new = match NewToken::parse(
        field("name"),
        field("scope"),
        field("expires_days"),
        candor_store::now(),
    ) {
        Ok(new) => new,
        Err(message) => return page(&state, &admin, None, None, Some(message)).await,
    };
    let done = state
        .app()
        .create_api_token(&admin.who(), admin.0.user.id, &new)
        .await?;
    state.apply(done.effects).await;
    page(&state, &admin, None, Some(done.value.expose().to_owned()), None).await
}

pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().revoke_api_token(&admin.who(), id).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/tokens?notice=token-revoked").into_response())
}
