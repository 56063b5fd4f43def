//! Built-in monitors: what a monitor checks (parsed from the back office's form, with errors that
//! name the field and the fix) and what its results do to its component.
//!
//! A monitor's results move its component through a small state machine, [`step`]: the component
//! goes to the monitor's down status only after N consecutive failed checks, to degraded
//! performance after N consecutive checks that were not fully up, and back to operational after
//! one good check. The checks themselves (I/O) are the `candor-monitor` crate's.

use super::ComponentStatus;
pub use crate::content::FieldError;
use serde::{Deserialize, Serialize};

/// The shortest interval between two checks of one monitor.
pub const MIN_INTERVAL_SECS: u32 = 10;
/// The longest: a day.
pub const MAX_INTERVAL_SECS: u32 = 86_400;
/// The shortest timeout worth setting.
pub const MIN_TIMEOUT_MS: u32 = 100;
/// The most consecutive failures a monitor may wait for.
pub const MAX_FAILURES_BEFORE_DOWN: u32 = 100;
/// The longest text a body check looks for.
pub const MAX_BODY_TEXT: usize = 1_000;

/// What a monitor does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MonitorKind {
    /// An HTTP or HTTPS request, its status and (optionally) its body and certificate.
    Http,
    /// A TCP connection that opens.
    Tcp,
    /// A TLS handshake with at least a protocol version, and the certificate's expiry.
    Tls,
}

impl MonitorKind {
    pub const ALL: &'static [MonitorKind] = &[MonitorKind::Http, MonitorKind::Tcp, MonitorKind::Tls];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorKind::Http => "http",
            MonitorKind::Tcp => "tcp",
            MonitorKind::Tls => "tls",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MonitorKind::Http => "HTTP(S) request",
            MonitorKind::Tcp => "TCP connect",
            MonitorKind::Tls => "TLS handshake",
        }
    }

    pub fn parse(s: &str) -> Option<MonitorKind> {
        MonitorKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// The oldest TLS version a check accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TlsVersion {
    #[default]
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

impl TlsVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        }
    }

    pub fn parse(s: &str) -> Option<TlsVersion> {
        match s {
            "1.2" => Some(TlsVersion::V1_2),
            "1.3" => Some(TlsVersion::V1_3),
            _ => None,
        }
    }
}

/// The HTTP methods a check may use; each is sent without a body.
pub const HTTP_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// What a check looks at besides reachability; kept as JSON in the monitor's `settings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSettings {
    /// HTTP method (HTTP checks).
    pub method: String,
    /// The status the answer must have (HTTP checks); redirects are not followed.
    pub expected_status: u16,
    /// Text the body must contain (HTTP checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    /// Slower than this (milliseconds) is degraded performance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u32>,
    /// A certificate that expires within this many days is degraded (HTTPS and TLS checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_expiry_days: Option<u32>,
    /// The oldest TLS version accepted (HTTPS and TLS checks).
    #[serde(default)]
    pub min_tls: TlsVersion,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            method: "GET".into(),
            expected_status: 200,
            body_contains: None,
            latency_ms: None,
            cert_expiry_days: None,
            min_tls: TlsVersion::V1_2,
        }
    }
}

/// Everything a check needs and what its failures do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorSpec {
    pub kind: MonitorKind,
    /// An `http://` or `https://` URL, or `host:port` for TCP and TLS checks.
    pub target: String,
    pub settings: CheckSettings,
    /// Seconds between checks (at least [`MIN_INTERVAL_SECS`]).
    pub interval_secs: u32,
    /// A check without an answer within this many milliseconds failed (below the interval).
    pub timeout_ms: u32,
    /// This many consecutive failures set the component to `down_status`.
    pub failures_before_down: u32,
    /// Degraded performance, partial outage or major outage.
    pub down_status: ComponentStatus,
    /// Open an incident when the component goes down, resolved when it recovers.
    pub auto_incident: bool,
}

/// A monitor as a person sets it up: what it checks, and for which component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorDraft {
    pub name: String,
    pub component_id: i64,
    pub enabled: bool,
    pub spec: MonitorSpec,
}

/// Where a check connects and what it asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// A DNS name or an IP address (without brackets).
    pub host: String,
    pub port: u16,
    /// Whether the connection speaks TLS (HTTPS and TLS checks).
    pub tls: bool,
    /// The request's path and query (HTTP checks), at least `/`.
    pub path: String,
    /// The `Host` header: the host, with the port when it is not the scheme's default.
    pub host_header: String,
}

impl MonitorSpec {
    /// Where to connect. Only fails for a spec that was not parsed by [`MonitorForm::parse`]
    /// (a damaged row).
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        match self.kind {
            MonitorKind::Http => http_endpoint(&self.target),
            MonitorKind::Tcp | MonitorKind::Tls => {
                let (host, port) = host_port(&self.target)?;
                Ok(Endpoint {
                    host_header: self.target.clone(),
                    host,
                    port,
                    tls: self.kind == MonitorKind::Tls,
                    path: String::new(),
                })
            }
        }
    }

    /// Whether the check talks TLS (so the TLS version and certificate settings apply).
    pub fn uses_tls(&self) -> bool {
        match self.kind {
            MonitorKind::Http => self.target.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")),
            MonitorKind::Tls => true,
            MonitorKind::Tcp => false,
        }
    }
}

fn http_endpoint(target: &str) -> Result<Endpoint, String> {
    let url = url::Url::parse(target).map_err(|e| format!("not a URL ({e})"))?;
    let tls = match url.scheme() {
        "http" => false,
        "https" => true,
        other => return Err(format!("{other}: is not http or https")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a user name or password in the address".into());
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err("no host".into()),
    };
    let port = url.port_or_known_default().ok_or("no port")?;
    let mut path = url.path().to_owned();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let host_text = url.host_str().unwrap_or_default();
    let host_header = match url.port() {
        Some(p) => format!("{host_text}:{p}"),
        None => host_text.to_owned(),
    };
    Ok(Endpoint {
        host,
        port,
        tls,
        path,
        host_header,
    })
}

/// `host:port` or `[v6]:port`.
fn host_port(target: &str) -> Result<(String, u16), String> {
    let (host, port) = target.rsplit_once(':').ok_or("no port")?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or("the port is not a number from 1 to 65535")?;
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) if v6.parse::<std::net::Ipv6Addr>().is_ok() => v6.to_owned(),
        Some(_) => return Err("the address in brackets is not an IPv6 address".into()),
        None if host.contains(':') => return Err("write an IPv6 address in brackets, e.g. [2001:db8::1]:443".into()),
        None => host.to_owned(),
    };
    let valid_name = !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !valid_name && host.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("{host:?} is not a host name or address"));
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// The monitor form as typed: every field a string, as forms and JSON bodies send them. Empty
/// optional fields mean "not set"; empty fields with a default take it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitorForm {
    pub name: String,
    pub component: String,
    pub kind: String,
    pub target: String,
    pub method: String,
    pub expected_status: String,
    pub body_contains: String,
    pub latency_ms: String,
    pub cert_expiry_days: String,
    pub min_tls: String,
    pub interval_secs: String,
    pub timeout_ms: String,
    pub failures_before_down: String,
    pub down_status: String,
    /// A checkbox: `on`, `true`, `1` or `yes` when ticked.
    pub auto_incident: String,
    pub enabled: String,
}

impl MonitorForm {
    /// The form filled with a monitor's values, for editing it.
    pub fn of(draft: &MonitorDraft) -> MonitorForm {
        let s = &draft.spec;
        let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        let flag = |b: bool| if b { "on" } else { "" }.to_owned();
        MonitorForm {
            name: draft.name.clone(),
            component: draft.component_id.to_string(),
            kind: s.kind.as_str().into(),
            target: s.target.clone(),
            method: s.settings.method.clone(),
            expected_status: s.settings.expected_status.to_string(),
            body_contains: s.settings.body_contains.clone().unwrap_or_default(),
            latency_ms: opt(s.settings.latency_ms),
            cert_expiry_days: opt(s.settings.cert_expiry_days),
            min_tls: s.settings.min_tls.as_str().into(),
            interval_secs: s.interval_secs.to_string(),
            timeout_ms: s.timeout_ms.to_string(),
            failures_before_down: s.failures_before_down.to_string(),
            down_status: s.down_status.as_str().into(),
            auto_incident: flag(s.auto_incident),
            enabled: flag(draft.enabled),
        }
    }

    /// A new monitor's form: the defaults filled in.
    pub fn blank() -> MonitorForm {
        MonitorForm {
            kind: "http".into(),
            method: "GET".into(),
            expected_status: "200".into(),
            min_tls: "1.2".into(),
            interval_secs: "60".into(),
            timeout_ms: "10000".into(),
            failures_before_down: "2".into(),
            down_status: ComponentStatus::MajorOutage.as_str().into(),
            enabled: "on".into(),
            ..MonitorForm::default()
        }
    }

    /// Checks every field; either a monitor or every problem found.
    pub fn parse(&self) -> Result<MonitorDraft, Vec<FieldError>> {
        let mut errors = vec![];
        let mut err = |field: &str, message: String| errors.push(FieldError::new(field, message));

        let name = self.name.trim().to_owned();
        if name.is_empty() {
            err("name", "Give the monitor a name, e.g. \"API health\".".into());
        } else if name.chars().count() > 100 {
            err("name", "Keep the name to 100 characters or fewer.".into());
        } else if name.chars().any(char::is_control) {
            err(
                "name",
                "The name cannot contain line breaks or control characters.".into(),
            );
        }
        let component_id = match self.component.trim().parse::<i64>() {
            Ok(id) if id > 0 => id,
            _ => {
                err("component", "Choose the component this monitor reports on.".into());
                0
            }
        };
        let kind = MonitorKind::parse(self.kind.trim()).unwrap_or_else(|| {
            err("kind", "Choose http, tcp or tls.".into());
            MonitorKind::Http
        });
        let target = self.target.trim().to_owned();
        let tls = match kind {
            MonitorKind::Http => {
                match http_endpoint(&target) {
                    Ok(e) => e.tls,
                    Err(why) => {
                        err(
                        "target",
                        format!("Write a full http:// or https:// address, e.g. https://api.example.com/health ({why})."),
                    );
                        false
                    }
                }
            }
            MonitorKind::Tcp | MonitorKind::Tls => {
                if let Err(why) = host_port(&target) {
                    err(
                        "target",
                        format!("Write host:port, e.g. db.example.com:5432 or [2001:db8::1]:443 ({why})."),
                    );
                }
                kind == MonitorKind::Tls
            }
        };

        let method = self.method.trim().to_ascii_uppercase();
        let method = if method.is_empty() { "GET".to_owned() } else { method };
        if kind == MonitorKind::Http && !HTTP_METHODS.contains(&method.as_str()) {
            err("method", format!("Use one of {}.", HTTP_METHODS.join(", ")));
        }
        let expected_status = match number(&self.expected_status, 200) {
            Some(s @ 100..=599) => s as u16,
            _ => {
                err(
                    "expected_status",
                    "Write an HTTP status code from 100 to 599, e.g. 200 (redirects are not followed, so a 301 must be expected as 301).".into(),
                );
                200
            }
        };
        let body_contains = Some(self.body_contains.trim().to_owned()).filter(|b| !b.is_empty());
        if let Some(b) = &body_contains {
            if kind != MonitorKind::Http {
                err(
                    "body_contains",
                    "Only HTTP checks read a body; leave this empty.".into(),
                );
            } else if method == "HEAD" {
                err(
                    "body_contains",
                    "A HEAD request has no body; use GET, or leave this empty.".into(),
                );
            } else if b.chars().count() > MAX_BODY_TEXT {
                err(
                    "body_contains",
                    format!("Keep the text to {MAX_BODY_TEXT} characters or fewer."),
                );
            }
        }

        let interval_secs = match number(&self.interval_secs, 60) {
            Some(s) if (MIN_INTERVAL_SECS..=MAX_INTERVAL_SECS).contains(&s) => s,
            _ => {
                err(
                    "interval_secs",
                    format!(
                        "Write a whole number of seconds from {MIN_INTERVAL_SECS} to {MAX_INTERVAL_SECS}, e.g. 60."
                    ),
                );
                60
            }
        };
        let timeout_ms = match number(&self.timeout_ms, 10_000.min(interval_secs * 1000 / 2)) {
            Some(t) if t >= MIN_TIMEOUT_MS && t < interval_secs.saturating_mul(1000) => t,
            _ => {
                err(
                    "timeout_ms",
                    format!(
                        "Write milliseconds from {MIN_TIMEOUT_MS} to below the interval ({} ms), e.g. 5000.",
                        interval_secs * 1000
                    ),
                );
                MIN_TIMEOUT_MS
            }
        };
        let latency_ms = match optional_number(&self.latency_ms) {
            Ok(None) => None,
            Ok(Some(l)) if l >= 1 && l < timeout_ms => Some(l),
            _ => {
                err(
                    "latency_ms",
                    format!("Write milliseconds below the timeout ({timeout_ms} ms), e.g. 1000, or leave it empty."),
                );
                None
            }
        };
        let cert_expiry_days = match optional_number(&self.cert_expiry_days) {
            Ok(None) => None,
            Ok(Some(_)) if !tls => {
                err(
                    "cert_expiry_days",
                    "Only checks over TLS (https:// or tls) see a certificate; leave this empty.".into(),
                );
                None
            }
            Ok(Some(d)) if (1..=365).contains(&d) => Some(d),
            _ => {
                err(
                    "cert_expiry_days",
                    "Write a number of days from 1 to 365, e.g. 14, or leave it empty.".into(),
                );
                None
            }
        };
        let min_tls = match self.min_tls.trim() {
            "" => TlsVersion::V1_2,
            v => TlsVersion::parse(v).unwrap_or_else(|| {
                err(
                    "min_tls",
                    "Choose 1.2 or 1.3 (older versions are never accepted).".into(),
                );
                TlsVersion::V1_2
            }),
        };
        let failures_before_down = match number(&self.failures_before_down, 2) {
            Some(n) if (1..=MAX_FAILURES_BEFORE_DOWN).contains(&n) => n,
            _ => {
                err(
                    "failures_before_down",
                    format!("Write a whole number from 1 to {MAX_FAILURES_BEFORE_DOWN}, e.g. 2."),
                );
                1
            }
        };
        let down_status = match self.down_status.trim() {
            "" => ComponentStatus::MajorOutage,
            s => match ComponentStatus::parse(s) {
                Some(s) if s.is_disrupted() => s,
                _ => {
                    err(
                        "down_status",
                        "Choose degraded_performance, partial_outage or major_outage.".into(),
                    );
                    ComponentStatus::MajorOutage
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(MonitorDraft {
            name,
            component_id,
            enabled: checked(&self.enabled),
            spec: MonitorSpec {
                kind,
                target,
                settings: CheckSettings {
                    method,
                    expected_status,
                    body_contains,
                    latency_ms,
                    cert_expiry_days,
                    min_tls,
                },
                interval_secs,
                timeout_ms,
                failures_before_down,
                down_status,
                auto_incident: checked(&self.auto_incident),
            },
        })
    }
}

/// A whole number, or `default` when the field is empty; None when it is not a number.
fn number(text: &str, default: u32) -> Option<u32> {
    match text.trim() {
        "" => Some(default),
        t => t.parse().ok(),
    }
}

fn optional_number(text: &str) -> Result<Option<u32>, ()> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(|_| ()),
    }
}

fn checked(text: &str) -> bool {
    matches!(text.trim(), "on" | "true" | "1" | "yes")
}

/// What one check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckStatus {
    /// Everything as expected.
    Up,
    /// It answered, but slowly or with a certificate about to expire.
    Degraded,
    /// No answer, or the wrong one.
    Down,
}

impl CheckStatus {
    pub const ALL: &'static [CheckStatus] = &[CheckStatus::Up, CheckStatus::Degraded, CheckStatus::Down];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Up => "up",
            CheckStatus::Degraded => "degraded",
            CheckStatus::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<CheckStatus> {
        CheckStatus::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// A monitor's memory between checks (kept in its row, so a restart keeps it): how many checks
/// in a row failed, how many in a row were not fully up, and what the monitor last made of its
/// component (`Up`: it left it alone or set it back to operational).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Streak {
    /// Consecutive checks that were down.
    pub failures: u32,
    /// Consecutive checks that were degraded or down.
    pub troubled: u32,
    /// The status this monitor last gave its component.
    pub verdict: Verdict,
}

/// What a monitor has made of its component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Nothing wrong: the component was left alone, or set back to operational.
    #[default]
    Up,
    /// Set to degraded performance.
    Degraded,
    /// Set to the monitor's down status.
    Down,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Up => "up",
            Verdict::Degraded => "degraded",
            Verdict::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "up" => Some(Verdict::Up),
            "degraded" => Some(Verdict::Degraded),
            "down" => Some(Verdict::Down),
            _ => None,
        }
    }
}

/// What a monitor does about its automatic incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncidentMove {
    /// The component just went down: open one (when the monitor opens incidents).
    Open,
    /// The component is back to operational: resolve the one this monitor opened, if any.
    Resolve,
}

/// What follows from one check: the new streak, and whether the component's status changes and
/// an automatic incident opens or resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub streak: Streak,
    /// The component's new status, when the verdict changed.
    pub set_status: Option<ComponentStatus>,
    pub incident: Option<IncidentMove>,
}

/// The next state after a check with `outcome`, for a monitor that waits for `threshold`
/// consecutive bad checks (at least 1).
///
/// - `threshold` consecutive down checks: the component goes to `down_status` (and an incident
///   opens when `auto_incident` is on).
/// - `threshold` consecutive checks that were not up, but fewer down ones: degraded performance.
/// - One up check: back to operational, and the monitor's incident resolves.
/// - A degraded check while down: the service answers again, so degraded performance.
///
/// The verdict never moves towards "better" unless the check itself was better, so results
/// that alternate below the threshold change nothing.
pub fn step(
    streak: Streak,
    threshold: u32,
    outcome: CheckStatus,
    down_status: ComponentStatus,
    auto_incident: bool,
) -> Step {
    let threshold = threshold.max(1);
    let (failures, troubled) = match outcome {
        CheckStatus::Up => (0, 0),
        CheckStatus::Degraded => (0, streak.troubled.saturating_add(1)),
        CheckStatus::Down => (streak.failures.saturating_add(1), streak.troubled.saturating_add(1)),
    };
    let verdict = match outcome {
        CheckStatus::Up => Verdict::Up,
        CheckStatus::Down if failures >= threshold => Verdict::Down,
        CheckStatus::Degraded if streak.verdict == Verdict::Down => Verdict::Degraded,
        CheckStatus::Degraded | CheckStatus::Down if streak.verdict == Verdict::Up && troubled >= threshold => {
            Verdict::Degraded
        }
        _ => streak.verdict,
    };
    let changed = verdict != streak.verdict;
    let set_status = changed.then_some(match verdict {
        Verdict::Up => ComponentStatus::Operational,
        Verdict::Degraded => ComponentStatus::DegradedPerformance,
        Verdict::Down => down_status,
    });
    let incident = match verdict {
        Verdict::Down if changed && auto_incident => Some(IncidentMove::Open),
        Verdict::Up if changed => Some(IncidentMove::Resolve),
        _ => None,
    };
    Step {
        streak: Streak {
            failures,
            troubled,
            verdict,
        },
        set_status,
        incident,
    }
}

#[cfg(test)]
#[path = "monitor_tests.rs"]
mod tests;
