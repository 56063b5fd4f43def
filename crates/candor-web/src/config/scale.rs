//! Keys for running several instances.

use super::values::Values;
use std::time::Duration;

/// `content_poll_seconds`: how often an instance looks in the database for content changed behind
/// its back. On PostgreSQL instances tell each other of their changes at once (LISTEN/NOTIFY), so
/// the poll is only the safety net for changes nobody announced (the CLI, a lost notice).
pub(super) fn content_poll(v: &mut Values, problems: &mut Vec<String>) -> Duration {
    match v.number("content_poll_seconds").unwrap_or(5) {
        n @ 1..=3600 => Duration::from_secs(n as u64),
        n => {
            problems.push(format!(
                "content_poll_seconds = {n} must be between 1 and 3600 (seconds between looks for content changed elsewhere)"
            ));
            Duration::from_secs(5)
        }
    }
}
