//! How much work waits in the queues (mail outbox, webhook deliveries) and how the connection
//! pool is used: read by `/metrics`, one cheap query per queue.

use crate::{get, Store, StoreResult};

/// What waits in one queue: messages neither delivered nor given up on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub pending: i64,
    /// When the oldest pending message was queued (Unix seconds); `None` when the queue is empty.
    pub oldest_created_at: Option<i64>,
}

/// The connection pool at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections open now.
    pub open: u32,
    /// Of those, not lent out.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

impl Store {
    /// The mail outbox: messages not yet sent and not failed for good, across organizations.
    pub async fn outbox_depth(&self) -> StoreResult<QueueDepth> {
        self.depth(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .await
    }

    /// Webhook deliveries not yet delivered and not given up on, across organizations (those of
    /// disabled endpoints included: they wait for the endpoint to be enabled again).
    pub async fn webhook_depth(&self) -> StoreResult<QueueDepth> {
        self.depth(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM webhook_deliveries \
             WHERE delivered_at IS NULL AND failed_at IS NULL",
        )
        .await
    }

    async fn depth(&self, sql: &str) -> StoreResult<QueueDepth> {
        let row = sqlx::query(sql).fetch_one(&self.pool).await?;
        Ok(QueueDepth {
            pending: get(&row, "n")?,
            oldest_created_at: get(&row, "oldest")?,
        })
    }

    /// How the connection pool is used now (no query).
    pub fn pool_use(&self) -> PoolUse {
        let open = self.pool.size();
        PoolUse {
            open,
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(open).min(open),
            max: self.pool.options().get_max_connections(),
        }
    }
}
