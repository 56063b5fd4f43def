//! Back-office users: invited (a setup link, shown to whoever invited them), disabled and
//! enabled, given another role, sent a reset link.

use crate::{Action, Actor, App, Done, Error, Result};
use candor_core::access::Role;
use candor_crypto::{random_token, token_digest, Secret};
use candor_store::User;

/// Checks a new user's address and name; the error says how to fix them.
pub fn check_new_user(email: &str, name: &str) -> Result<(), String> {
    let email_ok = email.contains('@') && email.len() <= 254 && !email.contains(char::is_whitespace);
    if !email_ok || name.trim().is_empty() || name.len() > 100 {
        return Err("Enter the person's name (up to 100 characters) and a valid email address.".into());
    }
    Ok(())
}

impl App {
    /// Creates a user without a password and a single-use link (valid `link_secs`) with which
    /// they set one. Conflict when the address is taken. Returns the user and the link's token.
    pub async fn invite_user(
        &self,
        actor: &Actor,
        email: &str,
        name: &str,
        role: Role,
        link_secs: i64,
    ) -> Result<Done<(User, Secret)>> {
        check_new_user(email, name).map_err(Error::BadRequest)?;
        let token = random_token();
        let mut work = self.begin().await?;
        let org = work.org();
        let user = work.create_user(org, email, name.trim(), role).await?;
        work.create_user_link(user.id, &token_digest(token.expose()), "reset", link_secs)
            .await?;
        work.audit(
            actor,
            Action::UserInvite,
            format!("user/{}", user.email),
            serde_json::json!({"user": user.email, "role": role.as_str()}),
        )
        .await?;
        work.finish((user, token)).await
    }

    /// Disables (ending their sessions, links and, through them, their API tokens) or enables a
    /// user. Nobody disables their own account.
    pub async fn set_user_disabled(
        &self,
        actor: &Actor,
        acting_user: Option<i64>,
        user: &User,
        disabled: bool,
    ) -> Result<Done<()>> {
        if acting_user == Some(user.id) {
            return Err(Error::BadRequest(
                "You cannot disable your own account; ask another owner.".into(),
            ));
        }
        let mut work = self.begin().await?;
        let org = work.org();
        work.set_disabled(org, user.id, disabled).await?;
        let action = if disabled {
            Action::UserDisable
        } else {
            Action::UserEnable
        };
        work.audit(
            actor,
            action,
            format!("user/{}", user.email),
            serde_json::json!({"user": user.email}),
        )
        .await?;
        work.finish(()).await
    }

    /// Gives a user another role; their sessions end, so the new rights start at a new sign-in.
    /// Nobody changes their own role.
    pub async fn change_role(
        &self,
        actor: &Actor,
        acting_user: Option<i64>,
        user: &User,
        role: Role,
    ) -> Result<Done<()>> {
        if acting_user == Some(user.id) {
            return Err(Error::BadRequest(
                "You cannot change your own role; ask another owner.".into(),
            ));
        }
        let mut work = self.begin().await?;
        let org = work.org();
        work.set_role(org, user.id, role).await?;
        work.audit(
            actor,
            Action::UserRoleChange,
            format!("user/{}", user.email),
            serde_json::json!({"user": user.email, "role": role.as_str()}),
        )
        .await?;
        work.finish(()).await
    }

    /// A single-use password reset link (valid `link_secs`) for a user, handed to the actor (the
    /// command line prints it). Returns the link's token.
    pub async fn reset_link(&self, actor: &Actor, user: &User, link_secs: i64) -> Result<Done<Secret>> {
        let token = random_token();
        let mut work = self.begin().await?;
        work.create_user_link(user.id, &token_digest(token.expose()), "reset", link_secs)
            .await?;
        work.audit(
            actor,
            Action::UserResetLink,
            format!("user/{}", user.email),
            serde_json::json!({"user": user.email}),
        )
        .await?;
        work.finish(token).await
    }
}

#[cfg(test)]
mod tests {
    use super::check_new_user;

    #[test]
    fn a_new_user_needs_an_address_and_a_name() {
        assert!(check_new_user("a@x.example", "A").is_ok());
        for (email, name) in [
            ("ax.example", "A"),
            ("a @x.example", "A"),
            ("a@x.example", " "),
            ("a@x.example", &"n".repeat(101)),
        ] {
            assert!(check_new_user(email, name).is_err(), "{email} {name}");
        }
        assert!(check_new_user(&format!("{}@x.example", "a".repeat(250)), "A").is_err());
    }
}
