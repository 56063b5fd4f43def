//! The back office at `/admin`: server-rendered, no JavaScript, every form CSRF-protected.

pub(crate) mod auth;
pub(crate) mod forgot;
pub(crate) mod mfa;
pub(crate) mod passkeys;
pub(crate) mod password;
pub(crate) mod sessions;
pub(crate) mod sso;
pub(crate) mod tokens;
pub(crate) mod users;

pub use crate::http::layout::{AdminLayout, NoticeQuery};
