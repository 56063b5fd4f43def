//! Errors of back-office handlers, rendered as a friendly HTML page. (The API has its own JSON
//! envelope in `api::ApiError`.)

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// A form whose CSRF token or origin did not check out.
    #[error("form check failed")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    /// Single sign-on did not complete; the message says why and is shown to the person.
    #[error("single sign-on failed: {0}")]
    Sso(String),
    /// An upload over the size limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// An upload whose content is not an accepted type (415).
    #[error("{0}")]
    UnsupportedType(String),
    /// For the back office's script (passkeys): `{"error": message}` with this status.
    #[error("{1}")]
    Json(StatusCode, String),
    #[error("too many attempts")]
    TooManyRequests { retry_after_secs: u64 },
    /// The change clashes with what exists (409).
    #[error("{0}")]
    Conflict(String),
    /// The database's disk is full; nothing was saved (507).
    #[error("storage full")]
    StorageFull,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<candor_store::StoreError> for AppError {
    fn from(e: candor_store::StoreError) -> Self {
        match e {
            candor_store::StoreError::NotFound(_) => AppError::NotFound,
            candor_store::StoreError::Conflict(what) => AppError::Conflict(format!("{what} already exists")),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<candor_app::Error> for AppError {
    fn from(e: candor_app::Error) -> Self {
        use candor_app::Error as E;
        match e {
            E::NotFound(_) => AppError::NotFound,
            E::Invalid(errors) => AppError::BadRequest(
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            E::BadRequest(m) => AppError::BadRequest(m),
            E::Conflict(m) => AppError::Conflict(m),
            E::Forbidden(_) => AppError::Forbidden,
            E::StorageFull => AppError::StorageFull,
            E::Internal(e) => AppError::Internal(e),
        }
    }
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

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Json(status, message) = &self {
            return (*status, axum::Json(serde_json::json!({"error": message}))).into_response();
        }
        let (status, title, message) = match &self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "Not found", "There is nothing at this address, or you may not see it.".to_owned()),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "Not allowed", "Your role does not allow this action. Ask an owner.".to_owned()),
            AppError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form could not be verified (it may be old, or sent from another site). Go back, reload the page and try again.".to_owned(),
            ),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Request not valid", m.clone()),
            AppError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "File too large", m.clone()),
            AppError::UnsupportedType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "File type not accepted", m.clone()),
            AppError::Sso(m) => (
                StatusCode::FORBIDDEN,
                "Single sign-on did not complete",
                format!("{m} Start again from the sign-in page (/admin/login)."),
            ),
            AppError::TooManyRequests { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                format!("Too many attempts. Wait {retry_after_secs} seconds and try again."),
            ),
            AppError::Conflict(m) => (StatusCode::CONFLICT, "Already exists", m.clone()),
            AppError::StorageFull => (StatusCode::INSUFFICIENT_STORAGE, "Storage full", DISK_FULL_MESSAGE.to_owned()),
            AppError::Json(..) => unreachable!("answered above"),
            AppError::Internal(e) if is_disk_full(e) => {
                tracing::error!(error = %format!("{e:#}"), "a write was refused: the database's disk is full");
                (StatusCode::INSUFFICIENT_STORAGE, "Storage full", DISK_FULL_MESSAGE.to_owned())
            }
            AppError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "The server could not complete this request. It has been logged.".to_owned())
            }
        };
        let html = ErrorPage {
            title,
            message: &message,
        }
        .render()
        .unwrap_or_else(|_| title.to_owned());
        let mut res = (status, Html(html)).into_response();
        if let AppError::TooManyRequests { retry_after_secs } = self {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        res
    }
}
