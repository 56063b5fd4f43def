//! An identity use case, its audit entry and its rows commit together or not at all, on SQLite
//! and PostgreSQL: with the audit insert forced to fail (a trigger), nothing of the action
//! remains.

use candor_app::tokens::NewToken;
use candor_app::{Actor, App};
use candor_core::access::Role;
use candor_crypto::envelope::KeyRing;
use candor_store::Store;
use sqlx::Connection;

/// Statements that make every audit insert fail, and undo that.
struct Refusal {
    on: &'static str,
    off: &'static str,
}

const SQLITE: Refusal = Refusal {
    on: "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'forced failure'); END;",
    off: "DROP TRIGGER refuse_audit",
};
const POSTGRES: Refusal = Refusal {
    on: "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$ LANGUAGE plpgsql; \
         CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();",
    off: "DROP TRIGGER refuse_audit ON audit_log",
};

async fn sql(url: &str, statement: &str) {
    let mut c = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::raw_sql(statement).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
}

/// A fresh PostgreSQL database, or None (skipped) when the server is unreachable outside CI.
async fn fresh_pg() -> Option<(String, String, String)> {
    sqlx::any::install_default_drivers();
    let admin = std::env::var("CANDOR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = match sqlx::AnyConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: PostgreSQL is not reachable at {admin} ({e})");
            return None;
        }
        Err(e) => panic!("PostgreSQL is not reachable at {admin} ({e}) and CI=true"),
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("candor_app_t_{}_{nanos}", std::process::id());
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    Some((admin, name, url.to_string()))
}

async fn nothing_half_done(url: &str, refusal: Refusal, dir: &std::path::Path) {
    let store = Store::open(url).await.unwrap();
    let org = store.ensure_org("default").await.unwrap();
    let owner = store
        .create_user(org, "owner@x.example", "Owner", Role::Owner)
        .await
        .unwrap();
    let blobs = candor_blob::BlobStore::open(&candor_blob::Backend::Local(dir.join("blobs"))).unwrap();
    let app = App::new(store.clone(), org, blobs, KeyRing::generate(), dir.to_owned(), None);
    let actor = Actor::User {
        email: owner.email.clone(),
        ip: "192.0.2.1".into(),
    };
    let token = NewToken::parse("ci", "read", "", 0).unwrap();

    sql(url, refusal.on).await;
    assert!(app.create_api_token(&actor, owner.id, &token).await.is_err());
    assert!(app.set_mfa_required(&actor, true).await.is_err());
    assert!(app.reset_mfa(&actor, &owner).await.is_err());
    assert!(
        store.api_tokens(org).await.unwrap().is_empty(),
        "no token without its audit entry"
    );
    assert_eq!(store.org_setting(org, "require_mfa").await.unwrap(), None);
    assert!(store.audit_chain(org).await.unwrap().is_empty());

    sql(url, refusal.off).await;
    let done = app.create_api_token(&actor, owner.id, &token).await.unwrap();
    assert_eq!(done.effects.audit.len(), 1);
    assert_eq!(store.api_tokens(org).await.unwrap().len(), 1);
    let chain = store.audit_chain(org).await.unwrap();
    assert_eq!(chain.len(), 1);
    assert_eq!(
        (chain[0].record.action.as_str(), chain[0].record.actor.as_str()),
        ("api_token.create", "user:owner@x.example")
    );
    store.close().await;
}

#[tokio::test]
async fn a_token_and_its_audit_entry_commit_together_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    nothing_half_done(&url, SQLITE, dir.path()).await;
}

#[tokio::test]
async fn a_token_and_its_audit_entry_commit_together_postgres() {
    let Some((admin, name, url)) = fresh_pg().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    nothing_half_done(&url, POSTGRES, dir.path()).await;
    sql(&admin, &format!("DROP DATABASE {name}")).await;
}
