//! Candor's database.
//!
//! One SQL implementation serves SQLite and PostgreSQL through sqlx's `Any` driver: both accept
//! the same `$1` placeholders, `RETURNING` and `ON CONFLICT`, so queries are written once and
//! tested on both. What differs lives in [`Backend`]: connection set-up (SQLite pragmas) and the
//! migration trees in `migrations/sqlite` and `migrations/postgres`.

mod access;
mod audit;
mod backups;
mod changes;
pub mod checkpoint;
mod demo;
mod documents;
mod engagement;
mod items;
mod leader;
mod logo;
mod mfa;
mod migrate;
mod monitors;
mod notifications;
mod outbox;
mod passkeys;
mod queues;
mod ratelimit;
mod sessions;
pub mod snapshot;
mod sso;
mod status;
mod subscriptions;
mod tokens;
mod tx;
mod users;
mod webhooks;

pub use access::{AccessLogEntry, AccessRequest, Grant, Nda, NewGrant, NewLink, NewRequest, Signature};
pub use audit::{AuditFilter, NewAuditEvent};
pub use backups::{BackupRun, DrDrill};
pub use changes::{ChangeFeed, MAX_NOTICE};
pub use demo::{DemoContent, DemoStatus, DEMO_IMPORT_ACTOR, DEMO_UPLOADER};
pub use documents::{BlobRow, Document, DocumentFields, DocumentVersion, NewVersion};
pub use items::{ContentFingerprint, ImportSummary, Item, Move, Revision};
pub use leader::LeaderSeat;
pub use logo::StoredLogo;
pub use mfa::{StoredTotpSecret, TotpColumn};
pub use monitors::{Monitor, MonitorResult, NewCheck};
pub use notifications::ACCESS_REQUESTS_MAIL;
pub use outbox::{MailTrouble, NewEmail, OutboxEmail, OutboxStatus, UndeliveredEmail};
pub use passkeys::{StoredPasskey, CEREMONY_SECS};
pub use queues::{PoolUse, QueueDepth};
pub use sessions::{NewSession, Session, SessionInfo, ROTATION_GRACE_SECS};
pub use sso::{SsoLogin, SSO_LOGIN_SECS};
pub use status::{
    ComponentFields, Incident, IncidentQuery, Maintenance, NewIncident, NewMaintenance, StatusComponent, StatusGroup,
    TimelineEntry,
};
pub use subscriptions::{NewSubscriber, SealedSecret, SealedTable, Subscriber};
pub use tokens::{ApiToken, LiveToken, TokenScope};
pub use tx::{Committed, Tx};
pub use users::{Role, User};
pub use webhooks::{
    AttemptOutcome, DeliveryStatus, DueDelivery, EndpointFields, WebhookAttempt, WebhookDelivery, WebhookEndpoint,
};

/// What a single-use emailed or printed link is, looked up without using it up: the page a link
/// opens shows a button when it is usable and says plainly what went wrong when it is not.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkState<T> {
    /// Unused and unexpired; `T` is who or what it is for.
    Usable(T),
    /// Used already: a link works once.
    Used,
    /// Past its time, or ended early because a newer link was issued or the password changed.
    Expired,
    /// No such link: mistyped, cut short, or made up.
    Unknown,
}

impl<T> LinkState<T> {
    /// The state of a link row from its `used_at` and `expires_at`.
    fn of(used_at: Option<i64>, expires_at: i64, value: T) -> LinkState<T> {
        if used_at.is_some() {
            LinkState::Used
        } else if expires_at <= now() {
            LinkState::Expired
        } else {
            LinkState::Usable(value)
        }
    }
}

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
    /// The database's disk (or its quota) is full: the write was not kept. Reads still work, and
    /// writes work again once space is freed.
    #[error("the database's disk is full; nothing was saved: {0}")]
    DiskFull(sqlx::Error),
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_disk_full(&e) {
            StoreError::DiskFull(e)
        } else {
            StoreError::Db(e)
        }
    }
}

/// SQLite's `SQLITE_FULL` (13) and the write errors it reports when the file system is out of
/// space, PostgreSQL's `disk_full` (53100) and `out_of_memory`-class storage states.
fn is_disk_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let message = db.message().to_ascii_lowercase();
            // SQLite reports extended result codes; the primary code is the low byte.
            let sqlite_full = code.parse::<i64>().is_ok_and(|c| c & 0xff == 13);
            sqlite_full || code == "53100" || message.contains("disk is full") || message.contains("no space left")
        }
        sqlx::Error::Io(io) => io.raw_os_error() == Some(28), // ENOSPC
        _ => false,
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The organization id of the default (and for now only) trust center.
pub type OrgId = i64;

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Where each appended audit entry's head is checkpointed, outside the database.
    audit_checkpoint: Option<checkpoint::HeadFile>,
}

impl Store {
    /// Connects, creating a SQLite file if needed, and applies pending migrations.
    ///
    /// `url` is `sqlite://path/to/file.db` or `postgres://...`.
    pub async fn open(url: &str) -> StoreResult<Store> {
        Store::open_at(url, None).await
    }

    /// Like [`Store::open`], applying migrations only up to `version` when given: a restore
    /// loads an older archive into the schema it was taken from, then [`Store::migrate`]s it.
    pub async fn open_at(url: &str, version: Option<i64>) -> StoreResult<Store> {
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
                check_sqlite_file(&url).await?;
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
        let store = Store {
            pool,
            backend,
            audit_checkpoint: None,
        };
        migrate::run(&store, version).await?;
        Ok(store)
    }

    /// Applies every migration not yet applied (after [`Store::open_at`]).
    pub async fn migrate(&self) -> StoreResult<()> {
        migrate::run(self, None).await
    }

    /// The schema version this build creates: the last migration's.
    pub fn current_schema_version() -> i64 {
        migrate::latest()
    }

    /// Checkpoints the audit log's head in `file` after every appended entry.
    pub fn with_audit_checkpoint(mut self, file: checkpoint::HeadFile) -> Store {
        self.audit_checkpoint = Some(file);
        self
    }

    pub fn audit_checkpoint(&self) -> Option<&checkpoint::HeadFile> {
        self.audit_checkpoint.as_ref()
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

/// Opens one connection to a SQLite file and checks it before the pool does. A damaged file then
/// fails at once in SQLite's own words ("file is not a database", "database disk image is
/// malformed"); through the pool, the failing set-up would be retried until the acquire timeout
/// and reported only as "pool timed out".
async fn check_sqlite_file(url: &str) -> StoreResult<()> {
    use sqlx::{Connection, Executor};
    let mut probe = sqlx::AnyConnection::connect(url).await?;
    for pragma in SQLITE_PRAGMAS {
        probe.execute(*pragma).await?;
    }
    let verdict: String = sqlx::query_scalar("PRAGMA quick_check(1)")
        .fetch_one(&mut probe)
        .await?;
    probe.close().await.ok();
    if verdict != "ok" {
        return Err(StoreError::Corrupt(format!(
            "database disk image is malformed ({verdict}); restore the database from a backup"
        )));
    }
    Ok(())
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
