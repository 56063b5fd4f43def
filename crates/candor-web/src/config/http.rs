//! How the HTTP listener protects itself from slow and idle clients (`header_timeout_seconds`,
//! `idle_timeout_seconds`, `max_connections`) and how long a stop waits for requests in flight
//! (`shutdown_grace_seconds`).

use super::FileConfig;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// From the first byte of a request (or from the moment a connection opens) until its whole
    /// head has arrived; also bounds a TLS handshake.
    pub header_timeout: Duration,
    /// A kept-alive connection with no request under way, or a client that stops reading the
    /// response or sending its request body, is closed after this long without progress.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the kernel's queue until one closes.
    pub max_connections: usize,
    /// After SIGTERM or SIGINT, requests in flight get this long before they are cut off.
    pub shutdown_grace: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 2048,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

pub(super) fn limits(fc: &FileConfig, problems: &mut Vec<String>) -> HttpLimits {
    let defaults = HttpLimits::default();
    let mut seconds = |key: &str, value: Option<i64>, default: Duration, range: std::ops::RangeInclusive<i64>| {
        let v = value.unwrap_or(default.as_secs() as i64);
        if range.contains(&v) {
            Duration::from_secs(v as u64)
        } else {
            problems.push(format!(
                "{key} = {v} must be between {} and {} (seconds)",
                range.start(),
                range.end()
            ));
            default
        }
    };
    let header_timeout = seconds(
        "header_timeout_seconds",
        fc.header_timeout_seconds,
        defaults.header_timeout,
        1..=600,
    );
    let idle_timeout = seconds(
        "idle_timeout_seconds",
        fc.idle_timeout_seconds,
        defaults.idle_timeout,
        1..=3600,
    );
    let shutdown_grace = seconds(
        "shutdown_grace_seconds",
        fc.shutdown_grace_seconds,
        defaults.shutdown_grace,
        0..=3600,
    );
    let max_connections = match fc.max_connections {
        None => defaults.max_connections,
        Some(n) if (1..=1_000_000).contains(&n) => n as usize,
        Some(n) => {
            problems.push(format!("max_connections = {n} must be between 1 and 1000000"));
            defaults.max_connections
        }
    };
    HttpLimits {
        header_timeout,
        idle_timeout,
        max_connections,
        shutdown_grace,
    }
}
