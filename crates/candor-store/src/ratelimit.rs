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

    /// Takes one request from `key`'s budget at `now_ms`, for limits that allow a burst and then
    /// one request per `interval_ms` (a "generic cell rate" limit). For these keys
    /// `blocked_until` holds when the budget will be full again. The take is allowed while that
    /// is at most `tolerance_ms` ahead (`(burst - 1) * interval`); then it moves on by one
    /// interval. Returns `None` when allowed, or `Some(ms)` to wait before the next take.
    /// One statement, so takes by two instances at once are both counted.
    pub async fn rate_limit_take(
        &self,
        key: &str,
        now_ms: i64,
        interval_ms: i64,
        tolerance_ms: i64,
    ) -> StoreResult<Option<i64>> {
        let full = "CASE WHEN rate_limits.blocked_until > $2 THEN rate_limits.blocked_until ELSE $2 END";
        let sql = format!(
            "INSERT INTO rate_limits (rate_key, failures, blocked_until, last_at) VALUES ($1, 1, $2 + $3, $2) \
             ON CONFLICT (rate_key) DO UPDATE SET failures = rate_limits.failures + 1, last_at = $2, \
             blocked_until = {full} + $3 WHERE {full} - $2 <= $4 RETURNING blocked_until"
        );
        let taken = sqlx::query(&sql)
            .bind(key)
            .bind(now_ms)
            .bind(interval_ms)
            .bind(tolerance_ms)
            .fetch_optional(&self.pool)
            .await?;
        if taken.is_some() {
            return Ok(None);
        }
        let full_at = self.rate_limit_blocked_until(key).await?.unwrap_or(now_ms);
        Ok(Some((full_at - now_ms - tolerance_ms).max(1)))
    }

    /// How long `key` must wait before a take of [`Store::rate_limit_take`] would be allowed
    /// (`None`: it would be), without taking anything.
    pub async fn rate_limit_peek(&self, key: &str, now_ms: i64, tolerance_ms: i64) -> StoreResult<Option<i64>> {
        let full_at = self.rate_limit_blocked_until(key).await?.unwrap_or(now_ms);
        let wait = full_at - now_ms - tolerance_ms;
        Ok((wait > 0).then_some(wait))
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
