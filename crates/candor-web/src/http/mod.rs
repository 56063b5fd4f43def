//! The HTTP kit every feature shares and none owns: the error answer, sessions, cookies and
//! CSRF, security headers, rate limits, uploads and downloads, formatting for pages.
//!
//! Feature modules (`site`, `content`, `documents`, `identity`, ...) import from here and from
//! `candor-app`, never from one another (tests/architecture.rs in candor-app checks it).

pub mod api_token;
pub mod error;
pub mod form_errors;
pub mod format;
pub mod headers;
pub mod layers;
pub mod layout;
pub mod metrics;
pub mod negotiate;
pub mod openapi;
pub mod page_views;
pub mod public_layout;
pub mod ratelimit;
pub mod session;
pub mod upload;
pub mod viewer_session;

use axum::response::Response;

/// A submitted form's fields by name.
pub type FormMap = std::collections::HashMap<String, String>;

/// Pages that hold links, names, drafts or documents meant for one person: never cached by
/// browsers or proxies.
pub async fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}
