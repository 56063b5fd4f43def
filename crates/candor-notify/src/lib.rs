//! Candor's outbox workers: delivers queued mail over SMTP and retries with growing waits until
//! the server accepts it; signs and delivers webhooks ([`webhook`]) the same way.
//!
//! Messages are written to the `outbox` table by whoever wants to send them (see
//! [`candor_store::Store::enqueue_email`]); this crate only delivers. A mail-server outage
//! therefore loses nothing: messages wait, and go out once the server answers again. A permanent
//! refusal (a 5xx reply, an address that cannot exist) is recorded as failed and not retried.

mod smtp;
pub mod webhook;

pub use smtp::{Mailer, SendError, SmtpSettings, StartTls};

use candor_store::{Store, StoreResult};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often and how patiently the worker tries.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Wait after the first failure; doubled after each further failure.
    pub first_retry: Duration,
    /// Longest wait between two attempts.
    pub max_retry: Duration,
    /// How often the worker looks for due messages when nobody wakes it.
    pub poll: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            poll: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt, after `failures` failed ones (1 or more).
    pub fn delay_after(&self, failures: i64) -> Duration {
        let doublings = failures.saturating_sub(1).clamp(0, 20) as u32;
        self.first_retry
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max_retry)
    }
}

/// What one delivery round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// A message is leased to one worker this long; a worker that dies mid-send leaves it to be
/// retried after the lease.
const LEASE_SECS: i64 = 120;
const BATCH: i64 = 20;

/// Delivers every message that is due now.
pub async fn deliver_due(store: &Store, mailer: &Mailer, policy: &RetryPolicy) -> StoreResult<Round> {
    let mut round = Round::default();
    loop {
        let batch = store.claim_due_emails(BATCH, LEASE_SECS).await?;
        if batch.is_empty() {
            return Ok(round);
        }
        for email in batch {
            match mailer.send(&email).await {
                Ok(()) => {
                    store.mark_email_sent(email.id).await?;
                    tracing::info!(outbox.id = email.id, outbox.purpose = %email.purpose, "mail sent");
                    round.sent += 1;
                }
                Err(SendError::Permanent(why)) => {
                    store.mark_email_failed(email.id, &why).await?;
                    tracing::error!(outbox.id = email.id, error = %why, "mail refused for good; not retrying");
                    round.failed += 1;
                }
                Err(SendError::Temporary(why)) => {
                    let wait = policy.delay_after(email.attempts + 1);
                    let at = candor_store::now() + wait.as_secs().max(1) as i64;
                    store.mark_email_retry(email.id, at, &why).await?;
                    tracing::warn!(outbox.id = email.id, retry_in_s = wait.as_secs(), error = %why, "mail not delivered; will retry");
                    round.retrying += 1;
                }
            }
        }
    }
}

/// Runs until the task is dropped: delivers due mail whenever `wake` is notified (a message was
/// just queued) and otherwise every `policy.poll`. `each_round` is called as every round starts
/// (the server's job clock for `/metrics`).
pub async fn run(store: Store, mailer: Mailer, policy: RetryPolicy, wake: Arc<Notify>, each_round: impl Fn(Duration)) {
    loop {
        each_round(policy.poll);
        if let Err(e) = deliver_due(&store, &mailer, &policy).await {
            tracing::error!(error = %e, "outbox: could not read or update queued mail");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(policy.poll) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap() {
        let p = RetryPolicy {
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            poll: Duration::from_secs(5),
        };
        let waits: Vec<u64> = (1..=9).map(|n| p.delay_after(n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(
            p.delay_after(i64::MAX).as_secs(),
            3600,
            "no overflow after many failures"
        );
    }
}
