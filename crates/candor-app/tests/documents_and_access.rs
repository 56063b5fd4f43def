//! Documents and access use cases on real SQLite and PostgreSQL: the change, its audit entry and
//! its mail commit together or not at all, and a deleted document's files go once it commits.
//!
//! The failure is forced where it hurts most: the audit entry is written last, so a trigger that
//! refuses it fails the use case after its rows (and mail) were written in the transaction.

use candor_app::access::MailContext;
use candor_app::{Actor, App};
use candor_core::documents::{Access, DocumentKind};
use candor_core::requests::RequestStatus;
use candor_store::{BlobRow, DocumentFields, NewRequest, NewVersion, Store};
use sqlx::Connection;

#[derive(Clone, Copy, Debug)]
enum Db {
    Sqlite,
    Postgres,
}

/// A use-case layer over a fresh database, and a side connection for the test's own SQL.
struct Fixture {
    app: App,
    side: sqlx::AnyConnection,
    db: Db,
    /// The PostgreSQL database made for this test and the server's admin URL, dropped at the end.
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

async fn fixture(db: Db) -> Option<Fixture> {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let mut pg = None;
    let url = match db {
        Db::Sqlite => format!("sqlite://{}", dir.path().join("candor.db").display()),
        Db::Postgres => {
            let admin = std::env::var("CANDOR_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let mut conn = match sqlx::AnyConnection::connect(&admin).await {
                Ok(c) => c,
                Err(e) => {
                    if std::env::var("CI").as_deref() == Ok("true") {
                        panic!("PostgreSQL is not reachable at {admin}: {e}");
                    }
                    eprintln!("SKIPPED: PostgreSQL is not reachable at {admin} ({e})");
                    return None;
                }
            };
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let name = format!("candor_app_t_{}_{nanos}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&format!("/{name}"));
            pg = Some((name, admin));
            url.to_string()
        }
    };
    let store = Store::open(&url).await.unwrap();
    let org = store.ensure_org("default").await.unwrap();
    let blobs = candor_blob::BlobStore::open(&candor_blob::Backend::Local(dir.path().join("blobs"))).unwrap();
    let ring = candor_crypto::envelope::KeyRing::generate();
    let app = App::new(store, org, blobs, ring, dir.path().to_path_buf(), None);
    let side = sqlx::AnyConnection::connect(&url).await.unwrap();
    Some(Fixture {
        app,
        side,
        db,
        pg,
        _dir: dir,
    })
}

impl Fixture {
    /// Closes everything and drops the PostgreSQL database.
    async fn finish(self) {
        self.app.store().close().await;
        let _ = self.side.close().await;
        if let Some((name, admin)) = self.pg {
            let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }

    async fn count(&mut self, table: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut self.side)
            .await
            .unwrap()
    }

    /// From now on, every audit entry is refused by the database.
    async fn refuse_audit(&mut self) {
        let statements: &[&str] = match self.db {
            Db::Sqlite => &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END"],
            Db::Postgres => &[
                "CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            ],
        };
        for s in statements {
            sqlx::query(s).execute(&mut self.side).await.unwrap();
        }
    }

    async fn allow_audit(&mut self) {
        let s = match self.db {
            Db::Sqlite => "DROP TRIGGER refuse_audit",
            Db::Postgres => "DROP TRIGGER refuse_audit ON audit_log",
        };
        sqlx::query(s).execute(&mut self.side).await.unwrap();
    }
}

fn ctx() -> MailContext {
    MailContext {
        org_name: "Corvellan".into(),
        public_url: "https://trust.example".into(),
        security_email: "security@corvellan.example".into(),
    }
}

fn request(email: &str) -> NewRequest {
    NewRequest {
        name: "Dana Prospect".into(),
        email: email.into(),
        company: "Acme Buyer".into(),
        reason: String::new(),
        documents: vec![],
        status: RequestStatus::Unverified,
        ip: "192.0.2.1".into(),
        user_agent: "test".into(),
    }
}

async fn request_mail_and_audit_together(db: Db) {
    let Some(mut f) = fixture(db).await else { return };
    let visitor = Actor::Anonymous { ip: "192.0.2.1".into() };
    let done = f
        .app
        .request_access(&visitor, request("dana@acme.example"), &ctx())
        .await
        .unwrap();
    assert_eq!(done.effects.mail_queued, 1);
    assert_eq!(done.effects.audit.len(), 1);
    assert_eq!(done.effects.audit[0].record.action, "access.request");
    let before = (
        f.count("access_requests").await,
        f.count("outbox").await,
        f.count("magic_links").await,
        f.count("audit_log").await,
    );
    assert_eq!(before, (1, 1, 1, 1));

    f.refuse_audit().await;
    let failed = f
        .app
        .request_access(&visitor, request("eve@acme.example"), &ctx())
        .await;
    assert!(
        failed.is_err(),
        "the use case fails when its audit entry cannot be written"
    );
    let after = (
        f.count("access_requests").await,
        f.count("outbox").await,
        f.count("magic_links").await,
        f.count("audit_log").await,
    );
    assert_eq!(after, before, "no request, no mail, no link without its audit entry");

    // And the rule-approved path: a signed request approved by the rule writes grant, link, mail
    // and audit together, or nothing.
    f.allow_audit().await;
    let mut rules = f.app.access_rules().await.unwrap();
    rules.approve = vec!["acme.example".into()];
    let _ = f
        .app
        .save_access_settings(
            &Actor::System,
            candor_app::access::AccessSettings {
                rules,
                nda: candor_app::access::default_nda("Corvellan"),
            },
            "Corvellan",
        )
        .await
        .unwrap();
    let mut signed = request("sam@acme.example");
    signed.status = RequestStatus::Signed;
    let id = f
        .app
        .store()
        .create_access_request(f.app.org(), &signed, None)
        .await
        .unwrap();
    let req = f.app.store().access_request(f.app.org(), id).await.unwrap().unwrap();
    f.refuse_audit().await;
    let (grants, mail) = (f.count("grants").await, f.count("outbox").await);
    assert!(f.app.auto_approve(&req, &ctx(), "192.0.2.1").await.is_err());
    assert_eq!((f.count("grants").await, f.count("outbox").await), (grants, mail));
    let still = f.app.store().access_request(f.app.org(), id).await.unwrap().unwrap();
    assert_eq!(still.status, RequestStatus::Signed, "the decision was rolled back");
    f.allow_audit().await;
    let done = f.app.auto_approve(&req, &ctx(), "192.0.2.1").await.unwrap();
    assert!(done.value.is_some(), "approved, and the browser signed in");
    assert_eq!(done.effects.audit[0].record.actor, "rule:auto-approve");
    assert_eq!(
        (f.count("grants").await, f.count("outbox").await),
        (grants + 1, mail + 1)
    );
    f.finish().await;
}

#[tokio::test]
async fn sqlite_access_change_mail_and_audit_commit_together() {
    request_mail_and_audit_together(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_access_change_mail_and_audit_commit_together() {
    request_mail_and_audit_together(Db::Postgres).await;
}

async fn delete_keeps_files_until_it_commits(db: Db) {
    let Some(mut f) = fixture(db).await else { return };
    let ring = f.app.key_ring();
    let mut blob_ids = vec![];
    let version = |stored: candor_blob::StoredBlob| NewVersion {
        blob: BlobRow {
            id: stored.id,
            key_id: stored.wrapped.key_id,
            wrapped_key: stored.wrapped.sealed,
            size: stored.size as i64,
            sha256: stored.sha256,
        },
        filename: "r.txt".into(),
        content_type: "text/plain".into(),
        uploaded_by: "test".into(),
    };
    let fields = DocumentFields {
        slug: "pen-test".into(),
        title: "Pen test".into(),
        description: String::new(),
        kind: DocumentKind::AuditReport,
        access: Access::Nda,
        links: vec![],
    };
    let owner = Actor::User {
        email: "owner@corvellan.example".into(),
        ip: "192.0.2.9".into(),
    };
    let first = f.app.blobs().put_bytes(&ring, b"first").await.unwrap();
    blob_ids.push(first.id.clone());
    let _ = f.app.create_document(&owner, &fields, &version(first)).await.unwrap();
    let second = f.app.blobs().put_bytes(&ring, b"second").await.unwrap();
    blob_ids.push(second.id.clone());
    let _ = f
        .app
        .add_document_version(&owner, "pen-test", &version(second))
        .await
        .unwrap();

    f.refuse_audit().await;
    assert!(f.app.delete_document(&owner, "pen-test").await.is_err());
    assert!(f.app.store().document(f.app.org(), "pen-test").await.unwrap().is_some());
    for id in &blob_ids {
        assert!(
            f.app.blobs().read_raw(id).await.is_ok(),
            "{id} kept: the deletion did not commit"
        );
    }
    // A version whose audit entry cannot be written is not added, and its file is removed.
    let third = f.app.blobs().put_bytes(&ring, b"third").await.unwrap();
    let third_id = third.id.clone();
    assert!(f
        .app
        .add_document_version(&owner, "pen-test", &version(third))
        .await
        .is_err());
    assert!(
        f.app.blobs().read_raw(&third_id).await.is_err(),
        "the refused version's file is gone"
    );
    assert_eq!(f.count("document_versions").await, 2);

    f.allow_audit().await;
    let done = f.app.delete_document(&owner, "pen-test").await.unwrap();
    assert_eq!(done.effects.audit[0].record.action, "document.delete");
    assert!(f.app.store().document(f.app.org(), "pen-test").await.unwrap().is_none());
    assert_eq!((f.count("document_versions").await, f.count("blobs").await), (0, 0));
    for id in &blob_ids {
        assert!(
            f.app.blobs().read_raw(id).await.is_err(),
            "{id} removed after the commit"
        );
    }
    assert!(matches!(
        f.app.delete_document(&owner, "pen-test").await,
        Err(candor_app::Error::NotFound(_))
    ));
    f.finish().await;
}

#[tokio::test]
async fn sqlite_document_delete_removes_files_only_once_committed() {
    delete_keeps_files_until_it_commits(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_document_delete_removes_files_only_once_committed() {
    delete_keeps_files_until_it_commits(Db::Postgres).await;
}
