//! Back-office sessions, cookies and CSRF protection.
//!
//! The session cookie holds a 256-bit random id; the database stores only its SHA-256. Every
//! state-changing request must carry the session's CSRF token in the form *and* come from our own
//! origin (Origin, or Referer when Origin is absent).

use crate::http::error::WebError;
use crate::AppState;
use axum::extract::{FromRef, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use candor_core::access::{allows, Permission};
use candor_crypto::{same_secret, token_digest};
use candor_store::Session;
use std::collections::HashMap;

pub fn session_cookie_name(state: &AppState) -> &'static str {
    // The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only, Path=/.
    if state.config().secure_cookies {
        "__Host-candor_session"
    } else {
        "candor_session"
    }
}

/// A `Set-Cookie` value with the baseline flags.
pub fn cookie(state: &AppState, name: &str, value: &str, path: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if state.config().secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// CSRF protection for forms shown before there is a session (sign-in, reset, access requests,
/// viewer sign-in): a random token set in a cookie with the form, which the form must send back
/// as `_csrf` (double submit). The Origin check runs for these forms too.
pub struct DoubleSubmit {
    pub cookie: &'static str,
    pub path: &'static str,
}

/// The back office's forms before sign-in.
pub const BACK_OFFICE_FORMS: DoubleSubmit = DoubleSubmit {
    cookie: "candor_login",
    path: "/admin",
};
/// The public site's forms (access requests, the NDA, viewer sign-in).
pub const PUBLIC_FORMS: DoubleSubmit = DoubleSubmit {
    cookie: "candor_form",
    path: "/",
};

impl DoubleSubmit {
    /// A fresh token and the `Set-Cookie` value that pairs with it (valid for an hour).
    pub fn issue(&self, state: &AppState) -> (candor_crypto::Secret, String) {
        let token = candor_crypto::random_token();
        let set = cookie(state, self.cookie, token.expose(), self.path, Some(3600));
        (token, set)
    }

    pub fn check(&self, headers: &HeaderMap, form: &HashMap<String, String>) -> Result<(), WebError> {
        match (read_cookie(headers, self.cookie), form.get("_csrf")) {
            (Some(c), Some(f)) if same_secret(c, f) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }
}

pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A signed-in back-office user and the client address. Extracting it redirects to the sign-in
/// page when there is no live session.
pub struct Admin(pub Session, pub String);

/// The client's address as the connection reports it.
pub fn client_ip(ext: &axum::http::Extensions) -> String {
    ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

/// The live session for a request's cookie, if any.
async fn session_of(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, WebError> {
    let cfg = state.config();
    let Some(id) = read_cookie(headers, session_cookie_name(state)) else {
        return Ok(None);
    };
    Ok(state
        .store()
        .session(
            &token_digest(id),
            cfg.session_idle_minutes * 60,
            cfg.session_absolute_hours * 3600,
        )
        .await?)
}

fn to_login(parts_method: &axum::http::Method, path: &str) -> Response {
    let next = if parts_method == axum::http::Method::GET && safe_next(path) {
        format!("?next={}", urlencode(path))
    } else {
        String::new()
    };
    Redirect::to(&format!("/admin/login{next}")).into_response()
}

/// Paths a session may use while its second factor is pending, and while a user who must enrol
/// has not yet: everything else sends them to these pages.
pub const MFA_PENDING_PATHS: [&str; 4] = [
    "/admin/mfa/verify",
    "/admin/mfa/passkey/start",
    "/admin/mfa/passkey/finish",
    "/admin/logout",
];
pub const MFA_ENROL_PATHS: [&str; 6] = [
    "/admin/mfa",
    "/admin/mfa/confirm",
    "/admin/passkeys",
    "/admin/passkeys/register/start",
    "/admin/passkeys/register/finish",
    "/admin/logout",
];

/// Route middleware: the access rule from the route table. No session: to the sign-in page. A
/// role without the permission: 403. Otherwise the session rides along for the handler.
pub async fn enforce(
    axum::extract::State((state, access)): axum::extract::State<(AppState, crate::routes::Access)>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let session = match session_of(&state, req.headers()).await {
        Ok(Some(s)) => s,
        Ok(None) => return to_login(req.method(), req.uri().path()),
        Err(e) => return e.into_response(),
    };
    // Half signed in (password but no second factor yet), or obliged to enrol first: only the
    // pages that finish that are open.
    let path = req.uri().path();
    if session.mfa_pending && !MFA_PENDING_PATHS.contains(&path) {
        return Redirect::to("/admin/mfa/verify").into_response();
    }
    // Single sign-on leaves second factors to the identity provider.
    if !session.mfa_pending && !session.via_sso && !session.user.mfa_enabled && !MFA_ENROL_PATHS.contains(&path) {
        match state.app().mfa_required().await {
            Ok(true) => return Redirect::to("/admin/mfa").into_response(),
            Ok(false) => {}
            Err(e) => return WebError::from(e).into_response(),
        }
    }
    if let crate::routes::Access::Needs(p) = access {
        if !allows(session.user.role, p) {
            tracing::info!(user.id = session.user.id, permission = ?p, "permission denied");
            let target = format!("{} {}", req.method(), req.uri().path());
            let details = serde_json::json!({"permission": format!("{p:?}"), "role": session.user.role.as_str()});
            let actor = candor_app::Actor::User {
                email: session.user.email.clone(),
                ip: client_ip(req.extensions()),
            };
            state
                .record(&actor, candor_app::Action::PermissionDenied, target, details)
                .await;
            return WebError::Forbidden.into_response();
        }
    }
    // Rotate the id on a timer while the session is in use; the old id keeps working for a
    // short grace period so requests already in flight are not signed out.
    let rotate_after = state.config().session_rotate_minutes * 60;
    let mut new_cookie = None;
    if !session.via_previous_id && !session.mfa_pending && candor_store::now() - session.rotated_at >= rotate_after {
        if let Some(old) = read_cookie(req.headers(), session_cookie_name(&state)) {
            let fresh = candor_crypto::random_token();
            match state
                .app()
                .rotate_session(&token_digest(old), &token_digest(fresh.expose()))
                .await
            {
                Ok(true) => new_cookie = Some(cookie(&state, session_cookie_name(&state), fresh.expose(), "/", None)),
                Ok(false) => {}
                // With the disk full the id is rotated later; reading goes on meanwhile.
                Err(candor_app::Error::StorageFull) => {}
                Err(e) => return WebError::from(e).into_response(),
            }
        }
    }
    req.extensions_mut().insert(session);
    let mut res = next.run(req).await;
    if let Some(c) = new_cookie {
        if let Ok(v) = axum::http::HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

impl<S> FromRequestParts<S> for Admin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ip = client_ip(&parts.extensions);
        if let Some(s) = parts.extensions.get::<Session>() {
            return Ok(Admin(s.clone(), ip));
        }
        let state = AppState::from_ref(state);
        match session_of(&state, &parts.headers).await {
            Ok(Some(s)) => Ok(Admin(s, ip)),
            Ok(None) => {
                let path = parts
                    .extensions
                    .get::<OriginalUri>()
                    .map(|u| u.0.path().to_owned())
                    .unwrap_or_else(|| parts.uri.path().to_owned());
                Err(to_login(&parts.method, &path))
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

impl Admin {
    pub fn require(&self, p: Permission) -> Result<(), WebError> {
        if allows(self.0.user.role, p) {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// Checks the form's CSRF token against the session's.
    pub fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), WebError> {
        match form.get("_csrf") {
            Some(t) if same_secret(t, &self.0.csrf_token) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    pub fn csrf(&self) -> &str {
        &self.0.csrf_token
    }

    pub fn actor(&self) -> &str {
        &self.0.user.email
    }

    /// This user, as the actor of a use case.
    pub fn who(&self) -> candor_app::Actor {
        candor_app::Actor::User {
            email: self.0.user.email.clone(),
            ip: self.1.clone(),
        }
    }
}

/// Only local absolute paths are accepted as a place to return to after sign-in: no scheme, no
/// `//host`, no backslash tricks. Anything else falls back to the dashboard.
pub fn safe_next(next: &str) -> bool {
    next.starts_with("/admin")
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.contains("://")
        // Control characters cannot go into a Location header (and have no business in a path).
        && !next.chars().any(char::is_control)
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The Origin check for state-changing requests: the request must come from the configured public
/// address or from the host it was sent to. A missing Origin falls back to Referer; a request
/// with neither is refused (browsers send Origin on every cross-site POST).
pub fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), WebError> {
    let claimed = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            let r = headers.get(header::REFERER)?.to_str().ok()?;
            let u = url::Url::parse(r).ok()?;
            Some(u.origin().ascii_serialization())
        })
        .ok_or(WebError::Csrf)?;
    let public = url::Url::parse(&state.config().public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let scheme = if state.config().secure_cookies { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| format!("{scheme}://{h}"));
    if claimed == public || Some(&claimed) == host.as_ref() {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

/// The one path whose POSTs skip the Origin check: RFC 8058 one-click unsubscribe links. Mail
/// providers post `List-Unsubscribe=One-Click` to them from their own servers, with no Origin
/// and no form token; the 256-bit token in the path is what proves the right to unsubscribe, so
/// a forged cross-site post gains nothing. Its handler accepts exactly that body without a form
/// token and checks the form token and the Origin ([`check_origin`]) of any other POST itself.
pub const ONE_CLICK_UNSUBSCRIBE: &str = "/subscriptions/unsubscribe/";

/// Middleware over the whole back office and the visitor's forms: every request that is not a
/// GET or HEAD must pass [`check_origin`] (except [`ONE_CLICK_UNSUBSCRIBE`]). One mechanism, so
/// a new form handler cannot forget it; the handlers still check the CSRF token.
pub async fn same_origin_writes(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let one_click = *req.method() == axum::http::Method::POST && is_one_click_path(req.uri().path());
    if !one_click && !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD) {
        if let Err(e) = check_origin(&state, req.headers()) {
            return e.into_response();
        }
    }
    next.run(req).await
}

/// `/subscriptions/unsubscribe/TOKEN` and nothing deeper or shallower.
fn is_one_click_path(path: &str) -> bool {
    path.strip_prefix(ONE_CLICK_UNSUBSCRIBE)
        .is_some_and(|token| !token.is_empty() && !token.contains('/'))
}

/// The client's User-Agent as stored with a session (at most 300 characters).
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{is_one_click_path, safe_next};

    #[test]
    fn only_unsubscribe_links_skip_the_origin_check() {
        assert!(is_one_click_path("/subscriptions/unsubscribe/abc"));
        for other in [
            "/subscriptions/unsubscribe/",
            "/subscriptions/unsubscribe/abc/x",
            "/subscriptions/manage/abc",
            "/subscribe",
            "/admin/subscriptions/unsubscribe/abc",
        ] {
            assert!(!is_one_click_path(other), "{other}");
        }
    }

    #[test]
    fn open_redirects_are_refused() {
        assert!(safe_next("/admin/content/section"));
        for bad in [
            "//evil.example",
            "https://evil.example/admin",
            "/admin\\@evil",
            "/elsewhere",
            "/admin/x\r\nSet-Cookie: a=b",
            "/admin\u{1}",
            "/admin\u{7f}",
            "/admin/https://x",
        ] {
            assert!(!safe_next(bad), "{bad}");
        }
    }
}
