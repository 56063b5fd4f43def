//! The one error of every handler, HTML page or JSON API alike.
//!
//! A handler returns [`WebError`]; its answer is worked out once ([`Problem`]: status, stable
//! code, title, message, field details). It is rendered as the back office's error page, and the
//! `Problem` rides along in the response's extensions: the API's router swaps the page for the
//! JSON envelope (`{"error": {"code", "message", "details"}}`) in [`json_errors`]. So the same
//! failure gets the same status everywhere (a conflict is 409 on a form and in the API).

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use candor_core::content::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Nothing here, or nothing the caller may know of (404).
    #[error("not found")]
    NotFound,
    /// Not found, saying what (404): the API names the missing thing.
    #[error("{0}")]
    Missing(String),
    /// The role does not allow this (403).
    #[error("forbidden")]
    Forbidden,
    /// Refused, saying why (403).
    #[error("{0}")]
    Refused(String),
    /// A form whose CSRF token or origin did not check out (403).
    #[error("form check failed")]
    Csrf,
    /// Input that cannot be understood; the message says how to fix it (400).
    #[error("{0}")]
    BadRequest(String),
    /// Input that breaks rules, field by field (422).
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    /// Single sign-on did not complete; the message says why and is shown to the person (403).
    #[error("single sign-on failed: {0}")]
    Sso(String),
    /// A body or upload over its size limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// A body or upload whose type is not accepted (415).
    #[error("{0}")]
    UnsupportedType(String),
    /// For the back office's script (passkeys): `{"error": message}` with this status.
    #[error("{1}")]
    Json(StatusCode, String),
    /// Too many attempts; try again after this many seconds (429, `Retry-After`).
    #[error("too many attempts")]
    TooManyRequests { retry_after_secs: u64 },
    /// The change clashes with what exists (409).
    #[error("{0}")]
    Conflict(String),
    /// The database's disk is full; nothing was saved (507).
    #[error("storage full")]
    StorageFull,
    /// No valid API token (401, `WWW-Authenticate: Bearer`).
    #[error("unauthorized")]
    Unauthorized,
    /// A read-only token tried to write (403).
    #[error("insufficient scope")]
    InsufficientScope,
    /// The token's creator no longer has a role that allows this (403).
    #[error("role forbids")]
    RoleForbids {
        role: candor_core::access::Role,
        action: &'static str,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type WebResult<T> = Result<T, WebError>;

fn join(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl From<candor_store::StoreError> for WebError {
    fn from(e: candor_store::StoreError) -> Self {
        use candor_store::StoreError as S;
        match e {
            S::NotFound(what) => WebError::Missing(format!("{what} was not found")),
            S::Conflict(what) => WebError::Conflict(format!("{what} already exists")),
            S::DiskFull(_) => WebError::StorageFull,
            other => WebError::Internal(other.into()),
        }
    }
}

impl From<candor_app::Error> for WebError {
    fn from(e: candor_app::Error) -> Self {
        use candor_app::Error as E;
        match e {
            E::NotFound(what) => WebError::Missing(format!("{what} was not found")),
            E::Invalid(errors) => WebError::Invalid(errors),
            E::BadRequest(m) => WebError::BadRequest(m),
            E::Conflict(m) => WebError::Conflict(m),
            E::Forbidden(m) => WebError::Refused(m),
            E::StorageFull => WebError::StorageFull,
            E::Internal(e) => WebError::Internal(e),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(anyhow::Error::new(e).context("rendering a page"))
    }
}

/// What an error answers, worked out once for both renderings.
#[derive(Clone, Debug)]
pub struct Problem {
    pub status: StatusCode,
    /// Stable, for API clients: `not_found`, `validation_failed`, ...
    pub code: &'static str,
    /// The page's heading.
    pub title: &'static str,
    pub message: String,
    pub details: Option<serde_json::Value>,
    pub retry_after_secs: Option<u64>,
}

/// What a person (or an API client) is told when the database's disk is full.
pub(crate) const DISK_FULL_MESSAGE: &str = "The server's storage is full, so this change was not saved. Nothing you saved earlier is affected and pages can still be read. Ask the operator to free disk space; saving works again as soon as there is room.";

/// Whether an error is, somewhere in its chain, the database refusing a write for lack of space.
pub(crate) fn is_disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<candor_store::StoreError>(),
            Some(candor_store::StoreError::DiskFull(_))
        )
    })
}

impl WebError {
    pub fn problem(&self) -> Problem {
        use StatusCode as S;
        let p = |status, code, title, message: String| Problem {
            status,
            code,
            title,
            message,
            details: None,
            retry_after_secs: None,
        };
        match self {
            WebError::NotFound => p(S::NOT_FOUND, "not_found", "Not found", "There is nothing at this address, or you may not see it.".into()),
            WebError::Missing(m) => p(S::NOT_FOUND, "not_found", "Not found", m.clone()),
            WebError::Forbidden => p(S::FORBIDDEN, "forbidden", "Not allowed", "Your role does not allow this action. Ask an owner.".into()),
            WebError::Refused(m) => p(S::FORBIDDEN, "forbidden", "Not allowed", m.clone()),
            WebError::Csrf => p(
                S::FORBIDDEN,
                "form_expired",
                "Form expired",
                "This form could not be verified (it may be old, or sent from another site). Go back, reload the page and try again.".into(),
            ),
            WebError::BadRequest(m) => p(S::BAD_REQUEST, "bad_request", "Request not valid", m.clone()),
            WebError::Invalid(errors) => Problem {
                details: Some(serde_json::json!(errors)),
                ..p(S::UNPROCESSABLE_ENTITY, "validation_failed", "Request not valid", join(errors))
            },
            WebError::Sso(m) => p(
                S::FORBIDDEN,
                "sso_failed",
                "Single sign-on did not complete",
                format!("{m} Start again from the sign-in page (/admin/login)."),
            ),
            WebError::TooLarge(m) => p(S::PAYLOAD_TOO_LARGE, "too_large", "File too large", m.clone()),
            WebError::UnsupportedType(m) => p(S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "File type not accepted", m.clone()),
            WebError::Json(status, m) => p(*status, "error", "Error", m.clone()),
            WebError::TooManyRequests { retry_after_secs } => Problem {
                retry_after_secs: Some(*retry_after_secs),
                ..p(
                    S::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "Too many attempts",
                    format!(
                        "Too many attempts. Wait {} and try again.",
                        candor_core::grammar::wait_in_words(*retry_after_secs)
                    ),
                )
            },
            WebError::Conflict(m) => p(S::CONFLICT, "conflict", "Already exists", m.clone()),
            WebError::StorageFull => p(S::INSUFFICIENT_STORAGE, "storage_full", "Storage full", DISK_FULL_MESSAGE.into()),
            WebError::Unauthorized => p(
                S::UNAUTHORIZED,
                "unauthorized",
                "Not signed in",
                "Send a valid, unexpired API token as `Authorization: Bearer TOKEN`; create one under API tokens in the back office.".into(),
            ),
            WebError::InsufficientScope => p(
                S::FORBIDDEN,
                "insufficient_scope",
                "Not allowed",
                "This token is read-only; create a read-write token to make changes.".into(),
            ),
            WebError::RoleForbids { role, action } => p(
                S::FORBIDDEN,
                "role_forbids",
                "Not allowed",
                format!(
                    "This token acts for the person who created it, whose role is now {}; that role may not {action}. Ask someone whose role allows it to create a token.",
                    role.label().to_lowercase()
                ),
            ),
            WebError::Internal(e) if is_disk_full(e) => {
                tracing::error!(error = %format!("{e:#}"), "a write was refused: the database's disk is full");
                p(S::INSUFFICIENT_STORAGE, "storage_full", "Storage full", DISK_FULL_MESSAGE.into())
            }
            WebError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                p(
                    S::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong",
                    "The server could not complete this request. It has been logged.".into(),
                )
            }
        }
    }
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// Rendered as a page; the [`Problem`] goes along in the extensions for [`json_errors`].
impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let mut res = if let WebError::Json(status, message) = &self {
            (*status, axum::Json(serde_json::json!({"error": message}))).into_response()
        } else {
            let html = ErrorPage {
                title: problem.title,
                message: &problem.message,
            }
            .render()
            .unwrap_or_else(|_| problem.title.to_owned());
            (problem.status, Html(html)).into_response()
        };
        decorate(&mut res, &problem);
        res.extensions_mut().insert(problem);
        res
    }
}

fn decorate(res: &mut Response, problem: &Problem) {
    if let Some(secs) = problem.retry_after_secs {
        res.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    if problem.status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
}

/// For the API's routes: an error answer becomes the JSON envelope, with the same status.
pub async fn json_errors(res: Response) -> Response {
    let Some(problem) = res.extensions().get::<Problem>().cloned() else {
        return res;
    };
    let mut body = serde_json::json!({"error": {"code": problem.code, "message": problem.message}});
    if let Some(d) = problem.details.clone() {
        body["error"]["details"] = d;
    }
    let mut out = (problem.status, axum::Json(body)).into_response();
    decorate(&mut out, &problem);
    out
}

impl From<tokio::task::JoinError> for WebError {
    fn from(e: tokio::task::JoinError) -> Self {
        WebError::Internal(anyhow::Error::new(e).context("a background task failed"))
    }
}
