//! Passkeys (WebAuthn, with webauthn-rs): add and remove your own, use one as the second factor
//! after a password, or sign in with one alone (a discoverable credential; no username typed).
//!
//! Each ceremony has two halves. The first returns the options for `navigator.credentials` and a
//! random ceremony id; the challenge state waits server-side under the id's digest, tied to the
//! user (or to no one, for sign-in) and a purpose, and the second half uses it up. The browser
//! side is `/admin/assets/passkeys.js`. Requests are JSON, carry the CSRF token in an
//! `X-CSRF-Token` header and pass the Origin check like every back-office write.

use super::auth::{check_pre_session_csrf, open_session};
use super::mfa::finish_second_factor;
use crate::http::error::{WebError, WebResult};
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::user_agent;
use crate::http::session::{safe_next, Admin};
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use base64::Engine;
use candor_app::identity::NewPasskey;
use candor_app::identity::SignIn;
use candor_app::Action;
use candor_crypto::{random_token, same_secret, token_digest};
use std::collections::HashMap;
use std::net::SocketAddr;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Uuid,
};

/// The browser half of the ceremonies.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../assets/passkeys.js"),
    )
        .into_response()
}

/// A JSON error for the script to show: `{"error": "..."}`.
fn json_error(status: StatusCode, message: &str) -> WebError {
    WebError::Json(status, message.to_owned())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn webauthn(state: &AppState) -> WebResult<&webauthn_rs::Webauthn> {
    state.webauthn().ok_or_else(|| {
        json_error(
            StatusCode::NOT_FOUND,
            "Passkeys need Candor to be reached by a domain name (public_url), not an IP address.",
        )
    })
}

fn check_csrf_header(admin: &Admin, headers: &HeaderMap) -> WebResult<()> {
    let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if same_secret(given, admin.csrf()) {
        Ok(())
    } else {
        Err(json_error(
            StatusCode::FORBIDDEN,
            "This page has expired; reload it and try again.",
        ))
    }
}

/// Starts a ceremony: stores its state, returns `{"ceremony": id, "options": ...}`.
async fn begin<S: serde::Serialize, O: serde::Serialize>(
    state: &AppState,
    user_id: Option<i64>,
    purpose: &str,
    ceremony_state: &S,
    options: &O,
) -> WebResult<Response> {
    let id = random_token();
    let saved = serde_json::to_string(ceremony_state).map_err(anyhow::Error::from)?;
    state
        .store()
        .create_ceremony(&token_digest(id.expose()), user_id, purpose, &saved)
        .await?;
    Ok(Json(serde_json::json!({"ceremony": id.expose(), "options": options})).into_response())
}

/// Ends a ceremony: its stored state if it exists, is fresh and belongs to this user and purpose.
async fn take<S: serde::de::DeserializeOwned>(
    state: &AppState,
    ceremony: &str,
    user_id: Option<i64>,
    purpose: &str,
) -> WebResult<Option<S>> {
    let saved = state
        .store()
        .take_ceremony(&token_digest(ceremony), user_id, purpose)
        .await?;
    Ok(saved.and_then(|s| serde_json::from_str(&s).ok()))
}

const EXPIRED: &str = "This passkey request has expired or was already used. Try again.";

// --- Your passkeys -----------------------------------------------------------------------------

struct PasskeyRow {
    id: i64,
    name: String,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "admin/passkeys.html")]
struct PasskeysPage {
    layout: AdminLayout,
    passkeys: Vec<PasskeyRow>,
    available: bool,
}

pub async fn list(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    let passkeys = state
        .store()
        .passkeys(admin.0.user.id)
        .await?
        .into_iter()
        .map(|p| PasskeyRow {
            id: p.id,
            name: p.name,
            created: crate::http::format::display_time(Some(p.created_at)),
            last_used: crate::http::format::display_time(p.last_used_at),
        })
        .collect();
    let html = PasskeysPage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        passkeys,
        available: state.webauthn().is_some(),
    }
    .render()?;
    Ok(Html(html).into_response())
}

pub async fn register_start(State(state): State<AppState>, admin: Admin, headers: HeaderMap) -> WebResult<Response> {
    check_csrf_header(&admin, &headers)?;
    let webauthn = webauthn(&state)?;
    let user = &admin.0.user;
    let handle = state.store().webauthn_id(user.id, &Uuid::new_v4().to_string()).await?;
    let handle = Uuid::parse_str(&handle).map_err(anyhow::Error::from)?;
    let existing: Vec<_> = state
        .store()
        .passkeys(user.id)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let display = if user.name.is_empty() { &user.email } else { &user.name };
    let (options, reg) = webauthn
        .start_passkey_registration(handle, &user.email, display, Some(existing))
        .map_err(anyhow::Error::from)?;
    // Prefer a discoverable credential, so the passkey can also sign in without a username;
    // an older security key that cannot store one still works as a second factor.
    let mut options = serde_json::to_value(&options).map_err(anyhow::Error::from)?;
    if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection") {
        sel["residentKey"] = "preferred".into();
        sel["requireResidentKey"] = false.into();
    }
    begin(&state, Some(user.id), "register", &reg, &options).await
}

#[derive(serde::Deserialize)]
pub struct RegisterBody {
    ceremony: String,
    name: String,
    credential: RegisterPublicKeyCredential,
}

pub async fn register_finish(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Json(body): Json<RegisterBody>,
) -> WebResult<Response> {
    check_csrf_header(&admin, &headers)?;
    let webauthn = webauthn(&state)?;
    let user = &admin.0.user;
    let name: String = body.name.trim().chars().take(60).collect();
    if name.is_empty() {
        return Err(json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Name the passkey (for example, the device it is on).",
        ));
    }
    let Some(reg) = take::<PasskeyRegistration>(&state, &body.ceremony, Some(user.id), "register").await? else {
        return Err(json_error(StatusCode::BAD_REQUEST, EXPIRED));
    };
    let passkey = match webauthn.finish_passkey_registration(&body.credential, &reg) {
        Ok(p) => p,
        Err(e) => {
            return Err(json_error(
                StatusCode::BAD_REQUEST,
                &format!("The authenticator's answer was not accepted ({e}). Try again."),
            ))
        }
    };
    let saved = serde_json::to_string(&passkey).map_err(anyhow::Error::from)?;
    let credential_id = b64(passkey.cred_id());
    let new = NewPasskey {
        credential_id: &credential_id,
        name: &name,
        passkey: &saved,
    };
    let done = match state.app().add_passkey(&admin.who(), user, new).await {
        Err(candor_app::Error::Conflict(_)) => {
            return Err(json_error(StatusCode::CONFLICT, "This passkey is registered already."))
        }
        other => other?,
    };
    state.apply(done.effects).await;
    Ok(Json(serde_json::json!({"redirect": "/admin/passkeys?notice=passkey-added"})).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    // Only your own: another user's passkey id is simply not found.
    let done = state.app().remove_passkey(&admin.who(), &admin.0.user, id).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/passkeys?notice=passkey-removed").into_response())
}

// --- Second factor -----------------------------------------------------------------------------

pub async fn mfa_start(State(state): State<AppState>, admin: Admin, headers: HeaderMap) -> WebResult<Response> {
    check_csrf_header(&admin, &headers)?;
    let webauthn = webauthn(&state)?;
    if !admin.0.mfa_pending {
        return Err(json_error(StatusCode::CONFLICT, "You are signed in already."));
    }
    let passkeys: Vec<Passkey> = state
        .store()
        .passkeys(admin.0.user.id)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str(&p.passkey).ok())
        .collect();
    if passkeys.is_empty() {
        return Err(json_error(
            StatusCode::NOT_FOUND,
            "You have no passkey; use your authenticator app's code.",
        ));
    }
    let (options, auth) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(anyhow::Error::from)?;
    begin(&state, Some(admin.0.user.id), "mfa", &auth, &options).await
}

#[derive(serde::Deserialize)]
pub struct AuthBody {
    ceremony: String,
    #[serde(default)]
    next: String,
    credential: PublicKeyCredential,
}

pub async fn mfa_finish(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Json(body): Json<AuthBody>,
) -> WebResult<Response> {
    check_csrf_header(&admin, &headers)?;
    let webauthn = webauthn(&state)?;
    let user = &admin.0.user;
    let key = format!("mfa:{}", user.id);
    if let Err(secs) = state.login_backoff().check(&key).await {
        return Err(WebError::TooManyRequests { retry_after_secs: secs });
    }
    let Some(auth) = take::<PasskeyAuthentication>(&state, &body.ceremony, Some(user.id), "mfa").await? else {
        return Err(json_error(StatusCode::BAD_REQUEST, EXPIRED));
    };
    let credential_id = b64(body.credential.get_credential_id());
    let stored = state
        .store()
        .passkey_by_credential(&credential_id)
        .await?
        .filter(|p| p.user_id == user.id);
    let verified = match (stored, webauthn.finish_passkey_authentication(&body.credential, &auth)) {
        (Some(stored), Ok(result)) => Some((stored, result)),
        _ => None,
    };
    let Some((stored, result)) = verified else {
        state.login_backoff().failure(&key).await;
        let done = state
            .app()
            .record(
                &admin.who(),
                Action::MfaFailed,
                format!("user/{}", user.email),
                serde_json::json!({"method": "passkey"}),
            )
            .await?;
        state.apply(done.effects).await;
        return Err(json_error(
            StatusCode::UNAUTHORIZED,
            "That passkey did not verify. Try again, or use a code.",
        ));
    };
    state.login_backoff().success(&key).await;
    record_use(&state, &stored, &result).await?;
    let next = Some(body.next.as_str())
        .filter(|n| safe_next(n))
        .unwrap_or("/admin")
        .to_owned();
    let set = finish_second_factor(&state, &admin, &headers, "passkey").await?;
    Ok((
        AppendHeaders([(header::SET_COOKIE, set)]),
        Json(serde_json::json!({"redirect": next})),
    )
        .into_response())
}

/// Saves the credential's new counter and the time of use.
async fn record_use(
    state: &AppState,
    stored: &candor_store::StoredPasskey,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> WebResult<()> {
    let mut passkey: Passkey = serde_json::from_str(&stored.passkey).map_err(anyhow::Error::from)?;
    passkey.update_credential(result);
    let saved = serde_json::to_string(&passkey).map_err(anyhow::Error::from)?;
    state.store().passkey_used(stored.id, &saved).await?;
    Ok(())
}

// --- Sign-in without a password ----------------------------------------------------------------

fn check_pre_session_header(headers: &HeaderMap) -> WebResult<()> {
    let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    let form = HashMap::from([("_csrf".to_owned(), given.to_owned())]);
    check_pre_session_csrf(headers, &form)
        .map_err(|_| json_error(StatusCode::FORBIDDEN, "This page has expired; reload it and try again."))
}

pub async fn login_start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> WebResult<Response> {
    check_pre_session_header(&headers)?;
    if state.sso_only() {
        return Err(json_error(StatusCode::FORBIDDEN, "Sign in with single sign-on here."));
    }
    let webauthn = webauthn(&state)?;
    // Each start stores a ceremony: an address that starts many and finishes none waits.
    let key = format!("passkey-ip:{}", peer.ip());
    state
        .start_backoff()
        .check(&key)
        .await
        .map_err(|secs| WebError::TooManyRequests { retry_after_secs: secs })?;
    state.start_backoff().failure(&key).await;
    let (mut options, auth) = webauthn
        .start_discoverable_authentication()
        .map_err(anyhow::Error::from)?;
    // A button starts this, not an autofill prompt: let the browser show its passkey dialog.
    options.mediation = None;
    begin(&state, None, "login", &auth, &options).await
}

pub async fn login_finish(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<AuthBody>,
) -> WebResult<Response> {
    check_pre_session_header(&headers)?;
    if state.sso_only() {
        return Err(json_error(StatusCode::FORBIDDEN, "Sign in with single sign-on here."));
    }
    let webauthn = webauthn(&state)?;
    let ip = peer.ip().to_string();
    let ip_key = format!("ip:{ip}");
    if let Err(secs) = state.login_backoff().check(&ip_key).await {
        return Err(WebError::TooManyRequests { retry_after_secs: secs });
    }
    let Some(auth) = take::<DiscoverableAuthentication>(&state, &body.ceremony, None, "login").await? else {
        return Err(json_error(StatusCode::BAD_REQUEST, EXPIRED));
    };
    let user = match passwordless_user(&state, webauthn, &body.credential, auth).await? {
        Some(u) => u,
        None => {
            state.login_backoff().failure(&ip_key).await;
            let done = state
                .app()
                .record(
                    &candor_app::Actor::Anonymous { ip: ip.clone() },
                    Action::LoginFailed,
                    "passkey",
                    serde_json::json!({"method": "passkey"}),
                )
                .await?;
            state.apply(done.effects).await;
            return Err(json_error(
                StatusCode::UNAUTHORIZED,
                "That passkey is not registered here, or did not verify.",
            ));
        }
    };
    state.login_backoff().success(&ip_key).await;
    state.start_backoff().success(&format!("passkey-ip:{ip}")).await;
    let ua = user_agent(&headers);
    // A passkey with user verification is two factors in one: the session is complete.
    let sign_in = SignIn {
        user: &user,
        user_agent: &ua,
        mfa_pending: false,
        via_sso: false,
        action: Action::Login,
        details: serde_json::json!({"user_agent": ua, "mfa": "passkey", "passwordless": true}),
    };
    let set = open_session(&state, &ip, sign_in).await?;
    let next = Some(body.next.as_str())
        .filter(|n| safe_next(n))
        .unwrap_or("/admin")
        .to_owned();
    Ok((
        AppendHeaders([(header::SET_COOKIE, set)]),
        Json(serde_json::json!({"redirect": next})),
    )
        .into_response())
}

/// The active user a discoverable credential belongs to, if it verifies: its credential id must
/// be registered, to the account whose WebAuthn handle the authenticator returned.
async fn passwordless_user(
    state: &AppState,
    webauthn: &webauthn_rs::Webauthn,
    credential: &PublicKeyCredential,
    auth: DiscoverableAuthentication,
) -> WebResult<Option<candor_store::User>> {
    let Ok((handle, cred_id)) = webauthn.identify_discoverable_authentication(credential) else {
        return Ok(None);
    };
    let Some(stored) = state.store().passkey_by_credential(&b64(cred_id)).await? else {
        return Ok(None);
    };
    if state.store().user_id_by_webauthn_id(&handle.to_string()).await? != Some(stored.user_id) {
        return Ok(None);
    }
    let Some(user) = state
        .store()
        .user(state.org(), stored.user_id)
        .await?
        .filter(|u| !u.disabled)
    else {
        return Ok(None);
    };
    let passkey: Passkey = serde_json::from_str(&stored.passkey).map_err(anyhow::Error::from)?;
    let Ok(result) = webauthn.finish_discoverable_authentication(credential, auth, &[DiscoverableKey::from(&passkey)])
    else {
        return Ok(None);
    };
    record_use(state, &stored, &result).await?;
    Ok(Some(user))
}
