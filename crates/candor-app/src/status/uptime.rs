//! The uptime roll-up: folds each component's status changes, the maintenance windows that
//! covered it and its monitors' checks into one row per day, and forgets raw changes past the
//! retention window. History then costs a row a day, however busy the monitors are.

use crate::{App, Done, Effects, Result, SiteChange};
use candor_core::status::uptime::{
    day_of, format_percent, overlay_maintenance, split_by_day, uptime_percent, DayTotals, DAY_SECS,
};
use candor_store::StatusComponent;

/// Days of history the status page shows.
pub const HISTORY_DAYS: i64 = 90;

impl App {
    /// Rolls up every component's days from the last one rolled up to `now`, and prunes status
    /// changes older than `keep_secs`. Reports `SiteChange::Status` only when something a visitor
    /// sees changed (a new day's bar, a bar's colour, a percentage as printed), so an idle
    /// server does not re-render its status page every minute.
    pub async fn roll_up_uptime(&self, now: i64, keep_secs: i64) -> Result<Done<()>> {
        let org = self.org();
        let components = self.store().status_components(org).await?;
        let window_start = day_of(now) - (HISTORY_DAYS - 1) * DAY_SECS;
        let old_rows = self.store().status_days(org, window_start).await?;
        // Read everything first: on SQLite the transaction holds the only connection.
        let mut visible_change = false;
        let mut rolled = vec![];
        for c in &components {
            let days = self.days_of(c, now).await?;
            let old: Vec<(i64, DayTotals)> = old_rows
                .iter()
                .filter(|(id, _, _)| *id == c.id)
                .map(|(_, day, t)| (*day, *t))
                .collect();
            visible_change |= looks_different(&old, &days);
            rolled.push((c.id, days));
        }
        let mut work = self.begin().await?;
        for (component, days) in &rolled {
            for (day, totals) in days {
                work.put_status_day(*component, *day, totals).await?;
            }
        }
        work.prune_status_changes(now - keep_secs).await?;
        if visible_change {
            work.site_changed(SiteChange::Status);
            work.finish(()).await
        } else {
            work.commit().await?;
            Ok(Done {
                value: (),
                effects: Effects::default(),
            })
        }
    }

    /// A component's totals for each day from its last rolled-up day (or its creation) to now.
    async fn days_of(&self, c: &StatusComponent, now: i64) -> Result<Vec<(i64, DayTotals)>> {
        let store = self.store();
        let from = match store.last_status_day(c.id).await? {
            Some(day) => day.max(c.created_at),
            None => c.created_at,
        };
        let (before, changes) = store.status_changes(c.id, from).await?;
        let initial = before.or(changes.first().map(|c| c.1)).unwrap_or(c.status);
        let windows = store.maintenance_windows(c.id, from).await?;
        let (shown, shown_changes) = overlay_maintenance(initial, &changes, &windows, from);
        let mut days = split_by_day(shown, &shown_changes, from, now);
        for (day, checks, failed) in store.check_counts(c.id, day_of(from)).await? {
            if let Some((_, t)) = days.iter_mut().find(|(d, _)| *d == day) {
                t.checks = checks;
                t.failed_checks = failed;
            }
        }
        Ok(days)
    }
}

/// Whether new totals change what the page shows, compared with the stored rows.
fn looks_different(old: &[(i64, DayTotals)], new: &[(i64, DayTotals)]) -> bool {
    let mut merged: Vec<(i64, DayTotals)> = old.to_vec();
    for (day, t) in new {
        match merged.iter_mut().find(|(d, _)| d == day) {
            Some((_, o)) => {
                if o.worst() != t.worst() {
                    return true;
                }
                *o = *t;
            }
            None => return true,
        }
    }
    let percent = |rows: &[(i64, DayTotals)]| {
        let totals: Vec<DayTotals> = rows.iter().map(|r| r.1).collect();
        uptime_percent(&totals).map(format_percent)
    };
    percent(old) != percent(&merged)
}
