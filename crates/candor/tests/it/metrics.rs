//! `/metrics`: what Prometheus reads (checked by `promtool check metrics`), that the numbers move
//! with requests and queued mail, who is refused, and the request id in answers and log lines.

use crate::harness::fresh_pg_database;
use crate::{both_dbs, both_dbs_fn, Db, TestApp};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The value of the sample whose line starts with `series` (name and labels as written), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// `promtool`, or `None` (skip) outside CI when it is not installed.
pub fn tool(name: &str, package: &str) -> Option<String> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is missing and CI=true: install {package}"
        );
        eprintln!("SKIPPED: {name} is not installed (apt-get install {package})");
    }
    found
}

/// Runs `promtool check metrics` on `text`; panics with its complaints.
fn promtool_accepts(text: &str) {
    let Some(promtool) = tool("promtool", "prometheus") else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // promtool also lints (e.g. counters without `_total`); any finding fails the test.
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics:\n{said}\n---\n{text}"
    );
}

async fn scrape(app: &TestApp) -> String {
    let r = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    r.text().await.unwrap()
}

both_dbs!(
    metrics_pass_promtool_and_move_with_requests_and_mail,
    |app: TestApp| async move {
        let healthz = r#"candor_http_requests_total{method="GET",route="/healthz",status="200"}"#;
        // A request no route takes is counted under one label, not by its path; a route with a
        // parameter by its template.
        assert_eq!(app.get("/no-such-page-7f3a").await.status(), 404);
        app.get("/documents/no-such-document/download").await;
        for _ in 0..3 {
            assert_eq!(app.get("/healthz").await.status(), 200);
        }
        // A page of the site, answered before the router (public_direct): counted, with its
        // id and the security headers the router's layers would have added.
        for _ in 0..2 {
            let page = app.get("/compliance").await;
            assert_eq!(page.status(), 200);
            assert!(page.headers().contains_key("x-request-id"));
            assert_eq!(page.headers()["x-content-type-options"], "nosniff");
            let csp = page.headers()["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("script-src 'none'"), "{csp}");
        }
        let before = scrape(&app).await;
        let pages = r#"candor_http_requests_total{method="GET",route="<site>",status="200"}"#;
        assert!(sample(&before, pages).is_some_and(|n| n >= 2.0), "{before}");
        promtool_accepts(&before);
        assert_eq!(sample(&before, healthz), Some(3.0), "{before}");
        assert!(
            !before.contains("no-such"),
            "concrete paths never become labels:\n{before}"
        );
        assert!(
            sample(
                &before,
                r#"candor_http_requests_total{method="GET",route="<site>",status="404"}"#
            )
            .is_some(),
            "{before}"
        );
        assert!(
            before.contains(r#"route="/documents/{slug}/download""#),
            "routes are labelled by template:\n{before}"
        );
        assert_eq!(
            sample(
                &before,
                r#"candor_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}"#
            ),
            Some(3.0)
        );
        for family in [
            "candor_db_pool_max_connections",
            "candor_outbox_pending",
            "candor_outbox_oldest_pending_age_seconds",
            "candor_webhook_pending",
            "candor_webhook_oldest_pending_age_seconds",
            "candor_watermark_waiting",
            "candor_watermark_slots",
        ] {
            assert!(sample(&before, family).is_some(), "{family} missing:\n{before}");
        }
        assert_eq!(sample(&before, "candor_database_up"), Some(1.0));
        assert!(sample(&before, r#"candor_db_pool_connections{state="in_use"}"#).is_some());
        // The content watcher goes round at start, so its clock is there.
        assert!(
            sample(&before, r#"candor_job_last_run_age_seconds{job="content_watcher"}"#).is_some(),
            "{before}"
        );
        // No backup has been recorded: the family is absent, not a made-up age.
        assert!(!before.contains("candor_backup_age_seconds"));

        for _ in 0..2 {
            app.get("/healthz").await;
        }
        // Mail that cannot go out (no mail server is configured) waits in the outbox; make it ten
        // minutes old.
        let pending = sample(&before, "candor_outbox_pending").unwrap();
        app.store
            .enqueue_email(
                app.state.org(),
                &candor_store::NewEmail {
                    recipient: "someone@customer.example".into(),
                    subject: "waiting".into(),
                    body_text: "waiting".into(),
                    body_html: None,
                    purpose: "test".into(),
                    headers: vec![],
                },
            )
            .await
            .unwrap();
        app.sql("UPDATE outbox SET created_at = created_at - 600").await;
        // A good backup that finished 20 minutes ago, and a failed one since: the age is the good one's.
        let now = candor_store::now();
        for (finished, ok) in [(now - 1200, 1), (now - 60, 0)] {
            app.sql(&format!(
                "INSERT INTO backup_runs (org_id, started_at, finished_at, started_by, destination, archive, ok, bytes, row_count, blob_count, error) \
                 VALUES ({org}, {finished}, {finished}, 'cli', '/backups', 'a.candor-backup', {ok}, 1, 1, 0, '')",
                org = app.state.org()
            ))
            .await;
        }
        let after = scrape(&app).await;
        promtool_accepts(&after);
        assert_eq!(sample(&after, healthz), Some(5.0));
        assert_eq!(sample(&after, "candor_outbox_pending"), Some(pending + 1.0));
        let age = sample(&after, "candor_outbox_oldest_pending_age_seconds").unwrap();
        assert!((600.0..3600.0).contains(&age), "oldest pending mail is {age} s old");
        let backup_age = sample(&after, "candor_backup_age_seconds").unwrap();
        assert!(
            (1200.0..3600.0).contains(&backup_age),
            "last good backup is {backup_age} s old"
        );
        // The first scrape is counted by the second.
        assert_eq!(
            sample(
                &after,
                r#"candor_http_requests_total{method="GET",route="/metrics",status="200"}"#
            ),
            Some(1.0)
        );
    }
);

async fn refused_without_token(db: Db) {
    // No token configured: this machine may read; a request relayed by a proxy that is not
    // trusted may not (a reverse proxy on this host would make every visitor look local).
    let Some(app) = TestApp::start_with(db, false).await else {
        return;
    };
    let c = reqwest::Client::new();
    assert_eq!(c.get(app.url("/metrics")).send().await.unwrap().status(), 200);
    for header in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        let r = c
            .get(app.url("/metrics"))
            .header(header, "203.0.113.7")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "relayed with {header}");
        let body = r.text().await.unwrap();
        assert!(body.contains("metrics_token") && !body.contains("candor_"), "{body}");
    }
    drop(app);

    // Behind a trusted proxy, the client it reports decides.
    let Some(app) = TestApp::start_configured(db, false, |c| {
        c.trusted_proxies = vec![candor_web::config::IpNet::parse("127.0.0.1").unwrap()];
    })
    .await
    else {
        return;
    };
    let relayed_for = |client: &'static str| c.get(app.url("/metrics")).header("x-forwarded-for", client).send();
    assert_eq!(relayed_for("203.0.113.7").await.unwrap().status(), 403);
    assert_eq!(relayed_for("127.0.0.1").await.unwrap().status(), 200);
}
both_dbs_fn!(metrics_are_refused_to_relayed_strangers, refused_without_token);

async fn token_required(db: Db) {
    let token = "scrape-token-0123456789abcdef0123";
    let Some(app) = TestApp::start_configured(db, false, |c| c.metrics.token = Some(token.into())).await else {
        return;
    };
    let c = reqwest::Client::new();
    // With a token configured, even this machine must send it.
    let r = c.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"candor-metrics\"");
    assert!(!r.text().await.unwrap().contains("candor_http"));
    for wrong in ["scrape-token-0123456789abcdef0124", "", token.trim_end_matches('3')] {
        let r = c.get(app.url("/metrics")).bearer_auth(wrong).send().await.unwrap();
        assert_eq!(r.status(), 401, "token {wrong:?}");
    }
    let r = c
        .get(app.url("/metrics"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "only a bearer token counts");
    let r = c.get(app.url("/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    promtool_accepts(&text);
    // Refused scrapes are counted too, so an alert can see a scraper with the wrong token.
    assert_eq!(
        sample(
            &text,
            r#"candor_http_requests_total{method="GET",route="/metrics",status="401"}"#
        ),
        Some(5.0)
    );
}
both_dbs_fn!(metrics_need_the_token_when_one_is_set, token_required);

/// Starts `candor serve` with debug logs in JSON on stderr, sends requests with and without an
/// `X-Request-Id`, and finds each answer's id in the log line of its request.
async fn request_ids_in_answers_and_logs(db: Db) {
    let pg = match db {
        Db::Sqlite => None,
        Db::Postgres => match fresh_pg_database().await {
            Some((_, url)) => Some(url),
            None => return,
        },
    };
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_candor"));
    cmd.arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CANDOR_LISTEN", format!("127.0.0.1:{port}"))
        .env("CANDOR_LOG_FORMAT", "json")
        .env("CANDOR_LOG_LEVEL", "info,candor_web=debug")
        .env("CANDOR_DEMO", "false")
        .env("CANDOR_TRUSTED_PROXIES", "127.0.0.2")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(url) = &pg {
        cmd.env("CANDOR_DATABASE_URL", url);
    }
    let mut child = cmd.spawn().expect("candor serve starts");
    let base = format!("http://127.0.0.1:{port}");
    let c = reqwest::Client::new();
    let started = Instant::now();
    while !c
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(started.elapsed() < Duration::from_secs(60), "the server became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id_of = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    // A new id for every request.
    let a = id_of(&c.get(format!("{base}/healthz")).send().await.unwrap());
    let b = id_of(&c.get(format!("{base}/no-such-page")).send().await.unwrap());
    assert_ne!(a, b);
    // 127.0.0.1 is not the trusted proxy here (127.0.0.2 is): its id is not taken.
    let r = c
        .get(format!("{base}/healthz"))
        .header("x-request-id", "chosen-by-a-stranger")
        .send()
        .await
        .unwrap();
    let stranger = id_of(&r);
    assert_ne!(stranger, "chosen-by-a-stranger");

    // Through the trusted proxy (a connection from 127.0.0.2), a harmless id is kept and an
    // id that could forge a log line is replaced.
    let via_proxy = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let kept = id_of(
        &via_proxy
            .get(format!("{base}/healthz"))
            .header("x-request-id", "3f2a9c1e-7b4d-4c1a-9e2f-0a1b2c3d4e5f")
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(kept, "3f2a9c1e-7b4d-4c1a-9e2f-0a1b2c3d4e5f");
    let replaced = id_of(
        &via_proxy
            .get(format!("{base}/healthz"))
            .header("x-request-id", "x\",\"level\":\"ERROR")
            .send()
            .await
            .unwrap(),
    );
    assert!(!replaced.contains('"'), "{replaced}");

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let _ = child.wait();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    // Each request's log line carries its id: in the `request` span's fields, or (a page from
    // the in-memory site, which opens no span) in the line's own.
    for (id, route) in [
        (&a, "/healthz"),
        (&b, "/no-such-page"),
        (&stranger, "/healthz"),
        (&kept, "/healthz"),
        (&replaced, "/healthz"),
    ] {
        let line = log
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|l| l["span"]["request_id"] == id.as_str() || l["fields"]["request_id"] == id.as_str())
            .unwrap_or_else(|| panic!("no log line with request id {id}:\n{log}"));
        assert_eq!(line["fields"]["http.route"], route, "{line}");
    }
}
both_dbs_fn!(request_ids_are_returned_and_logged, request_ids_in_answers_and_logs);

/// With a mail server, the outbox empties: the gauge goes back to zero and the mail worker's
/// job clock is there.
async fn outbox_drains(db: Db) {
    let Some(sink) = crate::services::MailSink::start().await else {
        return;
    };
    let Some(app) = crate::gated::app_with_mail(db, &sink).await else {
        return;
    };
    app.store
        .enqueue_email(
            app.state.org(),
            &candor_store::NewEmail {
                recipient: "someone@customer.example".into(),
                subject: "metrics drain".into(),
                body_text: "sent".into(),
                body_html: None,
                purpose: "test".into(),
                headers: vec![],
            },
        )
        .await
        .unwrap();
    app.state.wake_outbox();
    crate::gated::mail_to(&sink, "someone@customer.example", "metrics drain").await;
    let mut text = scrape(&app).await;
    // The message is marked sent just after the server took it.
    for _ in 0..100 {
        if sample(&text, "candor_outbox_pending") == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        text = scrape(&app).await;
    }
    assert_eq!(sample(&text, "candor_outbox_pending"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "candor_outbox_oldest_pending_age_seconds"), Some(0.0));
    assert!(
        sample(&text, r#"candor_job_last_run_age_seconds{job="outbox"}"#).is_some(),
        "{text}"
    );
}
both_dbs_fn!(the_outbox_gauge_drains_when_mail_leaves, outbox_drains);
