//! Scheduled backups from `serve`: how often (`backup_interval_minutes`), where (`backup_dir`)
//! and how many archives are kept (`backup_keep`).

use super::values::Values;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSettings {
    /// Time between scheduled backups; `None` when `serve` takes none (`candor backup` from cron
    /// or a systemd timer works either way).
    pub interval: Option<Duration>,
    /// Where scheduled backups are written (and where `candor backup` and `candor dr-drill`
    /// look by default).
    pub dir: PathBuf,
    /// Scheduled archives kept in `dir`; older ones are deleted after each good run.
    pub keep: usize,
}

pub(super) fn settings(v: &mut Values, data_dir: &Path, problems: &mut Vec<String>) -> BackupSettings {
    let minutes = v.number("backup_interval_minutes").unwrap_or_default();
    if !(0..=525_600).contains(&minutes) {
        problems.push(format!(
            "backup_interval_minutes = {minutes} must be between 0 (no scheduled backups) and 525600 (a year)"
        ));
    }
    let keep = v.number("backup_keep").unwrap_or_default();
    if !(1..=10_000).contains(&keep) {
        problems.push(format!("backup_keep = {keep} must be between 1 and 10000 (archives)"));
    }
    BackupSettings {
        interval: (minutes > 0).then(|| Duration::from_secs(minutes.clamp(1, 525_600) as u64 * 60)),
        dir: v
            .text("backup_dir")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("backups")),
        keep: keep.clamp(1, 10_000) as usize,
    }
}
