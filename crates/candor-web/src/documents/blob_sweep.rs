//! The sweep of orphaned blobs, run by `serve`: stored files that no row of the `blobs` table
//! names (a crash between writing a file and its row, a local write that never finished, a file a
//! document deletion could not remove at once). Only blobs last written more than [`ORPHAN_AGE`]
//! ago are swept; the rule itself is [`candor_app::App::sweep_orphan_blobs`].

use crate::AppState;
use std::time::Duration;

/// How old an unreferenced blob must be before it is deleted.
pub const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// How often `serve` sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Deletes the blobs no row references that were last written more than `older_than` ago;
/// returns how many were deleted (see [`candor_app::App::sweep_orphan_blobs`]).
pub async fn sweep_orphan_blobs(state: &AppState, older_than: Duration) -> anyhow::Result<usize> {
    state.app().sweep_orphan_blobs(older_than).await
}

/// Sweeps at start and then every `every`, for as long as the server runs.
pub async fn sweep_regularly(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        state.metrics().job_ran("blob_sweep", every);
        match sweep_orphan_blobs(&state, ORPHAN_AGE).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(blobs.deleted = n, "swept orphaned blobs"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not sweep orphaned blobs"),
        }
    }
}
