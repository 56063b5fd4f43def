//! Appending to and reading the audit log.

use crate::{get, now, Backend, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::audit::{seal, AuditEntry, AuditRecord, Head, GENESIS};
use sqlx::any::AnyRow;

/// What to record; the store adds the time, sequence number and hashes.
#[derive(Clone, Debug, Default)]
pub struct NewAuditEvent {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub details: serde_json::Value,
}

/// Filters for reading the log. Empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Matches the action exactly or as a dotted prefix (`auth` matches `auth.login.failed`).
    pub action: Option<String>,
    pub from: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<i64>,
}

fn entry_from_row(row: &AnyRow) -> StoreResult<AuditEntry> {
    let details: String = get(row, "details")?;
    Ok(AuditEntry {
        record: AuditRecord {
            seq: get(row, "seq")?,
            at: get(row, "at")?,
            actor: get(row, "actor")?,
            action: get(row, "action")?,
            target: get(row, "target")?,
            ip: get(row, "ip")?,
            details: serde_json::from_str(&details).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        },
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}

const COLUMNS: &str = "seq, at, actor, action, target, ip, details, prev_hash, hash";

impl Store {
    /// Appends one entry to the organization's chain in a transaction of its own (for events
    /// that change nothing else: a failed sign-in, a download).
    pub async fn append_audit(&self, org: OrgId, event: NewAuditEvent) -> StoreResult<AuditEntry> {
        let mut tx = self.begin().await?;
        let entry = tx.append_audit(org, event).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// The entry with this sequence number.
    pub async fn audit_entry(&self, org: OrgId, seq: i64) -> StoreResult<Option<AuditEntry>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 AND seq = $2");
        let row = sqlx::query(&sql).bind(org).bind(seq).fetch_optional(&self.pool).await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    /// The newest entry's head, if the log has any.
    pub async fn audit_head(&self, org: OrgId) -> StoreResult<Option<Head>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 ORDER BY seq DESC LIMIT 1");
        let row = sqlx::query(&sql).bind(org).fetch_optional(&self.pool).await?;
        row.as_ref()
            .map(entry_from_row)
            .transpose()
            .map(|e| e.as_ref().map(Head::of))
    }

    /// Entries matching `filter`, newest first.
    pub async fn audit_entries(&self, org: OrgId, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 \
             AND ($2 = '' OR actor = $2) \
             AND ($3 = '' OR action = $3 OR action LIKE $4) \
             AND at >= $5 AND at <= $6 \
             ORDER BY seq DESC LIMIT $7"
        );
        let action = filter.action.clone().unwrap_or_default();
        let like = format!("{}.%", action.replace(['%', '_'], ""));
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(filter.actor.clone().unwrap_or_default())
            .bind(&action)
            .bind(like)
            .bind(filter.from.unwrap_or(0))
            .bind(filter.until.unwrap_or(i64::MAX))
            .bind(filter.limit.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// The whole chain in order, for verification.
    pub async fn audit_chain(&self, org: OrgId) -> StoreResult<Vec<AuditEntry>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 ORDER BY seq");
        let rows = sqlx::query(&sql).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Up to `limit` entries after `after_seq`, oldest first: a long chain read page by page.
    pub async fn audit_chain_page(&self, org: OrgId, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry_from_row).collect()
    }
}

impl Tx {
    /// Appends one entry to the organization's chain, as part of this transaction. The chain
    /// head is read and extended under a lock (an advisory lock on PostgreSQL, where several
    /// instances may write; SQLite's write transaction is already exclusive), so two writers can
    /// never fork the chain.
    pub async fn append_audit(&mut self, org: OrgId, event: NewAuditEvent) -> StoreResult<AuditEntry> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7405, CAST($1 AS INTEGER))")
                .bind(org)
                .execute(&mut **self)
                .await?;
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_log WHERE org_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(org)
            .fetch_optional(&mut **self)
            .await?;
        let (seq, prev) = match head {
            Some(r) => (get::<i64>(&r, "seq")? + 1, get::<String>(&r, "hash")?),
            None => (1, GENESIS.to_owned()),
        };
        let details = if event.details.is_null() {
            serde_json::json!({})
        } else {
            event.details
        };
        let entry = seal(
            &prev,
            AuditRecord {
                seq,
                at: now(),
                actor: event.actor,
                action: event.action,
                target: event.target,
                ip: event.ip,
                details,
            },
        );
        let r = &entry.record;
        sqlx::query(
            "INSERT INTO audit_log (org_id, seq, at, actor, action, target, ip, details, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(org)
        .bind(r.seq)
        .bind(r.at)
        .bind(&r.actor)
        .bind(&r.action)
        .bind(&r.target)
        .bind(&r.ip)
        .bind(r.details.to_string())
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut **self)
        .await?;
        self.appended.push((org, entry.clone()));
        Ok(entry)
    }
}

/// Records the new head outside the database. The entry is already durable; a checkpoint that
/// could not be written only lags behind (it is a lower bound), so this logs and goes on.
pub(crate) async fn checkpoint_head(file: crate::checkpoint::HeadFile, org: OrgId, entry: &AuditEntry) {
    let head = Head::of(entry);
    let written = tokio::task::spawn_blocking(move || file.advance(org, &head)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not checkpoint the audit log's head"),
        Err(e) => tracing::warn!(error = %e, "could not checkpoint the audit log's head"),
    }
}
