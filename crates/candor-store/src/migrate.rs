//! Embedded migrations, applied in order at start-up, each in its own transaction.
//!
//! A small runner of our own rather than `sqlx::migrate!`: that macro needs sqlx's proc-macro
//! crate built with both drivers, which roughly doubles the build for a dozen lines of logic.

use crate::{now, Backend, Store, StoreResult};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Both trees hold the same file names; one line per migration, in order.
macro_rules! migration {
    ($version:expr, $name:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../../../migrations/sqlite/", $file)),
            postgres: include_str!(concat!("../../../migrations/postgres/", $file)),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "foundation", "0001_foundation.sql"),
    migration!(2, "audit_log", "0002_audit_log.sql"),
    migration!(3, "session_rotation", "0003_session_rotation.sql"),
    migration!(4, "mfa", "0004_mfa.sql"),
    migration!(5, "outbox", "0005_outbox.sql"),
    migration!(6, "sso", "0006_sso.sql"),
    migration!(7, "passkeys", "0007_passkeys.sql"),
    migration!(8, "documents", "0008_documents.sql"),
    migration!(9, "access_requests", "0009_access_requests.sql"),
    migration!(10, "status", "0010_status.sql"),
    migration!(11, "subscriptions", "0011_subscriptions.sql"),
    migration!(12, "monitors", "0012_monitors.sql"),
    migration!(13, "backups", "0013_backups.sql"),
    migration!(14, "scale_out", "0014_scale_out.sql"),
    migration!(18, "team_notifications", "0018_team_notifications.sql"),
    migration!(19, "page_views", "0019_page_views.sql"),
    migration!(20, "demo_status", "0020_demo_status.sql"),
];

/// The last migration's version.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies the migrations not yet applied, each in its own transaction; with `up_to`, only
/// those up to that version.
pub(crate) async fn run(store: &Store, up_to: Option<i64>) -> StoreResult<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS candor_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&store.pool)
    .await?;
    for m in MIGRATIONS.iter().filter(|m| up_to.is_none_or(|v| m.version <= v)) {
        let mut tx = store.begin().await?;
        let done = sqlx::query("SELECT version FROM candor_migrations WHERE version = $1")
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if done {
            continue;
        }
        let sql = match store.backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO candor_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(
            migration.version = m.version,
            migration.name = m.name,
            "applied migration"
        );
    }
    Ok(())
}
