//! Built-in monitors and their raw results. A monitor's check settings are JSON in `settings`;
//! its streak (candor-core's [`Streak`]) lives in its row so a restart keeps it. Results are
//! written in batches and pruned past the retention window; the uptime roll-up counts them per
//! day, so history outlives them.

use crate::{get, now, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::status::monitor::{
    CheckSettings, CheckStatus, MonitorDraft, MonitorKind, MonitorSpec, Streak, Verdict,
};
use candor_core::status::ComponentStatus;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// A monitor as stored, with what its last check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Monitor {
    pub id: i64,
    pub component_id: i64,
    pub name: String,
    pub enabled: bool,
    pub spec: MonitorSpec,
    pub streak: Streak,
    pub last_checked_at: Option<i64>,
    pub last_status: Option<CheckStatus>,
    pub last_latency_ms: Option<i64>,
    pub last_detail: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Monitor {
    /// The monitor as a person set it up (for its edit form).
    pub fn draft(&self) -> MonitorDraft {
        MonitorDraft {
            name: self.name.clone(),
            component_id: self.component_id,
            enabled: self.enabled,
            spec: self.spec.clone(),
        }
    }
}

/// One stored check result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorResult {
    pub at: i64,
    /// Not down (a degraded check counts as passed for uptime).
    pub ok: bool,
    pub latency_ms: i64,
    pub detail: String,
}

/// A check to store, with the streak it leaves its monitor in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCheck {
    pub monitor_id: i64,
    pub at: i64,
    pub status: CheckStatus,
    pub latency_ms: i64,
    pub detail: String,
}

const COLUMNS: &str = "id, component_id, name, kind, target, settings, interval_secs, timeout_ms, \
    failures_before_down, down_status, auto_incident, enabled, consecutive_failures, consecutive_troubled, verdict, \
    last_checked_at, last_status, last_latency_ms, last_detail, created_at, updated_at";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown monitor {what} {value:?}"))
}

fn count(row: &AnyRow, col: &str) -> StoreResult<u32> {
    let n: i64 = get(row, col)?;
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("monitor {col} {n} is out of range")))
}

fn monitor_from_row(row: &AnyRow) -> StoreResult<Monitor> {
    let kind: String = get(row, "kind")?;
    let settings: String = get(row, "settings")?;
    let settings: CheckSettings = serde_json::from_str(&settings)
        .map_err(|e| StoreError::Corrupt(format!("monitor settings are not valid: {e}")))?;
    let down: String = get(row, "down_status")?;
    let verdict: String = get(row, "verdict")?;
    let last_status: Option<String> = get(row, "last_status")?;
    Ok(Monitor {
        id: get(row, "id")?,
        component_id: get(row, "component_id")?,
        name: get(row, "name")?,
        enabled: get::<i64>(row, "enabled")? != 0,
        spec: MonitorSpec {
            kind: MonitorKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
            target: get(row, "target")?,
            settings,
            interval_secs: count(row, "interval_secs")?,
            timeout_ms: count(row, "timeout_ms")?,
            failures_before_down: count(row, "failures_before_down")?,
            down_status: ComponentStatus::parse(&down).ok_or_else(|| corrupt("down status", &down))?,
            auto_incident: get::<i64>(row, "auto_incident")? != 0,
        },
        streak: Streak {
            failures: count(row, "consecutive_failures")?,
            troubled: count(row, "consecutive_troubled")?,
            verdict: Verdict::parse(&verdict).ok_or_else(|| corrupt("verdict", &verdict))?,
        },
        last_checked_at: get(row, "last_checked_at")?,
        last_status: match last_status {
            Some(s) => Some(CheckStatus::parse(&s).ok_or_else(|| corrupt("check status", &s))?),
            None => None,
        },
        last_latency_ms: get(row, "last_latency_ms")?,
        last_detail: get(row, "last_detail")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

fn settings_json(spec: &MonitorSpec) -> StoreResult<String> {
    serde_json::to_string(&spec.settings).map_err(|e| StoreError::Corrupt(format!("monitor settings: {e}")))
}

async fn list(conn: &mut AnyConnection, org: OrgId) -> StoreResult<Vec<Monitor>> {
    let sql = format!("SELECT {COLUMNS} FROM monitors WHERE org_id = $1 ORDER BY name, id");
    let rows = sqlx::query(&sql).bind(org).fetch_all(conn).await?;
    rows.iter().map(monitor_from_row).collect()
}

async fn one(conn: &mut AnyConnection, org: OrgId, id: i64) -> StoreResult<Option<Monitor>> {
    let sql = format!("SELECT {COLUMNS} FROM monitors WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(monitor_from_row).transpose()
}

impl Store {
    /// Every monitor, by name.
    pub async fn monitors(&self, org: OrgId) -> StoreResult<Vec<Monitor>> {
        let mut conn = self.pool.acquire().await?;
        list(&mut conn, org).await
    }

    pub async fn monitor(&self, org: OrgId, id: i64) -> StoreResult<Option<Monitor>> {
        let mut conn = self.pool.acquire().await?;
        one(&mut conn, org, id).await
    }

    /// A monitor's latest results, newest first.
    pub async fn monitor_results(&self, org: OrgId, id: i64, limit: i64) -> StoreResult<Vec<MonitorResult>> {
        let rows = sqlx::query(
            "SELECT r.at, r.ok, r.latency_ms, r.detail FROM monitor_results r JOIN monitors m ON m.id = r.monitor_id \
             WHERE m.org_id = $1 AND r.monitor_id = $2 ORDER BY r.at DESC, r.id DESC LIMIT $3",
        )
        .bind(org)
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MonitorResult {
                    at: get(r, "at")?,
                    ok: get::<i64>(r, "ok")? != 0,
                    latency_ms: get(r, "latency_ms")?,
                    detail: get(r, "detail")?,
                })
            })
            .collect()
    }

    /// Changes whenever a monitor is added, edited or deleted (not when it records a check), so
    /// the runner notices changes made by another process.
    pub async fn monitors_fingerprint(&self, org: OrgId) -> StoreResult<String> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS t, CAST(COALESCE(SUM(id), 0) AS BIGINT) AS ids \
             FROM monitors WHERE org_id = $1",
        )
        .bind(org)
        .fetch_one(&self.pool)
        .await?;
        let ids: i64 = get(&row, "ids")?;
        Ok(format!("{}-{}-{ids}", get::<i64>(&row, "n")?, get::<i64>(&row, "t")?))
    }
}

/// Rows per multi-row INSERT: 5 parameters each, well under both databases' limits.
const RESULTS_PER_INSERT: usize = 200;

impl Tx {
    pub async fn monitor_now(&mut self, org: OrgId, id: i64) -> StoreResult<Option<Monitor>> {
        one(self, org, id).await
    }

    /// The monitors with these ids (those that still exist).
    pub async fn monitors_now(&mut self, org: OrgId, ids: &[i64]) -> StoreResult<Vec<Monitor>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        // Our own numbers, so safe to inline (the Any driver binds no arrays on both databases).
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM monitors WHERE org_id = $1 AND id IN ({})",
            list.join(",")
        );
        let rows = sqlx::query(&sql).bind(org).fetch_all(&mut **self).await?;
        rows.iter().map(monitor_from_row).collect()
    }

    pub async fn create_monitor(&mut self, org: OrgId, m: &MonitorDraft) -> StoreResult<i64> {
        let t = now();
        let s = &m.spec;
        let row = sqlx::query(
            "INSERT INTO monitors (org_id, component_id, name, kind, target, settings, interval_secs, timeout_ms, \
             failures_before_down, down_status, auto_incident, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        )
        .bind(org)
        .bind(m.component_id)
        .bind(&m.name)
        .bind(s.kind.as_str())
        .bind(&s.target)
        .bind(settings_json(s)?)
        .bind(i64::from(s.interval_secs))
        .bind(i64::from(s.timeout_ms))
        .bind(i64::from(s.failures_before_down))
        .bind(s.down_status.as_str())
        .bind(i64::from(s.auto_incident))
        .bind(i64::from(m.enabled))
        .bind(t)
        .fetch_one(&mut **self)
        .await?;
        get(&row, "id")
    }

    /// Replaces a monitor's settings. Its streak carries on, unless it now reports on another
    /// component: that one starts from a clean slate.
    pub async fn update_monitor(&mut self, org: OrgId, id: i64, m: &MonitorDraft) -> StoreResult<()> {
        let s = &m.spec;
        let done = sqlx::query(
            "UPDATE monitors SET \
             consecutive_failures = CASE WHEN component_id = $1 THEN consecutive_failures ELSE 0 END, \
             consecutive_troubled = CASE WHEN component_id = $1 THEN consecutive_troubled ELSE 0 END, \
             verdict = CASE WHEN component_id = $1 THEN verdict ELSE 'up' END, \
             component_id = $1, name = $2, kind = $3, target = $4, settings = $5, interval_secs = $6, timeout_ms = $7, \
             failures_before_down = $8, down_status = $9, auto_incident = $10, enabled = $11, updated_at = $12 \
             WHERE org_id = $13 AND id = $14",
        )
        .bind(m.component_id)
        .bind(&m.name)
        .bind(s.kind.as_str())
        .bind(&s.target)
        .bind(settings_json(s)?)
        .bind(i64::from(s.interval_secs))
        .bind(i64::from(s.timeout_ms))
        .bind(i64::from(s.failures_before_down))
        .bind(s.down_status.as_str())
        .bind(i64::from(s.auto_incident))
        .bind(i64::from(m.enabled))
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        found(done.rows_affected(), id)
    }

    /// Deletes a monitor and its results.
    pub async fn delete_monitor(&mut self, org: OrgId, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM monitors WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut **self)
            .await?;
        found(done.rows_affected(), id)
    }

    /// Stores check results (of monitors that exist: the caller checks).
    pub async fn insert_monitor_results(&mut self, checks: &[NewCheck]) -> StoreResult<()> {
        for chunk in checks.chunks(RESULTS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = i * 5;
                    format!("(${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5)
                })
                .collect();
            let sql = format!(
                "INSERT INTO monitor_results (monitor_id, at, ok, latency_ms, detail) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(c.monitor_id)
                    .bind(c.at)
                    .bind(i64::from(c.status != CheckStatus::Down))
                    .bind(c.latency_ms)
                    .bind(&c.detail);
            }
            q.execute(&mut **self).await?;
        }
        Ok(())
    }

    /// Keeps a monitor's streak and its last check (not `updated_at`: recording checks is not
    /// an edit).
    pub async fn save_monitor_state(&mut self, id: i64, streak: Streak, last: &NewCheck) -> StoreResult<()> {
        sqlx::query(
            "UPDATE monitors SET consecutive_failures = $1, consecutive_troubled = $2, verdict = $3, \
             last_checked_at = $4, last_ok = $5, last_status = $6, last_latency_ms = $7, last_detail = $8 WHERE id = $9",
        )
        .bind(i64::from(streak.failures))
        .bind(i64::from(streak.troubled))
        .bind(streak.verdict.as_str())
        .bind(last.at)
        .bind(i64::from(last.status != CheckStatus::Down))
        .bind(last.status.as_str())
        .bind(last.latency_ms)
        .bind(&last.detail)
        .bind(id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// The open incident a monitor opened by itself, if any (the newest).
    pub async fn open_monitor_incident(&mut self, org: OrgId, monitor: i64) -> StoreResult<Option<i64>> {
        let row = sqlx::query(
            "SELECT id FROM incidents WHERE org_id = $1 AND monitor_id = $2 \
             AND status NOT IN ('resolved', 'postmortem') ORDER BY id DESC LIMIT 1",
        )
        .bind(org)
        .bind(monitor)
        .fetch_optional(&mut **self)
        .await?;
        row.as_ref().map(|r| get(r, "id")).transpose()
    }

    /// Deletes up to `limit` results older than `before`; the caller repeats while it deletes
    /// a full batch, so no one transaction holds the database for long.
    pub async fn prune_monitor_results(&mut self, before: i64, limit: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM monitor_results WHERE id IN (SELECT id FROM monitor_results WHERE at < $1 ORDER BY at LIMIT $2)",
        )
        .bind(before)
        .bind(limit)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected())
    }
}

fn found(rows: u64, id: i64) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound(format!("monitor {id}")))
    } else {
        Ok(())
    }
}
