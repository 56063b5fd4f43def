//! Uptime history: how long each component spent in each status, per UTC day, and the
//! percentage and colour the status page shows for it.
//!
//! History is kept as one row per component per day ([`DayTotals`]), not one row per check or
//! per change, so a page of 90 days costs 90 rows however busy the monitors are.

use super::ComponentStatus;
use serde::{Deserialize, Serialize};

pub const DAY_SECS: i64 = 86_400;

/// Seconds a component spent in each disrupted status during one UTC day, and its monitors'
/// check counts. Time not accounted for is operational (or before the component existed, which
/// [`DayTotals::observed_secs`] excludes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    /// Seconds of the day the component existed.
    pub observed_secs: i64,
    pub degraded_secs: i64,
    pub partial_secs: i64,
    pub major_secs: i64,
    pub maintenance_secs: i64,
    pub checks: i64,
    pub failed_checks: i64,
}

impl DayTotals {
    /// Adds `secs` spent in `status`.
    pub fn add(&mut self, status: ComponentStatus, secs: i64) {
        self.observed_secs += secs;
        match status {
            ComponentStatus::Operational => {}
            ComponentStatus::UnderMaintenance => self.maintenance_secs += secs,
            ComponentStatus::DegradedPerformance => self.degraded_secs += secs,
            ComponentStatus::PartialOutage => self.partial_secs += secs,
            ComponentStatus::MajorOutage => self.major_secs += secs,
        }
    }

    /// Adds another part of the same day.
    pub fn merge(&mut self, other: &DayTotals) {
        self.observed_secs += other.observed_secs;
        self.degraded_secs += other.degraded_secs;
        self.partial_secs += other.partial_secs;
        self.major_secs += other.major_secs;
        self.maintenance_secs += other.maintenance_secs;
        self.checks += other.checks;
        self.failed_checks += other.failed_checks;
    }

    /// Seconds counted as down: all of a major outage and 30% of a partial one (Statuspage's
    /// weighting); degraded performance and planned maintenance count as up.
    pub fn down_secs(&self) -> f64 {
        self.major_secs as f64 + 0.3 * self.partial_secs as f64
    }

    /// The worst status seen that day, for the colour of its bar.
    pub fn worst(&self) -> ComponentStatus {
        if self.major_secs > 0 {
            ComponentStatus::MajorOutage
        } else if self.partial_secs > 0 {
            ComponentStatus::PartialOutage
        } else if self.degraded_secs > 0 {
            ComponentStatus::DegradedPerformance
        } else if self.maintenance_secs > 0 {
            ComponentStatus::UnderMaintenance
        } else {
            ComponentStatus::Operational
        }
    }
}

/// The UTC day (Unix seconds at midnight) that `t` falls in.
pub fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY_SECS) * DAY_SECS
}

/// Splits a component's status history into per-day totals between `from` and `to`.
///
/// `changes` are (time, new status) in time order; the status before the first change is
/// `initial`. Time before `from` and after `to` is ignored. Returns (day, totals) in day order,
/// one entry per day touched.
pub fn split_by_day(
    initial: ComponentStatus,
    changes: &[(i64, ComponentStatus)],
    from: i64,
    to: i64,
) -> Vec<(i64, DayTotals)> {
    let mut days: Vec<(i64, DayTotals)> = vec![];
    if to <= from {
        return days;
    }
    let mut status = initial;
    let mut at = from;
    let mut add_span = |status: ComponentStatus, start: i64, end: i64| {
        let mut t = start;
        while t < end {
            let day = day_of(t);
            let stop = end.min(day + DAY_SECS);
            match days.last_mut() {
                Some((d, totals)) if *d == day => totals.add(status, stop - t),
                _ => {
                    let mut totals = DayTotals::default();
                    totals.add(status, stop - t);
                    days.push((day, totals));
                }
            }
            t = stop;
        }
    };
    for &(t, next) in changes {
        if t <= at {
            status = next;
            continue;
        }
        if t >= to {
            break;
        }
        add_span(status, at, t);
        status = next;
        at = t;
    }
    add_span(status, at, to);
    days
}

/// Uptime over some days as a percentage of the time observed; None when nothing was observed.
pub fn uptime_percent(days: &[DayTotals]) -> Option<f64> {
    let observed: i64 = days.iter().map(|d| d.observed_secs).sum();
    if observed == 0 {
        return None;
    }
    let down: f64 = days.iter().map(DayTotals::down_secs).sum();
    Some((100.0 * (1.0 - down / observed as f64)).clamp(0.0, 100.0))
}

/// An uptime percentage as the page prints it: two decimals, never rounded up to 100.00 when
/// there was any downtime.
pub fn format_percent(p: f64) -> String {
    let floored = (p * 100.0).floor() / 100.0;
    format!("{floored:.2}%")
}

/// The status a component showed over time, from the status it was set to and the maintenance
/// windows that covered it (each `(start, end)`; `end` None while it runs): maintenance shows
/// over anything no worse than degraded performance ([`super::shown_component_status`]).
/// Returns the status shown at `from` and the changes after it.
pub fn overlay_maintenance(
    initial: ComponentStatus,
    changes: &[(i64, ComponentStatus)],
    windows: &[(i64, Option<i64>)],
    from: i64,
) -> (ComponentStatus, Vec<(i64, ComponentStatus)>) {
    let set_at = |t: i64| {
        changes
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .map_or(initial, |(_, s)| *s)
    };
    let covered_at = |t: i64| windows.iter().any(|(s, e)| *s <= t && e.is_none_or(|e| t < e));
    let shown_at = |t: i64| super::shown_component_status(set_at(t), covered_at(t));
    let mut times: Vec<i64> = changes
        .iter()
        .map(|c| c.0)
        .chain(windows.iter().flat_map(|(s, e)| std::iter::once(*s).chain(*e)))
        .filter(|t| *t > from)
        .collect();
    times.sort_unstable();
    times.dedup();
    let first = shown_at(from);
    let mut last = first;
    let mut out = vec![];
    for t in times {
        let s = shown_at(t);
        if s != last {
            out.push((t, s));
            last = s;
        }
    }
    (first, out)
}
