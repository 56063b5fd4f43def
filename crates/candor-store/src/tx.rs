//! Write transactions that never leave a connection half-way.
//!
//! sqlx's own `Transaction` returns its connection to the pool after a failed `COMMIT` and
//! relies on a queued `ROLLBACK`. When SQLite's disk is full that is not enough: SQLite may
//! already have rolled back (so the `ROLLBACK` fails and sqlx's bookkeeping believes a
//! transaction is still open, turning every later `BEGIN` into a savepoint) or may still hold the
//! transaction open. Either way the next requests wrote into a transaction that was never
//! committed: they were answered 201 and lost at restart.
//!
//! [`Tx`] issues `BEGIN`/`COMMIT` itself and, when a commit (or anything else) fails, rolls back
//! and closes the connection instead of handing it back: the pool opens a fresh one, so the next
//! write starts from what is durable on disk.

use crate::{Backend, StoreError, StoreResult};
use candor_core::audit::AuditEntry;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Executor};

/// One write transaction on its own pooled connection. Dereferences to the connection, so
/// queries run with `.execute(&mut *tx)`. Dropped without [`Tx::commit`], it rolls back.
///
/// An action's audit entry ([`Tx::append_audit`]) and its mail ([`Tx::enqueue_email`]) are written
/// in the same transaction, so the three commit together or not at all.
pub struct Tx {
    conn: Option<PoolConnection<Any>>,
    pub(crate) backend: Backend,
    pub(crate) checkpoint: Option<crate::checkpoint::HeadFile>,
    /// Audit entries appended in this transaction, checkpointed once it commits.
    pub(crate) appended: Vec<(crate::OrgId, AuditEntry)>,
    /// Messages queued in this transaction.
    pub(crate) mail_queued: usize,
    /// Webhook deliveries queued (or made due) in this transaction.
    pub(crate) webhooks_queued: usize,
}

/// What a committed transaction wrote besides its own rows.
#[derive(Debug, Default)]
pub struct Committed {
    /// The audit entries it appended, in order (for the JSON audit line on stdout).
    pub audit: Vec<AuditEntry>,
    /// How many messages it queued (the outbox worker is woken when this is not zero).
    pub mail_queued: usize,
    /// How many webhook deliveries it queued or made due (the webhook worker is woken when this
    /// is not zero).
    pub webhooks_queued: usize,
}

impl crate::Store {
    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes waits for another writer (the
    /// busy timeout) instead of failing when it tries to upgrade.
    pub async fn begin(&self) -> StoreResult<Tx> {
        let mut conn = self.pool.acquire().await?;
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        if let Err(e) = conn.execute(begin).await {
            conn.close().await.ok();
            return Err(e.into());
        }
        Ok(Tx {
            conn: Some(conn),
            backend: self.backend,
            checkpoint: self.audit_checkpoint.clone(),
            appended: vec![],
            mail_queued: 0,
            webhooks_queued: 0,
        })
    }
}

impl Tx {
    /// Makes the transaction durable. On failure nothing of it is kept, the connection is closed
    /// rather than reused, and the error says why (a full disk is [`StoreError::DiskFull`]).
    /// The audit entries it appended are then checkpointed outside the database.
    pub async fn commit(mut self) -> StoreResult<Committed> {
        let Some(mut conn) = self.conn.take() else {
            return Err(StoreError::Corrupt("transaction already finished".into()));
        };
        if let Err(e) = conn.execute("COMMIT").await {
            discard(conn).await;
            return Err(e.into());
        }
        drop(conn);
        let appended = std::mem::take(&mut self.appended);
        if let Some(file) = self.checkpoint.take() {
            if let Some((org, last)) = appended.last() {
                crate::audit::checkpoint_head(file, *org, last).await;
            }
        }
        Ok(Committed {
            audit: appended.into_iter().map(|(_, e)| e).collect(),
            mail_queued: self.mail_queued,
            webhooks_queued: self.webhooks_queued,
        })
    }

    /// Which database this transaction runs on (for the few statements that differ).
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Queues a message, delivered once this transaction commits.
    pub async fn enqueue_email(&mut self, org: crate::OrgId, email: &crate::NewEmail) -> StoreResult<()> {
        crate::outbox::insert_email(&mut **self, org, email).await?;
        self.mail_queued += 1;
        Ok(())
    }
}

/// Rolls back whatever may still be open and closes the connection for good.
async fn discard(mut conn: PoolConnection<Any>) {
    let _ = conn.execute("ROLLBACK").await;
    let _ = conn.close().await;
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        self.conn
            .as_ref()
            .expect("a Tx holds its connection until commit or drop")
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn
            .as_mut()
            .expect("a Tx holds its connection until commit or drop")
    }
}

/// A transaction abandoned on an error path (`?`) is rolled back and its connection closed, off
/// the request's path. Closing costs a reconnect, which only error paths pay; it guarantees that a
/// connection never goes back to the pool inside a transaction.
impl Drop for Tx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(discard(conn));
                }
                // No runtime to roll back on: dropping the raw connection closes it, and both
                // databases roll back an open transaction when its connection closes.
                Err(_) => drop(conn.detach()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{NewAuditEvent, Store, StoreError};
    use sqlx::Executor;

    /// SQLite's `max_page_count` makes the database "full" at a set size, on the pool's one
    /// connection only: once a failed write has closed that connection, the next one has room
    /// again, like a disk where space was freed.
    #[tokio::test]
    async fn a_full_database_acknowledges_only_what_it_keeps() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let org = store.ensure_org("default").await.unwrap();
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        store
            .pool
            .execute(format!("PRAGMA max_page_count = {}", pages + 8).as_str())
            .await
            .unwrap();
        let (mut kept, mut full) = (0, 0);
        for i in 0..200 {
            let event = NewAuditEvent {
                actor: "test".into(),
                action: "test.write".into(),
                target: i.to_string(),
                details: serde_json::json!({"pad": "x".repeat(2000)}),
                ..Default::default()
            };
            match store.append_audit(org, event).await {
                Ok(_) => kept += 1,
                Err(StoreError::DiskFull(_)) => {
                    full += 1;
                    break;
                }
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!(full, 1, "the limit was never reached");
        // The connection that failed was closed; the next write has room and is kept.
        let mut resumed = false;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            if store.append_audit(org, NewAuditEvent::default()).await.is_ok() {
                resumed = true;
                break;
            }
        }
        assert!(resumed, "writes did not resume");
        store.close().await;
        let again = Store::open(&url).await.unwrap();
        assert_eq!(again.audit_chain(org).await.unwrap().len(), kept + 1);
    }
}
