//! `candor keys rotate`: a new master key, every data key re-wrapped under it, the old key
//! dropped. The blobs themselves are not touched.
//!
//! Safe to interrupt and run again. The key file is only ever replaced atomically, and each step
//! leaves a state the next run recognises:
//! 1. the ring has one key → add a new one (the file now holds old and new; both open data keys);
//! 2. the ring has several keys → re-wrap every data key not yet under the newest, one row at a
//!    time (a row is updated only if still wrapped by the key it was read with);
//! 3. none left under an older key → write the ring with the newest key only.

use candor_blob::keyfile::{self, KeySource};
use candor_crypto::envelope::WrappedKey;
use candor_store::Store;
use std::path::Path;

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// The key that wraps everything now.
    pub current: String,
    /// Whether this run added it (a new rotation) or resumed one.
    pub started: bool,
    pub rewrapped: usize,
    /// Old key ids removed from the ring (none if the run stopped early).
    pub retired: Vec<String>,
}

/// Runs (or resumes) a rotation. `stop_after` re-wraps at most that many data keys and stops
/// before retiring old keys, as an interruption would (for tests).
pub async fn rotate(store: &Store, data_dir: &Path, stop_after: Option<usize>) -> anyhow::Result<Rotation> {
    let (mut ring, source) = keyfile::load(data_dir, std::env::var("CANDOR_MASTER_KEY").ok().as_deref(), false)?;
    let mut report = Rotation::default();
    if ring.ids().len() == 1 {
        let KeySource::File(path) = &source else {
            anyhow::bail!(
                "the master key comes from CANDOR_MASTER_KEY, which Candor cannot rewrite. Add a new key to it first: \
                 append the line printed by `candor keys new` (after the current one, separated by `;`), restart \
                 Candor with it, then run `candor keys rotate` again to re-wrap every data key under the new key"
            );
        };
        ring = ring.with_new_key();
        keyfile::save(path, &ring)?;
        report.started = true;
    }
    report.current = ring.current_id().to_owned();
    loop {
        let batch = store.blobs_not_under(ring.current_id(), 100).await?;
        if batch.is_empty() {
            break;
        }
        for blob in batch {
            if stop_after.is_some_and(|n| report.rewrapped >= n) {
                return Ok(report);
            }
            let old = WrappedKey {
                key_id: blob.key_id.clone(),
                sealed: blob.wrapped_key.clone(),
            };
            let data_key = ring.unwrap(&old)?;
            let new = ring.wrap(&data_key);
            if store
                .rewrap_blob(&blob.id, &blob.key_id, &new.key_id, &new.sealed)
                .await?
            {
                report.rewrapped += 1;
            }
        }
    }
    let retired: Vec<String> = ring.ids().into_iter().filter(|id| id != ring.current_id()).collect();
    match &source {
        KeySource::File(path) if !retired.is_empty() => keyfile::save(path, &ring.current_only())?,
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
