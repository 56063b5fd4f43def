//! The record of backup runs and disaster-recovery drills.

use crate::{get, OrgId, Store, StoreResult, Tx};
use sqlx::any::AnyRow;

/// One backup run, finished or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupRun {
    pub id: i64,
    pub started_at: i64,
    pub finished_at: i64,
    /// `cli` or `schedule`.
    pub started_by: String,
    /// The directory or `s3://bucket/prefix` written to.
    pub destination: String,
    /// The archive's name there (empty when the run failed before naming it).
    pub archive: String,
    pub ok: bool,
    pub bytes: i64,
    pub row_count: i64,
    pub blob_count: i64,
    /// Why it failed (empty when it did not).
    pub error: String,
}

/// One drill: the latest backup restored into a scratch location and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrDrill {
    pub id: i64,
    pub ran_at: i64,
    pub archive: String,
    /// When the backup it restored was taken.
    pub backup_taken_at: i64,
    pub ok: bool,
    /// Recovery time: how long the restore with its checks took.
    pub rto_ms: i64,
    /// Recovery point: the backup's age when the drill ran.
    pub rpo_secs: i64,
    pub row_count: i64,
    pub blob_count: i64,
    pub audit_entries: i64,
    pub error: String,
}

const RUN_COLUMNS: &str =
    "id, started_at, finished_at, started_by, destination, archive, ok, bytes, row_count, blob_count, error";
const DRILL_COLUMNS: &str =
    "id, ran_at, archive, backup_taken_at, ok, rto_ms, rpo_secs, row_count, blob_count, audit_entries, error";

fn run_from(row: &AnyRow) -> StoreResult<BackupRun> {
    Ok(BackupRun {
        id: get(row, "id")?,
        started_at: get(row, "started_at")?,
        finished_at: get(row, "finished_at")?,
        started_by: get(row, "started_by")?,
        destination: get(row, "destination")?,
        archive: get(row, "archive")?,
        ok: get::<i64>(row, "ok")? != 0,
        bytes: get(row, "bytes")?,
        row_count: get(row, "row_count")?,
        blob_count: get(row, "blob_count")?,
        error: get(row, "error")?,
    })
}

fn drill_from(row: &AnyRow) -> StoreResult<DrDrill> {
    Ok(DrDrill {
        id: get(row, "id")?,
        ran_at: get(row, "ran_at")?,
        archive: get(row, "archive")?,
        backup_taken_at: get(row, "backup_taken_at")?,
        ok: get::<i64>(row, "ok")? != 0,
        rto_ms: get(row, "rto_ms")?,
        rpo_secs: get(row, "rpo_secs")?,
        row_count: get(row, "row_count")?,
        blob_count: get(row, "blob_count")?,
        audit_entries: get(row, "audit_entries")?,
        error: get(row, "error")?,
    })
}

impl Store {
    /// Every organization's id (a restore checkpoints each one's audit head).
    pub async fn org_ids(&self) -> StoreResult<Vec<OrgId>> {
        Ok(sqlx::query_scalar("SELECT id FROM orgs ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every stored blob's row (a drill opens each one).
    pub async fn all_blobs(&self) -> StoreResult<Vec<crate::BlobRow>> {
        let rows = sqlx::query("SELECT id, key_id, wrapped_key, size, sha256 FROM blobs ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::BlobRow {
                    id: get(r, "id")?,
                    key_id: get(r, "key_id")?,
                    wrapped_key: get(r, "wrapped_key")?,
                    size: get(r, "size")?,
                    sha256: get(r, "sha256")?,
                })
            })
            .collect()
    }

    /// The latest backup runs, newest first.
    pub async fn backup_runs(&self, org: OrgId, limit: i64) -> StoreResult<Vec<BackupRun>> {
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM backup_runs WHERE org_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2"
        ))
        .bind(org)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from).collect()
    }

    /// The newest run that succeeded.
    pub async fn last_good_backup(&self, org: OrgId) -> StoreResult<Option<BackupRun>> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM backup_runs WHERE org_id = $1 AND ok = 1 ORDER BY started_at DESC, id DESC LIMIT 1"
        ))
        .bind(org)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from).transpose()
    }

    /// The latest drills, newest first.
    pub async fn dr_drills(&self, org: OrgId, limit: i64) -> StoreResult<Vec<DrDrill>> {
        let rows = sqlx::query(&format!(
            "SELECT {DRILL_COLUMNS} FROM dr_drills WHERE org_id = $1 ORDER BY ran_at DESC, id DESC LIMIT $2"
        ))
        .bind(org)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(drill_from).collect()
    }

    /// The newest drill that passed: the evidence the public business-continuity section shows.
    pub async fn last_passing_dr_drill(&self, org: OrgId) -> StoreResult<Option<DrDrill>> {
        let row = sqlx::query(&format!(
            "SELECT {DRILL_COLUMNS} FROM dr_drills WHERE org_id = $1 AND ok = 1 ORDER BY ran_at DESC, id DESC LIMIT 1"
        ))
        .bind(org)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(drill_from).transpose()
    }
}

impl Tx {
    pub async fn record_backup_run(&mut self, org: OrgId, run: &BackupRun) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO backup_runs (org_id, started_at, finished_at, started_by, destination, archive, ok, bytes, row_count, blob_count, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(org)
        .bind(run.started_at)
        .bind(run.finished_at)
        .bind(&run.started_by)
        .bind(&run.destination)
        .bind(&run.archive)
        .bind(i64::from(run.ok))
        .bind(run.bytes)
        .bind(run.row_count)
        .bind(run.blob_count)
        .bind(&run.error)
        .fetch_one(&mut **self)
        .await?;
        get(&row, "id")
    }

    pub async fn record_dr_drill(&mut self, org: OrgId, d: &DrDrill) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO dr_drills (org_id, ran_at, archive, backup_taken_at, ok, rto_ms, rpo_secs, row_count, blob_count, audit_entries, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(org)
        .bind(d.ran_at)
        .bind(&d.archive)
        .bind(d.backup_taken_at)
        .bind(i64::from(d.ok))
        .bind(d.rto_ms)
        .bind(d.rpo_secs)
        .bind(d.row_count)
        .bind(d.blob_count)
        .bind(d.audit_entries)
        .bind(&d.error)
        .fetch_one(&mut **self)
        .await?;
        get(&row, "id")
    }
}
