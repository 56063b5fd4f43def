//! Every configuration key, declared once. The file reader, the environment reader, the defaults,
//! the masking in `Debug` and the check against `docs/CONFIGURATION.md` all work from [`KEYS`].
//! How a key's value is checked and combined with others is in [`super::Config::load`].

use super::Config;
use candor_blob::Backend;

/// One configuration key.
pub struct KeySpec {
    /// The name in `candor.toml`; the environment variable is `CANDOR_` and the name in upper case.
    pub name: &'static str,
    pub kind: Kind,
    pub fallback: Fallback,
    /// How the value appears in `Debug` output.
    pub secret: Secret,
    /// One line on what the key is for: the opening words of its row in `docs/CONFIGURATION.md`.
    pub doc: &'static str,
    /// A valid value other than the default, written as in the environment (tests set it).
    pub example: &'static str,
    /// The value as the loaded configuration holds it, written as in the environment; `None` when
    /// it holds none. Not masked: use [`KeySpec::shown`] for anything that may be logged.
    pub(super) value: fn(&Config) -> Option<String>,
}

/// What a key's value is, and so how it is read from the file and from the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A TOML string; the environment's text as it is.
    Text,
    /// A TOML boolean; `true`/`false`, `1`/`0` or `yes`/`no` in the environment.
    Flag,
    /// A TOML integer; digits in the environment.
    Number,
    /// A TOML array of strings; comma-separated in the environment.
    List,
}

/// What holds when a key is not set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// This value, written as in the environment: the loader reads it as if it had been set.
    Value(&'static str),
    /// Nothing; the text says what that means in the docs' default column (e.g. `—`, `none`).
    Unset(&'static str),
    /// Worked out from other keys, as the text (the docs' default column) says.
    Derived(&'static str),
}

/// How a key's value appears in `Debug` output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    /// As it is.
    No,
    /// As `***` when set.
    Yes,
    /// A URL that may carry a password: shown with the password as `***`.
    InUrl,
}

impl KeySpec {
    /// `CANDOR_<NAME>`.
    pub fn env(&self) -> String {
        format!("CANDOR_{}", self.name.to_ascii_uppercase())
    }

    /// The value in `config`, with a secret masked: safe for logs.
    pub fn shown(&self, config: &Config) -> Option<String> {
        (self.value)(config).map(|v| match self.secret {
            Secret::No => v,
            Secret::Yes => "***".into(),
            Secret::InUrl => candor_store::redact_url(&v),
        })
    }
}

impl Fallback {
    /// The text of the docs' default column.
    pub fn doc(&self) -> String {
        match self {
            Fallback::Value(v) => format!("`{v}`"),
            Fallback::Unset(text) | Fallback::Derived(text) => (*text).to_owned(),
        }
    }
}

/// The key called `name`.
pub fn spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

/// The key whose environment variable is `var`.
pub fn spec_for_env(var: &str) -> Option<&'static KeySpec> {
    let name = var.strip_prefix("CANDOR_")?;
    KEYS.iter().find(|k| k.name.eq_ignore_ascii_case(name))
}

fn text(s: &str) -> Option<String> {
    Some(s.to_owned())
}

fn display(v: impl std::fmt::Display) -> Option<String> {
    Some(v.to_string())
}

fn smtp<T>(c: &Config, f: impl Fn(&candor_notify::SmtpSettings) -> T) -> Option<T> {
    c.smtp.as_ref().map(f)
}

fn oidc<T>(c: &Config, f: impl Fn(&crate::identity::oidc::OidcSettings) -> T) -> Option<T> {
    c.oidc.as_ref().map(f)
}

fn s3<T>(c: &Config, f: impl Fn(&candor_blob::S3Settings) -> T) -> Option<T> {
    match &c.storage.backend {
        Backend::S3(s) => Some(f(s)),
        Backend::Local(_) => None,
    }
}

/// Every key, in the order of `docs/CONFIGURATION.md`.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        name: "listen",
        kind: Kind::Text,
        fallback: Fallback::Value("127.0.0.1:8080"),
        secret: Secret::No,
        doc: "Address and port to listen on (`IP:PORT`).",
        example: "0.0.0.0:9000",
        value: |c| display(c.listen),
    },
    KeySpec {
        name: "data_dir",
        kind: Kind::Text,
        fallback: Fallback::Value("./candor-data"),
        secret: Secret::No,
        doc: "Directory for the SQLite database (and, later, encrypted documents and keys).",
        example: "/srv/candor",
        value: |c| display(c.data_dir.display()),
    },
    KeySpec {
        name: "database_url",
        kind: Kind::Text,
        fallback: Fallback::Derived("`sqlite://<data_dir>/candor.db`"),
        secret: Secret::InUrl,
        doc: "`sqlite://path` or `postgres://user:password@host:5432/db`.",
        example: "postgres://candor:db-secret-example@db.example.com/candor",
        value: |c| text(&c.database_url),
    },
    KeySpec {
        name: "public_url",
        kind: Kind::Text,
        fallback: Fallback::Derived("`http://<listen>`"),
        secret: Secret::No,
        doc: "The address visitors use (scheme and host only, e.g. `https://trust.example.com`).",
        // Plain http, so that `secure_cookies` below shows it was read rather than derived.
        example: "http://trust.example.com",
        value: |c| text(&c.public_url),
    },
    KeySpec {
        name: "secure_cookies",
        kind: Kind::Flag,
        fallback: Fallback::Derived("`true` when `public_url` is `https://`"),
        secret: Secret::No,
        doc: "Marks cookies `Secure` (session cookie named `__Host-candor_session`) and sends HSTS.",
        example: "true",
        value: |c| display(c.secure_cookies),
    },
    KeySpec {
        name: "frame_ancestors",
        kind: Kind::Text,
        fallback: Fallback::Value("'none'"),
        secret: Secret::No,
        doc: "CSP `frame-ancestors` source list: who may embed the site in a frame, e.g. `https://www.example.com`.",
        example: "https://www.example.com",
        value: |c| text(&c.frame_ancestors),
    },
    KeySpec {
        name: "session_idle_minutes",
        kind: Kind::Number,
        fallback: Fallback::Value("30"),
        secret: Secret::No,
        doc: "A back-office session unused this long ends (1–1440).",
        example: "45",
        value: |c| display(c.session_idle_minutes),
    },
    KeySpec {
        name: "session_absolute_hours",
        kind: Kind::Number,
        fallback: Fallback::Value("12"),
        secret: Secret::No,
        doc: "A back-office session ends this long after sign-in, however active (1–720).",
        example: "24",
        value: |c| display(c.session_absolute_hours),
    },
    KeySpec {
        name: "viewer_session_idle_minutes",
        kind: Kind::Number,
        fallback: Fallback::Value("30"),
        secret: Secret::No,
        doc: "A document viewer's session (signed in by emailed link) unused this long ends (1–1440). Separate from the back office's.",
        example: "20",
        value: |c| display(c.viewer_session_idle_minutes),
    },
    KeySpec {
        name: "viewer_session_absolute_hours",
        kind: Kind::Number,
        fallback: Fallback::Value("12"),
        secret: Secret::No,
        doc: "A document viewer's session ends this long after sign-in, however active (1–720); the viewer asks for a new link.",
        example: "6",
        value: |c| display(c.viewer_session_absolute_hours),
    },
    KeySpec {
        name: "session_rotate_minutes",
        kind: Kind::Number,
        fallback: Fallback::Value("15"),
        secret: Secret::No,
        doc: "A session's id is replaced this often while in use; the user stays signed in (the old id works for 60 s more, for requests in flight).",
        example: "5",
        value: |c| display(c.session_rotate_minutes),
    },
    KeySpec {
        name: "audit_stdout",
        kind: Kind::Flag,
        fallback: Fallback::Value("false"),
        secret: Secret::No,
        doc: "Also print every audit-log entry to standard output as one JSON line, for a SIEM.",
        example: "true",
        value: |c| display(c.audit_stdout),
    },
    KeySpec {
        name: "tls_cert_file",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::No,
        doc: "Serve HTTPS directly: the certificate chain (PEM).",
        example: "/etc/candor/cert.pem",
        value: |c| c.tls.as_ref().and_then(|(cert, _)| display(cert.display())),
    },
    KeySpec {
        name: "tls_key_file",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::No,
        doc: "The private key (PEM) for `tls_cert_file`.",
        example: "/etc/candor/key.pem",
        value: |c| c.tls.as_ref().and_then(|(_, key)| display(key.display())),
    },
    KeySpec {
        name: "redirect_http_listen",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::No,
        doc: "With TLS: also listen here (e.g. `0.0.0.0:80`) and answer every request with a permanent redirect to the same path on `public_url`.",
        example: "0.0.0.0:8081",
        value: |c| c.redirect_http_listen.and_then(display),
    },
    KeySpec {
        name: "trusted_proxies",
        kind: Kind::List,
        fallback: Fallback::Unset("none"),
        secret: Secret::No,
        doc: "Reverse proxies whose `X-Forwarded-For` is believed: addresses or CIDR ranges (a TOML array; comma-separated in the environment).",
        example: "10.0.0.0/8,192.168.1.5",
        value: |c| {
            let all: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
            (!all.is_empty()).then(|| all.join(","))
        },
    },
    KeySpec {
        name: "metrics_token",
        kind: Kind::Text,
        fallback: Fallback::Unset("— (loopback only)"),
        secret: Secret::Yes,
        doc: "Bearer token a Prometheus scraper sends to read `/metrics` from anywhere (at least 24 characters).",
        example: "scrape-token-0123456789abcdef0123",
        value: |c| c.metrics.token.clone(),
    },
    KeySpec {
        name: "smtp_host",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::No,
        doc: "Mail server for outgoing mail (password reset links).",
        example: "mail.example.com",
        value: |c| smtp(c, |s| s.host.clone()),
    },
    KeySpec {
        name: "smtp_port",
        kind: Kind::Number,
        fallback: Fallback::Derived("`587` (`465` with `smtp_tls = \"implicit\"`)"),
        secret: Secret::No,
        doc: "Mail server port.",
        example: "2525",
        value: |c| smtp(c, |s| s.port.to_string()),
    },
    KeySpec {
        name: "smtp_tls",
        kind: Kind::Text,
        fallback: Fallback::Value("opportunistic"),
        secret: Secret::No,
        doc: "How mail to the server is protected.",
        example: "required",
        value: |c| smtp(c, |s| super::mail::tls_name(s.tls).to_owned()),
    },
    KeySpec {
        name: "smtp_username",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::No,
        doc: "Sign-in name at the mail server; needs `smtp_password`.",
        example: "candor",
        value: |c| smtp(c, |s| s.username.clone()).flatten(),
    },
    KeySpec {
        name: "smtp_password",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::Yes,
        doc: "Its password; never logged or shown by `candor check`.",
        example: "smtp-secret-example",
        value: |c| smtp(c, |s| s.password.clone()).flatten(),
    },
    KeySpec {
        name: "mail_from",
        kind: Kind::Text,
        fallback: Fallback::Unset("— (required with `smtp_host`)"),
        secret: Secret::No,
        doc: "Sender of Candor's mail, e.g. `Corvellan Trust <trust@corvellan.example>`.",
        example: "Candor <trust@example.com>",
        value: |c| smtp(c, |s| s.from.clone()),
    },
    KeySpec {
        name: "oidc_issuer",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::No,
        doc: "Turns on single sign-on for the back office with this OpenID Connect issuer (`https://`; plain `http://` only on loopback, for tests).",
        example: "https://id.example.com",
        value: |c| oidc(c, |o| o.issuer.clone()),
    },
    KeySpec {
        name: "oidc_client_id",
        kind: Kind::Text,
        fallback: Fallback::Unset("— (required with `oidc_issuer`)"),
        secret: Secret::No,
        doc: "The client (application) id registered at the provider.",
        example: "candor-web",
        value: |c| oidc(c, |o| o.client_id.clone()),
    },
    KeySpec {
        name: "oidc_client_secret",
        kind: Kind::Text,
        fallback: Fallback::Unset("— (required with `oidc_issuer`)"),
        secret: Secret::Yes,
        doc: "Its client secret; never logged.",
        example: "oidc-secret-example",
        value: |c| oidc(c, |o| o.client_secret.clone()),
    },
    KeySpec {
        name: "oidc_scopes",
        kind: Kind::Text,
        fallback: Fallback::Value("email profile"),
        secret: Secret::No,
        doc: "Scopes asked for besides `openid`, separated by spaces or commas (some providers need `groups` to send groups).",
        example: "email profile groups",
        value: |c| oidc(c, |o| o.scopes.join(" ")),
    },
    KeySpec {
        name: "oidc_groups_claim",
        kind: Kind::Text,
        fallback: Fallback::Value("groups"),
        secret: Secret::No,
        doc: "The ID-token claim that lists the user's groups or app roles (`roles` for Entra ID app roles).",
        example: "roles",
        value: |c| oidc(c, |o| o.groups_claim.clone()),
    },
    KeySpec {
        name: "oidc_role_map",
        kind: Kind::Text,
        fallback: Fallback::Unset("none"),
        secret: Secret::No,
        doc: "Group-to-role rules, `GROUP=ROLE` separated by commas, checked in order: the first group the user is in gives the role",
        example: "candor-owners=owner,candor-editors=editor",
        value: |c| {
            let rules: Vec<String> = oidc(c, |o| o.role_map.iter().map(|(g, r)| format!("{g}={}", r.as_str())).collect())
                .unwrap_or_default();
            (!rules.is_empty()).then(|| rules.join(","))
        },
    },
    KeySpec {
        name: "oidc_default_role",
        kind: Kind::Text,
        fallback: Fallback::Unset("none"),
        secret: Secret::No,
        doc: "Role for users in no listed group (never `owner`).",
        example: "auditor",
        value: |c| oidc(c, |o| o.default_role.map(|r| r.as_str().to_owned())).flatten(),
    },
    KeySpec {
        name: "oidc_jit",
        kind: Kind::Flag,
        fallback: Fallback::Value("false"),
        secret: Secret::No,
        doc: "Create an account on first sign-in (just-in-time provisioning), with the role from the rules.",
        example: "true",
        value: |c| oidc(c, |o| o.jit.to_string()),
    },
    KeySpec {
        name: "oidc_only",
        kind: Kind::Flag,
        fallback: Fallback::Value("false"),
        secret: Secret::No,
        doc: "Enforce single sign-on: password sign-in and \"forgot password\" are off for everyone.",
        example: "true",
        value: |c| oidc(c, |o| o.only.to_string()),
    },
    KeySpec {
        name: "oidc_label",
        kind: Kind::Text,
        fallback: Fallback::Value("Sign in with single sign-on"),
        secret: Secret::No,
        doc: "Text of the sign-in button.",
        example: "Sign in with Example ID",
        value: |c| oidc(c, |o| o.label.clone()),
    },
    KeySpec {
        name: "storage",
        kind: Kind::Text,
        fallback: Fallback::Value("local"),
        secret: Secret::No,
        doc: "Where uploaded documents are kept: `local` (a directory) or `s3` (S3-compatible object storage: AWS S3, MinIO, Ceph, Cloudflare R2…).",
        example: "s3",
        value: |c| {
            text(match c.storage.backend {
                Backend::Local(_) => "local",
                Backend::S3(_) => "s3",
            })
        },
    },
    KeySpec {
        name: "storage_dir",
        kind: Kind::Text,
        fallback: Fallback::Derived("`<data_dir>/blobs`"),
        secret: Secret::No,
        doc: "With `storage = \"local\"`: the directory.",
        example: "/srv/candor-files",
        value: |c| match &c.storage.backend {
            Backend::Local(dir) => display(dir.display()),
            Backend::S3(_) => None,
        },
    },
    KeySpec {
        name: "s3_bucket",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::No,
        doc: "With `storage = \"s3\"`: the bucket (it must exist).",
        example: "candor-documents",
        value: |c| s3(c, |s| s.bucket.clone()),
    },
    KeySpec {
        name: "s3_region",
        kind: Kind::Text,
        fallback: Fallback::Value("us-east-1"),
        secret: Secret::No,
        doc: "The bucket's region.",
        example: "eu-central-1",
        value: |c| s3(c, |s| s.region.clone()),
    },
    KeySpec {
        name: "s3_endpoint",
        kind: Kind::Text,
        fallback: Fallback::Unset("AWS"),
        secret: Secret::No,
        doc: "Another S3-compatible service's address, e.g. `https://minio.internal:9000` (path-style requests).",
        example: "https://s3.example.com",
        value: |c| s3(c, |s| s.endpoint.clone()).flatten(),
    },
    KeySpec {
        name: "s3_access_key_id",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::No,
        doc: "Credentials with read, write and delete on the bucket.",
        example: "AKIAEXAMPLE",
        value: |c| s3(c, |s| s.access_key_id.clone()),
    },
    KeySpec {
        name: "s3_secret_access_key",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::Yes,
        doc: "The secret that goes with `s3_access_key_id`; never logged.",
        example: "s3-secret-example",
        value: |c| s3(c, |s| s.secret_access_key.clone()),
    },
    KeySpec {
        name: "s3_prefix",
        kind: Kind::Text,
        fallback: Fallback::Unset("none"),
        secret: Secret::No,
        doc: "Keep Candor's objects under this prefix of the bucket.",
        example: "candor/",
        value: |c| s3(c, |s| s.prefix.clone()).filter(|p| !p.is_empty()),
    },
    KeySpec {
        name: "upload_limit_mb",
        kind: Kind::Number,
        fallback: Fallback::Value("50"),
        secret: Secret::No,
        doc: "Largest document upload, in MiB (1–10240).",
        example: "100",
        value: |c| display(c.storage.upload_limit / (1024 * 1024)),
    },
    KeySpec {
        name: "header_timeout_seconds",
        kind: Kind::Number,
        fallback: Fallback::Value("10"),
        secret: Secret::No,
        doc: "A client must send a request's whole head (request line and headers) within this many seconds of its first byte",
        example: "20",
        value: |c| display(c.http.header_timeout.as_secs()),
    },
    KeySpec {
        name: "idle_timeout_seconds",
        kind: Kind::Number,
        fallback: Fallback::Value("60"),
        secret: Secret::No,
        doc: "A kept-alive connection with no request under way is closed after this many seconds",
        example: "120",
        value: |c| display(c.http.idle_timeout.as_secs()),
    },
    KeySpec {
        name: "max_connections",
        kind: Kind::Number,
        fallback: Fallback::Value("2048"),
        secret: Secret::No,
        doc: "Connections served at once (1–1000000)",
        example: "500",
        value: |c| display(c.http.max_connections),
    },
    KeySpec {
        name: "shutdown_grace_seconds",
        kind: Kind::Number,
        fallback: Fallback::Value("10"),
        secret: Secret::No,
        doc: "After SIGTERM or SIGINT Candor stops accepting connections and gives requests in flight this many seconds to finish (0–3600)",
        example: "30",
        value: |c| display(c.http.shutdown_grace.as_secs()),
    },
    KeySpec {
        name: "master_key",
        kind: Kind::Text,
        fallback: Fallback::Unset("the key file"),
        secret: Secret::Yes,
        doc: "The master key ring that wraps every file's own key.",
        example: "k1 Y2FuZG9yLWV4YW1wbGUtbWFzdGVyLWtleS0zMmJ5dGU=",
        value: |c| c.storage.master_key.clone(),
    },
    KeySpec {
        name: "log_format",
        kind: Kind::Text,
        fallback: Fallback::Value("pretty"),
        secret: Secret::No,
        doc: "`pretty` for people, `json` for log pipelines (one JSON object per line).",
        example: "json",
        value: |c| {
            text(match c.log_format {
                super::LogFormat::Pretty => "pretty",
                super::LogFormat::Json => "json",
            })
        },
    },
    KeySpec {
        name: "log_level",
        kind: Kind::Text,
        fallback: Fallback::Value("info"),
        secret: Secret::No,
        doc: "`error`, `warn`, `info`, `debug`, `trace`, or a `tracing` filter such as `candor_web=debug,info`.",
        example: "debug",
        value: |c| text(&c.log_level),
    },
    KeySpec {
        name: "demo",
        kind: Kind::Flag,
        fallback: Fallback::Value("true"),
        secret: Secret::No,
        doc: "Load the built-in demo trust center into an empty database on first start.",
        example: "false",
        value: |c| display(c.demo),
    },
    KeySpec {
        name: "status_monitor_allow_private",
        kind: Kind::Flag,
        fallback: Fallback::Value("false"),
        secret: Secret::No,
        doc: "Let built-in monitors check loopback, private and link-local addresses (internal services).",
        example: "true",
        value: |c| display(c.monitors.allow_private),
    },
    KeySpec {
        name: "status_monitor_extra_root",
        kind: Kind::Text,
        fallback: Fallback::Unset("—"),
        secret: Secret::No,
        doc: "A PEM file of root certificates that monitors trust besides the Mozilla set (an internal CA).",
        example: "/etc/candor/internal-ca.pem",
        value: |c| c.monitors.extra_root.as_ref().and_then(|p| display(p.display())),
    },
    KeySpec {
        name: "status_results_retention_days",
        kind: Kind::Number,
        fallback: Fallback::Value("7"),
        secret: Secret::No,
        doc: "Raw monitor results are kept this many days (1–366)",
        example: "14",
        value: |c| display(c.monitors.retention_days),
    },
    KeySpec {
        name: "status_monitor_concurrency",
        kind: Kind::Number,
        fallback: Fallback::Value("64"),
        secret: Secret::No,
        doc: "Monitor checks in flight at once (1–4096)",
        example: "128",
        value: |c| display(c.monitors.concurrency),
    },
    KeySpec {
        name: "backup_interval_minutes",
        kind: Kind::Number,
        fallback: Fallback::Value("0"),
        secret: Secret::No,
        doc: "Minutes between backups that `serve` takes by itself (0: none).",
        example: "1440",
        value: |c| display(c.backup.interval.map_or(0, |d| d.as_secs() / 60)),
    },
    KeySpec {
        name: "backup_dir",
        kind: Kind::Text,
        fallback: Fallback::Derived("`<data_dir>/backups`"),
        secret: Secret::No,
        doc: "Where backup archives go: a directory or `s3://bucket/prefix`",
        example: "/var/backups/candor",
        value: |c| display(&c.backup.destination),
    },
    KeySpec {
        name: "backup_keep",
        kind: Kind::Number,
        fallback: Fallback::Value("14"),
        secret: Secret::No,
        doc: "Scheduled backup archives kept (1–10000)",
        example: "30",
        value: |c| display(c.backup.keep),
    },
    KeySpec {
        name: "webhook_allow_private",
        kind: Kind::Flag,
        fallback: Fallback::Value("false"),
        secret: Secret::No,
        doc: "Allow webhook receivers on loopback, private and link-local addresses.",
        example: "true",
        value: |c| display(c.webhooks.allow_private),
    },
    KeySpec {
        name: "webhook_max_attempts",
        kind: Kind::Number,
        fallback: Fallback::Value("14"),
        secret: Secret::No,
        doc: "Attempts at one webhook delivery before it is given up and its endpoint disabled (1–50).",
        example: "5",
        value: |c| display(c.webhooks.max_attempts),
    },
    KeySpec {
        name: "webhook_timeout_seconds",
        kind: Kind::Number,
        fallback: Fallback::Value("10"),
        secret: Secret::No,
        doc: "How long one webhook attempt may take, connecting included (1–60).",
        example: "5",
        value: |c| display(c.webhooks.timeout.as_secs()),
    },
    KeySpec {
        name: "content_poll_seconds",
        kind: Kind::Number,
        fallback: Fallback::Value("5"),
        secret: Secret::No,
        doc: "How often each instance looks for content changed elsewhere, in seconds (1–3600)",
        example: "60",
        value: |c| display(c.content_watch_every.as_secs()),
    },
];
