//! `candor backup`, `candor restore` and `candor dr-drill` as separate processes, against a
//! server that keeps running: archives restore across database backends, every digest is checked
//! before anything is written, the wrong key and a tampered archive are refused, and a drill
//! records its RTO and RPO.

use crate::harness::fresh_pg_database;
use crate::{Db, TestApp};
use candor_blob::{Backend, BlobStore};
use candor_store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `candor` on this database and data directory.
fn candor(url: &str, data_dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_candor"))
        .args(args)
        .current_dir(data_dir.parent().unwrap_or(data_dir))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CANDOR_DATABASE_URL", url)
        .env("CANDOR_DATA_DIR", data_dir)
        .envs(vars.iter().copied())
        .output()
        .expect("candor runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A database and data directory to restore into: a fresh PostgreSQL database or a SQLite file
/// that does not exist yet; the data directory holds the source's master key ring.
struct Target {
    url: String,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Target {
    async fn new(db: Db, keys_from: Option<&Path>) -> Option<Target> {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        if let Some(src) = keys_from {
            std::fs::copy(src.join("master.keys"), data.join("master.keys")).unwrap();
        }
        let url = match db {
            Db::Sqlite => format!("sqlite://{}", data.join("candor.db").display()),
            Db::Postgres => fresh_pg_database().await?.1,
        };
        Some(Target { url, data, _dir: dir })
    }

    fn candor(&self, args: &[&str]) -> Output {
        candor(&self.url, &self.data, args, &[])
    }
}

/// A server with the demo's documents (stored, encrypted files) and an audit trail.
async fn populated(db: Db) -> Option<TestApp> {
    let app = TestApp::start(db).await?;
    candor_web::demo_documents::seed(&app.state).await.unwrap();
    for i in 0..3 {
        let done = app
            .state
            .app()
            .record(
                &candor_app::Actor::System,
                candor_app::Action::AuditExport,
                format!("test/{i}"),
                serde_json::json!({}),
            )
            .await
            .unwrap();
        app.state.apply(done.effects).await;
    }
    Some(app)
}

fn source_dir(app: &TestApp) -> PathBuf {
    app.state.config().data_dir.clone()
}

/// Takes a backup of the running server `app` into `out` and returns the archive's path.
fn take_backup(app: &TestApp, out: &Path) -> PathBuf {
    let printed = ok(&candor(
        &app.db_url,
        &source_dir(app),
        &["backup", "--to", &out.display().to_string()],
        &[],
    ));
    assert!(printed.contains("Backup written"), "{printed}");
    let archives: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cbk"))
        .collect();
    assert_eq!(archives.len(), 1, "{archives:?}");
    archives[0].clone()
}

/// Backs up a running server on `from`, restores into an empty `to`, and compares: every table's
/// rows, the audit chain (and `candor audit verify` on the copy), and every stored file's
/// plaintext read through the restored file storage.
async fn round_trip(from: Db, to: Db) {
    let Some(src) = populated(from).await else { return };
    let Some(dst) = Target::new(to, Some(&source_dir(&src))).await else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let archive = take_backup(&src, out.path());
    let before: Vec<(String, i64)> = src.store.row_counts().await.unwrap();
    let printed = ok(&dst.candor(&["restore", &archive.display().to_string()]));
    assert!(printed.contains("every digest checked"), "{printed}");

    let copy = Store::open(&dst.url).await.unwrap();
    let after = copy.row_counts().await.unwrap();
    for (table, n) in &before {
        let restored = after.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
        let expected = match table.as_str() {
            // The source recorded this backup after its snapshot; the copy recorded its restore.
            "backup_runs" => n - 1,
            _ => *n,
        };
        assert_eq!(restored, Some(expected), "table {table}");
    }
    assert!(before.iter().any(|(t, n)| t == "items" && *n > 0), "{before:?}");
    let org = src.state.app().org();
    let chain_src = src.store.audit_chain(org).await.unwrap();
    let chain_dst = copy.audit_chain(org).await.unwrap();
    // The source's last entry is the backup itself (after the snapshot); the copy's is the restore.
    assert_eq!(chain_src[..chain_src.len() - 1], chain_dst[..chain_dst.len() - 1]);
    assert_eq!(chain_dst.last().unwrap().record.action, "backup.restore");
    let verified = ok(&dst.candor(&["audit", "verify"]));
    assert!(verified.contains("Audit log intact"), "{verified}");

    let ring = src.state.app().key_ring();
    let blobs = copy.all_blobs().await.unwrap();
    assert!(!blobs.is_empty(), "the demo has stored files");
    let restored_files = BlobStore::open(&Backend::Local(dst.data.join("blobs"))).unwrap();
    for b in &blobs {
        let wrapped = candor_crypto::envelope::WrappedKey {
            key_id: b.key_id.clone(),
            sealed: b.wrapped_key.clone(),
        };
        let original = src.state.app().blobs().read_all(&ring, &b.id, &wrapped).await.unwrap();
        let restored = restored_files.read_all(&ring, &b.id, &wrapped).await.unwrap();
        assert_eq!(original, restored, "file {}", b.id);
    }
    copy.close().await;

    // A server started on the copy accepts it (its audit checkpoint follows the restored log)
    // and serves the same public page.
    let page = serve_once(&dst, "/").await;
    let (_, home) = src.get_text("/").await;
    let title = |html: &str| {
        html.split("<title>")
            .nth(1)
            .and_then(|t| t.split("</title>").next())
            .map(str::to_owned)
    };
    assert_eq!(title(&page), title(&home));
}

/// Starts `candor serve` on the target, fetches one page, stops it.
async fn serve_once(dst: &Target, path: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_candor"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CANDOR_DATABASE_URL", &dst.url)
        .env("CANDOR_DATA_DIR", &dst.data)
        .env("CANDOR_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}{path}");
    for _ in 0..200 {
        if let Ok(r) = client.get(&url).send().await {
            let body = r.text().await.unwrap();
            child.kill().await.ok();
            return body;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            use tokio::io::AsyncReadExt;
            child.stderr.take().unwrap().read_to_string(&mut err).await.ok();
            panic!("candor serve exited ({status}) on the restored copy: {err}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("candor serve never answered on the restored copy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backup_restores_into_postgres() {
    round_trip(Db::Sqlite, Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backup_restores_into_sqlite() {
    round_trip(Db::Postgres, Db::Sqlite).await;
}

/// A target that holds data is left alone without --force, and replaced with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_database_with_data_unless_forced() {
    let src = populated(Db::Sqlite).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let archive = take_backup(&src, out.path());
    let dst = Target::new(Db::Sqlite, Some(&source_dir(&src))).await.unwrap();
    ok(&dst.candor(&["init", "--start-over"]));
    let store = Store::open(&dst.url).await.unwrap();
    let org = store.ensure_org("default").await.unwrap();
    let emails = |users: Vec<candor_store::User>| users.into_iter().map(|u| u.email).collect::<Vec<_>>();
    let users_before = emails(store.users(org).await.unwrap());
    store.close().await;

    let refused = dst.candor(&["restore", &archive.display().to_string()]);
    assert_eq!(refused.status.code(), Some(1));
    let err = text(&refused.stderr);
    assert!(err.contains("not empty") && err.contains("--force"), "{err}");
    let store = Store::open(&dst.url).await.unwrap();
    assert_eq!(
        emails(store.users(org).await.unwrap()),
        users_before,
        "nothing was changed"
    );
    store.close().await;

    ok(&dst.candor(&["restore", "--force", &archive.display().to_string()]));
    let store = Store::open(&dst.url).await.unwrap();
    let users = emails(store.users(org).await.unwrap());
    let expected = emails(src.store.users(org).await.unwrap());
    assert_eq!(users, expected);
    store.close().await;
    ok(&dst.candor(&["audit", "verify"]));
}

/// One flipped byte anywhere in the archive: refused, and not one row or file written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_archive_is_refused_before_anything_is_written() {
    let src = populated(Db::Sqlite).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let archive = take_backup(&src, out.path());
    let mut bytes = std::fs::read(&archive).unwrap();
    // Late in the file: the damage is found only after the rows before it were read.
    let at = bytes.len() - 100;
    bytes[at] ^= 0x01;
    std::fs::write(&archive, &bytes).unwrap();
    let dst = Target::new(Db::Sqlite, Some(&source_dir(&src))).await.unwrap();
    let refused = dst.candor(&["restore", &archive.display().to_string()]);
    assert_eq!(refused.status.code(), Some(1));
    let err = text(&refused.stderr);
    assert!(err.contains("damaged or was tampered with"), "{err}");
    assert!(!dst.data.join("candor.db").exists(), "a database was created");
    assert!(!dst.data.join("blobs").exists(), "files were written");

    // A truncated archive likewise.
    std::fs::write(&archive, &bytes[..bytes.len() / 2]).unwrap();
    let refused = dst.candor(&["restore", &archive.display().to_string()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("damaged"), "{}", text(&refused.stderr));
    assert!(!dst.data.join("candor.db").exists());
}

/// An archive opened with another installation's key ring is refused, naming the key it needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_needs_the_key_ring_it_was_made_under() {
    let src = populated(Db::Sqlite).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let archive = take_backup(&src, out.path());
    let dst = Target::new(Db::Sqlite, None).await.unwrap();
    let other = ok(&dst.candor(&["keys", "new"]));
    let refused = candor(
        &dst.url,
        &dst.data,
        &["restore", &archive.display().to_string()],
        &[("CANDOR_MASTER_KEY", other.trim())],
    );
    assert_eq!(refused.status.code(), Some(1));
    let err = text(&refused.stderr);
    let key = src.state.app().key_ring().current_id().to_owned();
    assert!(
        err.contains(&format!("master key {key}")) && err.contains("key ring"),
        "{err}"
    );
    assert!(!dst.data.join("candor.db").exists());

    // Without any key ring, the restore says where it must come from.
    let refused = dst.candor(&["restore", &archive.display().to_string()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("master.keys"),
        "{}",
        text(&refused.stderr)
    );
}

/// The drill restores the newest archive into a scratch location, checks it and records RTO and
/// RPO; a damaged archive makes a failed drill, recorded as such.
async fn drill(db: Db) {
    let Some(src) = populated(db).await else { return };
    let out = tempfile::tempdir().unwrap();
    let archive = take_backup(&src, out.path());
    let dir = source_dir(&src);
    let from = out.path().display().to_string();
    let printed = ok(&candor(&src.db_url, &dir, &["dr-drill", "--from", &from], &[]));
    assert!(printed.contains("drill passed") && printed.contains("RTO"), "{printed}");
    let org = src.state.app().org();
    let drills = src.store.dr_drills(org, 10).await.unwrap();
    assert_eq!(drills.len(), 1);
    let d = &drills[0];
    assert!(d.ok, "{d:?}");
    assert!(d.row_count > 100 && d.blob_count >= 2 && d.audit_entries > 0, "{d:?}");
    assert!(d.rpo_secs >= 0 && d.backup_taken_at > 0, "{d:?}");
    assert_eq!(d.archive, archive.file_name().unwrap().to_string_lossy());
    let scratch: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("dr-drill")
        })
        .collect();
    assert!(scratch.is_empty(), "the scratch copy is removed");

    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x80;
    std::fs::write(&archive, &bytes).unwrap();
    let failed = candor(&src.db_url, &dir, &["dr-drill", "--from", &from], &[]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("drill FAILED"),
        "{}",
        text(&failed.stderr)
    );
    let drills = src.store.dr_drills(org, 10).await.unwrap();
    assert_eq!(drills.len(), 2);
    assert!(!drills[0].ok && drills[0].error.contains("damaged"), "{:?}", drills[0]);
}

crate::both_dbs_fn!(dr_drill_records_rto_and_rpo, drill);

/// Polls `check` every 100 ms for up to 60 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

/// `serve` takes backups on its schedule, records each run, keeps the newest `backup_keep`
/// archives, and shows the runs on the back office's operations page.
async fn scheduled(db: Db) {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_path_buf();
    let Some(app) = TestApp::start_configured(db, true, |c| {
        c.backup.interval = Some(std::time::Duration::from_secs(1));
        c.backup.destination = candor_app::backup::Destination::Dir(dir.clone());
        c.backup.keep = 2;
    })
    .await
    else {
        return;
    };
    let org = app.state.app().org();
    eventually("three scheduled backups", || async {
        app.store
            .backup_runs(org, 10)
            .await
            .unwrap()
            .iter()
            .filter(|r| r.ok)
            .count()
            >= 3
    })
    .await;
    let runs = app.store.backup_runs(org, 10).await.unwrap();
    assert!(runs.iter().all(|r| r.started_by == "schedule" && r.ok), "{runs:?}");
    eventually("old archives deleted", || async {
        candor_app::backup::archives_in(&dir).unwrap().len() == 2
    })
    .await;
    app.sign_in_owner().await;
    let (status, page) = app.get_text("/admin/operations").await;
    assert_eq!(status, 200);
    assert!(page.contains(&runs[0].archive) && page.contains("every 1 s"), "{page}");
}

crate::both_dbs_fn!(scheduled_backups_run_and_keep_the_newest, scheduled);

/// A scheduled run that fails is recorded with its reason, audited, and mailed to the owners.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scheduled_backup_is_mailed_to_the_owners() {
    let out = tempfile::tempdir().unwrap();
    // A directory cannot be made under a regular file.
    let blocker = out.path().join("not-a-directory");
    std::fs::write(&blocker, b"").unwrap();
    let dir = blocker.join("backups");
    let app = TestApp::start_configured(Db::Sqlite, true, |c| {
        c.backup.interval = Some(std::time::Duration::from_secs(3600));
        c.backup.destination = candor_app::backup::Destination::Dir(dir.clone());
    })
    .await
    .unwrap();
    let org = app.state.app().org();
    eventually("a failed run recorded", || async {
        !app.store.backup_runs(org, 10).await.unwrap().is_empty()
    })
    .await;
    let run = &app.store.backup_runs(org, 10).await.unwrap()[0];
    assert!(
        !run.ok && run.error.contains("cannot create the backup directory"),
        "{run:?}"
    );
    use sqlx::Connection;
    let mut db = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    let mailed: Vec<String> = sqlx::query_scalar("SELECT recipient FROM outbox WHERE purpose = 'backup-failed'")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let owners: Vec<String> = app
        .store
        .users(org)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.role == candor_store::Role::Owner)
        .map(|u| u.email)
        .collect();
    assert!(!owners.is_empty());
    assert_eq!(mailed, owners);
    let chain = app.store.audit_chain(org).await.unwrap();
    assert_eq!(chain.last().unwrap().record.action, "backup.failed");
    // One interval later, not in a tight loop.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(app.store.backup_runs(org, 10).await.unwrap().len(), 1);
}

/// Backups to an S3-compatible bucket (moto): written under the prefix, and the drill fetches
/// the newest from there and passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_go_to_s3_and_drill_from_there() {
    let Some((_moto, endpoint)) = crate::services::start_moto().await else {
        return;
    };
    let made = reqwest::Client::new()
        .put(format!("{endpoint}/candor-backups"))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.status());
    let src = populated(Db::Sqlite).await.unwrap();
    let dir = source_dir(&src);
    let aws = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
    ];
    let printed = ok(&candor(
        &src.db_url,
        &dir,
        &["backup", "--to", "s3://candor-backups/nightly"],
        &aws,
    ));
    assert!(
        printed.contains("s3://candor-backups/nightly/candor-backup-"),
        "{printed}"
    );
    let listed = reqwest::Client::new()
        .get(format!("{endpoint}/candor-backups?list-type=2&prefix=nightly/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains("nightly/candor-backup-"), "{listed}");
    let drilled = ok(&candor(
        &src.db_url,
        &dir,
        &["dr-drill", "--from", "s3://candor-backups/nightly"],
        &aws,
    ));
    assert!(drilled.contains("drill passed"), "{drilled}");
    let d = &src.store.dr_drills(src.state.app().org(), 1).await.unwrap()[0];
    assert!(d.ok && d.blob_count >= 2, "{d:?}");

    // Without credentials, a clear refusal naming what is missing.
    let refused = candor(&src.db_url, &dir, &["backup", "--to", "s3://candor-backups/x"], &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("AWS_ACCESS_KEY_ID is not set"),
        "{}",
        text(&refused.stderr)
    );
}

/// An archive taken before an upgrade (here: at schema version 19, before the status page's
/// demo flag) restores into a new, empty database of either kind: loaded at its own version,
/// then upgraded, so the upgrade's data step runs on the restored rows too (the demo's status
/// page is recognised). A target already at a newer version is refused with what to do, and a
/// drill of the old archive passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_from_before_an_upgrade_restores_and_is_upgraded() {
    let src = populated(Db::Sqlite).await.unwrap();
    let seeded = src.state.app().seed_status_demo(candor_store::now()).await.unwrap();
    src.state.apply(seeded.effects).await;
    // The source database as the previous release left it.
    for table in ["status_groups", "status_components", "incidents", "maintenances"] {
        src.sql(&format!("ALTER TABLE {table} DROP COLUMN demo")).await;
    }
    src.sql("DELETE FROM candor_migrations WHERE version = 20").await;
    // Taken by the running server: `candor backup` would upgrade the database first.
    let out = tempfile::tempdir().unwrap();
    let dest = candor_app::backup::Destination::Dir(out.path().to_path_buf());
    let quiet = |_: &str, _: u64, _: u64| {};
    let run = src
        .state
        .app()
        .backup(&candor_app::Actor::System, &dest, &quiet)
        .await
        .unwrap();
    assert!(run.value.ok, "{:?}", run.value);
    let archive = out.path().join(&run.value.archive);
    let archive_arg = archive.display().to_string();
    let org = src.state.app().org();

    for db in [Db::Sqlite, Db::Postgres] {
        let Some(dst) = Target::new(db, Some(&source_dir(&src))).await else {
            continue;
        };
        let printed = ok(&dst.candor(&["restore", &archive_arg]));
        assert!(printed.contains("every digest checked"), "{printed}");
        let copy = Store::open(&dst.url).await.unwrap();
        assert_eq!(copy.schema_version().await.unwrap(), Store::current_schema_version());
        let demo = copy.demo_content(org).await.unwrap().status;
        assert_eq!((demo.groups.len(), demo.components.len()), (2, 5), "{db:?}");
        assert_eq!(copy.status_components(org).await.unwrap().len(), 5);
        copy.close().await;
        ok(&dst.candor(&["audit", "verify"]));
    }

    // A target already at the newer version: refused, nothing loaded.
    let dst = Target::new(Db::Sqlite, Some(&source_dir(&src))).await.unwrap();
    ok(&dst.candor(&["init", "--start-over"]));
    let rows = |url: String| async move {
        let store = Store::open(&url).await.unwrap();
        let counts = store.row_counts().await.unwrap();
        store.close().await;
        counts
    };
    let before = rows(dst.url.clone()).await;
    let refused = dst.candor(&["restore", "--force", &archive_arg]);
    let err = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}\n{}", text(&refused.stdout));
    assert!(
        err.contains("schema version 20 and the archive at 19") && err.contains("new, empty database"),
        "{err}"
    );
    assert_eq!(rows(dst.url.clone()).await, before, "nothing was loaded or removed");

    let printed = ok(&candor(
        &src.db_url,
        &source_dir(&src),
        &["dr-drill", &archive_arg],
        &[],
    ));
    assert!(printed.contains("drill passed"), "{printed}");
}
