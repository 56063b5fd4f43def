//! Start-up refuses lost data that would pass for a first start, and `audit verify` notices a
//! log cut short: the real binary, on both databases.

use crate::cli::CliEnv;
use crate::Db;
use sqlx::Connection;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `candor serve` and expects it to refuse: returns its exit status and error output. A
/// server that starts instead is killed and the test fails.
fn serve_refused(env: &CliEnv, extra: &[(&str, &str)]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_candor"))
        .arg("serve")
        .current_dir(env.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CANDOR_DATABASE_URL", &env.url)
        .env("CANDOR_DATA_DIR", env.dir.path().join("data"))
        .env("CANDOR_LISTEN", "127.0.0.1:0")
        .envs(extra.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "candor serve started instead of refusing:\n{}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "serve exited successfully");
    text(&out.stderr)
}

async fn sql(env: &CliEnv, statement: &str) {
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&env.url).await.unwrap();
    sqlx::query(statement).execute(&mut c).await.unwrap();
}

fn ok(env: &CliEnv, args: &[&str]) -> String {
    let out = env.candor(args);
    assert!(
        out.status.success(),
        "candor {args:?} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Deleting the newest audit entries leaves a valid chain; the checkpoint beside the database
/// shows them missing, to `audit verify` and at start-up. `--start-over` accepts the database.
async fn truncated_audit_log(db: Db) {
    let Some(env) = CliEnv::new(db).await else { return };
    ok(&env, &["init"]);
    for who in ["a@corvellan.example", "b@corvellan.example", "c@corvellan.example"] {
        ok(&env, &["user", "add", who, "--role", "editor"]);
    }
    let verified = ok(&env, &["audit", "verify"]);
    assert!(
        verified.contains("intact") && verified.contains("recorded by the checkpoint"),
        "{verified}"
    );

    sql(
        &env,
        "DELETE FROM audit_log WHERE seq >= (SELECT MAX(seq) - 1 FROM audit_log)",
    )
    .await;
    let out = env.candor(&["audit", "verify"]);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(said.contains("INCOMPLETE") && said.contains("missing"), "{said}");

    let refused = serve_refused(&env, &[]);
    assert!(
        refused.contains("not the one this data directory last ran on") && refused.contains("--start-over"),
        "{refused}"
    );

    ok(&env, &["init", "--start-over"]);
    assert!(ok(&env, &["audit", "verify"]).contains("intact"));

    // A head kept elsewhere (a SIEM's copy of the JSON audit line) is checked with --expect.
    let out = env.candor(&["audit", "verify", "--expect", &format!("999:{}", "ab".repeat(32))]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("entries"), "{}", text(&out.stderr));
}
crate::both_dbs_fn!(a_truncated_audit_log_is_noticed, truncated_audit_log);

/// A missing key file while stored files need it, or a ring without their key: refused, never
/// replaced by a new key.
async fn missing_master_key(db: Db) {
    let Some(env) = CliEnv::new(db).await else { return };
    ok(&env, &["init"]); // the demo's sample documents are stored encrypted
    let key_file = env.dir.path().join("data/master.keys");
    let saved = std::fs::read(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let refused = serve_refused(&env, &[]);
    assert!(
        refused.contains("master.keys is missing") && refused.contains("CANDOR_MASTER_KEY"),
        "{refused}"
    );
    assert!(
        !key_file.exists(),
        "a new key file was created in place of the lost one"
    );

    let other_ring = text(&env.candor(&["keys", "new"]).stdout);
    let refused = serve_refused(&env, &[("CANDOR_MASTER_KEY", other_ring.trim())]);
    assert!(refused.contains("lacks key"), "{refused}");

    std::fs::write(&key_file, saved).unwrap();
    let mut perms = std::fs::metadata(&key_file).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&key_file, perms).unwrap();
    ok(&env, &["init"]);
}
crate::both_dbs_fn!(a_missing_master_key_is_refused, missing_master_key);

/// SQLite files: empty (truncated to 0 bytes), missing from a used data directory, or damaged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_or_missing_sqlite_files_are_refused() {
    let env = CliEnv::new(Db::Sqlite).await.unwrap();
    ok(&env, &["init"]);
    ok(&env, &["user", "add", "a@corvellan.example"]);
    let db = env.dir.path().join("candor.db");

    std::fs::File::create(&db).unwrap(); // truncates to 0 bytes
    let refused = serve_refused(&env, &[]);
    assert!(
        refused.contains("is empty (0 bytes)") && refused.contains("--start-over"),
        "{refused}"
    );
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "nothing was written");

    std::fs::remove_file(&db).unwrap();
    let refused = serve_refused(&env, &[]);
    assert!(
        refused.contains("is missing") && refused.contains("audit entries"),
        "{refused}"
    );

    let started = ok(&env, &["init", "--start-over"]);
    assert!(
        started.contains("/admin/setup/"),
        "a new start prints a new owner link: {started}"
    );
    // A command closes the database when it ends, so everything is in the main file and the
    // damage below cannot hide behind a write-ahead log left over.
    assert!(
        !env.dir.path().join("candor.db-wal").exists(),
        "init left a write-ahead log behind"
    );

    // Damage the file's first page: the real cause is named at once, not a pool time-out.
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().take(4096).skip(16) {
        *b = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();
    let refused = serve_refused(&env, &[]);
    assert!(
        refused.contains("malformed") || refused.contains("not a database"),
        "{refused}"
    );
    assert!(!refused.contains("timed out"), "{refused}");
}
