//! Two-factor sign-in with TOTP: enrolment, the second step of sign-in, an owner's reset and the
//! organization's "require MFA" setting. Secrets are stored sealed (see [`crate::secrets`]).

use super::totp_context;
use crate::{Action, Actor, App, Done, Error, Result, Work};
use candor_crypto::{random_token, token_digest, totp, Secret};
use candor_store::User;

/// Organization setting key.
pub const REQUIRE_MFA: &str = "require_mfa";
/// Recovery codes handed out at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// A user's TOTP secrets, opened.
#[derive(Debug, Default)]
pub struct TotpState {
    pub active: Option<Secret>,
    pub pending: Option<Secret>,
    pub last_step: Option<i64>,
}

/// How a confirmation of enrolment went.
#[derive(Debug)]
pub enum Enrolment {
    /// No secret was waiting to be confirmed (show the page again, which makes one).
    NothingPending,
    /// The code does not match the pending secret.
    WrongCode,
    /// Two-factor sign-in is on; these recovery codes are shown once.
    Enrolled(Vec<Secret>),
}

/// `xxxxx-xxxxx` from a random token; compared lowercase without the dash.
fn new_recovery_code() -> String {
    let t: String = random_token()
        .expose()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(10)
        .collect::<String>()
        .to_lowercase();
    format!("{}-{}", &t[..5], &t[5..])
}

fn recovery_digest(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    token_digest(&normal)
}

impl App {
    /// Whether the organization requires two-factor sign-in. A database error is an error, not
    /// "no": a security policy must fail closed.
    pub async fn mfa_required(&self) -> Result<bool> {
        Ok(self.store().org_setting(self.org(), REQUIRE_MFA).await?.as_deref() == Some("true"))
    }

    /// Owners turn "require MFA for all admins" on or off.
    pub async fn set_mfa_required(&self, actor: &Actor, on: bool) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        work.set_org_setting(org, REQUIRE_MFA, if on { "true" } else { "false" })
            .await?;
        work.audit(actor, Action::SettingsRequireMfa, "", serde_json::json!({"on": on}))
            .await?;
        work.finish(()).await
    }

    /// The user's TOTP secrets, opened.
    pub async fn totp_state(&self, user_id: i64) -> Result<TotpState> {
        let (active, pending, last_step) = self.store().totp_state(user_id).await?;
        let context = totp_context(user_id);
        let open = |s: Option<String>| s.map(|s| self.open(&context, &s)).transpose();
        Ok(TotpState {
            active: open(active)?,
            pending: open(pending)?,
            last_step,
        })
    }

    /// The secret to enrol with: the one waiting for confirmation, or a new one (stored sealed).
    /// None when two-factor sign-in is on already.
    pub async fn totp_enrolment_secret(&self, user_id: i64) -> Result<Option<Secret>> {
        let state = self.totp_state(user_id).await?;
        if state.active.is_some() {
            return Ok(None);
        }
        if let Some(pending) = state.pending {
            return Ok(Some(pending));
        }
        let secret = totp::new_secret();
        let mut work = self.begin().await?;
        work.set_totp_pending(user_id, &self.seal(&totp_context(user_id), &secret))
            .await?;
        work.commit().await?;
        Ok(Some(Secret::new(secret)))
    }

    /// Confirms enrolment with a code from the app; the recovery codes in the answer are shown
    /// once.
    pub async fn enrol_totp(&self, actor: &Actor, user_id: i64, code: &str) -> Result<Done<Enrolment>> {
        let state = self.totp_state(user_id).await?;
        if state.active.is_some() {
            return Err(Error::BadRequest(
                "Two-factor sign-in is already on for your account.".into(),
            ));
        }
        let mut work = self.begin().await?;
        let Some(secret) = state.pending else {
            return work.finish(Enrolment::NothingPending).await;
        };
        let Some(step) = totp::verify(secret.expose(), code, candor_store::now() as u64, None) else {
            return work.finish(Enrolment::WrongCode).await;
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_digest(c)).collect();
        let sealed = self.seal(&totp_context(user_id), secret.expose());
        work.activate_totp(user_id, &sealed, step as i64, &hashes).await?;
        work.audit(actor, Action::MfaEnrol, "", serde_json::json!({"method": "totp"}))
            .await?;
        work.finish(Enrolment::Enrolled(codes.into_iter().map(Secret::new).collect()))
            .await
    }

    /// The second step of sign-in with a code: a TOTP code (each usable once) or a recovery
    /// code. On success the half-signed-in session (`old_hash`) continues under `new_hash` and
    /// the sign-in is audited; on failure the failure is. Returns how the user proved it, or
    /// None.
    pub async fn verify_second_factor_code(
        &self,
        actor: &Actor,
        user: &User,
        code: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<Done<Option<&'static str>>> {
        let state = self.totp_state(user.id).await?;
        let mut work = self.begin().await?;
        let method = match (state.active, code.len()) {
            (Some(secret), 6) => {
                let last = state.last_step.map(|s| s as u64);
                match totp::verify(secret.expose(), code, candor_store::now() as u64, last) {
                    Some(step) if work.use_totp_step(user.id, step as i64).await? => Some("totp"),
                    _ => None,
                }
            }
            (Some(_), _) if work.use_recovery_code(user.id, &recovery_digest(code)).await? => Some("recovery-code"),
            _ => None,
        };
        match method {
            Some(method) => finish_second_factor(&mut work, actor, user, old_hash, new_hash, method).await?,
            None => {
                work.audit(
                    actor,
                    Action::MfaFailed,
                    format!("user/{}", user.email),
                    serde_json::json!({}),
                )
                .await?;
            }
        }
        work.finish(method).await
    }

    /// The second factor is in (a passkey; codes go through
    /// [`App::verify_second_factor_code`]): the half-signed-in session id is retired for
    /// `new_hash` and the sign-in is audited. Forbidden when the session is not half-signed-in.
    pub async fn complete_second_factor(
        &self,
        actor: &Actor,
        user: &User,
        old_hash: &str,
        new_hash: &str,
        method: &str,
    ) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        finish_second_factor(&mut work, actor, user, old_hash, new_hash, method).await?;
        work.finish(()).await
    }

    /// An owner turns a user's second factor off (a lost phone): secrets, recovery codes and
    /// passkeys go, and the user's sessions end.
    pub async fn reset_mfa(&self, actor: &Actor, user: &User) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        work.reset_totp(user.id).await?;
        work.audit(
            actor,
            Action::MfaReset,
            format!("user/{}", user.email),
            serde_json::json!({}),
        )
        .await?;
        work.finish(()).await
    }
}

async fn finish_second_factor(
    work: &mut Work,
    actor: &Actor,
    user: &User,
    old_hash: &str,
    new_hash: &str,
    method: &str,
) -> Result<()> {
    if !work.complete_mfa(old_hash, new_hash).await? {
        return Err(Error::Forbidden(
            "This sign-in is not waiting for a second factor.".into(),
        ));
    }
    work.audit(
        actor,
        Action::Login,
        format!("user/{}", user.email),
        serde_json::json!({"mfa": method}),
    )
    .await?;
    Ok(())
}
