//! The lock that elects one leader among instances sharing a PostgreSQL database.
//!
//! A session-level advisory lock lives as long as the connection that took it: when the leader's
//! process dies, PostgreSQL ends its session and the lock is free for the next instance. So the
//! seat holds one connection of its own, taken out of the pool for good, for its whole life.

use crate::{get, Backend, Store, StoreError, StoreResult};
use sqlx::Connection;

/// The advisory lock's key: any fixed number will do, as long as nothing else in the same
/// database uses it ("candor" in ASCII). Advisory locks are per database, so instances of
/// different trust centers on one PostgreSQL server do not meet.
const LEADER_KEY: i64 = 0x63616e646f72;

/// A dedicated connection that can take, and then holds, the leader lock.
pub struct LeaderSeat {
    conn: sqlx::AnyConnection,
}

impl Store {
    /// A seat for the leader election, on a connection of its own. PostgreSQL only: SQLite
    /// instances share one machine and elect their leader with a lock file instead.
    pub async fn leader_seat(&self) -> StoreResult<LeaderSeat> {
        if self.backend != Backend::Postgres {
            return Err(StoreError::Unsupported(
                "the leader lock lives in PostgreSQL; on SQLite use a lock file".into(),
            ));
        }
        let conn = self.pool.acquire().await?.detach();
        Ok(LeaderSeat { conn })
    }
}

impl LeaderSeat {
    /// Takes the lock if no other session holds it. True when this seat now leads (taking it
    /// again while holding it is harmless: a session's advisory locks stack).
    pub async fn try_lead(&mut self) -> StoreResult<bool> {
        let row = sqlx::query("SELECT pg_try_advisory_lock($1) AS taken")
            .bind(LEADER_KEY)
            .fetch_one(&mut self.conn)
            .await?;
        get(&row, "taken")
    }

    /// Whether the connection, and with it the lock, is still alive: an error means the lock may
    /// already be someone else's.
    pub async fn still_held(&mut self) -> StoreResult<()> {
        self.conn.ping().await?;
        Ok(())
    }

    /// Gives the lock up by closing the session.
    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}
