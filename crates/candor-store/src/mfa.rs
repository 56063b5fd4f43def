//! Second-factor state: TOTP secrets, replay protection, recovery codes, organization settings.

use crate::{get, now, OrgId, Store, StoreResult};

impl Store {
    /// Stores a freshly generated secret that becomes active once the user proves they can use it.
    pub async fn set_totp_pending(&self, user_id: i64, secret: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// (active secret, pending secret, last used step).
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

    /// Makes the pending secret active and replaces the recovery codes, in one transaction.
    pub async fn activate_totp(
        &self,
        user_id: i64,
        secret: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET totp_secret = $1, totp_pending_secret = NULL, totp_last_step = $2 WHERE id = $3")
            .bind(secret)
            .bind(step)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for h in recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(h)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records that a code of `step` was used. False when that step (or a later one) was used
    /// already: the atomic compare is what stops a replay racing the original.
    pub async fn use_totp_step(&self, user_id: i64, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Spends a recovery code; false if it is unknown or spent.
    pub async fn use_recovery_code(&self, user_id: i64, code_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now())
        .bind(user_id)
        .bind(code_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn unused_recovery_codes(&self, user_id: i64) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        get(&row, "n")
    }

    /// Turns the second factor off for a user (an owner's reset after a lost phone): secret,
    /// pending secret, recovery codes and passkeys are removed, and the user's sessions end.
    pub async fn reset_totp(&self, user_id: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL WHERE id = $1",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the session behind this id digest as having passed its second factor, under a new id.
    pub async fn complete_mfa(&self, old_hash: &str, new_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET mfa_pending = 0, id_hash = $1, prev_id_hash = NULL, prev_valid_until = 0, rotated_at = $2 \
             WHERE id_hash = $3 AND mfa_pending = 1",
        )
        .bind(new_hash)
        .bind(now())
        .bind(old_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn org_setting(&self, org: OrgId, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT value FROM org_settings WHERE org_id = $1 AND key = $2")
            .bind(org)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "value")).transpose()
    }

    pub async fn set_org_setting(&self, org: OrgId, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO org_settings (org_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (org_id, key) DO UPDATE SET value = $3",
        )
        .bind(org)
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
