//! A signed-in user adds or removes their own passkeys. (The WebAuthn ceremonies themselves
//! stay in the web front end, which verifies the authenticator's answer.)

use crate::{Action, Actor, App, Done, Error, Result};
use candor_store::User;

/// A passkey the authenticator's answer has proved, ready to store.
pub struct NewPasskey<'a> {
    /// The credential id, base64.
    pub credential_id: &'a str,
    pub name: &'a str,
    /// The credential as the WebAuthn library stores it (JSON).
    pub passkey: &'a str,
}

impl App {
    /// Registers a passkey for `user`. Conflict when the credential is registered already (to
    /// anyone).
    pub async fn add_passkey(&self, actor: &Actor, user: &User, new: NewPasskey<'_>) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        work.add_passkey(user.id, new.credential_id, new.name, new.passkey)
            .await?;
        work.audit(
            actor,
            Action::PasskeyAdd,
            format!("user/{}", user.email),
            serde_json::json!({"name": new.name}),
        )
        .await?;
        work.finish(()).await
    }

    /// Removes one of the user's own passkeys; another user's passkey id is simply not found.
    pub async fn remove_passkey(&self, actor: &Actor, user: &User, id: i64) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        if !work.delete_passkey(user.id, id).await? {
            return Err(Error::NotFound(format!("passkey {id}")));
        }
        work.audit(
            actor,
            Action::PasskeyRemove,
            format!("user/{}", user.email),
            serde_json::json!({"passkey": id}),
        )
        .await?;
        work.finish(()).await
    }
}
