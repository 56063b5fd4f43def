//! Second-factor state: TOTP secrets (stored sealed, see `candor_crypto::secret`), replay
//! protection, recovery codes, organization settings.

use crate::{get, now, OrgId, Store, StoreResult, Tx};

/// Which TOTP secret column of `users` a sealed value sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotpColumn {
    Active,
    Pending,
}

impl TotpColumn {
    fn name(self) -> &'static str {
        match self {
            TotpColumn::Active => "totp_secret",
            TotpColumn::Pending => "totp_pending_secret",
        }
    }
}

/// A stored TOTP secret that a key rotation or the start-up sealing pass has still to handle.
#[derive(Clone, Debug)]
pub struct StoredTotpSecret {
    pub user_id: i64,
    pub column: TotpColumn,
    /// As stored: sealed under some master key, or plaintext from before sealing.
    pub stored: String,
}

impl Store {
    /// (active secret, pending secret, last used step), as stored (sealed).
    pub async fn totp_state(&self, user_id: i64) -> StoreResult<(Option<String>, Option<String>, Option<i64>)> {
        let row = sqlx::query("SELECT totp_secret, totp_pending_secret, totp_last_step FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        Ok((
            get(&row, "totp_secret")?,
            get(&row, "totp_pending_secret")?,
            get(&row, "totp_last_step")?,
        ))
    }

    /// Stored TOTP secrets (active or pending) whose text does not start with `prefix`: with
    /// `sealed1:KEY:` those not sealed under master key KEY, with `sealed1:` the plaintext ones.
    pub async fn totp_secrets_outside(&self, prefix: &str, limit: i64) -> StoreResult<Vec<StoredTotpSecret>> {
        let mut found = vec![];
        for column in [TotpColumn::Active, TotpColumn::Pending] {
            let c = column.name();
            let rows = sqlx::query(&format!(
                "SELECT id, {c} AS secret FROM users WHERE {c} IS NOT NULL AND substr({c}, 1, length($1)) <> $1 ORDER BY id LIMIT $2"
            ))
            .bind(prefix)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            for row in rows {
                found.push(StoredTotpSecret {
                    user_id: get(&row, "id")?,
                    column,
                    stored: get(&row, "secret")?,
                });
            }
        }
        Ok(found)
    }

    /// Every stored TOTP secret, as stored (for the master key ids they use).
    pub async fn totp_secrets(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT totp_secret AS s FROM users WHERE totp_secret IS NOT NULL \
             UNION ALL SELECT totp_pending_secret AS s FROM users WHERE totp_pending_secret IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| get(r, "s")).collect()
    }

    pub async fn unused_recovery_codes(&self, user_id: i64) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        get(&row, "n")
    }

    pub async fn org_setting(&self, org: OrgId, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT value FROM org_settings WHERE org_id = $1 AND key = $2")
            .bind(org)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "value")).transpose()
    }

    /// One setting in its own transaction (for callers not yet moved to a use case).
    pub async fn set_org_setting(&self, org: OrgId, key: &str, value: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.set_org_setting(org, key, value).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Tx {
    /// Stores a freshly generated (sealed) secret that becomes active once the user proves they
    /// can use it.
    pub async fn set_totp_pending(&mut self, user_id: i64, sealed: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2")
            .bind(sealed)
            .bind(user_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Replaces one stored secret, only if it is still `old` (so a rotation and an enrolment, or
    /// two rotations, cannot undo each other). False when it changed meanwhile.
    pub async fn replace_totp_secret(&mut self, s: &StoredTotpSecret, new: &str) -> StoreResult<bool> {
        let c = s.column.name();
        let done = sqlx::query(&format!("UPDATE users SET {c} = $1 WHERE id = $2 AND {c} = $3"))
            .bind(new)
            .bind(s.user_id)
            .bind(&s.stored)
            .execute(&mut **self)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Makes the pending secret active and replaces the recovery codes.
    pub async fn activate_totp(
        &mut self,
        user_id: i64,
        sealed: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<()> {
        sqlx::query("UPDATE users SET totp_secret = $1, totp_pending_secret = NULL, totp_last_step = $2 WHERE id = $3")
            .bind(sealed)
            .bind(step)
            .bind(user_id)
            .execute(&mut **self)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut **self)
            .await?;
        for h in recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(h)
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }

    /// Records that a code of `step` was used. False when that step (or a later one) was used
    /// already: the atomic compare is what stops a replay racing the original.
    pub async fn use_totp_step(&mut self, user_id: i64, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Spends a recovery code; false if it is unknown or spent.
    pub async fn use_recovery_code(&mut self, user_id: i64, code_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now())
        .bind(user_id)
        .bind(code_hash)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Turns the second factor off for a user (an owner's reset after a lost phone): secret,
    /// pending secret, recovery codes and passkeys are removed, and the user's sessions end.
    pub async fn reset_totp(&mut self, user_id: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL WHERE id = $1",
        )
        .bind(user_id)
        .execute(&mut **self)
        .await?;
        for table in ["recovery_codes", "passkeys", "sessions"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(user_id)
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }

    /// Marks the session behind this id digest as having passed its second factor, under a new id.
    pub async fn complete_mfa(&mut self, old_hash: &str, new_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET mfa_pending = 0, id_hash = $1, prev_id_hash = NULL, prev_valid_until = 0, rotated_at = $2 \
             WHERE id_hash = $3 AND mfa_pending = 1",
        )
        .bind(new_hash)
        .bind(now())
        .bind(old_hash)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_org_setting(&mut self, org: OrgId, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO org_settings (org_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (org_id, key) DO UPDATE SET value = $3",
        )
        .bind(org)
        .bind(key)
        .bind(value)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}
