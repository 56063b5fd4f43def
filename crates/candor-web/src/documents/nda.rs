//! The NDA click-through: the current text, a typed full name and an explicit checkbox. The
//! signature records the name, email, company, NDA version and its SHA-256, time, address and
//! browser, and a copy goes to the signer. Then the rules may approve at once: the browser that
//! proved the address is then signed in as a viewer and lands on its documents.

use super::{check_form_csrf, current_nda, form_csrf, mail_context, message, STEP_COOKIE};
use crate::http::error::WebResult;
use crate::http::session::{cookie, read_cookie};
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_core::requests::RequestStatus;
use candor_crypto::token_digest;
use std::collections::HashMap;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "site/nda.html")]
struct NdaPage<'a> {
    layout: &'a crate::http::public_layout::Layout,
    current: &'a str,
    query: &'a str,
    csrf: &'a str,
    nda_html: String,
    number: i64,
    sha256: &'a str,
    email: &'a str,
    company: &'a str,
    typed: &'a str,
    error: Option<&'a str>,
}

/// The request this browser is signing for (from its step cookie), while still unsigned.
async fn this_request(state: &AppState, headers: &HeaderMap) -> WebResult<Option<candor_store::AccessRequest>> {
    let Some(step) = read_cookie(headers, STEP_COOKIE) else {
        return Ok(None);
    };
    Ok(state
        .store()
        .request_by_step(state.org(), &token_digest(step))
        .await?
        .filter(|r| r.status == RequestStatus::Verified))
}

async fn expired(state: &AppState) -> WebResult<Response> {
    message(
        state,
        StatusCode::NOT_FOUND,
        "This step has expired",
        &["Signing the NDA follows the link we emailed you, within an hour, in the same browser. Ask for access again to start over."],
    )
    .await
}

async fn page(
    state: &AppState,
    status: StatusCode,
    req: &candor_store::AccessRequest,
    typed: &str,
    error: Option<&str>,
) -> WebResult<Response> {
    let nda = current_nda(state).await?;
    let site = state.site().await;
    let (csrf, set) = form_csrf(state);
    let html = NdaPage {
        layout: &site.layout,
        current: "/documents",
        query: "",
        csrf: &csrf,
        nda_html: candor_core::markdown::to_safe_html_with_top(&nda.body, 2),
        number: nda.number,
        sha256: &nda.sha256,
        email: &req.email,
        company: &req.company,
        typed,
        error,
    }
    .render()?;
    Ok((status, [(header::SET_COOKIE, set)], Html(html)).into_response())
}

pub async fn form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> WebResult<Response> {
    let Some(req) = this_request(&state, &headers).await? else {
        return expired(&state).await;
    };
    let nda = current_nda(&state).await?;
    let ip = peer.ip().to_string();
    let done = state
        .app()
        .nda_on_file(&req, &nda, &ip, &mail_context(&state).await)
        .await?;
    state.apply(done.effects).await;
    if done.value {
        return after_signing(&state, &headers, &req, &ip).await;
    }
    page(&state, StatusCode::OK, &req, "", None).await
}

pub async fn sign(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    check_form_csrf(&headers, &form)?;
    let Some(req) = this_request(&state, &headers).await? else {
        return expired(&state).await;
    };
    let nda = current_nda(&state).await?;
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    // The version read must be the version in force: a signature is for exactly one text.
    if field("nda_number") != nda.number.to_string() || field("nda_sha256") != nda.sha256 {
        return page(
            &state,
            StatusCode::CONFLICT,
            &req,
            field("name"),
            Some("The NDA was updated while you were reading it. Read this version, then sign it."),
        )
        .await;
    }
    let typed = field("name");
    if let Err(e) = candor_core::text::check("name", typed, candor_core::text::Shape::Line) {
        let why = format!("Full name: {}.", e.message);
        return page(&state, StatusCode::UNPROCESSABLE_ENTITY, &req, typed, Some(&why)).await;
    }
    if typed.chars().count() < 2 || typed.chars().count() > 100 || field("agree") != "on" {
        return page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &req,
            typed,
            Some("Type your full name and tick the box to sign."),
        )
        .await;
    }
    let ip = peer.ip().to_string();
    let signature = candor_store::Signature {
        name: typed.to_owned(),
        email: req.email.clone(),
        company: req.company.clone(),
        nda_number: nda.number,
        nda_sha256: nda.sha256.clone(),
        ip: ip.clone(),
        user_agent: crate::http::session::user_agent(&headers),
    };
    let done = state
        .app()
        .sign_nda(&req, &nda, signature, &mail_context(&state).await)
        .await?;
    state.apply(done.effects).await;
    after_signing(&state, &headers, &req, &ip).await
}

/// Signed: an auto-approve rule decides now, and this browser, which proved the address by the
/// emailed link moments ago, is signed in and sent to its documents (any viewer session it had
/// ends: a new id at sign-in); otherwise a person will decide, and nobody is signed in.
async fn after_signing(
    state: &AppState,
    headers: &HeaderMap,
    req: &candor_store::AccessRequest,
    ip: &str,
) -> WebResult<Response> {
    let done = state.app().auto_approve(req, &mail_context(state).await, ip).await?;
    state.apply(done.effects).await;
    if let Some(signed_in) = done.value {
        let viewer_cookie = super::viewer::session_cookie(state);
        if let Some(old) = read_cookie(headers, viewer_cookie) {
            let done = state.app().viewer_logout(&token_digest(old)).await?;
            state.apply(done.effects).await;
        }
        let session = cookie(state, viewer_cookie, signed_in.session_id.expose(), "/", None);
        let step_done = cookie(state, STEP_COOKIE, "", "/documents", Some(0));
        return Ok((
            AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, step_done)]),
            Redirect::to("/viewer?welcome=approved"),
        )
            .into_response());
    }
    message(
        state,
        StatusCode::OK,
        "Thank you for signing",
        &["We have emailed you a copy of the agreement. Our team will review your request and email you when it is decided, usually within one working day."],
    )
    .await
}
