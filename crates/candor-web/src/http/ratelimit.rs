//! Failure-based rate limiting with exponential backoff, kept in the database so that every
//! instance behind a load balancer sees the same counts: a client cannot escape its wait by
//! landing on another instance.
//!
//! After `free` failures for a key (an IP, an account), each further failure doubles the wait
//! before the next attempt, up to `max`. A success clears the key. The wait always ends, so an
//! attacker hammering the owner's address slows the owner down but never locks them out for good.
//!
//! The database being unreachable does not lock anyone out: a check that cannot read answers
//! "go ahead" (the request then fails on the database anyway) and the error is logged.

use crate::AppState;
use candor_store::Store;
use std::time::Duration;

pub struct Backoff {
    store: Store,
    /// Prefixes every key, so two limits never share a count.
    name: &'static str,
    free: u32,
    max: Duration,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Backoff {
    pub fn new(store: Store, name: &'static str, free: u32, max: Duration) -> Backoff {
        Backoff { store, name, free, max }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.name)
    }

    /// `Err(seconds)` while the key must wait.
    pub async fn check(&self, key: &str) -> Result<(), u64> {
        match self.store.rate_limit_blocked_until(&self.key(key)).await {
            Ok(Some(until)) => {
                let left = until - now_ms();
                if left > 0 {
                    Err((left as u64).div_ceil(1000).max(1))
                } else {
                    Ok(())
                }
            }
            Ok(None) => Ok(()),
            Err(e) => {
                tracing::error!(error = %e, limit = self.name, "could not read a rate limit; letting the request through");
                Ok(())
            }
        }
    }

    /// `Err(seconds)` while either key must wait (an address and an account, say).
    pub async fn check_pair(&self, first: &str, second: &str) -> Result<(), u64> {
        self.check(first).await?;
        self.check(second).await
    }

    pub async fn failure(&self, key: &str) {
        let key = self.key(key);
        let now = now_ms();
        let failures = match self.store.rate_limit_failure(&key, now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, limit = self.name, "could not count a failure for a rate limit");
                return;
            }
        };
        if let Some(wait) = self.wait_after(failures) {
            if let Err(e) = self.store.rate_limit_block(&key, now + wait.as_millis() as i64).await {
                tracing::error!(error = %e, limit = self.name, "could not record a rate limit's wait");
            }
        }
    }

    /// The wait after `failures` failures: none while they are free, then 1 s, 2 s, 4 s, ... up
    /// to `max`.
    fn wait_after(&self, failures: i64) -> Option<Duration> {
        let over = failures - i64::from(self.free);
        if over < 0 {
            return None;
        }
        let exp = over.min(16) as u32;
        Some(Duration::from_secs(1u64 << exp).min(self.max))
    }

    pub async fn success(&self, key: &str) {
        if let Err(e) = self.store.rate_limit_clear(&self.key(key)).await {
            tracing::error!(error = %e, limit = self.name, "could not clear a rate limit");
        }
    }
}

/// A budget of requests per key that refills steadily: `burst` at once, then one more every
/// `refill`. Unlike [`Backoff`], which counts failures, a budget counts every request it lets
/// through (each access request sends mail, wanted or not), and it forgives: a key that keeps
/// to the refill rate is never refused, however long it keeps going.
///
/// Kept in the database like [`Backoff`], so that every instance sees the same budget.
pub struct Budget {
    store: Store,
    /// Prefixes every key, so two limits never share a count.
    name: &'static str,
    burst: u32,
    refill: Duration,
}

impl Budget {
    pub fn new(store: Store, name: &'static str, burst: u32, refill: Duration) -> Budget {
        Budget {
            store,
            name,
            burst: burst.max(1),
            refill,
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.name)
    }

    fn tolerance_ms(&self) -> i64 {
        i64::from(self.burst - 1) * self.refill.as_millis() as i64
    }

    /// `Err(seconds)` when `key` has nothing left, without spending anything.
    pub async fn check(&self, key: &str) -> Result<(), u64> {
        match self
            .store
            .rate_limit_peek(&self.key(key), now_ms(), self.tolerance_ms())
            .await
        {
            Ok(None) => Ok(()),
            Ok(Some(wait_ms)) => Err(seconds(wait_ms)),
            Err(e) => {
                tracing::error!(error = %e, limit = self.name, "could not read a rate limit; letting the request through");
                Ok(())
            }
        }
    }

    /// Spends one request of `key`'s budget: `Err(seconds)` when there was none left.
    pub async fn take(&self, key: &str) -> Result<(), u64> {
        let taken = self
            .store
            .rate_limit_take(
                &self.key(key),
                now_ms(),
                self.refill.as_millis() as i64,
                self.tolerance_ms(),
            )
            .await;
        match taken {
            Ok(None) => Ok(()),
            Ok(Some(wait_ms)) => Err(seconds(wait_ms)),
            Err(e) => {
                tracing::error!(error = %e, limit = self.name, "could not count a request for a rate limit; letting it through");
                Ok(())
            }
        }
    }
}

/// What a public form that mails a typed address says, above the form as it was typed, when
/// the mail budgets are spent ([`crate::AppState::spend_mail_budgets`]).
pub fn too_quick(secs: u64) -> String {
    format!(
        "Requests from here or for this email address came too quickly. Wait {}, then send the form again; what you typed is kept.",
        candor_core::grammar::wait_in_words(secs)
    )
}

/// `res`, answered 429 with the wait in `Retry-After`.
pub fn refused(mut res: axum::response::Response, secs: u64) -> axum::response::Response {
    *res.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
    res.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
    res
}

/// Milliseconds to wait as whole seconds, rounded up, never 0.
fn seconds(ms: i64) -> u64 {
    (ms.max(1) as u64).div_ceil(1000).max(1)
}

/// How long a key's failures are remembered after its last one once its wait is over: longer
/// than the longest wait of any limit (an hour), so pruning never shortens a backoff.
const REMEMBER: Duration = Duration::from_secs(2 * 3600);

/// Forgets old failures every few minutes, so the table holds only keys that were recently
/// refused. Runs on the leader only.
pub async fn prune_regularly(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let before = now_ms() - REMEMBER.as_millis() as i64;
        match state.store().rate_limit_prune(before).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(keys = n, "forgot old rate-limit failures"),
            Err(e) => tracing::warn!(error = %e, "could not prune old rate-limit failures"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        (dir, Store::open(&url).await.unwrap())
    }

    #[tokio::test]
    async fn backs_off_after_free_attempts_and_clears_on_success() {
        let (_dir, store) = store().await;
        let b = Backoff::new(store.clone(), "t", 3, Duration::from_secs(900));
        for _ in 0..2 {
            b.failure("k").await;
            assert!(b.check("k").await.is_ok());
        }
        b.failure("k").await;
        assert!(b.check("k").await.is_err());
        assert!(b.check("other").await.is_ok());
        // Another limit with the same key counts on its own.
        assert!(Backoff::new(store, "u", 3, Duration::from_secs(900))
            .check("k")
            .await
            .is_ok());
        b.success("k").await;
        assert!(b.check("k").await.is_ok());
    }

    #[tokio::test]
    async fn a_budget_allows_its_burst_then_one_per_refill() {
        let (_dir, store) = store().await;
        let b = Budget::new(store.clone(), "t", 3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(b.check("k").await.is_ok());
            assert!(b.take("k").await.is_ok());
        }
        let wait = b.check("k").await.unwrap_err();
        assert!((59..=60).contains(&wait), "{wait}");
        assert!(b.take("k").await.is_err());
        // Refused takes spend nothing, and other keys have their own budget.
        assert!((59..=60).contains(&b.check("k").await.unwrap_err()));
        assert!(b.take("other").await.is_ok());
        // As if the budget had been spent two minutes ago: two requests came back.
        let full = store.rate_limit_blocked_until("t:k").await.unwrap().unwrap();
        store.rate_limit_clear("t:k").await.unwrap();
        store.rate_limit_failure("t:k", 0).await.unwrap();
        store.rate_limit_block("t:k", full - 120_000).await.unwrap();
        assert!(b.take("k").await.is_ok());
        assert!(b.take("k").await.is_ok());
        assert!(b.take("k").await.is_err());
    }

    #[tokio::test]
    async fn wait_is_capped() {
        let (_dir, store) = store().await;
        let b = Backoff::new(store, "t", 1, Duration::from_secs(5));
        for _ in 0..40 {
            b.failure("k").await;
        }
        assert!(b.check("k").await.unwrap_err() <= 5);
    }
}
