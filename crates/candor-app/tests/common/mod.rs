//! What the use-case tests share: a fresh database (SQLite, and PostgreSQL at
//! `CANDOR_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`, skipped
//! when unreachable outside CI, a failure under `CI=true`) with the use cases over it.
#![allow(dead_code)]

use candor_app::App;
use candor_store::Store;
use sqlx::Connection;

/// One database for one test, removed afterwards.
pub struct Db {
    pub app: App,
    pub store: Store,
    pub url: String,
    /// PostgreSQL: the database's name and the server's admin address, to drop it.
    pub pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

fn pg_admin_url() -> String {
    std::env::var("CANDOR_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl Db {
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        Db::open(url, None, dir).await
    }

    pub async fn postgres() -> Option<Db> {
        sqlx::any::install_default_drivers();
        let admin = pg_admin_url();
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("PostgreSQL is not reachable at {admin} ({e}) and CI=true")
            }
            Err(e) => {
                eprintln!("SKIPPED: PostgreSQL is not reachable at {admin} ({e})");
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("candor_app_{}_{nanos}", std::process::id());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{admin} names no database"),
        };
        Some(Db::open(url, Some((name, admin)), tempfile::tempdir().unwrap()).await)
    }

    pub async fn open(url: String, pg: Option<(String, String)>, dir: tempfile::TempDir) -> Db {
        let store = Store::open(&url).await.unwrap();
        let org = store.ensure_org("default").await.unwrap();
        let blobs = candor_blob::BlobStore::open(&candor_blob::Backend::Local(dir.path().join("blobs"))).unwrap();
        let ring = candor_crypto::envelope::KeyRing::generate();
        let app = App::new(store.clone(), org, blobs, ring, dir.path().to_path_buf(), None);
        Db {
            app,
            store,
            url,
            pg,
            _dir: dir,
        }
    }

    pub async fn sql(&self, statement: &str) {
        let mut c = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    }

    /// Makes every audit insert fail, as a full disk or a broken chain would.
    pub async fn refuse_audit(&self) {
        if self.pg.is_some() {
            self.sql("CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$")
                .await;
            self.sql(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            )
            .await;
        } else {
            self.sql("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
                .await;
        }
    }

    pub async fn accept_audit(&self) {
        let on = if self.pg.is_some() { " ON audit_log" } else { "" };
        self.sql(&format!("DROP TRIGGER refuse_audit{on}")).await;
    }

    pub async fn audit(&self) -> Vec<(String, String, String, serde_json::Value)> {
        self.store
            .audit_chain(self.app.org())
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.record.actor, e.record.action, e.record.target, e.record.details))
            .collect()
    }

    pub async fn close(self) {
        self.store.close().await;
        if let Some((name, admin)) = self.pg {
            if let Ok(mut c) = sqlx::AnyConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c)
                    .await;
            }
        }
    }
}

/// Runs `test` on SQLite and, when it is reachable, on PostgreSQL.
#[macro_export]
macro_rules! both_dbs {
    ($name:ident, $test:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let db = super::Db::sqlite().await;
                super::$test(&db).await;
                db.close().await;
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(db) = super::Db::postgres().await {
                    super::$test(&db).await;
                    db.close().await;
                }
            }
        }
    };
}
