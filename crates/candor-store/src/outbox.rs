//! The outbox: outgoing mail is written here first (in the same transaction as whatever caused
//! it, where that matters) and delivered by a worker, so a mail-server outage loses nothing.

use crate::{get, now, OrgId, Store, StoreError, StoreResult, Tx};
use sqlx::any::AnyRow;

/// A message to queue.
#[derive(Clone, Debug)]
pub struct NewEmail {
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// What the message is for (`password-reset`, ...), for the back office and logs.
    pub purpose: String,
    /// Extra header fields, name and value (`List-Unsubscribe`); usually none.
    pub headers: Vec<(String, String)>,
}

/// Where a queued message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Sent,
    /// Refused for good by the mail server (a bad address, say); not retried.
    Failed,
}

/// A queued message. Once sent, its bodies are empty.
#[derive(Clone, Debug)]
pub struct OutboxEmail {
    pub id: i64,
    pub org_id: OrgId,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub purpose: String,
    /// Extra header fields to send with it (emptied once sent: they may hold a link).
    pub headers: Vec<(String, String)>,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub status: OutboxStatus,
}

const COLUMNS: &str = "id, org_id, recipient, subject, body_text, body_html, purpose, headers, created_at, attempts, \
                       next_attempt_at, last_error, sent_at, failed_at";

fn email_from_row(row: &AnyRow) -> StoreResult<OutboxEmail> {
    let status = if get::<Option<i64>>(row, "sent_at")?.is_some() {
        OutboxStatus::Sent
    } else if get::<Option<i64>>(row, "failed_at")?.is_some() {
        OutboxStatus::Failed
    } else {
        OutboxStatus::Pending
    };
    Ok(OutboxEmail {
        id: get(row, "id")?,
        org_id: get(row, "org_id")?,
        recipient: get(row, "recipient")?,
        subject: get(row, "subject")?,
        body_text: get(row, "body_text")?,
        body_html: get(row, "body_html")?,
        purpose: get(row, "purpose")?,
        headers: match get::<Option<String>>(row, "headers")? {
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("outbox headers: {e}")))?
            }
            None => vec![],
        },
        created_at: get(row, "created_at")?,
        attempts: get(row, "attempts")?,
        next_attempt_at: get(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        status,
    })
}

pub(crate) async fn insert_email<'c, E>(exec: E, org: OrgId, email: &NewEmail) -> StoreResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let headers = if email.headers.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&email.headers).map_err(|e| StoreError::Corrupt(format!("outbox headers: {e}")))?)
    };
    sqlx::query(
        "INSERT INTO outbox (org_id, recipient, subject, body_text, body_html, purpose, created_at, next_attempt_at, headers) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
    )
    .bind(org)
    .bind(&email.recipient)
    .bind(&email.subject)
    .bind(&email.body_text)
    .bind(&email.body_html)
    .bind(&email.purpose)
    .bind(now())
    .bind(headers)
    .execute(exec)
    .await?;
    Ok(())
}

impl Store {
    /// Queues a message for delivery now.
    pub async fn enqueue_email(&self, org: OrgId, email: &NewEmail) -> StoreResult<()> {
        insert_email(&self.pool, org, email).await
    }

    /// Takes up to `limit` due messages for delivery. Each is leased for `lease_secs` (its next
    /// attempt moves forward) by a conditional update, so two instances sharing a database never
    /// send the same message twice, and a worker that dies mid-send leaves it to be retried.
    pub async fn claim_due_emails(&self, limit: i64, lease_secs: i64) -> StoreResult<Vec<OutboxEmail>> {
        let t = now();
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT $2"
        );
        let rows = sqlx::query(&sql).bind(t).bind(limit).fetch_all(&self.pool).await?;
        let mut claimed = vec![];
        for row in &rows {
            let mut email = email_from_row(row)?;
            let taken = sqlx::query(
                "UPDATE outbox SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3 AND sent_at IS NULL",
            )
            .bind(t + lease_secs)
            .bind(email.id)
            .bind(email.next_attempt_at)
            .execute(&self.pool)
            .await?;
            if taken.rows_affected() == 1 {
                email.next_attempt_at = t + lease_secs;
                claimed.push(email);
            }
        }
        Ok(claimed)
    }

    /// The server accepted the message: keep the record, drop the bodies and extra headers (an
    /// unsubscribe link is a credential too).
    pub async fn mark_email_sent(&self, id: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL, body_text = '', body_html = NULL, \
             headers = NULL WHERE id = $2",
        )
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A temporary failure: try again at `retry_at`.
    pub async fn mark_email_retry(&self, id: i64, retry_at: i64, error: &str) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3")
            .bind(retry_at)
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A permanent refusal: stop trying, keep the reason for the back office. The bodies stay
    /// until the message is sent after all (an owner fixed the address or the server and asked
    /// for a retry) or discarded.
    pub async fn mark_email_failed(&self, id: i64, error: &str) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, failed_at = $1, last_error = $2 WHERE id = $3")
            .bind(now())
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest messages first.
    pub async fn outbox(&self, org: OrgId, limit: i64) -> StoreResult<Vec<OutboxEmail>> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE org_id = $1 ORDER BY id DESC LIMIT $2");
        let rows = sqlx::query(&sql).bind(org).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(email_from_row).collect()
    }
}

/// What the back office may see of a message that has not been delivered: never its bodies,
/// whose links (password resets, sign-in links) are credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndeliveredEmail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub purpose: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    /// `Pending` (waiting for its next attempt) or `Failed` (refused for good).
    pub status: OutboxStatus,
    /// Whether its text is still stored, so it can be sent again (messages refused before
    /// Candor kept the text of failed mail have none).
    pub has_text: bool,
}

const UNDELIVERED: &str = "SELECT id, recipient, subject, purpose, created_at, attempts, next_attempt_at, last_error, \
                           failed_at, CAST(CASE WHEN body_text = '' THEN 0 ELSE 1 END AS BIGINT) AS has_text FROM outbox \
                           WHERE org_id = $1 AND sent_at IS NULL";

fn undelivered_from_row(row: &AnyRow) -> StoreResult<UndeliveredEmail> {
    Ok(UndeliveredEmail {
        id: get(row, "id")?,
        recipient: get(row, "recipient")?,
        subject: get(row, "subject")?,
        purpose: get(row, "purpose")?,
        created_at: get(row, "created_at")?,
        attempts: get(row, "attempts")?,
        next_attempt_at: get(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        status: if get::<Option<i64>>(row, "failed_at")?.is_some() {
            OutboxStatus::Failed
        } else {
            OutboxStatus::Pending
        },
        has_text: get::<i64>(row, "has_text")? != 0,
    })
}

impl Store {
    /// Messages not delivered yet, failed ones first, then by age (oldest first), at most `limit`.
    pub async fn undelivered_emails(&self, org: OrgId, limit: i64) -> StoreResult<Vec<UndeliveredEmail>> {
        let sql = format!("{UNDELIVERED} ORDER BY CASE WHEN failed_at IS NULL THEN 1 ELSE 0 END, id LIMIT $2");
        let rows = sqlx::query(&sql).bind(org).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(undelivered_from_row).collect()
    }

    /// How much mail is in trouble: refused for good, or waiting after a failed attempt.
    pub async fn mail_trouble(&self, org: OrgId) -> StoreResult<MailTrouble> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed, \
                    CAST(COALESCE(SUM(CASE WHEN failed_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS retrying \
             FROM outbox WHERE org_id = $1 AND sent_at IS NULL",
        )
        .bind(org)
        .fetch_one(&self.pool)
        .await?;
        Ok(MailTrouble {
            failed: get(&row, "failed")?,
            retrying: get(&row, "retrying")?,
        })
    }
}

/// Mail that has not gone out and has met an error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailTrouble {
    /// Refused for good by the mail server; not tried again until someone retries it.
    pub failed: i64,
    /// Waiting for another attempt after at least one failed.
    pub retrying: i64,
}

impl MailTrouble {
    pub fn total(&self) -> i64 {
        self.failed + self.retrying
    }
}

impl Tx {
    /// One message not delivered yet; `NotFound` when there is none by that id (or it was sent).
    pub async fn undelivered_email(&mut self, org: OrgId, id: i64) -> StoreResult<UndeliveredEmail> {
        let sql = format!("{UNDELIVERED} AND id = $2");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(&mut **self)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("undelivered message {id}")))?;
        undelivered_from_row(&row)
    }

    /// Makes a pending or failed message due now: a failed one is tried again, its attempts
    /// kept. Counted as queued, so the outbox worker is woken once this commits.
    pub async fn make_email_due(&mut self, org: OrgId, id: i64) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, failed_at = NULL WHERE org_id = $2 AND id = $3 AND sent_at IS NULL",
        )
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("undelivered message {id}")));
        }
        self.mail_queued += 1;
        Ok(())
    }

    /// Removes a message that has not been delivered, bodies and all.
    pub async fn delete_email(&mut self, org: OrgId, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM outbox WHERE org_id = $1 AND id = $2 AND sent_at IS NULL")
            .bind(org)
            .bind(id)
            .execute(&mut **self)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("undelivered message {id}")));
        }
        Ok(())
    }
}
