//! The built-in monitors' settings: whether checks may reach private addresses, an extra
//! trusted root, how long raw results are kept and how many checks run at once.

use super::values::Values;
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorSettings {
    /// Checks may reach loopback, private and link-local addresses.
    pub allow_private: bool,
    /// A PEM file of root certificates trusted besides the Mozilla set (an internal CA). Read
    /// when the monitors start.
    pub extra_root: Option<PathBuf>,
    /// Raw check results older than this many days are pruned (the daily roll-up stays).
    pub retention_days: i64,
    /// Checks in flight at once.
    pub concurrency: usize,
}

/// The declared defaults of the keys (`keys::KEYS`); a test keeps the two equal.
impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            allow_private: false,
            extra_root: None,
            retention_days: 7,
            concurrency: 64,
        }
    }
}

pub(super) fn settings(v: &mut Values, problems: &mut Vec<String>) -> MonitorSettings {
    let retention_days = v.number("status_results_retention_days").unwrap_or_default();
    if !(1..=366).contains(&retention_days) {
        problems.push(format!(
            "status_results_retention_days = {retention_days} must be between 1 and 366 (days)"
        ));
    }
    let concurrency = v.number("status_monitor_concurrency").unwrap_or_default();
    if !(1..=4096).contains(&concurrency) {
        problems.push(format!(
            "status_monitor_concurrency = {concurrency} must be between 1 and 4096 (checks at once)"
        ));
    }
    MonitorSettings {
        allow_private: v.flag("status_monitor_allow_private").unwrap_or_default(),
        extra_root: v.text("status_monitor_extra_root").map(PathBuf::from),
        retention_days: retention_days.clamp(1, 366),
        concurrency: concurrency.clamp(1, 4096) as usize,
    }
}
