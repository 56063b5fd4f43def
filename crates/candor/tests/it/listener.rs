//! The HTTP listener against slow, idle and malformed clients, and a bounded stop: the real
//! `candor serve` process where the fault is about the process (descriptors, signals), the
//! in-process server otherwise. Every client here speaks raw TCP, so nothing smooths over what
//! the server really sends.

use crate::harness::fresh_pg_database;
use crate::{Db, TestApp};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A `candor serve` process on a free port, with its own data directory.
struct ServeProcess {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl ServeProcess {
    /// Starts `candor serve` (under `prlimit --nofile=N:N` when `nofile` is given) with `env`,
    /// and waits until it answers `/readyz`.
    fn start(nofile: Option<u32>, database_url: Option<&str>, env: &[(&str, &str)]) -> ServeProcess {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bin = env!("CARGO_BIN_EXE_candor");
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}")).arg("--").arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CANDOR_LISTEN", format!("127.0.0.1:{port}"))
            .env("CANDOR_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(url) = database_url {
            cmd.env("CANDOR_DATABASE_URL", url);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("candor serve starts");
        let server = ServeProcess {
            child,
            addr: format!("127.0.0.1:{port}"),
            _dir: dir,
        };
        let started = Instant::now();
        let tls = env.iter().any(|(k, _)| *k == "CANDOR_TLS_CERT_FILE");
        let ready = |addr: &str| match tls {
            // Plain HTTP cannot ask a TLS listener; that it accepts connections is enough there.
            true => TcpStream::connect(addr).is_ok(),
            false => http_status(addr, "/readyz", Duration::from_secs(2)) == Some(200),
        };
        while !ready(&server.addr) {
            assert!(started.elapsed() < Duration::from_secs(30), "the server became ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Starts `candor serve` on its built-in TLS listener.
    fn start_tls(cert: &std::path::Path, key: &std::path::Path, env: &[(&str, &str)]) -> ServeProcess {
        let (cert, key) = (cert.display().to_string(), key.display().to_string());
        let mut all = vec![
            ("CANDOR_TLS_CERT_FILE", cert.as_str()),
            ("CANDOR_TLS_KEY_FILE", key.as_str()),
        ];
        all.extend_from_slice(env);
        ServeProcess::start(None, None, &all)
    }

    /// Sends SIGTERM and waits up to `limit` for the exit; the exit status, the time it took and
    /// the log. A process still running after `limit` is killed and reported as `None`.
    fn terminate(mut self, limit: Duration) -> (Option<ExitStatus>, Duration, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let sent = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break Some(status);
            }
            if sent.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let took = sent.elapsed();
        let mut log = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut log);
        }
        (status, took, log)
    }
}

/// The status of one `GET path` over a fresh connection, or `None` if no answer came within
/// `limit`.
fn http_status(addr: &str, path: &str, limit: Duration) -> Option<u16> {
    let reply = raw_exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        limit,
    )?;
    reply.split(' ').nth(1)?.parse().ok()
}

/// Sends `request` on a fresh connection and reads until the server closes it; `None` if the
/// connection failed or the server did not close it within `limit`.
fn raw_exchange(addr: &str, request: &[u8], limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, limit).ok()?;
    s.set_read_timeout(Some(limit)).ok()?;
    // The server may answer and close before taking all of an oversized request.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset && !out.is_empty() => break,
            Err(_) => return None,
        }
        if Instant::now() > deadline {
            return None;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The head of a raw response, header names in lower case.
fn head_of(reply: &str) -> (u16, Vec<(String, String)>) {
    let head = reply.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

/// Asserts that a raw response carries the security headers, each exactly once.
fn assert_security_headers(what: &str, reply: &str, expected_status: u16) {
    let (status, headers) = head_of(reply);
    assert_eq!(status, expected_status, "{what}: {reply:.300}");
    for name in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
        "cross-origin-opener-policy",
        "permissions-policy",
    ] {
        let count = headers.iter().filter(|(n, _)| n == name).count();
        assert_eq!(count, 1, "{what}: {name} appears {count} times in {reply:.1000}");
    }
    let csp = &headers.iter().find(|(n, _)| n == "content-security-policy").unwrap().1;
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
}

/// Hundreds of clients that dribble a partial request head, against a server whose soft and hard
/// open-file limits are both 256, cannot exhaust its descriptors: each is cut off after the header
/// timeout, `/healthz` keeps answering, and nothing is logged about running out of files.
#[test]
fn slow_header_clients_are_cut_off_and_healthz_keeps_answering() {
    const SLOW_CLIENTS: usize = 300;
    let header_timeout = Duration::from_secs(2);
    let server = ServeProcess::start(Some(256), None, &[("CANDOR_HEADER_TIMEOUT_SECONDS", "2")]);
    let addr = server.addr.clone();

    let opened = Instant::now();
    let mut slow: Vec<(TcpStream, Option<Duration>)> = Vec::new();
    for _ in 0..SLOW_CLIENTS {
        // Past the kernel's accept queue a connect can stall; those clients are not served
        // either, so they are simply left out.
        if let Ok(mut s) = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_millis(500)) {
            if s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").is_ok() {
                s.set_nonblocking(true).unwrap();
                slow.push((s, None));
            }
        }
    }
    assert!(slow.len() >= 200, "only {} slow clients connected", slow.len());

    let healthz = std::thread::spawn({
        let addr = addr.clone();
        move || {
            let mut waits = vec![];
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                let asked = Instant::now();
                let status = http_status(&addr, "/healthz", Duration::from_secs(8));
                waits.push((status, asked.elapsed()));
                std::thread::sleep(Duration::from_millis(300));
            }
            waits
        }
    });

    // Every slow client sends one more byte of its header each quarter second until the server
    // closes its connection.
    let stop_at = Instant::now() + Duration::from_secs(14);
    while Instant::now() < stop_at && slow.iter().any(|(_, closed)| closed.is_none()) {
        for (s, closed) in slow.iter_mut().filter(|(_, c)| c.is_none()) {
            let mut buf = [0u8; 512];
            let gone = match s.read(&mut buf) {
                Ok(_) => true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => s.write_all(b"a").is_err(),
                Err(_) => true,
            };
            if gone {
                *closed = Some(opened.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }

    let waits = healthz.join().unwrap();
    let still_open = slow.iter().filter(|(_, c)| c.is_none()).count();
    let first_closed = slow.iter().filter_map(|(_, c)| *c).min();
    let (status, _, log) = server.terminate(Duration::from_secs(20));
    eprintln!(
        "{} slow clients; first cut off after {first_closed:?}; /healthz waits {:?}",
        slow.len(),
        waits.iter().map(|(_, w)| w.as_millis()).collect::<Vec<_>>()
    );
    assert!(
        waits.iter().all(|(status, _)| *status == Some(200)),
        "/healthz stopped answering under slow clients: {waits:?}\n{log}"
    );
    let slowest = waits.iter().map(|(_, w)| *w).max().unwrap();
    assert!(slowest < Duration::from_secs(8), "/healthz waited {slowest:?}");
    assert_eq!(still_open, 0, "slow clients still connected after 14 s\n{log}");
    let first_closed = first_closed.unwrap();
    assert!(
        first_closed >= header_timeout - Duration::from_millis(300),
        "slow clients are given the header timeout, not less: first closed after {first_closed:?}"
    );
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(
        log.contains("the open-file limit is too low for max_connections"),
        "the lowered connection limit is logged: {log}"
    );
    assert!(status.is_some_and(|s| s.success()), "exit status {status:?}\n{log}");
}

/// SIGTERM stops the server within the grace period even though a request is stuck: its client
/// sent the head and a few bytes of a body it never finishes. The log says what was cut off.
async fn sigterm_stops_within_the_grace_period_despite_a_stuck_request(db: Db) {
    let pg = match db {
        Db::Sqlite => None,
        Db::Postgres => match fresh_pg_database().await {
            Some((_, url)) => Some(url),
            None => return,
        },
    };
    tokio::task::spawn_blocking(move || {
        let server = ServeProcess::start(None, pg.as_deref(), &[("CANDOR_SHUTDOWN_GRACE_SECONDS", "2")]);
        let addr = server.addr.clone();
        let mut stuck = TcpStream::connect(&addr).unwrap();
        write!(
            stuck,
            "POST /admin/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a"
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let (status, took, log) = server.terminate(Duration::from_secs(15));
        assert!(status.is_some(), "still running 15 s after SIGTERM\n{log}");
        assert!(status.unwrap().success(), "exit status {status:?}\n{log}");
        assert!(
            took < Duration::from_secs(2 + 4),
            "took {took:?} to stop with a 2 s grace period\n{log}"
        );
        assert!(
            took >= Duration::from_secs(2),
            "the request got its grace period: {took:?}"
        );
        let cut_off = log
            .lines()
            .find(|l| l.contains("shutdown grace period over"))
            .unwrap_or_else(|| panic!("no line about the cut-off request: {log}"));
        let line: serde_json::Value = serde_json::from_str(cut_off).unwrap();
        assert_eq!(line["fields"]["connections"], 1, "{cut_off}");
        assert!(log.contains("stopped"), "{log}");
    })
    .await
    .unwrap();
}
crate::both_dbs_fn!(
    sigterm_stops_within_grace,
    sigterm_stops_within_the_grace_period_despite_a_stuck_request
);

/// An idle kept-alive connection lives for the idle timeout (longer than the header timeout),
/// while a client dribbling a request head is cut off after the header timeout.
async fn idle_and_header_timeouts_are_separate(db: Db) {
    let Some(app) = TestApp::start_configured(db, true, |c| {
        c.http.header_timeout = Duration::from_secs(1);
        c.http.idle_timeout = Duration::from_secs(3);
    })
    .await
    else {
        return;
    };
    let addr = app.base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let get = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        let mut kept = TcpStream::connect(&addr).unwrap();
        kept.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let read_reply = |s: &mut TcpStream| {
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        kept.write_all(get.as_bytes()).unwrap();
        assert!(read_reply(&mut kept).starts_with("HTTP/1.1 200"));
        // Idle for twice the header timeout: still open, and it serves the next request.
        std::thread::sleep(Duration::from_secs(2));
        kept.write_all(get.as_bytes()).unwrap();
        assert!(read_reply(&mut kept).starts_with("HTTP/1.1 200"));
        let idle_from = Instant::now();
        let mut buf = [0u8; 16];
        assert_eq!(kept.read(&mut buf).unwrap(), 0, "closed after the idle timeout");
        let idle = idle_from.elapsed();
        assert!(
            (Duration::from_millis(2700)..Duration::from_millis(4500)).contains(&idle),
            "idle connection closed after {idle:?}, expected about 3 s"
        );

        let mut slow = TcpStream::connect(&addr).unwrap();
        let started = Instant::now();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
        slow.set_nonblocking(true).unwrap();
        let closed_after = loop {
            match slow.read(&mut buf) {
                Ok(_) => break started.elapsed(),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => break started.elapsed(),
            }
            if slow.write_all(b"a").is_err() {
                break started.elapsed();
            }
            assert!(started.elapsed() < Duration::from_secs(10), "slow header never cut off");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(
            (Duration::from_millis(800)..Duration::from_millis(2500)).contains(&closed_after),
            "slow header cut off after {closed_after:?}, expected about 1 s"
        );

        // A client that stops sending its request body is answered (or dropped) after the idle
        // timeout instead of holding the request for ever.
        let mut stalled = TcpStream::connect(&addr).unwrap();
        stalled.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            stalled,
            "POST /admin/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a"
        )
        .unwrap();
        let started = Instant::now();
        let mut reply = Vec::new();
        let _ = stalled.read_to_end(&mut reply);
        let waited = started.elapsed();
        assert!(
            (Duration::from_millis(2700)..Duration::from_millis(5000)).contains(&waited),
            "a stalled request body was given up after {waited:?}, expected about 3 s: {}",
            String::from_utf8_lossy(&reply)
        );
    })
    .await
    .unwrap();
}
crate::both_dbs_fn!(idle_and_header_timeouts, idle_and_header_timeouts_are_separate);

crate::both_dbs!(
    responses_hyper_writes_itself_carry_the_security_headers,
    |app: TestApp| async move {
        let addr = app.base.trim_start_matches("http://").to_owned();
        tokio::task::spawn_blocking(move || {
            let limit = Duration::from_secs(10);
            let reply = raw_exchange(&addr, b"NOT A REQUEST LINE\r\n\r\n", limit).unwrap();
            assert_security_headers("malformed request line", &reply, 400);

            let huge = format!(
                "GET / HTTP/1.1\r\nHost: {addr}\r\nX-Huge: {}\r\n\r\n",
                "a".repeat(200 * 1024)
            );
            let reply = raw_exchange(&addr, huge.as_bytes(), limit).unwrap();
            assert_security_headers("huge header", &reply, 431);

            // Forms take at most 2 MiB; this one is a little larger.
            let form = format!("email={}", "a".repeat(2 * 1024 * 1024 + 100));
            let big_body = format!(
                "POST /admin/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{form}",
                form.len()
            );
            let reply = raw_exchange(&addr, big_body.as_bytes(), limit).unwrap();
            assert_security_headers("too-large body", &reply, 413);

            // A bad request after a good one on the same connection: the first response keeps
            // its headers once, the error response gets them too.
            let both = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\nBROKEN\r\n\r\n");
            let reply = raw_exchange(&addr, both.as_bytes(), limit).unwrap();
            let second = reply.find("HTTP/1.1 400").expect("a 400 after the 200");
            assert_security_headers("application response", &reply[..second], 200);
            assert_security_headers("parse error after a response", &reply[second..], 400);
        })
        .await
        .unwrap();
    }
);

/// The built-in TLS listener has the same protections: a client that connects and never
/// finishes its handshake is cut off after the header timeout, and a response hyper writes
/// itself carries the security headers, HSTS included.
#[test]
fn tls_listener_bounds_handshakes_and_adds_headers_to_parse_errors() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ])
        .args([
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(made.success());
    let server = ServeProcess::start_tls(&cert, &key, &[("CANDOR_HEADER_TIMEOUT_SECONDS", "1")]);
    let addr = server.addr.clone();

    // Connected, but no ClientHello: closed after about the header timeout.
    let mut silent = TcpStream::connect(&addr).unwrap();
    silent.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let _ = silent.read(&mut buf);
    let waited = started.elapsed();
    assert!(
        (Duration::from_millis(800)..Duration::from_millis(2500)).contains(&waited),
        "an unfinished TLS handshake was closed after {waited:?}, expected about 1 s"
    );

    let reply = tls_exchange(&addr, &cert, b"BROKEN\r\n\r\n");
    assert_security_headers("malformed request over TLS", &reply, 400);
    let (_, headers) = head_of(&reply);
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "strict-transport-security" && v.contains("max-age=31536000")),
        "{reply}"
    );
    let reply = tls_exchange(
        &addr,
        &cert,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_security_headers("healthz over TLS", &reply, 200);

    let (status, _, log) = server.terminate(Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "exit status {status:?}\n{log}");
}

/// Sends `request` over TLS (trusting only `cert`) and reads until the server closes.
fn tls_exchange(addr: &str, cert: &std::path::Path, request: &[u8]) -> String {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // A server that closes without close_notify, or resets after answering.
            Err(_) if !out.is_empty() => break,
            Err(e) => panic!("TLS exchange failed: {e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request answered before its body was read (here a 2 MiB upload without a session, sent to
/// sign-in) is answered `Connection: close`: the rest of the body is still on the wire, so the
/// connection cannot carry another request, and a client that pooled it would fail its next
/// request. A request whose body was read keeps its connection.
async fn an_answer_before_the_body_is_read_closes_the_connection(db: Db) {
    let Some(app) = TestApp::start(db).await else {
        return;
    };
    let client = reqwest::Client::new();
    let r = client
        .post(app.url("/admin/documents"))
        .header("content-type", "application/octet-stream")
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_redirection() || r.status().is_client_error(),
        "{}",
        r.status()
    );
    assert_eq!(
        r.headers().get("connection").map(|v| v.to_str().unwrap()),
        Some("close")
    );
    let r = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("connection").is_none());
    let r = client
        .post(app.url("/subscribe"))
        .header("origin", app.url("").trim_end_matches('/'))
        .form(&[("email", "not-an-address")])
        .send()
        .await
        .unwrap();
    assert!(
        r.headers().get("connection").is_none(),
        "a form read to its end keeps the connection"
    );
}
crate::both_dbs_fn!(
    answers_before_the_body_is_read_close_the_connection,
    an_answer_before_the_body_is_read_closes_the_connection
);
