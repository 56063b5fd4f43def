//! Failure counts for rate limits and backoff, shared by every instance on the database.
//!
//! The policy (how many free attempts, how long to wait) belongs to the caller; this module only
//! counts and remembers until when a key is blocked. Times are Unix milliseconds.

use crate::{get, Store, StoreResult};

impl Store {
    /// Until when `key` is blocked, if it has a record.
    pub async fn rate_limit_blocked_until(&self, key: &str) -> StoreResult<Option<i64>> {
        let row = sqlx::query("SELECT blocked_until FROM rate_limits WHERE rate_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "blocked_until")).transpose()
    }

    /// Counts one more failure for `key` at `now_ms` and returns the count so far. The increment
    /// is one statement, so failures counted by two instances at once are both kept.
    pub async fn rate_limit_failure(&self, key: &str, now_ms: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO rate_limits (rate_key, failures, blocked_until, last_at) VALUES ($1, 1, $2, $2) \
             ON CONFLICT (rate_key) DO UPDATE SET failures = rate_limits.failures + 1, last_at = $2 \
             RETURNING failures",
        )
        .bind(key)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?;
        get(&row, "failures")
    }

    /// Blocks `key` until `until_ms`, unless it is already blocked for longer.
    pub async fn rate_limit_block(&self, key: &str, until_ms: i64) -> StoreResult<()> {
        sqlx::query("UPDATE rate_limits SET blocked_until = $2 WHERE rate_key = $1 AND blocked_until < $2")
            .bind(key)
            .bind(until_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets `key` (a success).
    pub async fn rate_limit_clear(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM rate_limits WHERE rate_key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets keys whose last failure is older than `before_ms` and which are no longer blocked,
    /// so the table stays small. Returns how many went.
    pub async fn rate_limit_prune(&self, before_ms: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM rate_limits WHERE last_at < $1 AND blocked_until < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
