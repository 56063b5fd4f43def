//! Identity: users, sessions, second factors, passkeys and single sign-on.

mod mfa;
mod passkeys;
mod password;
mod sessions;
mod users;

pub use mfa::{Enrolment, TotpState, RECOVERY_CODES, REQUIRE_MFA};
pub use passkeys::NewPasskey;
pub use password::PasswordChange;
pub use sessions::SignIn;
pub use users::check_new_user;

/// The context a user's TOTP secret is sealed under: it opens on that user's row only.
pub(crate) fn totp_context(user_id: i64) -> String {
    format!("totp:{user_id}")
}
