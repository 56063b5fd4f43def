//! Candor's database.
//!
//! One SQL implementation serves SQLite and PostgreSQL through sqlx's `Any` driver: both accept
//! the same `$1` placeholders, `RETURNING` and `ON CONFLICT`, so queries are written once and
//! tested on both. What differs lives in [`Backend`]: connection set-up (SQLite pragmas) and the
//! migration trees in `migrations/sqlite` and `migrations/postgres`.

mod access;
mod audit;
mod documents;
mod items;
mod mfa;
mod migrate;
mod outbox;
mod passkeys;
mod sessions;
mod sso;
mod tokens;
mod users;

pub use access::{AccessLogEntry, AccessRequest, Grant, Nda, NewGrant, NewLink, NewRequest, Signature};
pub use audit::{AuditFilter, NewAuditEvent};
pub use documents::{BlobRow, Document, DocumentFields, DocumentVersion, NewVersion};
pub use items::{ImportSummary, Item, Move, Revision};
pub use outbox::{NewEmail, OutboxEmail, OutboxStatus};
pub use passkeys::{StoredPasskey, CEREMONY_SECS};
pub use sessions::{NewSession, Session, SessionInfo, ROTATION_GRACE_SECS};
pub use sso::{SsoLogin, SSO_LOGIN_SECS};
pub use tokens::{ApiToken, LiveToken, TokenScope};
pub use users::{Role, User};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;
use std::time::Duration;

/// WAL for concurrent readers, enforced foreign keys, a wait instead of an error when locked, and
/// full fsync on commit so an acknowledged write survives power loss.
const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = FULL",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} was not found")]
    NotFound(String),
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The organization id of the default (and for now only) trust center.
pub type OrgId = i64;

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects, creating a SQLite file if needed, and applies pending migrations.
    ///
    /// `url` is `sqlite://path/to/file.db` or `postgres://...`.
    pub async fn open(url: &str) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Unsupported(format!(
                "database URL {}: use sqlite://PATH or postgres://USER@HOST/DB",
                redact_url(url)
            )));
        };
        let pool = match backend {
            Backend::Sqlite => {
                // One connection: SQLite has one writer anyway, and a single connection means a
                // write transaction never meets SQLITE_BUSY from another of our own connections.
                // Pages are served from memory, so the database is not on the read hot path.
                let url = if url.contains('?') {
                    url.to_owned()
                } else {
                    format!("{url}?mode=rwc")
                };
                AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            use sqlx::Executor;
                            for pragma in SQLITE_PRAGMAS {
                                conn.execute(*pragma).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?
            }
        };
        let store = Store { pool, backend };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The id of the organization with this slug, created if missing.
    pub async fn ensure_org(&self, slug: &str) -> StoreResult<OrgId> {
        sqlx::query("INSERT INTO orgs (slug, created_at) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING")
            .bind(slug)
            .bind(now())
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT id FROM orgs WHERE slug = $1")
            .bind(slug)
            .fetch_one(&self.pool)
            .await?;
        get(&row, "id")
    }
}

/// Current time in Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn get<'r, T>(row: &'r AnyRow, col: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    Ok(row.try_get(col)?)
}

/// A database URL with any password replaced, safe for logs and errors.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
