//! Sign-in, sign-out, first-time setup and password reset links.

use crate::http::error::{WebError, WebResult};
use crate::http::session::user_agent;
use crate::http::session::{cookie, read_cookie, safe_next, session_cookie_name, Admin, BACK_OFFICE_FORMS};
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::identity::SignIn;
use candor_app::{Action, Actor};
use candor_crypto::{hash_password, token_digest, verify_password};
use std::collections::HashMap;
use std::net::SocketAddr;

const LOGIN_CSRF_COOKIE: &str = BACK_OFFICE_FORMS.cookie;

/// Forms before sign-in (sign-in, setup, reset, forgot) use the back office's double-submit token.
pub(super) fn pre_session_csrf(state: &AppState) -> (candor_crypto::Secret, String) {
    BACK_OFFICE_FORMS.issue(state)
}

pub(super) fn check_pre_session_csrf(headers: &HeaderMap, form: &HashMap<String, String>) -> WebResult<()> {
    BACK_OFFICE_FORMS.check(headers, form)
}
/// The one answer for an unknown email, a disabled user and a wrong password.
const BAD_LOGIN: &str = "The email or password is not correct.";

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    sso_label: Option<&'a str>,
    password_sign_in: bool,
    passkeys: bool,
    next: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<&str>,
) -> WebResult<Response> {
    let (token, set) = pre_session_csrf(state);
    let html = LoginPage {
        csrf: token.expose(),
        sso_label: state.config().oidc.as_ref().map(|o| o.label.as_str()),
        password_sign_in: !state.sso_only(),
        passkeys: state.webauthn().is_some(),
        next,
        email,
        error,
    }
    .render()?;
    Ok((
        status,
        [
            (header::SET_COOKIE, set),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Html(html),
    )
        .into_response())
}

pub async fn login_form(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let next = q
        .get("next")
        .filter(|n| safe_next(n))
        .map(String::as_str)
        .unwrap_or("/admin");
    login_page(&state, StatusCode::OK, next, "", None)
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    // Refused before anything else: with single sign-on enforced no password is ever checked.
    if state.sso_only() {
        return Err(WebError::BadRequest(
            "Password sign-in is turned off here: sign in with single sign-on from /admin/login.".into(),
        ));
    }
    check_pre_session_csrf(&headers, &form)?;
    let next = Some(field("next")).filter(|n| safe_next(n)).unwrap_or("/admin");
    // No address is longer than 254 characters; a longer one cannot exist, so it is not looked up,
    // kept as a backoff key or written to the audit log.
    let email: String = field("email").trim().to_lowercase().chars().take(254).collect();
    let ip = peer.ip().to_string();
    let (ip_key, user_key) = (format!("ip:{ip}"), format!("user:{email}"));
    // Two limits: per address (up to 15 min) slows one attacker; per account (capped at a minute)
    // slows a distributed attack on one account without letting anyone lock its owner out.
    let (by_ip, by_account) = (state.login_backoff(), state.account_backoff());
    let checked = match by_ip.check(&ip_key).await {
        Ok(()) => by_account.check(&user_key).await,
        refused => refused,
    };
    if let Err(secs) = checked {
        // Only logged: refused attempts check nothing, and recording each would let anyone fill
        // the audit log for free.
        tracing::warn!(client.ip = %ip, "login refused while backing off");
        return Err(WebError::TooManyRequests { retry_after_secs: secs });
    }
    let user = state
        .store()
        .user_by_email(state.org(), &email)
        .await?
        .filter(|u| !u.disabled);
    let hash = match &user {
        Some(u) => state.store().password_hash(u.id).await?,
        None => None,
    };
    // verify_password does the same work whether or not there is a hash, so timing is uniform.
    let password = field("password").to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, hash.as_deref())).await?;
    let Some(user) = user.filter(|_| ok) else {
        by_ip.failure(&ip_key).await;
        by_account.failure(&user_key).await;
        tracing::info!(client.ip = %ip, "login failed");
        let done = state
            .app()
            .record(
                &Actor::Anonymous { ip: ip.clone() },
                Action::LoginFailed,
                format!("user/{email}"),
                serde_json::json!({}),
            )
            .await?;
        state.apply(done.effects).await;
        return login_page(&state, StatusCode::UNAUTHORIZED, next, &email, Some(BAD_LOGIN));
    };
    by_ip.success(&ip_key).await;
    by_account.success(&user_key).await;
    let ua = user_agent(&headers);
    // With a second factor, the session is only half signed in until the code is given.
    let (action, next) = if user.mfa_enabled {
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        (Action::LoginPasswordOk, format!("/admin/mfa/verify?next={encoded}"))
    } else {
        (Action::Login, next.to_owned())
    };
    let sign_in = SignIn {
        user: &user,
        user_agent: &ua,
        mfa_pending: user.mfa_enabled,
        via_sso: false,
        action,
        details: serde_json::json!({"user_agent": ua}),
    };
    let set = open_session(&state, &ip, sign_in).await?;
    tracing::info!(user.id = user.id, client.ip = %ip, "signed in");
    let clear = cookie(&state, LOGIN_CSRF_COOKIE, "", "/admin", Some(0));
    // AppendHeaders, not an array: an array *inserts*, and the second cookie would replace the first.
    Ok((
        StatusCode::SEE_OTHER,
        AppendHeaders([
            (header::LOCATION, next),
            (header::SET_COOKIE, set),
            (header::SET_COOKIE, clear),
        ]),
    )
        .into_response())
}

/// Opens a session for a user who has just signed in, audits it, and returns the session
/// cookie's `Set-Cookie` value.
pub(super) async fn open_session(state: &AppState, ip: &str, sign_in: SignIn<'_>) -> WebResult<String> {
    let actor = Actor::User {
        email: sign_in.user.email.clone(),
        ip: ip.to_owned(),
    };
    let done = state.app().open_session(&actor, sign_in).await?;
    state.apply(done.effects).await;
    Ok(cookie(
        state,
        session_cookie_name(state),
        done.value.expose(),
        "/",
        None,
    ))
}

pub async fn logout(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let id_hash = read_cookie(&headers, session_cookie_name(&state)).map(token_digest);
    let done = state
        .app()
        .sign_out(&admin.who(), &admin.0.user, id_hash.as_deref())
        .await?;
    state.apply(done.effects).await;
    let clear = cookie(&state, session_cookie_name(&state), "", "/", Some(0));
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/admin/login".to_owned()),
            (header::SET_COOKIE, clear),
        ],
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "admin/password.html")]
struct PasswordPage<'a> {
    title: &'a str,
    action: &'a str,
    csrf: &'a str,
    ask_identity: bool,
    email: &'a str,
    name: &'a str,
    errors: Vec<String>,
    /// Setup while the demo is loaded: keep it, or start blank.
    offer_start_choice: bool,
    start_blank: bool,
}

/// Setup and reset links share a form; setup also asks the owner for their email and name.
struct LinkKind {
    purpose: &'static str,
    title: &'static str,
    ask_identity: bool,
}
const SETUP: LinkKind = LinkKind {
    purpose: "setup",
    title: "Set up your Candor account",
    ask_identity: true,
};
const RESET: LinkKind = LinkKind {
    purpose: "reset",
    title: "Choose a new password",
    ask_identity: false,
};

/// The user of a usable link, or the error page that says why the link cannot be used and what
/// to do instead. Looking changes nothing: only saving the form uses a link.
async fn usable_link(state: &AppState, kind: &LinkKind, digest: &str) -> WebResult<candor_store::User> {
    use candor_store::LinkState;
    let why = match state.store().user_link_state(digest, kind.purpose).await? {
        LinkState::Usable(user) => return Ok(user),
        LinkState::Used => "This link was used already: each link works once. If you set your password with it, sign in at /admin/login. Otherwise ask for a new link at /admin/forgot, or ask an owner.",
        LinkState::Expired => "This link has expired, or was replaced: a newer link, using another link or changing the password ends it. Ask for a new link at /admin/forgot, or ask an owner.",
        LinkState::Unknown => "This link is not valid: it may have been copied incompletely, or the account is disabled. Check that the whole link is in the address bar, or ask for a new one at /admin/forgot, or ask an owner.",
    };
    Err(WebError::BadRequest(why.into()))
}

async fn link_form(state: &AppState, kind: &LinkKind, token: &str) -> WebResult<Response> {
    let user = usable_link(state, kind, &token_digest(token)).await?;
    let (csrf, set) = pre_session_csrf(state);
    let email = if user.email.ends_with("@localhost") {
        ""
    } else {
        user.email.as_str()
    };
    let html = PasswordPage {
        title: kind.title,
        action: &format!("/admin/{}/{token}", kind.purpose),
        csrf: csrf.expose(),
        ask_identity: kind.ask_identity,
        email,
        name: &user.name,
        errors: vec![],
        offer_start_choice: offer_start_choice(state, kind).await?,
        start_blank: false,
    }
    .render()?;
    Ok((
        [
            (header::SET_COOKIE, set),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Html(html),
    )
        .into_response())
}

async fn link_submit(
    state: &AppState,
    kind: &LinkKind,
    token: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    ip: &str,
) -> WebResult<Response> {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    check_pre_session_csrf(headers, form)?;
    let digest = token_digest(token);
    let user = usable_link(state, kind, &digest).await?;
    let mut errors = vec![];
    let password = field("password");
    if let Err(why) = candor_core::password::check_new_password(password) {
        errors.push(format!("Password: {why}."));
    }
    if password != field("confirm") {
        errors.push("Confirm password: the two passwords differ; type the same password twice.".into());
    }
    let (email, name) = (field("email").trim(), field("name").trim());
    if kind.ask_identity {
        let valid = candor_core::Kind::Profile
            .validate(
                &serde_json::json!({"name": "x", "tagline": "x", "description": "x", "brand_color": "#000000",
                "security_email": email, "privacy_email": "a@b.co", "support_email": "a@b.co"}),
            )
            .is_ok();
        if !valid {
            errors.push("Email: enter the address you will sign in with, like you@example.com.".into());
        }
        if name.is_empty() || name.len() > 100 {
            errors.push("Name: enter your name (up to 100 characters).".into());
        }
    }
    if !errors.is_empty() {
        let csrf = field("_csrf");
        let html = PasswordPage {
            title: kind.title,
            action: &format!("/admin/{}/{token}", kind.purpose),
            csrf,
            ask_identity: kind.ask_identity,
            email,
            name,
            errors,
            offer_start_choice: offer_start_choice(state, kind).await?,
            start_blank: field("start") == "blank",
        }
        .render()?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    if kind.ask_identity {
        match state.store().set_user_identity(state.org(), user.id, email, name).await {
            Err(candor_store::StoreError::Conflict(_)) => {
                return Err(WebError::BadRequest(
                    "Another user already has this email address.".into(),
                ))
            }
            other => other?,
        }
    }
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await?
        .map_err(anyhow::Error::from)?;
    if state
        .store()
        .redeem_user_link(&digest, kind.purpose, &hash)
        .await?
        .is_none()
    {
        return Err(WebError::BadRequest(
            "This link was used already: each link works once. Sign in at /admin/login, or ask for a new link at /admin/forgot."
                .into(),
        ));
    }
    let email = if kind.ask_identity { email } else { user.email.as_str() };
    let actor = candor_app::Actor::User {
        email: email.to_owned(),
        ip: ip.to_owned(),
    };
    state
        .record(
            &actor,
            candor_app::Action::PasswordSet,
            format!("user/{email}"),
            serde_json::json!({"link": kind.purpose}),
        )
        .await;
    // "Start blank": the demo goes in its own use case (audited as the new owner), and the
    // owner's first page is their organization profile's form.
    if kind.ask_identity && field("start") == "blank" {
        let done = state.app().remove_demo(&actor).await?;
        state.apply(done.effects).await;
        return Ok(Redirect::to("/admin/login?next=/admin/content/profile/new").into_response());
    }
    Ok(Redirect::to("/admin/login?next=/admin").into_response())
}

/// Whether the setup form asks "keep the demo or start blank": only at setup, and only while
/// demo content is there to remove.
async fn offer_start_choice(state: &AppState, kind: &LinkKind) -> WebResult<bool> {
    Ok(kind.ask_identity && !state.app().demo_content().await?.is_empty())
}

pub async fn setup_form(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    link_form(&state, &SETUP, &token).await
}
pub async fn setup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    link_submit(&state, &SETUP, &token, &headers, &form, &peer.ip().to_string()).await
}
pub async fn reset_form(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    link_form(&state, &RESET, &token).await
}
pub async fn reset(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    link_submit(&state, &RESET, &token, &headers, &form, &peer.ip().to_string()).await
}
