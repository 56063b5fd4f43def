//! API tokens: created here, shown once, stored as a digest.

use crate::http::error::AppResult;
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_crypto::{random_token, token_digest};
use candor_store::TokenScope;
use std::collections::HashMap;

/// API tokens start with this prefix so that secret scanners can recognise them.
pub const TOKEN_PREFIX: &str = "candor_";

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
) -> AppResult<Response> {
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
    .render()
    .map_err(anyhow::Error::from)?;
    Ok((status, [(axum::http::header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

pub async fn list(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> AppResult<Response> {
    page(&state, &admin, q.notice.as_deref(), None, None).await
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    let name = form.get("name").map(|s| s.trim()).unwrap_or("");
    if name.is_empty() || name.len() > 100 {
        return page(
            &state,
            &admin,
            None,
            None,
            Some("Name: describe what the token is for (up to 100 characters).".into()),
        )
        .await;
    }
    let Some(scope) = form.get("scope").and_then(|s| TokenScope::parse(s)) else {
        return page(
            &state,
            &admin,
            None,
            None,
            Some("Scope: choose read or read-write.".into()),
        )
        .await;
    };
    let expires_at = match form.get("expires_days").map(|s| s.trim()).unwrap_or("") {
        "" | "0" => None,
        d => match d.parse::<i64>() {
            Ok(n) if (1..=3650).contains(&n) => Some(candor_store::now() + n * 86_400),
            _ => {
                return page(
                    &state,
                    &admin,
                    None,
                    None,
                    Some("Expires after: a number of days from 1 to 3650, or empty for no expiry.".into()),
                )
                .await
            }
        },
    };
    let token = format!("{TOKEN_PREFIX}{}", random_token().expose());
    state
        .store()
        .create_api_token(
            state.org(),
            name,
            &token_digest(&token),
            scope,
            admin.0.user.id,
            expires_at,
        )
        .await?;
    admin
        .audit(
            &state,
            "api_token.create",
            name,
            serde_json::json!({"scope": scope.as_str(), "expires_at": expires_at}),
        )
        .await;
    page(&state, &admin, None, Some(token), None).await
}

pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    state.store().revoke_api_token(state.org(), id).await?;
    admin
        .audit(
            &state,
            "api_token.revoke",
            &format!("api-token/{id}"),
            serde_json::json!({}),
        )
        .await;
    Ok(Redirect::to("/admin/tokens?notice=token-revoked").into_response())
}
