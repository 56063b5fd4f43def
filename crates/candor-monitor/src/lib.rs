//! Candor's built-in status checks: an HTTP(S) request, a TCP connection, a TLS handshake.
//!
//! [`run_check`] runs one check of a [`MonitorSpec`] and says what it found in an [`Outcome`]:
//! up, degraded (slow, or a certificate about to expire) or down, how long it took, and in
//! plain words what failed. What the outcome does to a component is candor-core's
//! ([`candor_core::status::monitor::step`]).
//!
//! Targets are given by people, so every check resolves the name itself, refuses it when any
//! address is private or loopback (unless the configuration allows them, see
//! [`candor_core::outbound::refusal`]) and connects only to an address it checked: a name that
//! resolves differently a moment later (DNS rebinding) gains nothing. Redirects are not
//! followed. Every step runs under the monitor's timeout.

mod connect;
mod http;
mod tls;

pub use candor_core::status::monitor::CheckStatus;
pub use tls::GuardError;

use candor_core::status::monitor::{MonitorKind, MonitorSpec, TlsVersion};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: CheckStatus,
    /// From the start of the check to its answer (or to the failure).
    pub latency_ms: u32,
    /// What failed, or why it is degraded, in plain words; empty when all was well.
    pub detail: String,
}

/// What checks may reach and whom they trust: built once and shared by every check.
#[derive(Clone)]
pub struct Guard {
    allow_private: bool,
    tls: Arc<tls::Configs>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// `allow_private` admits loopback and private targets; `extra_roots_pem` adds trusted root
    /// certificates (an internal CA) to the Mozilla set.
    pub fn new(allow_private: bool, extra_roots_pem: Option<&[u8]>) -> Result<Guard, GuardError> {
        Ok(Guard {
            allow_private,
            tls: Arc::new(tls::Configs::new(extra_roots_pem)?),
        })
    }

    pub fn allows_private(&self) -> bool {
        self.allow_private
    }
}

/// Where a check is while it runs, for the words of a timeout.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stage {
    Resolving,
    Connecting,
    Handshaking,
    Waiting,
    Reading,
}

impl Stage {
    fn doing(self) -> &'static str {
        match self {
            Stage::Resolving => "looking up the name",
            Stage::Connecting => "connecting",
            Stage::Handshaking => "in the TLS handshake",
            Stage::Waiting => "waiting for the answer",
            Stage::Reading => "reading the body",
        }
    }
}

/// A check's finding before timing: down with why, or up (possibly degraded) with notes.
pub(crate) enum Found {
    Down(String),
    /// Up; each note makes it degraded.
    Up(Vec<String>),
}

/// Runs one check of `spec`. Never fails: whatever goes wrong is a down outcome that says what.
pub async fn run_check(spec: &MonitorSpec, guard: &Guard) -> Outcome {
    let started = Instant::now();
    let mut stage = Stage::Resolving;
    let limit = Duration::from_millis(u64::from(spec.timeout_ms));
    let found = match tokio::time::timeout(limit, check(spec, guard, &mut stage)).await {
        Ok(found) => found,
        Err(_) => Found::Down(format!("no answer within {} ms ({})", spec.timeout_ms, stage.doing())),
    };
    let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
    match found {
        Found::Down(detail) => Outcome {
            status: CheckStatus::Down,
            latency_ms,
            detail,
        },
        Found::Up(mut notes) => {
            if let Some(limit) = spec.settings.latency_ms.filter(|l| latency_ms > *l) {
                notes.insert(0, format!("slow: {latency_ms} ms (threshold {limit} ms)"));
            }
            Outcome {
                status: if notes.is_empty() {
                    CheckStatus::Up
                } else {
                    CheckStatus::Degraded
                },
                latency_ms,
                detail: notes.join("; "),
            }
        }
    }
}

async fn check(spec: &MonitorSpec, guard: &Guard, stage: &mut Stage) -> Found {
    let endpoint = match spec.endpoint() {
        Ok(e) => e,
        Err(why) => return Found::Down(format!("the target is not valid: {why}")),
    };
    let tcp = match connect::open(&endpoint.host, endpoint.port, guard.allow_private, stage).await {
        Ok(s) => s,
        Err(why) => return Found::Down(why),
    };
    let min = spec.settings.min_tls;
    let warn_days = spec.settings.cert_expiry_days;
    match spec.kind {
        MonitorKind::Tcp => Found::Up(vec![]),
        MonitorKind::Tls => {
            *stage = Stage::Handshaking;
            match guard.tls.handshake(tcp, &endpoint.host, min, false).await {
                Ok(stream) => Found::Up(tls::expiry_note(&stream, warn_days).into_iter().collect()),
                Err(why) => Found::Down(why),
            }
        }
        MonitorKind::Http if endpoint.tls => {
            *stage = Stage::Handshaking;
            let stream = match guard.tls.handshake(tcp, &endpoint.host, min, true).await {
                Ok(s) => s,
                Err(why) => return Found::Down(why),
            };
            let note = tls::expiry_note(&stream, warn_days);
            match http::exchange(stream, spec, &endpoint, stage).await {
                Found::Up(mut notes) => {
                    notes.extend(note);
                    Found::Up(notes)
                }
                down => down,
            }
        }
        MonitorKind::Http => http::exchange(tcp, spec, &endpoint, stage).await,
    }
}

/// How a TLS version is written for people.
pub(crate) fn tls_name(v: TlsVersion) -> &'static str {
    match v {
        TlsVersion::V1_2 => "TLS 1.2",
        TlsVersion::V1_3 => "TLS 1.3",
    }
}
