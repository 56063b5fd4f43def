//! Identity in the back office: signing in (password, second factor, passkeys, single sign-on),
//! sessions, passwords and users. Handlers parse, check, call one use case in `candor_app` and
//! render; the decisions live there.

pub mod auth;
pub mod forgot;
pub mod mfa;
pub mod oidc;
pub mod passkeys;
pub mod password;
pub mod profile;
pub mod sessions;
pub mod sso;
pub mod users;
