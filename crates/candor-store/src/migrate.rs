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

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../../../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../../../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "audit_log",
        sqlite: include_str!("../../../migrations/sqlite/0002_audit_log.sql"),
        postgres: include_str!("../../../migrations/postgres/0002_audit_log.sql"),
    },
    Migration {
        version: 3,
        name: "session_rotation",
        sqlite: include_str!("../../../migrations/sqlite/0003_session_rotation.sql"),
        postgres: include_str!("../../../migrations/postgres/0003_session_rotation.sql"),
    },
    Migration {
        version: 4,
        name: "mfa",
        sqlite: include_str!("../../../migrations/sqlite/0004_mfa.sql"),
        postgres: include_str!("../../../migrations/postgres/0004_mfa.sql"),
    },
    Migration {
        version: 5,
        name: "outbox",
        sqlite: include_str!("../../../migrations/sqlite/0005_outbox.sql"),
        postgres: include_str!("../../../migrations/postgres/0005_outbox.sql"),
    },
    Migration {
        version: 6,
        name: "sso",
        sqlite: include_str!("../../../migrations/sqlite/0006_sso.sql"),
        postgres: include_str!("../../../migrations/postgres/0006_sso.sql"),
    },
    Migration {
        version: 7,
        name: "passkeys",
        sqlite: include_str!("../../../migrations/sqlite/0007_passkeys.sql"),
        postgres: include_str!("../../../migrations/postgres/0007_passkeys.sql"),
    },
    Migration {
        version: 8,
        name: "documents",
        sqlite: include_str!("../../../migrations/sqlite/0008_documents.sql"),
        postgres: include_str!("../../../migrations/postgres/0008_documents.sql"),
    },
    Migration {
        version: 9,
        name: "access_requests",
        sqlite: include_str!("../../../migrations/sqlite/0009_access_requests.sql"),
        postgres: include_str!("../../../migrations/postgres/0009_access_requests.sql"),
    },
];

pub(crate) async fn run(store: &Store) -> StoreResult<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS candor_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&store.pool)
    .await?;
    for m in MIGRATIONS {
        let mut tx = store.pool.begin().await?;
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
