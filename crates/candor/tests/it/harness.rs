//! `TestApp`: a real Candor server on a free port with its own database.
//!
//! SQLite tests get a temporary directory. PostgreSQL tests get a fresh database on the server at
//! `CANDOR_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped
//! afterwards. Without a reachable PostgreSQL the PostgreSQL variants are skipped with a printed
//! line, except under `CI=true`, where they fail: CI must never skip them silently.

use candor_store::Store;
use candor_web::bootstrap::bootstrap;
use candor_web::{AppState, Config};
use sqlx::Connection;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    /// A client with a cookie jar that does not follow redirects.
    pub client: reqwest::Client,
    pub store: Store,
    pub state: AppState,
    pub setup_token: Option<String>,
    /// The database URL, for tests that tamper with rows directly.
    pub db_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _tmp: tempfile::TempDir,
    pg_db: Option<(String, String)>,
}

fn pg_admin_url() -> String {
    std::env::var("CANDOR_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Creates a fresh PostgreSQL database; `None` (skip) when the server is unreachable outside CI.
pub async fn fresh_pg_database() -> Option<(String, String)> {
    sqlx::any::install_default_drivers();
    let admin = pg_admin_url();
    let mut conn = match sqlx::AnyConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PostgreSQL is not reachable at {admin} ({e}) and CI=true: the PostgreSQL tests must run in CI");
            }
            eprintln!("SKIPPED: PostgreSQL is not reachable at {admin} ({e}); PostgreSQL variant skipped. Set CANDOR_TEST_POSTGRES_URL to run it.");
            return None;
        }
    };
    let name = format!(
        "candor_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand_suffix()
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&admin).expect("valid postgres url");
    url.set_path(&format!("/{name}"));
    Some((name, url.to_string()))
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

impl TestApp {
    /// Starts a server with the demo trust center loaded.
    pub async fn start(db: Db) -> Option<TestApp> {
        Self::start_with(db, true).await
    }

    pub async fn start_with(db: Db, demo: bool) -> Option<TestApp> {
        Self::start_configured(db, demo, |_| {}).await
    }

    /// Starts with a configuration adjusted by `tweak` (after the test defaults are set).
    pub async fn start_configured(db: Db, demo: bool, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().to_path_buf();
        Self::start_in(db, demo, &data_dir, tmp, tweak).await
    }

    /// Starts on SQLite with the database and every file under `data_dir` (a small file system
    /// the test mounted, say).
    pub async fn start_sqlite_in(data_dir: &std::path::Path, demo: bool) -> TestApp {
        let tmp = tempfile::tempdir().expect("tempdir");
        Self::start_in(Db::Sqlite, demo, data_dir, tmp, |_| {})
            .await
            .expect("sqlite always runs")
    }

    async fn start_in(
        db: Db,
        demo: bool,
        data_dir: &std::path::Path,
        tmp: tempfile::TempDir,
        tweak: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let (url, pg_db) = match db {
            Db::Sqlite => (format!("sqlite://{}", data_dir.join("candor.db").display()), None),
            Db::Postgres => {
                let (name, url) = fresh_pg_database().await?;
                (url.clone(), Some((name, pg_admin_url())))
            }
        };
        let store = Store::open(&url).await.expect("open store");
        let boot = bootstrap(&store, demo).await.expect("bootstrap");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let mut config = Config::for_tests(&url, data_dir);
        config.public_url = format!("http://{addr}");
        config.demo = demo;
        tweak(&mut config);
        let state = AppState::new(store.clone(), boot.org, config).await.expect("state");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serve_state = state.clone();
        tokio::spawn(async move {
            candor_web::serve(listener, serve_state, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        Some(TestApp {
            base: format!("http://{addr}"),
            client: Self::new_client(),
            store,
            state,
            setup_token: boot.setup_token.map(|t| t.expose().to_owned()),
            db_url: url.clone(),
            shutdown: Some(tx),
            _tmp: tmp,
            pg_db,
        })
    }

    /// Runs a statement directly against the database, behind the application's back.
    pub async fn sql(&self, statement: &str) {
        let mut c = sqlx::AnyConnection::connect(&self.db_url).await.expect("connect");
        sqlx::query(statement).execute(&mut c).await.expect("statement runs");
    }

    pub fn new_client() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.browser().get(path).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        self.browser().get_text(path).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((name, admin)) = self.pg_db.take() {
            let store = self.store.clone();
            // Drop runs inside the test's runtime; do the async clean-up on a thread of its own.
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    store.close().await;
                    if let Ok(mut c) = sqlx::AnyConnection::connect(&admin).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut c)
                            .await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}

/// Defines one test run on SQLite and on PostgreSQL:
/// `both_dbs!(name, |app| async move { ... });`
#[macro_export]
macro_rules! both_dbs {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::TestApp::start($crate::Db::Sqlite)
                    .await
                    .expect("sqlite always runs");
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::TestApp::start($crate::Db::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// Runs `async fn test(db: Db)` once per database, for tests that start their own app (with
/// their own configuration or services): `both_dbs_fn!(name, test);`
#[macro_export]
macro_rules! both_dbs_fn {
    ($name:ident, $test:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test($crate::Db::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$test($crate::Db::Postgres).await;
            }
        }
    };
}

/// The owner's credentials after [`TestApp::sign_in_owner`].
pub const OWNER_EMAIL: &str = "owner@corvellan.example";
pub const OWNER_PASSWORD: &str = "correct horse battery staple";

/// The text of the first element with class `token` (a secret shown once: an API token, an
/// invitation link, a TOTP key).
pub fn shown_once(html: &str) -> String {
    let after = html.split("class=\"token\">").nth(1).expect("page shows a secret");
    after.split('<').next().unwrap().to_owned()
}

/// The value of the first `name="_csrf"` hidden field in a page.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("page has a CSRF field")
        .to_owned()
}

/// One browser (cookie jar) talking to a test server.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// Posts a form from our own origin (as a browser would).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("Origin", &self.base)
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Posts a multipart form (an upload) from our own origin.
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("Origin", &self.base)
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    /// Follows an emailed link as a person does: opens it (a page saying what the link does, with
    /// one button), then presses the button. Returns the button's response.
    pub async fn follow_link(&self, path: &str) -> reqwest::Response {
        let (status, page) = self.get_text(path).await;
        assert_eq!(status, 200, "the link's page: {page}");
        self.post_form(path, &[("_csrf", &csrf_of(&page))]).await
    }

    /// Signs in; returns the CSRF token of the dashboard.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let (_, page) = self.get_text("/admin/login").await;
        let r = self
            .post_form(
                "/admin/login",
                &[
                    ("_csrf", &csrf_of(&page)),
                    ("email", email),
                    ("password", password),
                    ("next", "/admin"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "sign-in failed: {}", r.text().await.unwrap());
        let (status, dash) = self.get_text("/admin").await;
        assert_eq!(status, 200);
        csrf_of(&dash)
    }
}

impl TestApp {
    /// A second, independent browser.
    pub fn new_browser(&self) -> Browser {
        Browser {
            client: Self::new_client(),
            base: self.base.clone(),
        }
    }

    /// This app's default browser (shares `self.client`'s cookies).
    pub fn browser(&self) -> Browser {
        Browser {
            client: self.client.clone(),
            base: self.base.clone(),
        }
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.browser().post_form(path, form).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        self.browser().sign_in(email, password).await
    }

    /// Uses the setup link, then signs in; returns a fresh page's CSRF token.
    pub async fn sign_in_owner(&self) -> String {
        let token = self.setup_token.clone().expect("fresh app has a setup link");
        let (status, page) = self.get_text(&format!("/admin/setup/{token}")).await;
        assert_eq!(status, 200, "{page}");
        let r = self
            .post_form(
                &format!("/admin/setup/{token}"),
                &[
                    ("_csrf", &csrf_of(&page)),
                    ("name", "Olive Owner"),
                    ("email", OWNER_EMAIL),
                    ("password", OWNER_PASSWORD),
                    ("confirm", OWNER_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        self.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await
    }
}
