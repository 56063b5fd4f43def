//! `candor keys rotate`: a new master key, every data key (of stored files and of sealed
//! secrets) re-wrapped under it, the old key dropped. Neither the files nor the secrets' own
//! ciphertexts are touched.
//!
//! Safe to interrupt and run again. The key file is only ever replaced atomically, and each step
//! leaves a state the next run recognises:
//! 1. the ring has one key → add a new one (the file now holds old and new; both open data keys);
//! 2. the ring has several keys → re-wrap every data key not yet under the newest, one row at a
//!    time (a row is updated only if still what it was when read);
//! 3. none left under an older key → write the ring with the newest key only.

use crate::{Action, Actor, App, Done, Result};
use candor_blob::keyfile::{self, KeySource};
use candor_crypto::envelope::WrappedKey;
use candor_crypto::secret::{is_sealed, rewrap_secret, seal_secret, PREFIX};

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// The key that wraps everything now.
    pub current: String,
    /// Whether this run added it (a new rotation) or resumed one.
    pub started: bool,
    /// Stored files' data keys re-wrapped.
    pub rewrapped: usize,
    /// Sealed secrets re-wrapped (or sealed, if an older version left them in plaintext).
    pub secrets: usize,
    /// Old key ids removed from the ring (none if the run stopped early).
    pub retired: Vec<String>,
}

impl App {
    /// Runs (or resumes) a rotation, and audits it. `stop_after` re-wraps at most that many
    /// data keys and stops before retiring old keys, as an interruption would (for tests).
    ///
    /// Reads the key ring from its source (the key file or `CANDOR_MASTER_KEY`), not from this
    /// process's memory, like the separate `candor keys rotate` process it usually is.
    pub async fn rotate_keys(&self, actor: &Actor, stop_after: Option<usize>) -> Result<Done<Rotation>> {
        let report = self.rotate(stop_after).await?;
        let details = serde_json::json!({
            "current": report.current,
            "started": report.started,
            "rewrapped": report.rewrapped,
            "secrets": report.secrets,
            "retired": report.retired,
        });
        let mut work = self.begin().await?;
        work.audit(
            actor,
            Action::KeysRotate,
            format!("master-key/{}", report.current),
            details,
        )
        .await?;
        work.finish(report).await
    }

    async fn rotate(&self, stop_after: Option<usize>) -> Result<Rotation> {
        let (mut ring, source) =
            keyfile::load(&self.keys.data_dir, self.keys.from_env.as_deref(), false).map_err(anyhow::Error::from)?;
        let mut report = Rotation::default();
        if ring.ids().len() == 1 {
            let KeySource::File(path) = &source else {
                return Err(anyhow::anyhow!(
                    "the master key comes from CANDOR_MASTER_KEY, which Candor cannot rewrite. Add a new key to it first: \
                     append the line printed by `candor keys new` (after the current one, separated by `;`), restart \
                     Candor with it, then run `candor keys rotate` again to re-wrap every data key under the new key"
                )
                .into());
            };
            ring = ring.with_new_key();
            keyfile::save(path, &ring).map_err(anyhow::Error::from)?;
            report.started = true;
        }
        report.current = ring.current_id().to_owned();
        let stop = |r: &Rotation| stop_after.is_some_and(|n| r.rewrapped + r.secrets >= n);
        loop {
            let batch = self.store().blobs_not_under(ring.current_id(), 100).await?;
            if batch.is_empty() {
                break;
            }
            for blob in batch {
                if stop(&report) {
                    return Ok(report);
                }
                let old = WrappedKey {
                    key_id: blob.key_id.clone(),
                    sealed: blob.wrapped_key.clone(),
                };
                let data_key = ring.unwrap(&old).map_err(anyhow::Error::from)?;
                let new = ring.wrap(&data_key);
                if self
                    .store()
                    .rewrap_blob(&blob.id, &blob.key_id, &new.key_id, &new.sealed)
                    .await?
                {
                    report.rewrapped += 1;
                }
            }
        }
        let under_current = format!("{PREFIX}{}:", ring.current_id());
        loop {
            let batch = self.store().totp_secrets_outside(&under_current, 100).await?;
            if batch.is_empty() {
                break;
            }
            for secret in batch {
                if stop(&report) {
                    return Ok(report);
                }
                let new = if is_sealed(&secret.stored) {
                    rewrap_secret(&ring, &secret.stored).map_err(anyhow::Error::from)?
                } else {
                    seal_secret(&ring, &crate::identity::totp_context(secret.user_id), &secret.stored)
                };
                let mut work = self.begin().await?;
                let replaced = work.replace_totp_secret(&secret, &new).await?;
                work.commit().await?;
                if replaced {
                    report.secrets += 1;
                }
            }
        }
        // Subscribers' link tokens and webhook secrets: always sealed, so only re-wrapped.
        loop {
            let batch = self.store().subscription_secrets_outside(&under_current, 100).await?;
            if batch.is_empty() {
                break;
            }
            for secret in batch {
                if stop(&report) {
                    return Ok(report);
                }
                let new = rewrap_secret(&ring, &secret.stored).map_err(anyhow::Error::from)?;
                let mut work = self.begin().await?;
                let replaced = work.replace_sealed_secret(&secret, &new).await?;
                work.commit().await?;
                if replaced {
                    report.secrets += 1;
                }
            }
        }
        let retired: Vec<String> = ring.ids().into_iter().filter(|id| id != ring.current_id()).collect();
        match &source {
            KeySource::File(path) if !retired.is_empty() => {
                keyfile::save(path, &ring.current_only()).map_err(anyhow::Error::from)?
            }
            KeySource::Environment if !retired.is_empty() => {
                tracing::warn!(
                    retired = ?retired,
                    "every data key is under the newest master key: remove the older keys from CANDOR_MASTER_KEY"
                );
                return Ok(report);
            }
            _ => {}
        }
        report.retired = retired;
        Ok(report)
    }
}
