//! Sign-in through the identity provider (OpenID Connect): `/admin/sso/start` sends the browser
//! there; `/admin/sso/callback` brings it back with a code.
//!
//! The sign-in in progress (state, nonce, PKCE verifier, where to return) waits server-side under
//! the digest of a random cookie set on this browser, and is used up by the callback. So a code
//! delivered to another browser, a tampered or replayed `state`, or a second use of the callback
//! finds nothing and fails with a clear page.

use super::auth::open_session;
use super::oidc::{decide, Decision, Existing, Identity};
use crate::http::error::{WebError, WebResult};
use crate::http::session::user_agent;
use crate::http::session::{cookie, read_cookie, safe_next};
use crate::AppState;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use candor_app::identity::SignIn;
use candor_app::Action;
use candor_crypto::{random_token, same_secret, token_digest};
use std::collections::HashMap;
use std::net::SocketAddr;

const SSO_COOKIE: &str = "candor_sso";

pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let Some(oidc) = state.oidc() else {
        return Err(WebError::NotFound);
    };
    // Each start stores a row; an address that starts many and finishes none waits.
    let key = format!("sso-ip:{}", peer.ip());
    state
        .start_backoff()
        .check(&key)
        .await
        .map_err(|secs| WebError::TooManyRequests { retry_after_secs: secs })?;
    state.start_backoff().failure(&key).await;
    let next = q
        .get("next")
        .filter(|n| safe_next(n))
        .map(String::as_str)
        .unwrap_or("/admin");
    let started = oidc.start().await.map_err(|why| {
        tracing::error!(error = %why, "single sign-on could not start");
        WebError::Sso(format!("Candor could not reach the identity provider: {why}."))
    })?;
    let id = random_token();
    let login = candor_store::SsoLogin {
        state: started.state,
        nonce: started.nonce,
        pkce_verifier: started.pkce_verifier,
        next: next.to_owned(),
    };
    state
        .store()
        .create_sso_login(&token_digest(id.expose()), &login)
        .await?;
    let set = cookie(
        &state,
        SSO_COOKIE,
        id.expose(),
        "/admin/sso",
        Some(candor_store::SSO_LOGIN_SECS),
    );
    Ok((
        StatusCode::SEE_OTHER,
        AppendHeaders([(header::LOCATION, started.url), (header::SET_COOKIE, set)]),
    )
        .into_response())
}

pub async fn callback(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let Some(oidc) = state.oidc() else {
        return Err(WebError::NotFound);
    };
    let ip = peer.ip().to_string();
    let fail = |why: String| {
        let state = state.clone();
        let ip = ip.clone();
        async move {
            tracing::info!(client.ip = %ip, reason = %why, "single sign-on failed");
            let actor = candor_app::Actor::Anonymous { ip };
            state
                .record(
                    &actor,
                    candor_app::Action::SsoFailed,
                    "sso",
                    serde_json::json!({"reason": why}),
                )
                .await;
            WebError::Sso(why)
        }
    };
    // Whatever happens next, this browser's sign-in in progress is used up.
    let login = match read_cookie(&headers, SSO_COOKIE) {
        Some(id) => state.store().take_sso_login(&token_digest(id)).await?,
        None => None,
    };
    let Some(login) = login else {
        return Err(fail("This sign-in is not known in this browser: it expired (after 10 minutes), was used already, or was started elsewhere.".into()).await);
    };
    let given_state = q.get("state").map(String::as_str).unwrap_or("");
    if !same_secret(given_state, &login.state) {
        return Err(fail("The state returned by the identity provider does not match the sign-in this browser started (a forged or replayed response).".into()).await);
    }
    if let Some(error) = q.get("error") {
        let detail = q.get("error_description").map(|d| format!(": {d}")).unwrap_or_default();
        let shown: String = format!("{error}{detail}").chars().take(300).collect();
        return Err(fail(format!("The identity provider did not sign you in ({shown}).")).await);
    }
    let Some(code) = q.get("code").filter(|c| !c.is_empty()) else {
        return Err(fail("The identity provider sent no sign-in code.".into()).await);
    };
    let identity = match oidc.finish(code, &login.nonce, &login.pkce_verifier).await {
        Ok(id) => id,
        Err(why) => return Err(fail(format!("The sign-in could not be verified: {why}.")).await),
    };
    let user = match account_for(&state, &identity, &ip).await? {
        Ok(user) => user,
        Err(why) => return Err(fail(why).await),
    };
    state.start_backoff().success(&format!("sso-ip:{ip}")).await;
    let ua = user_agent(&headers);
    let sign_in = SignIn {
        user: &user,
        user_agent: &ua,
        mfa_pending: false,
        via_sso: true,
        action: Action::SsoLogin,
        details: serde_json::json!({"user_agent": ua, "subject": identity.subject, "groups": identity.groups}),
    };
    let set = open_session(&state, &ip, sign_in).await?;
    let clear = cookie(&state, SSO_COOKIE, "", "/admin/sso", Some(0));
    Ok((
        StatusCode::SEE_OTHER,
        AppendHeaders([
            (header::LOCATION, login.next),
            (header::SET_COOKIE, set),
            (header::SET_COOKIE, clear),
        ]),
    )
        .into_response())
}

/// The account this verified identity signs in to, after the rules (link, role change, or
/// just-in-time creation, each audited); `Err` with the reason shown when refused.
async fn account_for(state: &AppState, id: &Identity, ip: &str) -> WebResult<Result<candor_store::User, String>> {
    let Some(oidc) = state.oidc() else {
        return Ok(Err("single sign-on is not configured on this server".into()));
    };
    let settings = oidc.settings();
    let store = state.store();
    let org = state.org();
    let found = match store.user_by_sso_subject(org, &id.subject).await? {
        Some(u) => Some(u),
        None => store.user_by_email(org, &id.email).await?,
    };
    let existing = match &found {
        Some(u) => Some(Existing {
            id: u.id,
            role: u.role,
            disabled: u.disabled,
            subject: store.sso_subject_of(u.id).await?,
        }),
        None => None,
    };
    let actor = candor_app::Actor::Sso { ip: ip.to_owned() };
    match decide(settings, id, existing.as_ref()) {
        Decision::Refuse(why) => Ok(Err(why)),
        Decision::Create { role } => {
            let user = store
                .create_sso_user(org, &id.email, &id.name, role, &id.subject)
                .await?;
            let details = serde_json::json!({"role": role.as_str(), "via": "single sign-on"});
            state
                .record(
                    &actor,
                    candor_app::Action::UserCreate,
                    format!("user/{}", user.email),
                    details,
                )
                .await;
            Ok(Ok(user))
        }
        Decision::SignIn { user_id, role, link } => {
            let Some(mut user) = found.filter(|u| u.id == user_id) else {
                return Err(WebError::Internal(anyhow::anyhow!(
                    "single sign-on decided on user {user_id}, which was not the account found"
                )));
            };
            if link {
                store.link_sso_subject(user.id, &id.subject).await?;
            }
            if role != user.role {
                store.set_role(org, user.id, role).await?;
                let details = serde_json::json!({"from": user.role.as_str(), "to": role.as_str(), "groups": id.groups});
                state
                    .record(
                        &actor,
                        candor_app::Action::UserRoleChange,
                        format!("user/{}", user.email),
                        details,
                    )
                    .await;
                user.role = role;
            }
            Ok(Ok(user))
        }
    }
}
