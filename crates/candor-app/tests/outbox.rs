//! The outbox's use cases on real SQLite and PostgreSQL: "retry now" and "discard" change the
//! message, write their audit entry and wake the worker together, or leave nothing behind.
//!
//! PostgreSQL runs against `CANDOR_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) in a database made for the test and dropped
//! after it; without a server the PostgreSQL half is skipped with a printed line, except under
//! `CI=true`, where it fails.

use candor_app::{Actor, App, Error};
use candor_store::{NewEmail, OrgId, OutboxStatus, Store};
use sqlx::Connection;

/// One database with the use cases over it.
struct Setup {
    app: App,
    store: Store,
    org: OrgId,
    url: String,
    backend: &'static str,
    /// The PostgreSQL database to drop afterwards, and the server's admin URL.
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

fn pg_admin_url() -> String {
    std::env::var("CANDOR_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl Setup {
    async fn sqlite() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("candor.db").display());
        Setup::on(url, "sqlite", None, dir).await
    }

    async fn postgres() -> Option<Setup> {
        sqlx::any::install_default_drivers();
        let admin = pg_admin_url();
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                assert_ne!(
                    std::env::var("CI").as_deref(),
                    Ok("true"),
                    "PostgreSQL is not reachable at {admin} ({e}) and CI=true"
                );
                eprintln!("SKIPPED: PostgreSQL is not reachable at {admin} ({e}); PostgreSQL half skipped.");
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("candor_app_outbox_{}_{nanos}", std::process::id());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        let dir = tempfile::tempdir().unwrap();
        Some(Setup::on(url.to_string(), "postgres", Some((name, admin)), dir).await)
    }

    async fn on(url: String, backend: &'static str, pg: Option<(String, String)>, dir: tempfile::TempDir) -> Setup {
        let store = Store::open(&url).await.unwrap();
        let org = store.ensure_org("default").await.unwrap();
        let blobs = candor_blob::BlobStore::open(&candor_blob::Backend::Local(dir.path().join("blobs"))).unwrap();
        let ring = candor_crypto::envelope::KeyRing::generate();
        let app = App::new(store.clone(), org, blobs, ring, dir.path().to_path_buf(), None);
        Setup {
            app,
            store,
            org,
            url,
            backend,
            pg,
            _dir: dir,
        }
    }

    /// Runs statements behind the application's back.
    async fn sql(&self, statements: &str) {
        let mut c = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        sqlx::raw_sql(statements).execute(&mut c).await.unwrap();
        c.close().await.ok();
    }

    /// Makes every audit append fail from now on, as a full disk or a lost connection would
    /// after the use case's own rows were written.
    async fn refuse_audit(&self, on: bool) {
        let statements = match (self.backend, on) {
            ("sqlite", true) => {
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END;"
            }
            ("sqlite", false) => "DROP TRIGGER refuse_audit;",
            (_, true) => {
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$; \
                 CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();"
            }
            (_, false) => "DROP TRIGGER refuse_audit ON audit_log; DROP FUNCTION refuse_audit();",
        };
        self.sql(statements).await;
    }

    /// Queues a message through a unit of work, as a use case would; returns its id.
    async fn queue(&self, recipient: &str) -> i64 {
        let mut work = self.app.begin().await.unwrap();
        work.mail(&NewEmail {
            recipient: recipient.into(),
            subject: "Reset your password".into(),
            body_text: "Open https://trust.example/admin/reset/secret-token within 30 minutes.".into(),
            body_html: None,
            purpose: "password-reset".into(),
            headers: vec![],
        })
        .await
        .unwrap();
        let done = work.finish(()).await.unwrap();
        assert_eq!(done.effects.mail_queued, 1);
        let all = self.store.outbox(self.org, 100).await.unwrap();
        all.iter().find(|m| m.recipient == recipient).unwrap().id
    }

    async fn actions(&self) -> Vec<(String, String, String)> {
        let entries = self.store.audit_entries(self.org, &Default::default()).await.unwrap();
        entries
            .into_iter()
            .rev()
            .map(|e| (e.record.actor, e.record.action, e.record.target))
            .collect()
    }

    async fn close(self) {
        self.store.close().await;
        if let Some((name, admin)) = &self.pg {
            let mut c = sqlx::AnyConnection::connect(admin).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

fn owner() -> Actor {
    Actor::User {
        email: "owner@corvellan.example".into(),
        ip: "192.0.2.7".into(),
    }
}

async fn retry_and_discard_commit_with_their_audit_entry(s: Setup) {
    let failed = s.queue("gone@corvellan.example").await;
    let waiting = s.queue("later@corvellan.example").await;
    s.store
        .mark_email_failed(failed, "550 5.1.1 no such mailbox")
        .await
        .unwrap();
    s.store
        .mark_email_retry(waiting, candor_store::now() + 3600, "connection refused")
        .await
        .unwrap();
    let before = s.store.undelivered_emails(s.org, 10).await.unwrap();
    assert_eq!(before.len(), 2);
    assert_eq!(before[0].id, failed, "failed mail is listed first");
    assert_eq!(before[0].status, OutboxStatus::Failed);
    assert!(
        before.iter().all(|m| m.has_text),
        "a failed message keeps its text for a retry"
    );

    // The audit entry cannot be written: neither the retry nor the discard happens.
    s.refuse_audit(true).await;
    assert!(s.app.retry_email(&owner(), failed).await.is_err());
    assert!(s.app.discard_email(&owner(), waiting).await.is_err());
    assert_eq!(
        s.store.undelivered_emails(s.org, 10).await.unwrap(),
        before,
        "nothing of a use case whose audit entry failed remains"
    );
    assert!(s.actions().await.is_empty());
    s.refuse_audit(false).await;

    // Retry: due now, no longer failed, attempts kept; the worker is to be woken.
    let done = s.app.retry_email(&owner(), failed).await.unwrap();
    assert_eq!(done.effects.mail_queued, 1, "a retry wakes the outbox worker");
    assert_eq!(done.effects.audit.len(), 1);
    assert_eq!(done.value.recipient, "gone@corvellan.example");
    let after = s.store.undelivered_emails(s.org, 10).await.unwrap();
    let retried = after.iter().find(|m| m.id == failed).unwrap();
    assert_eq!(retried.status, OutboxStatus::Pending);
    assert_eq!(retried.attempts, 1);
    assert!(retried.next_attempt_at <= candor_store::now());
    let due = s.store.claim_due_emails(10, 60).await.unwrap();
    assert_eq!(
        due.iter().map(|m| m.id).collect::<Vec<_>>(),
        [failed],
        "only the retried one is due"
    );
    assert!(due[0].body_text.contains("/admin/reset/"), "sent with its text");

    // Discard: gone, text and all.
    let done = s.app.discard_email(&owner(), waiting).await.unwrap();
    assert_eq!(done.effects.mail_queued, 0);
    assert!(s.store.outbox(s.org, 10).await.unwrap().iter().all(|m| m.id != waiting));

    assert_eq!(
        s.actions().await,
        [
            (
                "user:owner@corvellan.example".to_owned(),
                "outbox.retry".to_owned(),
                format!("outbox/{failed}")
            ),
            (
                "user:owner@corvellan.example".to_owned(),
                "outbox.discard".to_owned(),
                format!("outbox/{waiting}")
            ),
        ]
    );
    let entries = s.store.audit_entries(s.org, &Default::default()).await.unwrap();
    let details = &entries[1].record.details;
    assert_eq!(details["was"], "failed");
    assert_eq!(details["purpose"], "password-reset");
    assert!(
        !details.to_string().contains("secret-token"),
        "no text in the log: {details}"
    );

    // A message that was sent, or one that is gone, cannot be retried or discarded.
    s.store.mark_email_sent(failed).await.unwrap();
    assert!(matches!(
        s.app.retry_email(&owner(), failed).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.app.discard_email(&owner(), failed).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.app.retry_email(&owner(), waiting).await,
        Err(Error::NotFound(_))
    ));

    // A failure recorded before failed mail kept its text cannot be resent, only discarded.
    let erased = s.queue("old@corvellan.example").await;
    s.store.mark_email_failed(erased, "550 refused").await.unwrap();
    s.sql(&format!("UPDATE outbox SET body_text = '' WHERE id = {erased}"))
        .await;
    assert!(matches!(
        s.app.retry_email(&owner(), erased).await,
        Err(Error::Conflict(_))
    ));
    let done = s.app.discard_email(&owner(), erased).await.unwrap();
    assert_eq!(done.value.id, erased);
    assert_eq!(s.actions().await.len(), 3);
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_use_cases_are_atomic_on_sqlite() {
    retry_and_discard_commit_with_their_audit_entry(Setup::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_use_cases_are_atomic_on_postgres() {
    if let Some(s) = Setup::postgres().await {
        retry_and_discard_commit_with_their_audit_entry(s).await;
    }
}
