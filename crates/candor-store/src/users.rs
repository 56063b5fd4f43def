//! Back-office users, their server-side sessions and single-use account links.

use crate::{get, now, LinkState, OrgId, Store, StoreError, StoreResult};
pub use candor_core::access::Role;
use sqlx::any::AnyRow;

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: i64,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub has_password: bool,
    pub disabled: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    /// A second factor: a confirmed TOTP secret or at least one passkey.
    pub mfa_enabled: bool,
    /// A confirmed TOTP secret.
    pub has_totp: bool,
    /// How many passkeys the user has.
    pub passkeys: i64,
}

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.org_id, u.email, u.name, u.role, u.password_hash, u.disabled_at, u.created_at, u.last_login_at, u.totp_secret, \
     (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id) AS passkey_count";

/// Ends every outstanding link (setup or reset) of a user except `keep` (a token digest; `""`
/// keeps none), by expiring it now: once a newer link is issued, one is used or the password
/// changes, an older link in a mailbox or a terminal's scroll-back must not set the password.
/// Expiring rather than marking used keeps the link's page truthful ("expired or replaced").
async fn end_user_links(conn: &mut sqlx::AnyConnection, user_id: i64, keep: &str) -> StoreResult<u64> {
    let ended = sqlx::query(
        "UPDATE user_links SET expires_at = $1 WHERE user_id = $2 AND used_at IS NULL AND expires_at > $1 AND token_hash <> $3",
    )
    .bind(now())
    .bind(user_id)
    .bind(keep)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(ended)
}

/// Stores a new link for a user and ends their other outstanding ones, on `conn` (a transaction).
async fn insert_user_link(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    token_hash: &str,
    purpose: &str,
    ttl_secs: i64,
) -> StoreResult<()> {
    end_user_links(&mut *conn, user_id, token_hash).await?;
    sqlx::query("INSERT INTO user_links (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user_id)
        .bind(purpose)
        .bind(now() + ttl_secs)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) fn user_from_row(row: &AnyRow) -> StoreResult<User> {
    let role: String = get(row, "role")?;
    let has_totp = get::<Option<String>>(row, "totp_secret")?.is_some();
    let passkeys: i64 = get(row, "passkey_count")?;
    Ok(User {
        id: get(row, "id")?,
        org_id: get(row, "org_id")?,
        email: get(row, "email")?,
        name: get(row, "name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?,
        has_password: get::<Option<String>>(row, "password_hash")?.is_some(),
        disabled: get::<Option<i64>>(row, "disabled_at")?.is_some(),
        created_at: get(row, "created_at")?,
        last_login_at: get(row, "last_login_at")?,
        has_totp,
        passkeys,
        mfa_enabled: has_totp || passkeys > 0,
    })
}

impl Store {
    /// Creates a user without a password, in its own transaction (first start, tests).
    pub async fn create_user(&self, org: OrgId, email: &str, name: &str, role: Role) -> StoreResult<User> {
        let mut tx = self.begin().await?;
        let user = tx.create_user(org, email, name, role).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn users(&self, org: OrgId) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 ORDER BY u.created_at, u.id");
        let rows = sqlx::query(&sql).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn user_by_email(&self, org: OrgId, email: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.email = $2");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user(&self, org: OrgId, id: i64) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.id = $2");
        let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The stored password hash of an enabled user, for login.
    pub async fn password_hash(&self, user_id: i64) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1 AND disabled_at IS NULL")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => get(&r, "password_hash")?,
            None => None,
        })
    }

    /// Sets a new password hash and ends all of the user's sessions and outstanding links.
    pub async fn set_password(&self, user_id: i64, hash: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        end_user_links(&mut tx, user_id, "").await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables (or re-enables) a user in its own transaction (tests).
    pub async fn set_disabled(&self, org: OrgId, user_id: i64, disabled: bool) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.set_disabled(org, user_id, disabled).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a user's email and display name (the owner does this at first setup).
    pub async fn set_user_identity(&self, org: OrgId, user_id: i64, email: &str, name: &str) -> StoreResult<()> {
        let email = email.trim().to_lowercase();
        if let Some(other) = self.user_by_email(org, &email).await? {
            if other.id != user_id {
                return Err(StoreError::Conflict(format!("user {email}")));
            }
        }
        sqlx::query("UPDATE users SET email = $1, name = $2 WHERE id = $3 AND org_id = $4")
            .bind(&email)
            .bind(name.trim())
            .bind(user_id)
            .bind(org)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Changes a user's role in its own transaction (single sign-on's group rules).
    pub async fn set_role(&self, org: OrgId, user_id: i64, role: Role) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.set_role(org, user_id, role).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a single-use link (setup or reset) by the digest of its token; the user's older
    /// outstanding links end in the same transaction.
    pub async fn create_user_link(
        &self,
        user_id: i64,
        token_hash: &str,
        purpose: &str,
        ttl_secs: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_user_link(&mut tx, user_id, token_hash, purpose, ttl_secs).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a single-use link and queues the message that carries it, in one transaction:
    /// either the user gets mail for a link that works, or nothing happened. Older outstanding
    /// links of the user end in the same transaction.
    pub async fn create_user_link_with_email(
        &self,
        user: &User,
        token_hash: &str,
        purpose: &str,
        ttl_secs: i64,
        email: &crate::NewEmail,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_user_link(&mut tx, user.id, token_hash, purpose, ttl_secs).await?;
        crate::outbox::insert_email(&mut *tx, user.org_id, email).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a link is (usable, with its user; used; expired; unknown), without using it up. A
    /// disabled user's link is unknown: it will never work, and the page need not say why.
    pub async fn user_link_state(&self, token_hash: &str, purpose: &str) -> StoreResult<LinkState<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, l.used_at AS link_used_at, l.expires_at AS link_expires_at \
             FROM user_links l JOIN users u ON u.id = l.user_id WHERE l.token_hash = $1 AND l.purpose = $2"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .bind(purpose)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(LinkState::Unknown);
        };
        let user = user_from_row(&row)?;
        if user.disabled {
            return Ok(LinkState::Unknown);
        }
        Ok(LinkState::of(
            get(&row, "link_used_at")?,
            get(&row, "link_expires_at")?,
            user,
        ))
    }

    /// Uses a link up and sets the password, atomically: a link works once, and the user's other
    /// outstanding links end with it.
    pub async fn redeem_user_link(
        &self,
        token_hash: &str,
        purpose: &str,
        password_hash: &str,
    ) -> StoreResult<Option<User>> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM user_links l JOIN users u ON u.id = l.user_id \
             WHERE l.token_hash = $1 AND l.purpose = $2 AND l.used_at IS NULL AND l.expires_at > $3 AND u.disabled_at IS NULL"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(token_hash)
            .bind(purpose)
            .bind(now())
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let used = sqlx::query("UPDATE user_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
            .bind(now())
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        if used.rows_affected() != 1 {
            return Ok(None);
        }
        end_user_links(&mut tx, user.id, token_hash).await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(user))
    }
}

impl crate::Tx {
    /// Creates a user without a password; they set one through a setup link.
    pub async fn create_user(&mut self, org: OrgId, email: &str, name: &str, role: Role) -> StoreResult<User> {
        let email = email.trim().to_lowercase();
        if self.user_by_email(org, &email).await?.is_some() {
            return Err(StoreError::Conflict(format!("user {email}")));
        }
        sqlx::query("INSERT INTO users (org_id, email, name, role, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(org)
            .bind(&email)
            .bind(name)
            .bind(role.as_str())
            .bind(now())
            .execute(&mut **self)
            .await?;
        self.user_by_email(org, &email)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {email}")))
    }

    /// A user by address, read in this transaction.
    pub async fn user_by_email(&mut self, org: OrgId, email: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.email = $2");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(email.trim().to_lowercase())
            .fetch_optional(&mut **self)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Disables (or re-enables) a user; disabling ends their sessions and outstanding links (a
    /// link from before must not come back to life when the account is enabled again).
    pub async fn set_disabled(&mut self, org: OrgId, user_id: i64, disabled: bool) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND org_id = $3")
            .bind(disabled.then(now))
            .bind(user_id)
            .bind(org)
            .execute(&mut **self)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut **self)
            .await?;
        if disabled {
            end_user_links(self, user_id, "").await?;
        }
        Ok(())
    }

    /// Changes a user's role and ends their sessions: a change of privilege means signing in
    /// again, never carrying an old session into new rights.
    pub async fn set_role(&mut self, org: OrgId, user_id: i64, role: Role) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET role = $1 WHERE id = $2 AND org_id = $3")
            .bind(role.as_str())
            .bind(user_id)
            .bind(org)
            .execute(&mut **self)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Stores a single-use link (setup or reset) by the digest of its token; the user's older
    /// outstanding links end.
    pub async fn create_user_link(
        &mut self,
        user_id: i64,
        token_hash: &str,
        purpose: &str,
        ttl_secs: i64,
    ) -> StoreResult<()> {
        insert_user_link(self, user_id, token_hash, purpose, ttl_secs).await
    }
    /// A user changes their own password: the new hash is stored, every other session of theirs
    /// and every outstanding setup or reset link ends; the session they
    /// changed it from stays.
    pub async fn change_password(&mut self, user_id: i64, hash: &str, keep_public_id: &str) -> StoreResult<u64> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut **self)
            .await?;
        end_user_links(self, user_id, "").await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND (public_id IS NULL OR public_id <> $2)")
            .bind(user_id)
            .bind(keep_public_id)
            .execute(&mut **self)
            .await?
            .rows_affected();
        Ok(ended)
    }
}
