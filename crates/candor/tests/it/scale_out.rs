//! Several `candor serve` processes on one database and one data directory, as behind a load
//! balancer: real processes of the real binary, stopped with SIGKILL where a machine would die.

use crate::harness::{csrf_of, fresh_pg_database, Browser};
use crate::services::MailSink;
use crate::Db;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `candor serve` process; killed (SIGKILL) when dropped.
pub(crate) struct Instance {
    child: Child,
    pub(crate) base: String,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// What every instance of one test shares: the database, the data directory (key file, blobs,
/// audit checkpoint) and the environment.
pub(crate) struct Cluster {
    pub(crate) url: String,
    pub(crate) data: tempfile::TempDir,
    logs: tempfile::TempDir,
    env: Vec<(String, String)>,
    started: usize,
}

impl Cluster {
    pub(crate) async fn new(db: Db, env: &[(&str, &str)]) -> Option<Cluster> {
        sqlx::any::install_default_drivers();
        let data = tempfile::tempdir().unwrap();
        let url = match db {
            Db::Sqlite => format!("sqlite://{}", data.path().join("candor.db").display()),
            Db::Postgres => fresh_pg_database().await?.1,
        };
        Some(Cluster {
            url,
            data,
            logs: tempfile::tempdir().unwrap(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            started: 0,
        })
    }

    /// Starts one more instance on a free port and waits until it answers `/readyz`.
    /// Starts two instances: the first must take the lead, the second must stand by.
    pub(crate) async fn start_leader_and_standby(&mut self) -> (Instance, Instance) {
        let a = self.start().await;
        assert!(
            within(Duration::from_secs(20), async || a.leads()).await.is_some(),
            "the first instance leads: {}",
            a.logs()
        );
        let b = self.start().await;
        assert!(
            within(Duration::from_secs(20), async || b.logs().contains("stands by"))
                .await
                .is_some(),
            "the second instance stands by: {}",
            b.logs()
        );
        assert!(!b.leads(), "only one instance leads: {}", b.logs());
        (a, b)
    }

    pub(crate) async fn start(&mut self) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        self.started += 1;
        let stdout = self.logs.path().join(format!("{}.out", self.started));
        let stderr = self.logs.path().join(format!("{}.err", self.started));
        let base = format!("http://127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_candor"))
            .arg("serve")
            .current_dir(self.data.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CANDOR_LISTEN", format!("127.0.0.1:{port}"))
            .env("CANDOR_PUBLIC_URL", &base)
            .env("CANDOR_DATABASE_URL", &self.url)
            .env("CANDOR_DATA_DIR", self.data.path())
            .env("CANDOR_LOG_FORMAT", "json")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .expect("candor serve starts");
        let instance = Instance {
            child,
            base,
            stdout,
            stderr,
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(r) = client.get(instance.url("/readyz")).send().await {
                if r.status() == 200 {
                    return instance;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("instance at {} never became ready:\n{}", instance.base, instance.logs());
    }

    /// Runs a statement on the shared database, behind the instances' backs.
    pub(crate) async fn sql(&self, statement: &str) {
        use sqlx::Connection;
        let mut c = sqlx::AnyConnection::connect(&self.url).await.expect("connect");
        sqlx::query(statement).execute(&mut c).await.expect("statement runs");
    }

    pub(crate) async fn count(&self, query: &str) -> i64 {
        use sqlx::Connection;
        let mut c = sqlx::AnyConnection::connect(&self.url).await.expect("connect");
        sqlx::query_scalar(query).fetch_one(&mut c).await.expect("count")
    }

    pub(crate) fn data_dir(&self) -> &Path {
        self.data.path()
    }
}

impl Instance {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) fn browser(&self) -> Browser {
        Browser {
            client: crate::TestApp::new_client(),
            base: self.base.clone(),
        }
    }

    /// Its log (standard error) so far.
    pub(crate) fn logs(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn leads(&self) -> bool {
        self.logs().contains("this instance leads")
    }

    /// The first-start setup link it printed, if it printed one.
    pub(crate) fn setup_path(&self) -> Option<String> {
        let out = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        let start = out.find("/admin/setup/")?;
        Some(out[start..].split_whitespace().next().unwrap().to_owned())
    }

    /// Stops it as a power cut would: SIGKILL, nothing flushed, no clean-up.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `ready` every 20 ms until it holds or `within` has passed; how long it took.
async fn within(within: Duration, mut ready: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if ready().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Sets the owner's password through the setup link `link_from` printed (each start before the
/// owner exists prints a new one, ending the previous), used on `setup_on`, and signs in through
/// `sign_in_on`; returns the dashboard's CSRF token.
pub(crate) async fn set_up_owner(link_from: &Instance, setup_on: &Instance, sign_in_on: &Browser) -> String {
    let path = link_from.setup_path().expect("a first start prints the setup link");
    let path = &path[path.find("/admin/setup/").unwrap()..];
    let b = setup_on.browser();
    let (status, page) = b.get_text(path).await;
    assert_eq!(status, 200, "{page}");
    let password = crate::harness::OWNER_PASSWORD;
    let r = b
        .post_form(
            path,
            &[
                ("_csrf", &csrf_of(&page)),
                ("name", "Olive Owner"),
                ("email", crate::harness::OWNER_EMAIL),
                ("password", password),
                ("confirm", password),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    sign_in_on.sign_in(crate::harness::OWNER_EMAIL, password).await
}

/// Creates a read-write API token through `b` (signed in as the owner).
pub(crate) async fn api_token(b: &Browser, csrf: &str) -> String {
    let r = b
        .post_form(
            "/admin/tokens",
            &[
                ("_csrf", csrf),
                ("name", "scale-out test"),
                ("scope", "read-write"),
                ("expires_days", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    crate::harness::shown_once(&r.text().await.unwrap())
}

/// Queues `n` messages straight into the outbox, as a use case on any instance would.
async fn queue_mail(cluster: &Cluster, from: usize, n: usize) {
    for i in from..from + n {
        cluster
            .sql(&format!(
                "INSERT INTO outbox (org_id, recipient, subject, body_text, purpose, created_at, next_attempt_at) \
                 SELECT id, 'ops{i}@corvellan.example', 'scale-out message {i}', 'Body {i}.', 'test', 0, 0 FROM orgs"
            ))
            .await;
    }
}

/// The subjects of the test's messages the mail server received, sorted.
fn received(sink: &MailSink) -> Vec<String> {
    let mut subjects: Vec<String> = sink
        .messages()
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Subject: scale-out message "))
                .map(|s| s.trim().to_owned())
        })
        .collect();
    subjects.sort();
    subjects
}

/// Two instances on one PostgreSQL: one leads the background jobs; sessions, content and sign-in
/// backoff are shared; an edit through one shows on the other within a second although neither
/// polls for changes; SIGKILL of the leader hands the jobs to the other; no mail is lost or sent
/// twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_work_and_hand_over_the_lead() {
    let Some(sink) = MailSink::start().await else { return };
    let port = sink.port.to_string();
    let env = [
        ("CANDOR_SMTP_HOST", "127.0.0.1"),
        ("CANDOR_SMTP_PORT", port.as_str()),
        ("CANDOR_SMTP_TLS", "off"),
        ("CANDOR_MAIL_FROM", "Corvellan Trust <trust@corvellan.example>"),
        // Only the notices between instances can make an edit show within a second.
        ("CANDOR_CONTENT_POLL_SECONDS", "3600"),
    ];
    let Some(mut cluster) = Cluster::new(Db::Postgres, &env).await else {
        return;
    };
    let (mut a, b) = cluster.start_leader_and_standby().await;

    // Set up through one, sign in through the other: sessions are in the database.
    let on_b = b.browser();
    let csrf = set_up_owner(&b, &a, &on_b).await;
    let token = api_token(&on_b, &csrf).await;

    // An edit through A shows on B within a second.
    let c = reqwest::Client::new();
    let r = c
        .post(a.url("/api/v1/faq?publish=true"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"slug": "scale-out", "body": {"question": "Does it scale out?", "answer": "Yes."}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let seen = within(Duration::from_secs(1), async || {
        on_b.get_text("/faq").await.1.contains("Does it scale out?")
    })
    .await;
    let took = seen.unwrap_or_else(|| panic!("the edit made on A did not show on B within a second"));
    eprintln!("MEASURED: an edit on A showed on B after {} ms", took.as_millis());

    // Mail goes out once, from the leader.
    queue_mail(&cluster, 0, 5).await;
    sink.wait_for(5).await;

    // The leader dies; the other takes over its jobs.
    a.kill();
    let killed = Instant::now();
    let handed = within(Duration::from_secs(30), async || b.leads()).await;
    assert!(handed.is_some(), "the second instance took the lead: {}", b.logs());
    eprintln!(
        "MEASURED: hand-over after SIGKILL of the leader took {} ms",
        killed.elapsed().as_millis()
    );
    queue_mail(&cluster, 5, 5).await;
    sink.wait_for(10).await;
    // One more poll of the outbox (5 s) passes: nothing is sent again.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let expected: Vec<String> = {
        let mut v: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(received(&sink), expected, "every message exactly once");
    assert_eq!(
        cluster
            .count("SELECT COUNT(*) FROM outbox WHERE purpose = 'test' AND sent_at IS NOT NULL")
            .await,
        10
    );

    // Sign-in backoff started on B holds on a new instance C: build it up to an 8 s wait on B.
    let c_instance = cluster.start().await;
    let bad = [("email", "nobody@corvellan.example"), ("password", "wrong")];
    let attempt = async |on: &Browser| {
        let (_, page) = on.get_text("/admin/login").await;
        let csrf = csrf_of(&page);
        let mut form = vec![("_csrf", csrf.as_str())];
        form.extend(bad);
        on.post_form("/admin/login", &form).await
    };
    let on_b_fresh = b.browser();
    let mut failures = 0;
    while failures < 6 {
        let r = attempt(&on_b_fresh).await;
        match r.status().as_u16() {
            401 => failures += 1,
            429 => tokio::time::sleep(Duration::from_millis(200)).await,
            other => panic!("a bad sign-in answered {other}"),
        }
    }
    let r = attempt(&c_instance.browser()).await;
    assert_eq!(r.status(), 429, "the backoff started on B holds on C");
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=8).contains(&wait), "Retry-After {wait}");
}

/// What the burst of writes got acknowledged before the kill.
#[derive(Default)]
struct Acknowledged {
    faqs: Vec<String>,
    requests: Vec<String>,
    documents: Vec<String>,
}

/// Every file under `dir`, by name.
fn file_names(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(file_names(&p));
            } else {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out
}

async fn crash_during_writes(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let port = sink.port.to_string();
    let env = [
        ("CANDOR_SMTP_HOST", "127.0.0.1"),
        ("CANDOR_SMTP_PORT", port.as_str()),
        ("CANDOR_SMTP_TLS", "off"),
        ("CANDOR_MAIL_FROM", "Corvellan Trust <trust@corvellan.example>"),
        // Requests come "from" many addresses (X-Forwarded-For), so the per-address form limit
        // does not refuse the burst.
        ("CANDOR_TRUSTED_PROXIES", "127.0.0.1/32"),
    ];
    let Some(mut cluster) = Cluster::new(db, &env).await else {
        return;
    };
    let mut server = cluster.start().await;
    let owner = server.browser();
    let csrf = set_up_owner(&server, &server, &owner).await;
    let token = api_token(&owner, &csrf).await;
    let (status, page) = crate::documents::upload(
        &owner,
        &csrf,
        "Before the crash",
        "nda",
        "before.pdf",
        crate::documents::tiny_pdf("before"),
    )
    .await;
    assert!(status == 303 || status == 200, "{status}: {page}");

    // Three writers at once, each until the server stops answering.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Acknowledged::default()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = tokio::task::JoinSet::new();
    {
        let (acked, stop, base, token) = (acked.clone(), stop.clone(), server.base.clone(), token.clone());
        writers.spawn(async move {
            let c = reqwest::Client::new();
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let slug = format!("crash-{i}");
                let sent = c
                    .post(format!("{base}/api/v1/faq?publish=true"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"slug": slug, "body": {"question": format!("Crash {i}?"), "answer": "Kept."}}))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => acked.lock().unwrap().faqs.push(slug),
                    Ok(r) => panic!("an edit answered {}", r.status()),
                    Err(_) => break,
                }
            }
        });
    }
    {
        let (acked, stop, base) = (acked.clone(), stop.clone(), server.base.clone());
        writers.spawn(async move {
            let b = Browser {
                client: crate::TestApp::new_client(),
                base: base.clone(),
            };
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let email = format!("visitor{i}@customer.example");
                let from = format!("10.0.{}.{}", i / 250, i % 250 + 1);
                let Ok(r) = b
                    .client
                    .get(b.url("/documents/request"))
                    .header("X-Forwarded-For", &from)
                    .send()
                    .await
                else {
                    break;
                };
                let Ok(form) = r.text().await else { break };
                let sent = b
                    .client
                    .post(b.url("/documents/request"))
                    .header("Origin", &b.base)
                    .header("X-Forwarded-For", &from)
                    .form(&[
                        ("_csrf", csrf_of(&form).as_str()),
                        ("name", "Vera Visitor"),
                        ("email", &email),
                        ("company", "Customer Ltd"),
                        ("reason", "Due diligence"),
                        ("all", "on"),
                    ])
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => acked.lock().unwrap().requests.push(email),
                    Ok(r) => panic!("an access request answered {}", r.status()),
                    Err(_) => break,
                }
            }
        });
    }
    {
        let (acked, stop, b, csrf) = (acked.clone(), stop.clone(), owner, csrf.clone());
        writers.spawn(async move {
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let title = format!("Crash report {i}");
                let form = reqwest::multipart::Form::new()
                    .text("_csrf", csrf.clone())
                    .text("title", title.clone())
                    .text("kind", "audit-report")
                    .text("access", "nda")
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(crate::documents::tiny_pdf(&title)).file_name("r.pdf"),
                    );
                let sent = b
                    .client
                    .post(b.url("/admin/documents"))
                    .header("Origin", &b.base)
                    .multipart(form)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() || r.status().is_redirection() => {
                        acked.lock().unwrap().documents.push(title)
                    }
                    Ok(r) => panic!("an upload answered {}", r.status()),
                    Err(_) => break,
                }
            }
        });
    }
    // Kill once every writer has had a few answers, while all of them are still writing.
    let busy = within(Duration::from_secs(120), async || {
        let a = acked.lock().unwrap();
        a.faqs.len() >= 5 && a.requests.len() >= 3 && a.documents.len() >= 3
    })
    .await;
    assert!(busy.is_some(), "the writers got answers: {}", server.logs());
    server.kill();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    while let Some(done) = writers.join_next().await {
        done.expect("a writer failed");
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    eprintln!(
        "MEASURED: acknowledged before SIGKILL: {} edits, {} access requests, {} uploads",
        acked.faqs.len(),
        acked.requests.len(),
        acked.documents.len()
    );

    // Restart on the same database and files.
    let server = cluster.start().await;
    let c = reqwest::Client::new();
    for slug in &acked.faqs {
        let r = c
            .get(server.url(&format!("/api/v1/faq/{slug}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged edit {slug} is kept");
    }
    for email in &acked.requests {
        let n = cluster
            .count(&format!("SELECT COUNT(*) FROM access_requests WHERE email = '{email}'"))
            .await;
        assert_eq!(n, 1, "acknowledged access request of {email} is kept");
    }
    for title in &acked.documents {
        let n = cluster
            .count(&format!("SELECT COUNT(*) FROM documents WHERE title = '{title}'"))
            .await;
        assert_eq!(n, 1, "acknowledged upload {title} is kept");
    }
    // Every blob row has its file; a file without a row can only be the one upload in flight.
    let files = file_names(&cluster.data_dir().join("blobs"));
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&cluster.url).await.unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM blobs")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    for id in &ids {
        assert!(files.iter().any(|f| f == id), "blob {id} has its file");
    }
    let orphans = files.iter().filter(|f| !ids.contains(f)).count();
    assert!(orphans <= 1, "{orphans} files without a row: {files:?}");

    // The audit chain verifies.
    let out = Command::new(env!("CARGO_BIN_EXE_candor"))
        .args(["audit", "verify"])
        .current_dir(cluster.data_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CANDOR_DATABASE_URL", &cluster.url)
        .env("CANDOR_DATA_DIR", cluster.data_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The outbox resumes: every queued message goes out after the restart (a message the killed
    // server had taken waits out its lease, two minutes, first).
    let pending = within(Duration::from_secs(200), async || {
        cluster
            .count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
            .await
            == 0
    })
    .await;
    assert!(pending.is_some(), "the outbox resumed: {}", server.logs());
    let queued = cluster.count("SELECT COUNT(*) FROM outbox").await as usize;
    assert!(queued >= acked.requests.len(), "each access request queued its mail");
    assert!(sink.messages().len() >= acked.requests.len());
}

crate::both_dbs_fn!(
    sigkill_during_concurrent_writes_loses_nothing_acknowledged,
    crash_during_writes
);

/// On SQLite the leader holds a lock file in the data directory: a second process on the same
/// files stands by, and takes the lead once the first is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_lock_file_elects_the_leader() {
    let mut cluster = Cluster::new(Db::Sqlite, &[]).await.expect("sqlite always runs");
    let (mut a, b) = cluster.start_leader_and_standby().await;
    assert!(cluster.data_dir().join(candor_web::leader::LOCK_FILE).exists());
    a.kill();
    assert!(
        within(Duration::from_secs(30), async || b.leads()).await.is_some(),
        "the second instance took the lead: {}",
        b.logs()
    );
}
