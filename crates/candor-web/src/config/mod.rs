//! Configuration: one typed struct, read from `candor.toml` and then `CANDOR_*` environment
//! variables, checked at start-up. Every key is documented in `docs/CONFIGURATION.md`.

mod http;
mod mail;
mod storage;

pub use http::HttpLimits;

use serde::Deserialize;
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
    /// How often the server checks for content changed by another process; not a configuration
    /// key (tests shorten it).
    pub content_watch_every: std::time::Duration,
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

/// Debug output masks the database password: configuration gets logged when things go wrong.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &candor_store::redact_url(&self.database_url))
            .field("public_url", &self.public_url)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("frame_ancestors", &self.frame_ancestors)
            .field("secure_cookies", &self.secure_cookies)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .field("session_rotate_minutes", &self.session_rotate_minutes)
            .field("demo", &self.demo)
            .field("audit_stdout", &self.audit_stdout)
            .field("tls", &self.tls)
            .field("redirect_http_listen", &self.redirect_http_listen)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("smtp", &self.smtp)
            .field("oidc", &self.oidc)
            .field("storage", &self.storage)
            .field("http", &self.http)
            .finish()
    }
}

/// The file form: every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    public_url: Option<String>,
    log_format: Option<String>,
    log_level: Option<String>,
    frame_ancestors: Option<String>,
    secure_cookies: Option<bool>,
    session_idle_minutes: Option<i64>,
    session_absolute_hours: Option<i64>,
    session_rotate_minutes: Option<i64>,
    demo: Option<bool>,
    audit_stdout: Option<bool>,
    tls_cert_file: Option<String>,
    tls_key_file: Option<String>,
    redirect_http_listen: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    smtp_host: Option<String>,
    smtp_port: Option<i64>,
    smtp_tls: Option<String>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    mail_from: Option<String>,
    oidc_issuer: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret: Option<String>,
    oidc_scopes: Option<String>,
    oidc_groups_claim: Option<String>,
    oidc_role_map: Option<String>,
    oidc_default_role: Option<String>,
    oidc_jit: Option<bool>,
    oidc_only: Option<bool>,
    oidc_label: Option<String>,
    master_key: Option<String>,
    storage: Option<String>,
    storage_dir: Option<String>,
    s3_bucket: Option<String>,
    s3_region: Option<String>,
    s3_endpoint: Option<String>,
    s3_access_key_id: Option<String>,
    s3_secret_access_key: Option<String>,
    s3_prefix: Option<String>,
    upload_limit_mb: Option<i64>,
    header_timeout_seconds: Option<i64>,
    idle_timeout_seconds: Option<i64>,
    max_connections: Option<i64>,
    shutdown_grace_seconds: Option<i64>,
}

/// Configuration keys, each also settable as `CANDOR_<KEY>` in upper case.
pub const KEYS: [&str; 47] = [
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "log_format",
    "log_level",
    "frame_ancestors",
    "secure_cookies",
    "session_idle_minutes",
    "session_absolute_hours",
    "session_rotate_minutes",
    "demo",
    "audit_stdout",
    "tls_cert_file",
    "tls_key_file",
    "redirect_http_listen",
    "trusted_proxies",
    "smtp_host",
    "smtp_port",
    "smtp_tls",
    "smtp_username",
    "smtp_password",
    "mail_from",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_scopes",
    "oidc_groups_claim",
    "oidc_role_map",
    "oidc_default_role",
    "oidc_jit",
    "oidc_only",
    "oidc_label",
    "master_key",
    "storage",
    "storage_dir",
    "s3_bucket",
    "s3_region",
    "s3_endpoint",
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_prefix",
    "upload_limit_mb",
    "header_timeout_seconds",
    "idle_timeout_seconds",
    "max_connections",
    "shutdown_grace_seconds",
];

/// Environment variables with the `CANDOR_` prefix that are not configuration keys.
const OTHER_ENV: [&str; 3] = ["CANDOR_CONFIG", "CANDOR_TEST_POSTGRES_URL", "CANDOR_TEST_PG"];

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
        let mut fc = match std::fs::read_to_string(&path) {
            Ok(text) => match toml::from_str::<FileConfig>(&text) {
                Ok(fc) => fc,
                Err(e) => {
                    problems.push(format!("{}: {}", path.display(), e.message()));
                    FileConfig::default()
                }
            },
            Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
                problems.push(format!("cannot read configuration file {}: {e}", path.display()));
                FileConfig::default()
            }
            Err(_) => FileConfig::default(),
        };
        for (name, value) in env.iter().filter(|(k, _)| k.starts_with("CANDOR_")) {
            if OTHER_ENV.contains(&name.as_str()) {
                continue;
            }
            let key = name["CANDOR_".len()..].to_ascii_lowercase();
            let v = Some(value.clone());
            let flag = |problems: &mut Vec<String>| match value.as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => {
                    problems.push(format!(
                        "{name}={value:?} is not true or false; set it to true or false"
                    ));
                    None
                }
            };
            let int = |problems: &mut Vec<String>| match value.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push(format!("{name}={value:?} is not a whole number"));
                    None
                }
            };
            match key.as_str() {
                "listen" => fc.listen = v,
                "data_dir" => fc.data_dir = v,
                "database_url" => fc.database_url = v,
                "public_url" => fc.public_url = v,
                "log_format" => fc.log_format = v,
                "log_level" => fc.log_level = v,
                "frame_ancestors" => fc.frame_ancestors = v,
                "secure_cookies" => fc.secure_cookies = flag(&mut problems).or(fc.secure_cookies),
                "session_idle_minutes" => fc.session_idle_minutes = int(&mut problems).or(fc.session_idle_minutes),
                "session_absolute_hours" => {
                    fc.session_absolute_hours = int(&mut problems).or(fc.session_absolute_hours)
                }
                "session_rotate_minutes" => {
                    fc.session_rotate_minutes = int(&mut problems).or(fc.session_rotate_minutes)
                }
                "demo" => fc.demo = flag(&mut problems).or(fc.demo),
                "audit_stdout" => fc.audit_stdout = flag(&mut problems).or(fc.audit_stdout),
                "tls_cert_file" => fc.tls_cert_file = v,
                "tls_key_file" => fc.tls_key_file = v,
                "redirect_http_listen" => fc.redirect_http_listen = v,
                "trusted_proxies" => {
                    fc.trusted_proxies = Some(
                        value
                            .split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                "smtp_host" => fc.smtp_host = v,
                "smtp_port" => fc.smtp_port = int(&mut problems).or(fc.smtp_port),
                "smtp_tls" => fc.smtp_tls = v,
                "smtp_username" => fc.smtp_username = v,
                "smtp_password" => fc.smtp_password = v,
                "mail_from" => fc.mail_from = v,
                "oidc_issuer" => fc.oidc_issuer = v,
                "oidc_client_id" => fc.oidc_client_id = v,
                "oidc_client_secret" => fc.oidc_client_secret = v,
                "oidc_scopes" => fc.oidc_scopes = v,
                "oidc_groups_claim" => fc.oidc_groups_claim = v,
                "oidc_role_map" => fc.oidc_role_map = v,
                "oidc_default_role" => fc.oidc_default_role = v,
                "oidc_jit" => fc.oidc_jit = flag(&mut problems).or(fc.oidc_jit),
                "oidc_only" => fc.oidc_only = flag(&mut problems).or(fc.oidc_only),
                "oidc_label" => fc.oidc_label = v,
                "master_key" => fc.master_key = v,
                "storage" => fc.storage = v,
                "storage_dir" => fc.storage_dir = v,
                "s3_bucket" => fc.s3_bucket = v,
                "s3_region" => fc.s3_region = v,
                "s3_endpoint" => fc.s3_endpoint = v,
                "s3_access_key_id" => fc.s3_access_key_id = v,
                "s3_secret_access_key" => fc.s3_secret_access_key = v,
                "s3_prefix" => fc.s3_prefix = v,
                "upload_limit_mb" => fc.upload_limit_mb = int(&mut problems).or(fc.upload_limit_mb),
                "header_timeout_seconds" => {
                    fc.header_timeout_seconds = int(&mut problems).or(fc.header_timeout_seconds)
                }
                "idle_timeout_seconds" => fc.idle_timeout_seconds = int(&mut problems).or(fc.idle_timeout_seconds),
                "max_connections" => fc.max_connections = int(&mut problems).or(fc.max_connections),
                "shutdown_grace_seconds" => {
                    fc.shutdown_grace_seconds = int(&mut problems).or(fc.shutdown_grace_seconds)
                }
                _ => problems.push(format!(
                    "{name} is not a Candor setting; remove it or use one of: {}",
                    KEYS.iter()
                        .map(|k| format!("CANDOR_{}", k.to_uppercase()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        let data_dir = PathBuf::from(fc.data_dir.take().unwrap_or_else(|| "./candor-data".into()));
        let smtp = mail::smtp_settings(&mut fc, &mut problems);
        let storage = storage::settings(&mut fc, &data_dir, &mut problems);
        let http = http::limits(&fc, &mut problems);
        let oidc = crate::identity::oidc::OidcSettings::from_keys(crate::identity::oidc::OidcKeys {
            issuer: fc.oidc_issuer.take(),
            client_id: fc.oidc_client_id.take(),
            client_secret: fc.oidc_client_secret.take(),
            scopes: fc.oidc_scopes.take(),
            groups_claim: fc.oidc_groups_claim.take(),
            role_map: fc.oidc_role_map.take(),
            default_role: fc.oidc_default_role.take(),
            jit: fc.oidc_jit,
            only: fc.oidc_only,
            label: fc.oidc_label.take(),
        })
        .unwrap_or_else(|mut p| {
            problems.append(&mut p);
            None
        });
        let listen_text = fc.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text.parse::<SocketAddr>().unwrap_or_else(|_| {
            problems.push(format!(
                "listen = {listen_text:?} is not an address; write it as IP:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:80"
            ));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let database_url = fc
            .database_url
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
        let tls = match (fc.tls_cert_file, fc.tls_key_file) {
            (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
            (None, None) => None,
            _ => {
                problems.push("tls_cert_file and tls_key_file go together: set both to serve HTTPS, or neither".into());
                None
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let public_url = fc
            .public_url
            .unwrap_or_else(|| format!("{scheme}://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let redirect_http_listen = fc
            .redirect_http_listen
            .as_deref()
            .and_then(|r| match r.parse::<SocketAddr>() {
                Ok(a) if tls.is_some() => Some(a),
                Ok(_) => {
                    problems.push(
                        "redirect_http_listen only makes sense with TLS; set tls_cert_file and tls_key_file too".into(),
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
        for p in fc.trusted_proxies.unwrap_or_default() {
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
        let log_format = match fc.log_format.as_deref().unwrap_or("pretty") {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                problems.push(format!(
                    "log_format = {other:?} is not known; use \"pretty\" or \"json\""
                ));
                LogFormat::Pretty
            }
        };
        let log_level = fc.log_level.unwrap_or_else(|| "info".into());
        if tracing_level_ok(&log_level).is_err() {
            problems.push(format!(
                "log_level = {log_level:?} is not a level; use error, warn, info, debug or trace"
            ));
        }
        let frame_ancestors = fc.frame_ancestors.unwrap_or_else(|| "'none'".into());
        if frame_ancestors.contains([';', ',', '\n', '\r']) {
            problems.push("frame_ancestors must be a space-separated CSP source list without ; or ,".into());
        }
        let session_idle_minutes = fc.session_idle_minutes.unwrap_or(30);
        let session_absolute_hours = fc.session_absolute_hours.unwrap_or(12);
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
        let session_rotate_minutes = fc.session_rotate_minutes.unwrap_or(15);
        if !(1..=24 * 60).contains(&session_rotate_minutes) {
            problems.push(format!(
                "session_rotate_minutes = {session_rotate_minutes} must be between 1 and 1440"
            ));
        }
        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Config {
            smtp,
            storage,
            http,
            oidc,
            mail_retry: candor_notify::RetryPolicy::default(),
            content_watch_every: std::time::Duration::from_secs(5),
            listen,
            data_dir,
            database_url,
            secure_cookies: fc.secure_cookies.unwrap_or(public_url.starts_with("https://")),
            tls,
            redirect_http_listen,
            trusted_proxies,
            public_url,
            log_format,
            log_level,
            frame_ancestors,
            session_idle_minutes,
            session_absolute_hours,
            session_rotate_minutes,
            demo: fc.demo.unwrap_or(true),
            audit_stdout: fc.audit_stdout.unwrap_or(false),
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

fn tracing_level_ok(s: &str) -> Result<(), ()> {
    match s {
        "error" | "warn" | "info" | "debug" | "trace" => Ok(()),
        _ if s.contains('=') => Ok(()),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults() {
        let c = Config::load(None, &env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://./candor-data/candor.db");
        assert!(!c.secure_cookies);
    }

    #[test]
    fn every_problem_is_named() {
        let e = Config::load(
            None,
            &env(&[
                ("CANDOR_LISTEN", "nowhere"),
                ("CANDOR_DEMO", "maybe"),
                ("CANDOR_COLOUR", "red"),
                ("CANDOR_DATABASE_URL", "mysql://x"),
            ]),
        )
        .unwrap_err();
        let all = e.0.join("\n");
        assert!(all.contains("CANDOR_DEMO=\"maybe\" is not true or false"), "{all}");
        assert!(all.contains("CANDOR_COLOUR is not a Candor setting"), "{all}");
        assert!(all.contains("listen = \"nowhere\" is not an address"), "{all}");
        assert!(all.contains("database_url = \"mysql://x\" is not supported"), "{all}");
    }

    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../../../docs/CONFIGURATION.md");
        for key in KEYS {
            assert!(
                doc.contains(&format!("`{key}`")),
                "docs/CONFIGURATION.md does not document `{key}`"
            );
            assert!(
                doc.contains(&format!("`CANDOR_{}`", key.to_uppercase())),
                "no environment form for `{key}`"
            );
        }
    }

    #[test]
    fn http_limits_have_defaults_and_are_checked() {
        let c = Config::load(None, &env(&[])).unwrap();
        assert_eq!(c.http, HttpLimits::default());
        let c = Config::load(
            None,
            &env(&[("CANDOR_HEADER_TIMEOUT_SECONDS", "3"), ("CANDOR_MAX_CONNECTIONS", "50")]),
        )
        .unwrap();
        assert_eq!(c.http.header_timeout, std::time::Duration::from_secs(3));
        assert_eq!(c.http.max_connections, 50);
        let e = Config::load(
            None,
            &env(&[
                ("CANDOR_MAX_CONNECTIONS", "0"),
                ("CANDOR_IDLE_TIMEOUT_SECONDS", "0"),
                ("CANDOR_SHUTDOWN_GRACE_SECONDS", "soon"),
            ]),
        )
        .unwrap_err();
        let all = e.0.join("\n");
        assert!(
            all.contains("max_connections = 0 must be between 1 and 1000000"),
            "{all}"
        );
        assert!(
            all.contains("idle_timeout_seconds = 0 must be between 1 and 3600"),
            "{all}"
        );
        assert!(
            all.contains("CANDOR_SHUTDOWN_GRACE_SECONDS=\"soon\" is not a whole number"),
            "{all}"
        );
    }

    #[test]
    fn address_ranges() {
        let n = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()) && !n.contains("11.0.0.1".parse().unwrap()));
        assert!(IpNet::parse("127.0.0.1")
            .unwrap()
            .contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(IpNet::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(IpNet::parse("10.0.0.0/33").is_none() && IpNet::parse("proxy").is_none());
    }

    #[test]
    fn tls_keys_go_together() {
        let e = Config::load(None, &env(&[("CANDOR_TLS_CERT_FILE", "/x.pem")])).unwrap_err();
        assert!(e.0.join("").contains("tls_cert_file and tls_key_file go together"));
        let c = Config::load(
            None,
            &env(&[("CANDOR_TLS_CERT_FILE", "/c"), ("CANDOR_TLS_KEY_FILE", "/k")]),
        )
        .unwrap();
        assert_eq!(c.public_url, "https://127.0.0.1:8080");
        assert!(c.secure_cookies, "TLS turns on Secure cookies and HSTS");
    }

    #[test]
    fn debug_output_masks_the_database_password() {
        let c = Config::for_tests("postgres://candor:hunter2@db/candor", Path::new("/nonexistent"));
        let shown = format!("{c:?}");
        assert!(
            shown.contains("postgres://candor:***@db/candor") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn file_keys_are_checked() {
        let dir = std::env::temp_dir().join(format!("candor-cfg-{}", std::process::id()));
        std::fs::write(&dir, "listen = \"0.0.0.0:9000\"\nlisen = \"x\"\n").unwrap();
        let e = Config::load(Some(&dir), &env(&[])).unwrap_err();
        assert!(e.0[0].contains("unknown field `lisen`"), "{:?}", e.0);
        std::fs::write(
            &dir,
            "listen = \"0.0.0.0:9000\"\npublic_url = \"https://trust.example.com/\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&dir), &env(&[])).unwrap();
        assert_eq!(c.public_url, "https://trust.example.com");
        assert!(c.secure_cookies);
        std::fs::remove_file(dir).unwrap();
    }
}
