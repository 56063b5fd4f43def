//! Backups in the server: the schedule (a task of `serve`) and the back office's operations page.

pub mod page;

use crate::AppState;
use candor_app::backup::quiet;
use candor_app::Actor;
use std::time::Duration;

/// How often the schedule looks whether a backup is due (it also wakes when one falls due).
const LOOK_EVERY: Duration = Duration::from_secs(60);

/// Takes a backup whenever the last recorded run (good or failed) is older than the interval;
/// keeps the newest `backup_keep` archives. A failed run is recorded and mailed to the owners
/// by the use case, and tried again one interval later. Runs until aborted; does nothing when
/// `backup_interval_minutes` is 0.
pub async fn run_scheduled_backups(state: AppState) {
    let Some(interval) = state.config().backup.interval else {
        return;
    };
    let destination = state.config().backup.destination.clone();
    let keep = state.config().backup.keep;
    loop {
        let last = match state.store().backup_runs(state.app().org(), 1).await {
            Ok(runs) => runs.first().map(|r| r.started_at),
            Err(e) => {
                tracing::error!(error = %e, "backup schedule: cannot read the last run");
                tokio::time::sleep(LOOK_EVERY).await;
                continue;
            }
        };
        let every = interval.as_secs() as i64;
        let wait = last.map_or(0, |at| at + every - candor_store::now());
        if wait > 0 {
            tokio::time::sleep(Duration::from_secs(wait as u64).min(LOOK_EVERY)).await;
            continue;
        }
        match state.app().backup(&Actor::System, &destination, &quiet).await {
            Ok(done) => {
                let run = &done.value;
                if run.ok {
                    tracing::info!(archive = %run.archive, bytes = run.bytes, "scheduled backup written");
                    match destination.prune(keep).await {
                        Ok(n) if n > 0 => tracing::info!(deleted = n, "old backup archives deleted"),
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "backup schedule: cannot delete old archives"),
                    }
                }
                state.apply(done.effects).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "backup schedule: the run could not be recorded");
                tokio::time::sleep(LOOK_EVERY).await;
            }
        }
    }
}
