//! Two-factor sign-in with TOTP: enrolment (QR code as server-rendered SVG, a confirm step, ten
//! single-use recovery codes shown once), the verification step after the password, and the
//! organization-wide "require MFA for all admins" setting. The rules are in
//! `candor_app::identity`.

use crate::http::error::{WebError, WebResult};
use crate::http::layout::AdminLayout;
use crate::http::session::{cookie, read_cookie, safe_next, session_cookie_name, Admin};
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::identity::Enrolment;
use candor_crypto::{random_token, token_digest, totp};

#[derive(Template)]
#[template(path = "admin/mfa.html")]
struct MfaPage {
    layout: AdminLayout,
    enabled: bool,
    must_enrol: bool,
    qr_svg: String,
    secret: String,
    recovery_codes: Vec<String>,
    unused_codes: i64,
    error: Option<String>,
    can_set_policy: bool,
    policy_on: bool,
}

async fn page(
    state: &AppState,
    admin: &Admin,
    recovery_codes: Vec<String>,
    error: Option<String>,
) -> WebResult<Response> {
    let user = &admin.0.user;
    let pending = state.app().totp_enrolment_secret(user.id).await?;
    let enabled = pending.is_none();
    let (mut qr_svg, mut secret) = (String::new(), String::new());
    if let Some(s) = pending {
        let url =
            totp::otpauth_url(s.expose(), "Candor", &user.email).ok_or_else(|| anyhow::anyhow!("bad TOTP secret"))?;
        qr_svg = totp::qr_svg(&url).unwrap_or_default();
        secret = s.expose().to_owned();
    }
    let policy_on = state.app().mfa_required().await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let html = MfaPage {
        layout: AdminLayout::new(admin, None),
        enabled,
        must_enrol: policy_on && !enabled,
        qr_svg,
        secret,
        recovery_codes,
        unused_codes: state.store().unused_recovery_codes(user.id).await?,
        error,
        can_set_policy: candor_core::access::allows(user.role, candor_core::access::Permission::ManageUsers),
        policy_on,
    }
    .render()?;
    Ok((status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

pub async fn show(State(state): State<AppState>, admin: Admin) -> WebResult<Response> {
    page(&state, &admin, vec![], None).await
}

/// Confirms enrolment with a code from the app; answers with the recovery codes, shown once.
pub async fn confirm(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let code = form.get("code").map(String::as_str).unwrap_or("");
    let done = state.app().enrol_totp(&admin.who(), admin.0.user.id, code).await?;
    state.apply(done.effects).await;
    match done.value {
        Enrolment::NothingPending => page(&state, &admin, vec![], None).await,
        Enrolment::WrongCode => {
            page(
                &state,
                &admin,
                vec![],
                Some(
                    "That code does not match. Check the time on your phone, then enter the current 6-digit code."
                        .into(),
                ),
            )
            .await
        }
        Enrolment::Enrolled(codes) => {
            page(
                &state,
                &admin,
                codes.iter().map(|c| c.expose().to_owned()).collect(),
                None,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/mfa_verify.html")]
struct VerifyPage<'a> {
    csrf: &'a str,
    next: &'a str,
    error: Option<&'a str>,
    /// Which second factors the user has.
    totp: bool,
    passkey: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn verify_form(admin: Admin, Query(q): Query<NextQuery>) -> WebResult<Response> {
    if !admin.0.mfa_pending {
        return Ok(Redirect::to("/admin").into_response());
    }
    let next = q.next.filter(|n| safe_next(n)).unwrap_or_else(|| "/admin".into());
    let html = VerifyPage {
        csrf: admin.csrf(),
        next: &next,
        error: None,
        totp: admin.0.user.has_totp,
        passkey: admin.0.user.passkeys > 0,
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// The second step of sign-in: a TOTP code (each usable once) or a recovery code.
pub async fn verify(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let user = &admin.0.user;
    if !admin.0.mfa_pending {
        return Ok(Redirect::to("/admin").into_response());
    }
    let key = format!("mfa:{}", user.id);
    if let Err(secs) = state.login_backoff().check(&key).await {
        return Err(WebError::TooManyRequests { retry_after_secs: secs });
    }
    let next = form
        .get("next")
        .filter(|n| safe_next(n))
        .cloned()
        .unwrap_or_else(|| "/admin".into());
    let code = form.get("code").map(|c| c.trim()).unwrap_or("");
    let old = read_cookie(&headers, session_cookie_name(&state))
        .unwrap_or_default()
        .to_owned();
    let fresh = random_token();
    let done = state
        .app()
        .verify_second_factor_code(
            &admin.who(),
            user,
            code,
            &token_digest(&old),
            &token_digest(fresh.expose()),
        )
        .await?;
    state.apply(done.effects).await;
    if done.value.is_none() {
        state.login_backoff().failure(&key).await;
        let html = VerifyPage {
            csrf: admin.csrf(),
            next: &next,
            totp: user.has_totp,
            passkey: user.passkeys > 0,
            error: Some(
                "That code is not valid, or was used already. Try the current code from your app, or a recovery code.",
            ),
        }
        .render()?;
        return Ok((StatusCode::UNAUTHORIZED, Html(html)).into_response());
    };
    state.login_backoff().success(&key).await;
    let set = cookie(&state, session_cookie_name(&state), fresh.expose(), "/", None);
    Ok((
        StatusCode::SEE_OTHER,
        AppendHeaders([(header::LOCATION, next), (header::SET_COOKIE, set)]),
    )
        .into_response())
}

/// The second factor is in (a passkey): the half-signed-in id is retired for a new one, and the
/// sign-in is audited. Returns the new session cookie.
pub(super) async fn finish_second_factor(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    method: &str,
) -> WebResult<String> {
    let old = read_cookie(headers, session_cookie_name(state))
        .unwrap_or_default()
        .to_owned();
    let fresh = random_token();
    let done = state
        .app()
        .complete_second_factor(
            &admin.who(),
            &admin.0.user,
            &token_digest(&old),
            &token_digest(fresh.expose()),
            method,
        )
        .await?;
    state.apply(done.effects).await;
    Ok(cookie(state, session_cookie_name(state), fresh.expose(), "/", None))
}

/// Owners turn "require MFA for all admins" on or off.
pub async fn set_policy(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let on = form.get("require").map(String::as_str) == Some("true");
    let done = state.app().set_mfa_required(&admin.who(), on).await?;
    state.apply(done.effects).await;
    // Back to the page the form was on (the users page or this one), saying what changed.
    let notice = if on { "mfa-required" } else { "mfa-not-required" };
    let back = match form.get("back").map(String::as_str) {
        Some("users") => "/admin/users",
        _ => "/admin/mfa",
    };
    Ok(Redirect::to(&format!("{back}?notice={notice}")).into_response())
}
