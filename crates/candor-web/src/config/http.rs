//! How the HTTP listener protects itself from slow and idle clients (`header_timeout_seconds`,
//! `idle_timeout_seconds`, `max_connections`) and how long a stop waits for requests in flight
//! (`shutdown_grace_seconds`).

use super::values::Values;
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

/// The declared defaults of the four keys (`keys::KEYS`); a test keeps the two equal.
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

pub(super) fn limits(v: &mut Values, problems: &mut Vec<String>) -> HttpLimits {
    let mut seconds = |key: &str, range: std::ops::RangeInclusive<i64>| {
        let n = v.number(key).unwrap_or_default();
        if !range.contains(&n) {
            problems.push(format!(
                "{key} = {n} must be between {} and {} (seconds)",
                range.start(),
                range.end()
            ));
        }
        Duration::from_secs(n.clamp(*range.start(), *range.end()) as u64)
    };
    let header_timeout = seconds("header_timeout_seconds", 1..=600);
    let idle_timeout = seconds("idle_timeout_seconds", 1..=3600);
    let shutdown_grace = seconds("shutdown_grace_seconds", 0..=3600);
    let max_connections = v.number("max_connections").unwrap_or_default();
    if !(1..=1_000_000).contains(&max_connections) {
        problems.push(format!(
            "max_connections = {max_connections} must be between 1 and 1000000"
        ));
    }
    HttpLimits {
        header_timeout,
        idle_timeout,
        max_connections: max_connections.clamp(1, 1_000_000) as usize,
        shutdown_grace,
    }
}
