//! A signed-in user changes their own password.

use crate::{Action, Actor, App, Done, Result};
use candor_crypto::{hash_password, verify_password};

/// What a user typed to change their password.
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    pub confirm: String,
}

impl App {
    /// Checks the current password and the new one; on success stores the new hash and ends
    /// every other session of the user and every outstanding link (the one in use,
    /// `keep_public_id`, stays). Answers the number of sessions ended, or what was wrong, field
    /// by field. A wrong current password is audited.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        user_id: i64,
        keep_public_id: &str,
        change: PasswordChange,
    ) -> Result<Done<Result<u64, Vec<String>>>> {
        let stored = self.store().password_hash(user_id).await?;
        let current = change.current;
        let ok = tokio::task::spawn_blocking(move || verify_password(&current, stored.as_deref()))
            .await
            .map_err(anyhow::Error::from)?;
        let mut errors = vec![];
        if !ok {
            errors.push("Current password: it is not correct.".to_owned());
        }
        if let Err(why) = candor_core::password::check_new_password(&change.new) {
            errors.push(format!("New password: {why}."));
        }
        if change.new != change.confirm {
            errors.push("Confirm password: the two new passwords differ; type the same password twice.".into());
        }
        let mut work = self.begin().await?;
        if !errors.is_empty() {
            if !ok {
                work.audit(actor, Action::PasswordChangeFailed, "", serde_json::json!({}))
                    .await?;
            }
            return work.finish(Err(errors)).await;
        }
        let new = change.new;
        let hash = tokio::task::spawn_blocking(move || hash_password(&new))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(anyhow::Error::from)?;
        let ended = work.change_password(user_id, &hash, keep_public_id).await?;
        work.audit(
            actor,
            Action::PasswordChange,
            "",
            serde_json::json!({"other_sessions_ended": ended}),
        )
        .await?;
        work.finish(Ok(ended)).await
    }
}
