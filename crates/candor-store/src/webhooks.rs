//! Webhook endpoints and their outbox: deliveries queued in the transaction of the change they
//! report, leased to one worker at a time, with every attempt logged.

use crate::subscriptions::{components_from, components_json, topics_from, topics_json, wants};
use crate::{get, now, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::events::Topic;
use sqlx::any::AnyRow;

/// A receiver of signed events. Its secret is never read into this type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub topics: Vec<Topic>,
    /// Status components chosen; empty means all of them.
    pub components: Vec<i64>,
    pub enabled: bool,
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last delivered one.
    pub consecutive_failures: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl WebhookEndpoint {
    /// Whether an event of `topic` about `components` goes to this endpoint (same rule as for
    /// email subscribers).
    pub fn wants(&self, topic: Topic, components: &[i64]) -> bool {
        wants(&self.topics, &self.components, topic, components)
    }
}

/// What a person sets on an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointFields {
    pub url: String,
    pub description: String,
    pub topics: Vec<Topic>,
    pub components: Vec<i64>,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Delivered,
    /// Given up (the receiver is gone, or failed too long); sent again only by a person.
    Failed,
}

/// One event for one endpoint, with its attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub endpoint_id: i64,
    /// `msg_...`: the `webhook-id` header, the same on every attempt.
    pub message_id: String,
    pub event_type: String,
    /// The JSON body sent.
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub status: DeliveryStatus,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// Oldest first.
    pub log: Vec<WebhookAttempt>,
}

/// One try at a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub at: i64,
    /// The receiver's HTTP status; `None` when it did not answer.
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A delivery leased to the worker, with what it needs to send it.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub id: i64,
    pub org_id: OrgId,
    pub endpoint_id: i64,
    pub url: String,
    /// The endpoint's signing secret, sealed.
    pub secret_sealed: String,
    pub message_id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: i64,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// What an attempt decided for its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Try again at this time.
    RetryAt(i64),
    /// Stop trying.
    GaveUp,
}

const ENDPOINT_COLUMNS: &str = "id, url, description, topics, components, enabled, disabled_at, disabled_reason, \
                                consecutive_failures, created_by, created_at, updated_at";

fn endpoint_from_row(row: &AnyRow) -> StoreResult<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: get(row, "id")?,
        url: get(row, "url")?,
        description: get(row, "description")?,
        topics: topics_from(&get::<String>(row, "topics")?)?,
        components: components_from(&get::<String>(row, "components")?)?,
        enabled: get::<i64>(row, "enabled")? != 0,
        disabled_at: get(row, "disabled_at")?,
        disabled_reason: get(row, "disabled_reason")?,
        consecutive_failures: get(row, "consecutive_failures")?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

const DELIVERY_COLUMNS: &str =
    "id, endpoint_id, message_id, event_type, payload, created_at, attempts, next_attempt_at, \
                                delivered_at, failed_at, last_status, last_error";

fn delivery_from_row(row: &AnyRow) -> StoreResult<WebhookDelivery> {
    let status = if get::<Option<i64>>(row, "delivered_at")?.is_some() {
        DeliveryStatus::Delivered
    } else if get::<Option<i64>>(row, "failed_at")?.is_some() {
        DeliveryStatus::Failed
    } else {
        DeliveryStatus::Pending
    };
    Ok(WebhookDelivery {
        id: get(row, "id")?,
        endpoint_id: get(row, "endpoint_id")?,
        message_id: get(row, "message_id")?,
        event_type: get(row, "event_type")?,
        payload: get(row, "payload")?,
        created_at: get(row, "created_at")?,
        attempts: get(row, "attempts")?,
        next_attempt_at: get(row, "next_attempt_at")?,
        status,
        last_status: get(row, "last_status")?,
        last_error: get(row, "last_error")?,
        log: vec![],
    })
}

impl Store {
    /// Every endpoint, oldest first.
    pub async fn webhook_endpoints(&self, org: OrgId) -> StoreResult<Vec<WebhookEndpoint>> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    pub async fn webhook_endpoint(&self, org: OrgId, id: i64) -> StoreResult<Option<WebhookEndpoint>> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    /// An endpoint's deliveries, newest first, at most `limit`, each with its attempts.
    pub async fn webhook_deliveries(&self, org: OrgId, endpoint: i64, limit: i64) -> StoreResult<Vec<WebhookDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2 ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(endpoint)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut deliveries = rows.iter().map(delivery_from_row).collect::<StoreResult<Vec<_>>>()?;
        let Some(oldest) = deliveries.last().map(|d| d.id) else {
            return Ok(deliveries);
        };
        let rows = sqlx::query(
            "SELECT a.delivery_id, a.at, a.status, a.error, a.duration_ms FROM webhook_attempts a \
             JOIN webhook_deliveries d ON d.id = a.delivery_id \
             WHERE d.endpoint_id = $1 AND a.delivery_id >= $2 ORDER BY a.id",
        )
        .bind(endpoint)
        .bind(oldest)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let delivery: i64 = get(row, "delivery_id")?;
            if let Some(d) = deliveries.iter_mut().find(|d| d.id == delivery) {
                d.log.push(WebhookAttempt {
                    at: get(row, "at")?,
                    status: get(row, "status")?,
                    error: get(row, "error")?,
                    duration_ms: get(row, "duration_ms")?,
                });
            }
        }
        Ok(deliveries)
    }

    /// Takes up to `limit` due deliveries of enabled endpoints. Each is leased for `lease_secs`
    /// by a conditional update (as the mail outbox does), so two instances never send the same
    /// delivery at once, and one that dies mid-send leaves it to be retried after the lease.
    pub async fn claim_due_webhooks(&self, limit: i64, lease_secs: i64) -> StoreResult<Vec<DueDelivery>> {
        let t = now();
        let rows = sqlx::query(
            "SELECT d.id, d.org_id, d.endpoint_id, e.url, e.secret_sealed, d.message_id, d.event_type, d.payload, \
                    d.created_at, d.attempts, d.next_attempt_at \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= $1 AND e.enabled = 1 \
             ORDER BY d.next_attempt_at, d.id LIMIT $2",
        )
        .bind(t)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = vec![];
        for row in &rows {
            let id: i64 = get(row, "id")?;
            let was: i64 = get(row, "next_attempt_at")?;
            let taken = sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1 \
                 WHERE id = $2 AND next_attempt_at = $3 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(t + lease_secs)
            .bind(id)
            .bind(was)
            .execute(&self.pool)
            .await?;
            if taken.rows_affected() == 1 {
                claimed.push(DueDelivery {
                    id,
                    org_id: get(row, "org_id")?,
                    endpoint_id: get(row, "endpoint_id")?,
                    url: get(row, "url")?,
                    secret_sealed: get(row, "secret_sealed")?,
                    message_id: get(row, "message_id")?,
                    event_type: get(row, "event_type")?,
                    payload: get(row, "payload")?,
                    created_at: get(row, "created_at")?,
                    attempts: get(row, "attempts")?,
                });
            }
        }
        Ok(claimed)
    }

    /// Logs an attempt and applies its outcome to the delivery and to its endpoint's count of
    /// failures in a row, in one transaction.
    pub async fn record_webhook_attempt(
        &self,
        delivery: &DueDelivery,
        attempt: &WebhookAttempt,
        outcome: AttemptOutcome,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, at, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(delivery.id)
        .bind(attempt.at)
        .bind(attempt.status)
        .bind(&attempt.error)
        .bind(attempt.duration_ms)
        .execute(&mut *tx)
        .await?;
        let (sql, at) = match outcome {
            AttemptOutcome::Delivered => (
                "UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at = $1, last_status = $2, last_error = $3 WHERE id = $4",
                attempt.at,
            ),
            AttemptOutcome::RetryAt(at) => (
                "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1, last_status = $2, last_error = $3 WHERE id = $4",
                at,
            ),
            AttemptOutcome::GaveUp => (
                "UPDATE webhook_deliveries SET attempts = attempts + 1, failed_at = $1, last_status = $2, last_error = $3 WHERE id = $4",
                attempt.at,
            ),
        };
        sqlx::query(sql)
            .bind(at)
            .bind(attempt.status)
            .bind(&attempt.error)
            .bind(delivery.id)
            .execute(&mut *tx)
            .await?;
        let failures = match outcome {
            AttemptOutcome::Delivered => "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1",
            _ => "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = $1",
        };
        sqlx::query(failures)
            .bind(delivery.endpoint_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Tx {
    pub async fn webhook_endpoint_now(&mut self, org: OrgId, id: i64) -> StoreResult<WebhookEndpoint> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(&mut **self)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("webhook endpoint {id}")))?;
        endpoint_from_row(&row)
    }

    /// Stores a new, enabled endpoint with a placeholder secret (the secret is sealed bound to
    /// the id, so it is set next with [`Tx::set_webhook_secret`]). Returns its id.
    pub async fn insert_webhook_endpoint(
        &mut self,
        org: OrgId,
        fields: &EndpointFields,
        created_by: &str,
    ) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO webhook_endpoints (org_id, url, description, topics, components, secret_sealed, enabled, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, '', 1, $6, $7, $7) RETURNING id",
        )
        .bind(org)
        .bind(&fields.url)
        .bind(&fields.description)
        .bind(topics_json(&fields.topics))
        .bind(components_json(&fields.components))
        .bind(created_by)
        .bind(now())
        .fetch_one(&mut **self)
        .await?;
        get(&row, "id")
    }

    pub async fn set_webhook_secret(&mut self, id: i64, sealed: &str) -> StoreResult<()> {
        sqlx::query("UPDATE webhook_endpoints SET secret_sealed = $1 WHERE id = $2")
            .bind(sealed)
            .bind(id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    pub async fn update_webhook_endpoint(&mut self, org: OrgId, id: i64, fields: &EndpointFields) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, description = $2, topics = $3, components = $4, updated_at = $5 \
             WHERE org_id = $6 AND id = $7",
        )
        .bind(&fields.url)
        .bind(&fields.description)
        .bind(topics_json(&fields.topics))
        .bind(components_json(&fields.components))
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("webhook endpoint {id}")));
        }
        Ok(())
    }

    /// Deletes an endpoint with its deliveries and their attempts.
    pub async fn delete_webhook_endpoint(&mut self, org: OrgId, id: i64) -> StoreResult<()> {
        // Explicitly, rather than by the foreign keys' cascade alone: SQLite enforces them only
        // on connections that turned them on.
        sqlx::query(
            "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)",
        )
        .bind(id)
        .execute(&mut **self)
        .await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
            .bind(id)
            .execute(&mut **self)
            .await?;
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut **self)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("webhook endpoint {id}")));
        }
        Ok(())
    }

    /// Stops deliveries to an endpoint, saying why. `false` when it was disabled already.
    pub async fn disable_webhook_endpoint(&mut self, org: OrgId, id: i64, reason: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET enabled = 0, disabled_at = $1, disabled_reason = $2, updated_at = $1 \
             WHERE org_id = $3 AND id = $4 AND enabled = 1",
        )
        .bind(now())
        .bind(reason)
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Delivers to an endpoint again: its waiting deliveries are due now (counted as queued, so
    /// the worker is woken). `false` when it was enabled already.
    pub async fn enable_webhook_endpoint(&mut self, org: OrgId, id: i64) -> StoreResult<bool> {
        let t = now();
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET enabled = 1, disabled_at = NULL, disabled_reason = NULL, consecutive_failures = 0, \
             updated_at = $1 WHERE org_id = $2 AND id = $3 AND enabled = 0",
        )
        .bind(t)
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let due = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE endpoint_id = $2 AND delivered_at IS NULL AND failed_at IS NULL",
        )
        .bind(t)
        .bind(id)
        .execute(&mut **self)
        .await?;
        self.webhooks_queued += due.rows_affected() as usize;
        Ok(true)
    }

    /// Enabled endpoints that take events of `topic` (components are matched by the caller with
    /// [`WebhookEndpoint::wants`]).
    pub async fn enabled_webhook_endpoints(&mut self, org: OrgId, topic: Topic) -> StoreResult<Vec<WebhookEndpoint>> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND enabled = 1 AND topics LIKE $2 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(format!("%\"{}\"%", topic.as_str()))
            .fetch_all(&mut **self)
            .await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    /// Queues one delivery, due now.
    pub async fn queue_webhook(
        &mut self,
        org: OrgId,
        endpoint: i64,
        message_id: &str,
        event_type: &str,
        payload: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO webhook_deliveries (org_id, endpoint_id, message_id, event_type, payload, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(org)
        .bind(endpoint)
        .bind(message_id)
        .bind(event_type)
        .bind(payload)
        .bind(now())
        .execute(&mut **self)
        .await?;
        self.webhooks_queued += 1;
        Ok(())
    }

    /// Sends a delivery again, whatever became of it: due now, with the same message id (so a
    /// receiver can tell it is the same event); its attempts stay in the log. Returns it as it
    /// was.
    pub async fn resend_webhook(&mut self, org: OrgId, endpoint: i64, id: i64) -> StoreResult<WebhookDelivery> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2 AND id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(endpoint)
            .bind(id)
            .fetch_optional(&mut **self)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("webhook delivery {id}")))?;
        let delivery = delivery_from_row(&row)?;
        sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $1, delivered_at = NULL, failed_at = NULL, attempts = 0 WHERE id = $2",
        )
        .bind(now())
        .bind(id)
        .execute(&mut **self)
        .await?;
        self.webhooks_queued += 1;
        Ok(delivery)
    }

    /// The addresses of the organization's active owners (told when an endpoint is disabled).
    pub async fn owner_emails(&mut self, org: OrgId) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT email FROM users WHERE org_id = $1 AND role = 'owner' AND disabled_at IS NULL ORDER BY id",
        )
        .bind(org)
        .fetch_all(&mut **self)
        .await?;
        rows.iter().map(|r| get(r, "email")).collect()
    }
}
