//! Change notices between instances sharing a PostgreSQL database (LISTEN/NOTIFY): an instance
//! that changed the public site (or queued mail) says so, and every other instance brings its copy
//! up to date (or wakes its delivery worker) at once instead of at its next poll. On SQLite there
//! is one machine and polling does the job.

use crate::{Backend, Store, StoreResult};

/// The channel the notices go out on.
const CHANNEL: &str = "candor_changes";

/// PostgreSQL refuses payloads of 8000 bytes or more.
pub const MAX_NOTICE: usize = 7999;

impl Store {
    /// Tells every instance listening on this database what changed, `what` saying it (at most
    /// [`MAX_NOTICE`] bytes). Does nothing on SQLite.
    pub async fn notify_instances(&self, what: &str) -> StoreResult<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(what)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The notices other instances send, received on a connection of their own.
pub struct ChangeFeed {
    listener: sqlx::postgres::PgListener,
}

impl ChangeFeed {
    /// Starts listening on the PostgreSQL database at `url`.
    pub async fn connect(url: &str) -> StoreResult<ChangeFeed> {
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(ChangeFeed { listener })
    }

    /// Waits for the next notice: `Ok(Some(payload))`, or `Ok(None)` when the connection was lost
    /// (the next call connects again; notices sent meanwhile are lost, so the caller should look
    /// at the database itself).
    pub async fn next(&mut self) -> StoreResult<Option<String>> {
        Ok(self.listener.try_recv().await?.map(|n| n.payload().to_owned()))
    }
}
