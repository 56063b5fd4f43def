//! The sweep of orphaned blobs: stored files that no row of the `blobs` table names. They are left
//! by a process that stopped between writing a blob and committing its row (a crash, a kill, a
//! lost database connection), or by a local write that never finished (`ID.partial`).
//!
//! Only blobs last written more than [`ORPHAN_AGE`] ago are swept. That age is what keeps the
//! sweep from deleting a blob whose row is being written at that moment: an upload writes its
//! blob first and inserts the row right after (checking a PDF in between takes seconds), so a
//! blob without a row that is an hour old will never get one. Several instances may sweep the same
//! storage at once: deleting an object twice is harmless.

use crate::AppState;
use std::time::Duration;

/// How old an unreferenced blob must be before it is deleted.
pub const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// How often `serve` sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Deletes the blobs no row references that were last written more than `older_than` ago;
/// returns how many were deleted.
pub async fn sweep_orphan_blobs(state: &AppState, older_than: Duration) -> anyhow::Result<usize> {
    let cutoff = chrono::Utc::now().timestamp() - i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
    // Listed before the rows are read: a row committed before the query is always seen.
    let old = state.blobs().written_before(cutoff).await?;
    let known = state.store().known_blob_ids(&old).await?;
    let mut deleted = 0;
    for name in old.iter().filter(|n| !known.contains(*n)) {
        state.blobs().delete(name).await?;
        tracing::info!(blob.id = %name, "deleted a blob that no row references");
        deleted += 1;
    }
    Ok(deleted)
}

/// Sweeps at start and then every `every`, for as long as the server runs.
pub async fn sweep_regularly(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match sweep_orphan_blobs(&state, ORPHAN_AGE).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(blobs.deleted = n, "swept orphaned blobs"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not sweep orphaned blobs"),
        }
    }
}
