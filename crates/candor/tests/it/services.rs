//! Real outside services that tests start as child processes: an SMTP server (aiosmtpd) and an
//! OpenID provider (npm `oidc-provider`). Each prints `ready ...` once listening and exits when
//! its standard input closes, so a test that dies takes its services with it.
//!
//! Missing tools skip the test with a printed line on a laptop, and fail it under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Skips (returns `None`) with a printed reason, or fails under CI.
pub fn unavailable<T>(what: &str, fix: &str) -> Option<T> {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is not available and CI=true: {fix}");
    }
    eprintln!("SKIPPED: {what} is not available ({fix}); this test did not run.");
    None
}

/// A running child service; killed when dropped.
pub struct Service {
    _child: Child,
    _stdin: ChildStdin,
    /// What followed `ready ` on its first line.
    pub ready: String,
}

/// Starts `program args...` and waits (up to 20 s) for its `ready ...` line.
pub async fn start(program: &str, args: &[&str], env: &[(&str, &str)]) -> Service {
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("{program} did not get ready within 20 s"))
        .expect("read its output")
        .unwrap_or_else(|| panic!("{program} {args:?} exited before it was ready (see its output above)"));
    let ready = first
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("{program} said {first:?} instead of ready"))
        .to_owned();
    Service {
        _child: child,
        _stdin: stdin,
        ready,
    }
}

/// A real SMTP server that keeps every message it receives.
pub struct MailSink {
    pub port: u16,
    dir: tempfile::TempDir,
    _service: Service,
}

impl MailSink {
    /// On a free port, or `None` (skipped) when Python's aiosmtpd is missing.
    pub async fn start() -> Option<MailSink> {
        Self::start_on(0).await
    }

    pub async fn start_on(port: u16) -> Option<MailSink> {
        let has_aiosmtpd = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !has_aiosmtpd {
            return unavailable("Python's aiosmtpd (the test SMTP server)", "pip install aiosmtpd");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap().to_owned();
        let service = start("python3", &["scripts/lib/smtp_sink.py", &path, &port.to_string()], &[]).await;
        Some(MailSink {
            port: service.ready.parse().expect("a port"),
            dir,
            _service: service,
        })
    }

    /// Every message received so far, raw, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }

    /// From now on, refuses every recipient for good (550) while `refuse` is true.
    pub fn refuse(&self, refuse: bool) {
        let flag = self.dir.path().join("refuse");
        if refuse {
            std::fs::write(flag, b"").unwrap();
        } else {
            std::fs::remove_file(flag).unwrap();
        }
    }

    /// Waits up to 20 s until at least `n` messages have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} message(s), got {}", self.messages().len());
    }

    /// Settings for Candor to send here (plain SMTP: a test server on loopback).
    pub fn settings(port: u16) -> candor_notify::SmtpSettings {
        candor_notify::SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: candor_notify::StartTls::Off,
            username: None,
            password: None,
            from: "Corvellan Trust <trust@corvellan.example>".into(),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Quick retries, so tests about outages take seconds.
pub fn fast_retry() -> candor_notify::RetryPolicy {
    candor_notify::RetryPolicy {
        first_retry: Duration::from_secs(1),
        max_retry: Duration::from_secs(2),
        poll: Duration::from_millis(200),
    }
}

/// The first `http(s)://...` link in a mail that starts with `prefix`, with quoted-printable soft
/// line breaks undone.
pub fn link_in(mail: &str, prefix: &str) -> String {
    let flat = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = flat
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in:\n{mail}"));
    flat[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect()
}

/// The test identity provider (`security/oidc/provider.mjs`): a real OpenID provider
/// (`oidc-provider` from npm) at `issuer`, and hand-made broken ones at `issuer/rogue/CASE`.
pub struct OidcProvider {
    pub issuer: String,
    _service: Service,
}

impl OidcProvider {
    /// `None` (skipped) when Node or the provider's npm packages are missing.
    pub async fn start() -> Option<OidcProvider> {
        let node = std::process::Command::new("node").arg("--version").output();
        if !node.is_ok_and(|o| o.status.success()) {
            return unavailable("Node.js (for the test identity provider)", "apt-get install nodejs npm");
        }
        if !repo_root().join("security/oidc/node_modules/oidc-provider").is_dir() {
            return unavailable(
                "the test identity provider's packages",
                "run: (cd security/oidc && npm ci), which scripts/test does",
            );
        }
        let service = start("node", &["security/oidc/provider.mjs"], &[]).await;
        Some(OidcProvider {
            issuer: service.ready.clone(),
            _service: service,
        })
    }
}

/// An S3-compatible server (PyPI `moto[server]`) on a free port, killed when dropped, with its
/// endpoint URL.
pub async fn start_moto() -> Option<(tokio::process::Child, String)> {
    let has = std::process::Command::new("moto_server")
        .arg("--help")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !has.is_ok_and(|s| s.success()) {
        return unavailable("moto_server", "pip install 'moto[server]'");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start moto_server");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Some((child, format!("http://127.0.0.1:{port}")));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("moto_server did not start listening on {port}");
}
