//! Back-office sessions: opened at sign-in (password, passkey, single sign-on), rotated on a
//! timer, ended by their owner, by an owner for another user, or at sign-out.

use crate::{Action, Actor, App, Done, Error, Result};
use candor_crypto::{random_token, token_digest, Secret};
use candor_store::{NewSession, User};

/// How a sign-in went, for its audit entry.
#[derive(Debug)]
pub struct SignIn<'a> {
    pub user: &'a User,
    pub user_agent: &'a str,
    /// Password accepted, second factor still to give.
    pub mfa_pending: bool,
    pub via_sso: bool,
    /// `auth.login`, `auth.login.password_ok` or `auth.sso.login`.
    pub action: Action,
    pub details: serde_json::Value,
}

impl App {
    /// Opens a session for a user who has just proved who they are, with its audit entry.
    /// Returns the new session id (for the cookie): a brand-new one at every sign-in, so an id
    /// planted before sign-in is never promoted.
    pub async fn open_session(&self, actor: &Actor, s: SignIn<'_>) -> Result<Done<Secret>> {
        let id = random_token();
        let csrf = random_token();
        let public_id = random_token().expose()[..16].to_owned();
        let mut work = self.begin().await?;
        work.create_session(NewSession {
            id_hash: &token_digest(id.expose()),
            public_id: &public_id,
            user_id: s.user.id,
            csrf_token: csrf.expose(),
            user_agent: s.user_agent,
            ip: actor.ip(),
            mfa_pending: s.mfa_pending,
            via_sso: s.via_sso,
        })
        .await?;
        work.audit(actor, s.action, format!("user/{}", s.user.email), s.details)
            .await?;
        work.finish(id).await
    }

    /// Gives a session a new id (by digest); the old one keeps working for a short grace
    /// period. False when the session ended or was rotated meanwhile. Not audited.
    pub async fn rotate_session(&self, old_hash: &str, new_hash: &str) -> Result<bool> {
        let mut work = self.begin().await?;
        let rotated = work.rotate_session(old_hash, new_hash).await?;
        work.commit().await?;
        Ok(rotated)
    }

    /// Signs `user` out: the session presented with `id_hash` (if any) ends.
    pub async fn sign_out(&self, actor: &Actor, user: &User, id_hash: Option<&str>) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        if let Some(hash) = id_hash {
            work.delete_session(hash).await?;
        }
        work.audit(
            actor,
            Action::Logout,
            format!("user/{}", user.email),
            serde_json::json!({}),
        )
        .await?;
        work.finish(()).await
    }

    /// Ends one of the user's own sessions; someone else's session id is simply not found.
    pub async fn revoke_session(&self, actor: &Actor, user_id: i64, public_id: &str) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        if !work.revoke_session(user_id, public_id).await? {
            return Err(Error::NotFound(format!("session {public_id}")));
        }
        work.audit(
            actor,
            Action::SessionRevoke,
            format!("session/{public_id}"),
            serde_json::json!({}),
        )
        .await?;
        work.finish(()).await
    }

    /// Ends all of the user's sessions but the one in use; returns how many ended.
    pub async fn revoke_other_sessions(&self, actor: &Actor, user_id: i64, keep_public_id: &str) -> Result<Done<u64>> {
        let mut work = self.begin().await?;
        let n = work.revoke_user_sessions(user_id, Some(keep_public_id)).await?;
        work.audit(actor, Action::SessionRevokeOthers, "", serde_json::json!({"ended": n}))
            .await?;
        work.finish(n).await
    }

    /// An owner ends all of another user's sessions; returns how many ended.
    pub async fn end_user_sessions(&self, actor: &Actor, user: &User) -> Result<Done<u64>> {
        let mut work = self.begin().await?;
        let n = work.revoke_user_sessions(user.id, None).await?;
        work.audit(
            actor,
            Action::SessionRevokeUser,
            format!("user/{}", user.email),
            serde_json::json!({"ended": n}),
        )
        .await?;
        work.finish(n).await
    }
}
