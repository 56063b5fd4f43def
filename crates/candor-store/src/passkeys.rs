//! Passkeys (WebAuthn credentials) and ceremonies in progress. The credential itself is kept as
//! the JSON that webauthn-rs serialises (public key, counter, flags); this module does not look
//! inside it.

use crate::{get, now, Store, StoreError, StoreResult};

/// One of a user's passkeys.
#[derive(Clone, Debug)]
pub struct StoredPasskey {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The serialised credential.
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A ceremony in progress lives this long.
pub const CEREMONY_SECS: i64 = 300;

fn from_row(row: &sqlx::any::AnyRow) -> StoreResult<StoredPasskey> {
    Ok(StoredPasskey {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        name: get(row, "name")?,
        passkey: get(row, "passkey")?,
        created_at: get(row, "created_at")?,
        last_used_at: get(row, "last_used_at")?,
    })
}

const COLUMNS: &str = "id, user_id, name, passkey, created_at, last_used_at";

impl Store {
    /// The user's WebAuthn handle, created (from `fresh`) the first time it is asked for.
    pub async fn webauthn_id(&self, user_id: i64, fresh: &str) -> StoreResult<String> {
        sqlx::query("UPDATE users SET webauthn_id = $1 WHERE id = $2 AND webauthn_id IS NULL")
            .bind(fresh)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT webauthn_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        get::<Option<String>>(&row, "webauthn_id")?.ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))
    }

    /// The id of the user with this WebAuthn handle.
    pub async fn user_id_by_webauthn_id(&self, handle: &str) -> StoreResult<Option<i64>> {
        let row = sqlx::query("SELECT id FROM users WHERE webauthn_id = $1")
            .bind(handle)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| get(r, "id")).transpose()
    }

    pub async fn passkeys(&self, user_id: i64) -> StoreResult<Vec<StoredPasskey>> {
        let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn passkey_by_credential(&self, credential_id: &str) -> StoreResult<Option<StoredPasskey>> {
        let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1");
        let row = sqlx::query(&sql).bind(credential_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Records a use, with the credential as updated by the ceremony (its counter).
    pub async fn passkey_used(&self, id: i64, passkey: &str) -> StoreResult<()> {
        sqlx::query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
            .bind(passkey)
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a ceremony's state under the digest of its random id.
    pub async fn create_ceremony(
        &self,
        id_hash: &str,
        user_id: Option<i64>,
        purpose: &str,
        state: &str,
    ) -> StoreResult<()> {
        let t = now();
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE created_at < $1")
            .bind(t - CEREMONY_SECS)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id_hash, user_id, purpose, state, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(purpose)
        .bind(state)
        .bind(t)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes (uses up) a fresh ceremony of this purpose for this user (`None` for sign-in without
    /// a username): its state, or `None` if there is no such ceremony.
    pub async fn take_ceremony(
        &self,
        id_hash: &str,
        user_id: Option<i64>,
        purpose: &str,
    ) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id_hash = $1 RETURNING user_id, purpose, state, created_at",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let fresh = now() - get::<i64>(&row, "created_at")? <= CEREMONY_SECS;
        let same = get::<Option<i64>>(&row, "user_id")? == user_id && get::<String>(&row, "purpose")? == purpose;
        (fresh && same).then(|| get(&row, "state")).transpose()
    }
}

impl crate::Tx {
    /// Adds a passkey; a credential id already registered (to anyone) is a conflict.
    pub async fn add_passkey(
        &mut self,
        user_id: i64,
        credential_id: &str,
        name: &str,
        passkey: &str,
    ) -> StoreResult<()> {
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM passkeys WHERE credential_id = $1")
            .bind(credential_id)
            .fetch_optional(&mut **self)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict("this passkey".into()));
        }
        sqlx::query(
            "INSERT INTO passkeys (user_id, credential_id, name, passkey, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(credential_id)
        .bind(name)
        .bind(passkey)
        .bind(now())
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Removes one of *this user's* passkeys; `false` when they have none with that id.
    pub async fn delete_passkey(&mut self, user_id: i64, id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&mut **self)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
