//! Single sign-on: sign-ins in progress, and users linked to their identity-provider subject.

use crate::users::{user_from_row, User, USER_COLUMNS};
use crate::{get, now, OrgId, Role, Store, StoreError, StoreResult};

/// A sign-in sent to the identity provider and not yet back.
#[derive(Clone, Debug)]
pub struct SsoLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
}

/// A sign-in in progress is good for this long.
pub const SSO_LOGIN_SECS: i64 = 600;

impl Store {
    /// Remembers a sign-in in progress under the digest of the browser's cookie, and forgets
    /// the ones that were abandoned.
    pub async fn create_sso_login(&self, id_hash: &str, login: &SsoLogin) -> StoreResult<()> {
        let t = now();
        sqlx::query("DELETE FROM sso_logins WHERE created_at < $1")
            .bind(t - SSO_LOGIN_SECS)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sso_logins (id_hash, state, nonce, pkce_verifier, next, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id_hash)
        .bind(&login.state)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.next)
        .bind(t)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes (and so uses up) the sign-in in progress for this cookie digest, if still fresh.
    pub async fn take_sso_login(&self, id_hash: &str) -> StoreResult<Option<SsoLogin>> {
        let row = sqlx::query(
            "DELETE FROM sso_logins WHERE id_hash = $1 RETURNING state, nonce, pkce_verifier, next, created_at",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if now() - get::<i64>(&row, "created_at")? > SSO_LOGIN_SECS {
            return Ok(None);
        }
        Ok(Some(SsoLogin {
            state: get(&row, "state")?,
            nonce: get(&row, "nonce")?,
            pkce_verifier: get(&row, "pkce_verifier")?,
            next: get(&row, "next")?,
        }))
    }

    /// The user linked to this identity-provider subject (`issuer sub`).
    pub async fn user_by_sso_subject(&self, org: OrgId, subject: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.sso_subject = $2");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The subject a user is linked to, if any.
    pub async fn sso_subject_of(&self, user_id: i64) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT sso_subject FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => get(&r, "sso_subject")?,
            None => None,
        })
    }

    /// Links an existing user to their identity-provider subject.
    pub async fn link_sso_subject(&self, user_id: i64, subject: &str) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET sso_subject = $1 WHERE id = $2 AND sso_subject IS NULL")
            .bind(subject)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!(
                "a single sign-on link for user {user_id}"
            )));
        }
        Ok(())
    }

    /// Creates a user on their first single sign-on (just-in-time provisioning). They have no
    /// password: they sign in through the identity provider.
    pub async fn create_sso_user(
        &self,
        org: OrgId,
        email: &str,
        name: &str,
        role: Role,
        subject: &str,
    ) -> StoreResult<User> {
        let email = email.trim().to_lowercase();
        if self.user_by_email(org, &email).await?.is_some() {
            return Err(StoreError::Conflict(format!("user {email}")));
        }
        sqlx::query(
            "INSERT INTO users (org_id, email, name, role, created_at, sso_subject) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(org)
        .bind(&email)
        .bind(name)
        .bind(role.as_str())
        .bind(now())
        .bind(subject)
        .execute(&self.pool)
        .await?;
        self.user_by_email(org, &email)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {email}")))
    }
}
