//! Configuration: one typed struct, read from `candor.toml` and then `CANDOR_*` environment
//! variables, checked at start-up. Every key is declared once, in [`keys::KEYS`], and documented in
//! `docs/CONFIGURATION.md`.

mod backup;
mod http;
pub mod keys;
mod mail;
mod metrics;
mod monitors;
mod scale;
mod storage;
#[cfg(test)]
mod tests;
mod values;

pub use backup::{destination as backup_destination, BackupSettings};
pub use http::HttpLimits;
pub use keys::KEYS;
pub use metrics::MetricsSettings;
pub use monitors::MonitorSettings;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the SQLite database (and later blobs and keys) live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; never logged with its password.
    pub database_url: String,
    /// The address visitors use, for absolute links (feeds, sitemap, setup links) and the CSRF
    /// Origin check.
    pub public_url: String,
    pub log_format: LogFormat,
    pub log_level: String,
    /// CSP `frame-ancestors` value: who may embed the site in a frame.
    pub frame_ancestors: String,
    /// Mark cookies `Secure` and send HSTS (set when served over TLS or behind a TLS proxy).
    pub secure_cookies: bool,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// A viewer session (NDA documents) unused this long ends (minutes).
    pub viewer_session_idle_minutes: i64,
    /// A viewer session ends this long after sign-in, however active (hours).
    pub viewer_session_absolute_hours: i64,
    /// A session's id is replaced this often while it is in use (the user stays signed in).
    pub session_rotate_minutes: i64,
    /// Load the demo trust center into an empty database.
    pub demo: bool,
    /// Also print every audit-log entry to standard output as a JSON line (for a SIEM).
    pub audit_stdout: bool,
    /// Serve HTTPS with this certificate chain and key (PEM), both or neither.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// With TLS: also listen here for plain HTTP and redirect everything to HTTPS.
    pub redirect_http_listen: Option<SocketAddr>,
    /// Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<IpNet>,
    /// Outgoing mail; `None` when `smtp_host` is not set (mail stays queued, nothing is sent).
    pub smtp: Option<candor_notify::SmtpSettings>,
    /// Single sign-on with OpenID Connect; `None` when `oidc_issuer` is not set.
    pub oidc: Option<crate::identity::oidc::OidcSettings>,
    /// Where uploaded files go, how big they may be, and the master key ring's source.
    pub storage: storage::StorageSettings,
    /// Timeouts and the connection cap of the HTTP listener, and the grace period at shutdown.
    pub http: HttpLimits,
    /// How the outbox retries; not a configuration key (tests shorten it).
    pub mail_retry: candor_notify::RetryPolicy,
    /// How webhooks are sent: `webhook_*` keys; the waits between attempts are not keys (tests
    /// shorten them).
    pub webhooks: candor_notify::webhook::WebhookPolicy,
    /// How often the server checks for content changed by another process; not a configuration
    /// key (tests shorten it).
    pub content_watch_every: std::time::Duration,
    /// The built-in status monitors.
    pub monitors: MonitorSettings,
    /// Scheduled backups (`backup_*` keys).
    pub backup: BackupSettings,
    /// Who may read `/metrics`.
    pub metrics: MetricsSettings,
}

/// An address range such as `10.0.0.0/8` or `::1/128`; a bare address is a range of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Option<IpNet> {
        let (a, p) = s
            .trim()
            .split_once('/')
            .map(|(a, p)| (a, Some(p)))
            .unwrap_or((s.trim(), None));
        let addr: std::net::IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let bits = |ip: std::net::IpAddr| -> (u128, u32) {
            match ip {
                std::net::IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
                std::net::IpAddr::V6(v) => match v.to_ipv4_mapped() {
                    Some(v4) => (u128::from(u32::from(v4)), 32),
                    None => (u128::from(v), 128),
                },
            }
        };
        let ((net, width), (ip, ip_width)) = (bits(self.addr), bits(ip));
        if width != ip_width {
            return false;
        }
        let shift = width - u32::from(self.prefix);
        shift >= width || (net >> shift) == (ip >> shift)
    }
}

/// The form `parse` reads: a bare address for a range of one.
impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.addr, self.prefix) {
            (std::net::IpAddr::V4(a), 32) => write!(f, "{a}"),
            (std::net::IpAddr::V6(a), 128) => write!(f, "{a}"),
            (a, p) => write!(f, "{a}/{p}"),
        }
    }
}

/// Every key's value, with secrets masked as [`keys::Secret`] says: configuration gets logged
/// when things go wrong.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Config");
        for key in KEYS {
            out.field(key.name, &key.shown(self));
        }
        out.finish()
    }
}

/// Every problem found, each naming the key and the fix.
#[derive(Debug, thiserror::Error)]
#[error("configuration is not valid:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// Reads `file` (if it exists, or if it was asked for explicitly) and then the environment.
    pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
        let mut problems = vec![];
        let default_path = PathBuf::from("candor.toml");
        let (path, required) = match file {
            Some(p) => (p.to_path_buf(), true),
            None => match env.get("CANDOR_CONFIG") {
                Some(p) => (PathBuf::from(p), true),
                None => (default_path, false),
            },
        };
        let mut v = values::Values::default();
        match std::fs::read_to_string(&path) {
            Ok(text) => v.read_file(&path, &text, &mut problems),
            Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
                problems.push(format!("cannot read configuration file {}: {e}", path.display()));
            }
            Err(_) => {}
        }
        v.read_env(env, &mut problems);
        let data_dir = PathBuf::from(v.text("data_dir").unwrap_or_default());
        let smtp = mail::smtp_settings(&mut v, &mut problems);
        let storage = storage::settings(&mut v, &data_dir, &mut problems);
        let http = http::limits(&mut v, &mut problems);
        let monitors = monitors::settings(&mut v, &mut problems);
        let backup = backup::settings(
            &mut v,
            &data_dir,
            &storage.backend,
            &|k| env.get(k).cloned(),
            &mut problems,
        );
        let metrics = metrics::settings(&mut v, &mut problems);
        let oidc = crate::identity::oidc::OidcSettings::from_keys(crate::identity::oidc::OidcKeys {
            issuer: v.text("oidc_issuer"),
            client_id: v.text("oidc_client_id"),
            client_secret: v.text("oidc_client_secret"),
            scopes: v.text("oidc_scopes"),
            groups_claim: v.text("oidc_groups_claim"),
            role_map: v.text("oidc_role_map"),
            default_role: v.text("oidc_default_role"),
            jit: v.flag("oidc_jit"),
            only: v.flag("oidc_only"),
            label: v.text("oidc_label"),
        })
        .unwrap_or_else(|mut p| {
            problems.append(&mut p);
            None
        });
        let listen_text = v.text("listen").unwrap_or_default();
        let listen = listen_text.parse::<SocketAddr>().unwrap_or_else(|_| {
            problems.push(format!(
                "listen = {listen_text:?} is not an address; write it as IP:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:80"
            ));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let database_url = v
            .text("database_url")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("candor.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            problems.push(format!(
                "database_url = {:?} is not supported; use sqlite://path/to/candor.db or postgres://user@host/db",
                candor_store::redact_url(&database_url)
            ));
        }
        let tls = match (v.text("tls_cert_file"), v.text("tls_key_file")) {
            (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
            (None, None) => None,
            _ => {
                problems.push("tls_cert_file and tls_key_file go together: set both to serve HTTPS, or neither".into());
                None
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let public_url = v
            .text("public_url")
            .unwrap_or_else(|| format!("{scheme}://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let redirect_http_listen =
            v.text("redirect_http_listen")
                .as_deref()
                .and_then(|r| match r.parse::<SocketAddr>() {
                    Ok(a) if tls.is_some() => Some(a),
                    Ok(_) => {
                        problems.push(
                            "redirect_http_listen only makes sense with TLS; set tls_cert_file and tls_key_file too"
                                .into(),
                        );
                        None
                    }
                    Err(_) => {
                        problems.push(format!(
                            "redirect_http_listen = {r:?} is not an address; write it as IP:PORT, e.g. 0.0.0.0:80"
                        ));
                        None
                    }
                });
        let mut trusted_proxies = vec![];
        for p in v.list("trusted_proxies").unwrap_or_default() {
            match IpNet::parse(&p) {
                Some(n) => trusted_proxies.push(n),
                None => problems.push(format!(
                    "trusted_proxies entry {p:?} is not an address or range; write e.g. 10.0.0.5 or 10.0.0.0/8"
                )),
            }
        }
        match url::Url::parse(&public_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.path() == "/" && u.query().is_none() => {}
            _ => problems.push(format!(
                "public_url = {public_url:?} is not a site address; write the scheme and host only, e.g. https://trust.example.com"
            )),
        }
        let log_format = match v.text("log_format").unwrap_or_default().as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                problems.push(format!(
                    "log_format = {other:?} is not known; use \"pretty\" or \"json\""
                ));
                LogFormat::Pretty
            }
        };
        let log_level = v.text("log_level").unwrap_or_default();
        if tracing_level_ok(&log_level).is_err() {
            problems.push(format!(
                "log_level = {log_level:?} is not a level; use error, warn, info, debug or trace"
            ));
        }
        let frame_ancestors = v.text("frame_ancestors").unwrap_or_default();
        if frame_ancestors.contains([';', ',', '\n', '\r']) {
            problems.push("frame_ancestors must be a space-separated CSP source list without ; or ,".into());
        }
        let session_idle_minutes = v.number("session_idle_minutes").unwrap_or_default();
        let session_absolute_hours = v.number("session_absolute_hours").unwrap_or_default();
        if !(1..=24 * 60).contains(&session_idle_minutes) {
            problems.push(format!(
                "session_idle_minutes = {session_idle_minutes} must be between 1 and 1440"
            ));
        }
        if !(1..=24 * 30).contains(&session_absolute_hours) {
            problems.push(format!(
                "session_absolute_hours = {session_absolute_hours} must be between 1 and 720"
            ));
        }
        let viewer_session_idle_minutes = v.number("viewer_session_idle_minutes").unwrap_or_default();
        let viewer_session_absolute_hours = v.number("viewer_session_absolute_hours").unwrap_or_default();
        if !(1..=24 * 60).contains(&viewer_session_idle_minutes) {
            problems.push(format!(
                "viewer_session_idle_minutes = {viewer_session_idle_minutes} must be between 1 and 1440"
            ));
        }
        if !(1..=24 * 30).contains(&viewer_session_absolute_hours) {
            problems.push(format!(
                "viewer_session_absolute_hours = {viewer_session_absolute_hours} must be between 1 and 720"
            ));
        }
        let session_rotate_minutes = v.number("session_rotate_minutes").unwrap_or_default();
        if !(1..=24 * 60).contains(&session_rotate_minutes) {
            problems.push(format!(
                "session_rotate_minutes = {session_rotate_minutes} must be between 1 and 1440"
            ));
        }
        let webhooks = webhook_policy(&mut v, &mut problems);
        let content_watch_every = scale::content_poll(&mut v, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Config {
            smtp,
            storage,
            http,
            oidc,
            mail_retry: candor_notify::RetryPolicy::default(),
            webhooks,
            content_watch_every,
            monitors,
            backup,
            metrics,
            listen,
            data_dir,
            database_url,
            secure_cookies: v.flag("secure_cookies").unwrap_or(public_url.starts_with("https://")),
            tls,
            redirect_http_listen,
            trusted_proxies,
            public_url,
            log_format,
            log_level,
            frame_ancestors,
            session_idle_minutes,
            session_absolute_hours,
            viewer_session_idle_minutes,
            viewer_session_absolute_hours,
            session_rotate_minutes,
            demo: v.flag("demo").unwrap_or_default(),
            audit_stdout: v.flag("audit_stdout").unwrap_or_default(),
        })
    }

    /// A configuration for tests: everything it writes (key file, stored files) goes under `data_dir`.
    pub fn for_tests(database_url: &str, data_dir: &Path) -> Config {
        let mut env = BTreeMap::new();
        env.insert("CANDOR_DATABASE_URL".to_owned(), database_url.to_owned());
        env.insert("CANDOR_DATA_DIR".to_owned(), data_dir.display().to_string());
        Config::load(Some(Path::new("/dev/null")), &env).expect("test config is valid")
    }
}

/// The `webhook_*` keys.
fn webhook_policy(v: &mut values::Values, problems: &mut Vec<String>) -> candor_notify::webhook::WebhookPolicy {
    let mut policy = candor_notify::webhook::WebhookPolicy {
        allow_private: v.flag("webhook_allow_private").unwrap_or_default(),
        ..Default::default()
    };
    match v.number("webhook_max_attempts").unwrap_or(policy.max_attempts) {
        n @ 1..=50 => policy.max_attempts = n,
        n => problems.push(format!("webhook_max_attempts = {n} must be between 1 and 50")),
    }
    match v.number("webhook_timeout_seconds").unwrap_or(10) {
        n @ 1..=60 => policy.timeout = std::time::Duration::from_secs(n as u64),
        n => problems.push(format!("webhook_timeout_seconds = {n} must be between 1 and 60")),
    }
    policy
}

fn tracing_level_ok(s: &str) -> Result<(), ()> {
    match s {
        "error" | "warn" | "info" | "debug" | "trace" => Ok(()),
        _ if s.contains('=') => Ok(()),
        _ => Err(()),
    }
}
