//! The status page's clock: maintenance windows start and complete on time, and uptime is
//! rolled up into its daily rows. Runs as a task of `serve`.

use crate::AppState;
use std::time::Duration;

/// How often windows are checked for their start or end: a window opens at most this late.
pub const MAINTENANCE_EVERY: Duration = Duration::from_secs(5);
/// How often uptime is rolled up (the current day's bar and percentage).
pub const ROLL_UP_EVERY: Duration = Duration::from_secs(60);
/// How long raw status changes are kept once rolled up.
pub const KEEP_CHANGES_SECS: i64 = 7 * 86_400;

/// Runs until aborted.
pub async fn run(state: AppState) {
    let mut last_roll_up: Option<tokio::time::Instant> = None;
    loop {
        state.metrics().job_ran("status_clock", MAINTENANCE_EVERY);
        let now = candor_store::now();
        match state.app().run_maintenance_clock(now).await {
            Ok(done) => state.apply(done.effects).await,
            Err(e) => tracing::error!(error = %e, "status: could not move maintenance windows on"),
        }
        if last_roll_up.is_none_or(|t| t.elapsed() >= ROLL_UP_EVERY) {
            match state.app().roll_up_uptime(now, KEEP_CHANGES_SECS).await {
                Ok(done) => state.apply(done.effects).await,
                Err(e) => tracing::error!(error = %e, "status: could not roll up uptime"),
            }
            last_roll_up = Some(tokio::time::Instant::now());
        }
        tokio::time::sleep(MAINTENANCE_EVERY).await;
    }
}
