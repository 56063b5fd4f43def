//! The API's one error envelope: `{"error": {"code": "...", "message": "...", "details": [...]}}`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use candor_core::content::FieldError;
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    InsufficientScope,
    /// The token's creator no longer has a role that allows this.
    RoleForbids {
        role: candor_core::access::Role,
        action: &'static str,
    },
    NotFound(String),
    Conflict(String),
    BadRequest(String),
    /// The body is over the API's body limit.
    TooLarge(String),
    /// The body is not sent as `application/json`.
    UnsupportedMediaType(String),
    Validation(Vec<FieldError>),
    /// The use case refused the actor; the message says why.
    Forbidden(String),
    /// The database's disk is full; nothing was saved.
    StorageFull,
    TooManyRequests(u64),
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<candor_store::StoreError> for ApiError {
    fn from(e: candor_store::StoreError) -> Self {
        match e {
            candor_store::StoreError::NotFound(what) => ApiError::NotFound(format!("{what} was not found")),
            candor_store::StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<candor_app::Error> for ApiError {
    fn from(e: candor_app::Error) -> Self {
        use candor_app::Error as E;
        match e {
            E::NotFound(what) => ApiError::NotFound(format!("{what} was not found")),
            E::Invalid(errors) => ApiError::Validation(errors),
            E::BadRequest(m) => ApiError::BadRequest(m),
            E::Conflict(m) => ApiError::Conflict(m),
            E::Forbidden(m) => ApiError::Forbidden(m),
            E::StorageFull => ApiError::StorageFull,
            E::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, details) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Send a valid, unexpired API token as `Authorization: Bearer TOKEN`; create one under API tokens in the back office.".to_owned(),
                None,
            ),
            ApiError::InsufficientScope => {
                (StatusCode::FORBIDDEN, "insufficient_scope", "This token is read-only; create a read-write token to make changes.".to_owned(), None)
            }
            ApiError::RoleForbids { role, action } => (
                StatusCode::FORBIDDEN,
                "role_forbids",
                format!(
                    "This token acts for the person who created it, whose role is now {}; that role may not {action}. Ask someone whose role allows it to create a token.",
                    role.label().to_lowercase()
                ),
                None,
            ),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m, None),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m, None),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m, None),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m, None),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m, None),
            ApiError::UnsupportedMediaType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", m, None),
            ApiError::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                Some(json!(errors)),
            ),
            ApiError::TooManyRequests(secs) => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("Too many failed attempts; retry in {secs} seconds."), None)
            }
            ApiError::StorageFull => {
                (StatusCode::INSUFFICIENT_STORAGE, "storage_full", crate::http::error::DISK_FULL_MESSAGE.to_owned(), None)
            }
            ApiError::Internal(e) if crate::http::error::is_disk_full(&e) => {
                tracing::error!(error = %format!("{e:#}"), "a write was refused: the database's disk is full");
                (StatusCode::INSUFFICIENT_STORAGE, "storage_full", crate::http::error::DISK_FULL_MESSAGE.to_owned(), None)
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal API error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "The server could not complete this request; it has been logged.".to_owned(), None)
            }
        };
        let mut body = json!({"error": {"code": code, "message": message}});
        if let Some(d) = details {
            body["error"]["details"] = d;
        }
        let mut res = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        res
    }
}
