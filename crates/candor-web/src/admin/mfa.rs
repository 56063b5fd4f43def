//! Two-factor sign-in with TOTP: enrolment (QR code as server-rendered SVG, a confirm step, ten
//! single-use recovery codes shown once), the verification step after the password, and the
//! organization-wide "require MFA for all admins" setting.

use super::AdminLayout;
use crate::http::error::{AppError, AppResult};
use crate::http::session::{cookie, read_cookie, safe_next, session_cookie_name, Admin};
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_crypto::{random_token, token_digest, totp};

/// Organization setting key.
pub const REQUIRE_MFA: &str = "require_mfa";
const RECOVERY_CODES: usize = 10;

/// Paths a session may use while its second factor is pending, and while a user who must enrol
/// has not yet: everything else sends them to these pages.
pub const PENDING_PATHS: [&str; 4] = [
    "/admin/mfa/verify",
    "/admin/mfa/passkey/start",
    "/admin/mfa/passkey/finish",
    "/admin/logout",
];
pub const ENROL_PATHS: [&str; 6] = [
    "/admin/mfa",
    "/admin/mfa/confirm",
    "/admin/passkeys",
    "/admin/passkeys/register/start",
    "/admin/passkeys/register/finish",
    "/admin/logout",
];

/// Whether the organization requires two-factor sign-in. A database error is an error, not "no":
/// a security policy must fail closed.
pub async fn required(state: &AppState) -> AppResult<bool> {
    Ok(state.store().org_setting(state.org(), REQUIRE_MFA).await?.as_deref() == Some("true"))
}

/// `xxxxx-xxxxx` from a random token; compared lowercase without the dash.
fn new_recovery_code() -> String {
    let t: String = random_token()
        .expose()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(10)
        .collect::<String>()
        .to_lowercase();
    format!("{}-{}", &t[..5], &t[5..])
}

fn recovery_digest(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    token_digest(&normal)
}

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
) -> AppResult<Response> {
    let user = &admin.0.user;
    let (active, pending, _) = state.store().totp_state(user.id).await?;
    let enabled = active.is_some();
    let (mut qr_svg, mut secret) = (String::new(), String::new());
    if !enabled {
        let s = match pending {
            Some(s) => s,
            None => {
                let s = totp::new_secret();
                state.store().set_totp_pending(user.id, &s).await?;
                s
            }
        };
        let url = totp::otpauth_url(&s, "Candor", &user.email).ok_or_else(|| anyhow::anyhow!("bad TOTP secret"))?;
        qr_svg = totp::qr_svg(&url).unwrap_or_default();
        secret = s;
    }
    let policy_on = required(state).await?;
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
    .render()
    .map_err(anyhow::Error::from)?;
    Ok((status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

pub async fn show(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    page(&state, &admin, vec![], None).await
}

/// Confirms enrolment with a code from the app; answers with the recovery codes, shown once.
pub async fn confirm(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    let user_id = admin.0.user.id;
    let (active, pending, _) = state.store().totp_state(user_id).await?;
    if active.is_some() {
        return Err(AppError::BadRequest(
            "Two-factor sign-in is already on for your account.".into(),
        ));
    }
    let Some(secret) = pending else {
        return page(&state, &admin, vec![], None).await;
    };
    let code = form.get("code").map(String::as_str).unwrap_or("");
    let Some(step) = totp::verify(&secret, code, candor_store::now() as u64, None) else {
        return page(
            &state,
            &admin,
            vec![],
            Some("That code does not match. Check the time on your phone, then enter the current 6-digit code.".into()),
        )
        .await;
    };
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_digest(c)).collect();
    state
        .store()
        .activate_totp(user_id, &secret, step as i64, &hashes)
        .await?;
    admin
        .audit(&state, "auth.mfa.enrol", "", serde_json::json!({"method": "totp"}))
        .await;
    page(&state, &admin, codes, None).await
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

pub async fn verify_form(admin: Admin, Query(q): Query<NextQuery>) -> AppResult<Response> {
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
    .render()
    .map_err(anyhow::Error::from)?;
    Ok(Html(html).into_response())
}

/// The second step of sign-in: a TOTP code (each usable once) or a recovery code.
pub async fn verify(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Form(form): Form<FormMap>,
) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    let user = &admin.0.user;
    if !admin.0.mfa_pending {
        return Ok(Redirect::to("/admin").into_response());
    }
    let key = format!("mfa:{}", user.id);
    if let Err(secs) = state.login_backoff().check(&key) {
        return Err(AppError::TooManyRequests { retry_after_secs: secs });
    }
    let next = form
        .get("next")
        .filter(|n| safe_next(n))
        .cloned()
        .unwrap_or_else(|| "/admin".into());
    let code = form.get("code").map(|c| c.trim()).unwrap_or("");
    let (secret, _, last_step) = state.store().totp_state(user.id).await?;
    let method = match (secret, code.len()) {
        (Some(secret), 6) => match totp::verify(&secret, code, candor_store::now() as u64, last_step.map(|s| s as u64))
        {
            Some(step) if state.store().use_totp_step(user.id, step as i64).await? => Some("totp"),
            _ => None,
        },
        (Some(_), _) if state.store().use_recovery_code(user.id, &recovery_digest(code)).await? => {
            Some("recovery-code")
        }
        _ => None,
    };
    let Some(method) = method else {
        state.login_backoff().failure(&key);
        admin
            .audit(
                &state,
                "auth.mfa.failed",
                &format!("user/{}", user.email),
                serde_json::json!({}),
            )
            .await;
        let html = VerifyPage {
            csrf: admin.csrf(),
            next: &next,
            totp: user.has_totp,
            passkey: user.passkeys > 0,
            error: Some(
                "That code is not valid, or was used already. Try the current code from your app, or a recovery code.",
            ),
        }
        .render()
        .map_err(anyhow::Error::from)?;
        return Ok((StatusCode::UNAUTHORIZED, Html(html)).into_response());
    };
    state.login_backoff().success(&key);
    let set = finish_second_factor(&state, &admin, &headers, method).await?;
    Ok((
        StatusCode::SEE_OTHER,
        AppendHeaders([(header::LOCATION, next), (header::SET_COOKIE, set)]),
    )
        .into_response())
}

/// The second factor is in (a code, a recovery code or a passkey): the half-signed-in id is
/// retired for a new one, and the sign-in is audited. Returns the new session cookie.
pub(super) async fn finish_second_factor(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    method: &str,
) -> AppResult<String> {
    let old = read_cookie(headers, session_cookie_name(state))
        .unwrap_or_default()
        .to_owned();
    let fresh = random_token();
    if !state
        .store()
        .complete_mfa(&token_digest(&old), &token_digest(fresh.expose()))
        .await?
    {
        return Err(AppError::Forbidden);
    }
    let target = format!("user/{}", admin.0.user.email);
    admin
        .audit(state, "auth.login", &target, serde_json::json!({"mfa": method}))
        .await;
    Ok(cookie(state, session_cookie_name(state), fresh.expose(), "/", None))
}

/// Owners turn "require MFA for all admins" on or off.
pub async fn set_policy(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    let on = form.get("require").map(String::as_str) == Some("true");
    state
        .store()
        .set_org_setting(state.org(), REQUIRE_MFA, if on { "true" } else { "false" })
        .await?;
    admin
        .audit(&state, "settings.require_mfa", "", serde_json::json!({"on": on}))
        .await;
    Ok(Redirect::to("/admin/mfa").into_response())
}
