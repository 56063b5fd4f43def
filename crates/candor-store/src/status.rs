//! The status page's tables: groups and components, incidents with their updates, maintenance
//! windows, and the per-day uptime history. The rules (which transitions are allowed, what the
//! overall status is) are candor-core's; this module only keeps the values.

use crate::{get, now, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::status::uptime::DayTotals;
use candor_core::status::{ComponentStatus, Impact, IncidentKind, IncidentStatus, MaintenanceStatus};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusGroup {
    pub id: i64,
    pub name: String,
    pub position: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusComponent {
    pub id: i64,
    pub group_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub position: i64,
    /// As last set by a person, an incident or a monitor (maintenance shows over it).
    pub status: ComponentStatus,
    pub showcase: bool,
    pub only_show_if_degraded: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a person sets on a component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentFields {
    pub group_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub showcase: bool,
    pub only_show_if_degraded: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEntry {
    pub id: i64,
    /// An [`IncidentStatus`] or [`MaintenanceStatus`] spelling, by the entry's parent.
    pub status: String,
    /// Markdown.
    pub body: String,
    pub display_at: i64,
    pub created_at: i64,
    pub author: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub id: i64,
    pub kind: IncidentKind,
    pub title: String,
    pub impact: Impact,
    pub status: IncidentStatus,
    pub postmortem: Option<String>,
    /// The monitor that opened it by itself, if one did.
    pub monitor_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    /// Affected components and the status the incident gives each.
    pub components: Vec<(i64, ComponentStatus)>,
    /// Newest first.
    pub updates: Vec<TimelineEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Maintenance {
    pub id: i64,
    pub title: String,
    pub status: MaintenanceStatus,
    pub scheduled_for: i64,
    pub scheduled_until: i64,
    /// Starts and completes by itself at the window's edges.
    pub auto: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub components: Vec<i64>,
    /// Newest first.
    pub updates: Vec<TimelineEntry>,
}

/// Which incidents to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncidentQuery {
    /// Only this kind; None for both.
    pub kind: Option<IncidentKind>,
    /// Only those not resolved.
    pub open_only: bool,
    pub limit: i64,
    pub offset: i64,
}

fn flag(row: &AnyRow, col: &str) -> StoreResult<bool> {
    Ok(get::<i64>(row, col)? != 0)
}

fn parse<T>(value: String, what: &str, f: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    f(&value).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} {value:?}")))
}

fn component_from_row(row: &AnyRow) -> StoreResult<StatusComponent> {
    Ok(StatusComponent {
        id: get(row, "id")?,
        group_id: get(row, "group_id")?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        position: get(row, "position")?,
        status: parse(get(row, "status")?, "component status", ComponentStatus::parse)?,
        showcase: flag(row, "showcase")?,
        only_show_if_degraded: flag(row, "only_show_if_degraded")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

fn entry_from_row(row: &AnyRow) -> StoreResult<TimelineEntry> {
    Ok(TimelineEntry {
        id: get(row, "id")?,
        status: get(row, "status")?,
        body: get(row, "body")?,
        display_at: get(row, "display_at")?,
        created_at: get(row, "created_at")?,
        author: get(row, "author")?,
    })
}

const INCIDENT_COLUMNS: &str =
    "id, kind, title, impact, status, postmortem, monitor_id, created_at, updated_at, resolved_at";

fn incident_from_row(row: &AnyRow) -> StoreResult<Incident> {
    Ok(Incident {
        id: get(row, "id")?,
        kind: parse(get(row, "kind")?, "incident kind", IncidentKind::parse)?,
        title: get(row, "title")?,
        impact: parse(get(row, "impact")?, "impact", Impact::parse)?,
        status: parse(get(row, "status")?, "incident status", IncidentStatus::parse)?,
        postmortem: get(row, "postmortem")?,
        monitor_id: get(row, "monitor_id")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        resolved_at: get(row, "resolved_at")?,
        components: vec![],
        updates: vec![],
    })
}

const MAINTENANCE_COLUMNS: &str =
    "id, title, status, scheduled_for, scheduled_until, auto, created_at, updated_at, started_at, completed_at";

fn maintenance_from_row(row: &AnyRow) -> StoreResult<Maintenance> {
    Ok(Maintenance {
        id: get(row, "id")?,
        title: get(row, "title")?,
        status: parse(get(row, "status")?, "maintenance status", MaintenanceStatus::parse)?,
        scheduled_for: get(row, "scheduled_for")?,
        scheduled_until: get(row, "scheduled_until")?,
        auto: flag(row, "auto")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        started_at: get(row, "started_at")?,
        completed_at: get(row, "completed_at")?,
        components: vec![],
        updates: vec![],
    })
}

/// Reads shared by [`Store`] (on a pooled connection) and [`Tx`] (inside a use case, so what it
/// reads cannot change before it writes).
mod read {
    use super::*;

    pub async fn components(conn: &mut AnyConnection, org: OrgId) -> StoreResult<Vec<StatusComponent>> {
        let rows = sqlx::query(
            "SELECT id, group_id, name, description, position, status, showcase, only_show_if_degraded, created_at, updated_at \
             FROM status_components WHERE org_id = $1 ORDER BY position, id",
        )
        .bind(org)
        .fetch_all(conn)
        .await?;
        rows.iter().map(component_from_row).collect()
    }

    pub async fn incident(conn: &mut AnyConnection, org: OrgId, id: i64) -> StoreResult<Option<Incident>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = $1 AND id = $2");
        let Some(row) = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&mut *conn).await? else {
            return Ok(None);
        };
        let mut incident = incident_from_row(&row)?;
        fill_incidents(conn, std::slice::from_mut(&mut incident)).await?;
        Ok(Some(incident))
    }

    /// Adds each incident's components and updates (two queries for the whole list).
    pub async fn fill_incidents(conn: &mut AnyConnection, incidents: &mut [Incident]) -> StoreResult<()> {
        if incidents.is_empty() {
            return Ok(());
        }
        let ids = id_list(incidents.iter().map(|i| i.id));
        let rows = sqlx::query(&format!(
            "SELECT incident_id, component_id, status FROM incident_components WHERE incident_id IN ({ids}) ORDER BY component_id"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for row in &rows {
            let id: i64 = get(row, "incident_id")?;
            let status = parse(get(row, "status")?, "component status", ComponentStatus::parse)?;
            if let Some(i) = incidents.iter_mut().find(|i| i.id == id) {
                i.components.push((get(row, "component_id")?, status));
            }
        }
        let rows = sqlx::query(&format!(
            "SELECT id, incident_id, status, body, display_at, created_at, author FROM incident_updates \
             WHERE incident_id IN ({ids}) ORDER BY display_at DESC, id DESC"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for row in &rows {
            let id: i64 = get(row, "incident_id")?;
            if let Some(i) = incidents.iter_mut().find(|i| i.id == id) {
                i.updates.push(entry_from_row(row)?);
            }
        }
        Ok(())
    }

    pub async fn maintenance(conn: &mut AnyConnection, org: OrgId, id: i64) -> StoreResult<Option<Maintenance>> {
        let sql = format!("SELECT {MAINTENANCE_COLUMNS} FROM maintenances WHERE org_id = $1 AND id = $2");
        let Some(row) = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&mut *conn).await? else {
            return Ok(None);
        };
        let mut m = maintenance_from_row(&row)?;
        fill_maintenances(conn, std::slice::from_mut(&mut m)).await?;
        Ok(Some(m))
    }

    pub async fn fill_maintenances(conn: &mut AnyConnection, list: &mut [Maintenance]) -> StoreResult<()> {
        if list.is_empty() {
            return Ok(());
        }
        let ids = id_list(list.iter().map(|m| m.id));
        let rows = sqlx::query(&format!(
            "SELECT maintenance_id, component_id FROM maintenance_components WHERE maintenance_id IN ({ids}) ORDER BY component_id"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for row in &rows {
            let id: i64 = get(row, "maintenance_id")?;
            if let Some(m) = list.iter_mut().find(|m| m.id == id) {
                m.components.push(get(row, "component_id")?);
            }
        }
        let rows = sqlx::query(&format!(
            "SELECT id, maintenance_id, status, body, display_at, created_at, author FROM maintenance_updates \
             WHERE maintenance_id IN ({ids}) ORDER BY display_at DESC, id DESC"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for row in &rows {
            let id: i64 = get(row, "maintenance_id")?;
            if let Some(m) = list.iter_mut().find(|m| m.id == id) {
                m.updates.push(entry_from_row(row)?);
            }
        }
        Ok(())
    }

    /// Maintenance windows not completed, soonest first.
    pub async fn unfinished_maintenances(conn: &mut AnyConnection, org: OrgId) -> StoreResult<Vec<Maintenance>> {
        let sql = format!(
            "SELECT {MAINTENANCE_COLUMNS} FROM maintenances WHERE org_id = $1 AND status <> 'completed' ORDER BY scheduled_for, id"
        );
        let rows = sqlx::query(&sql).bind(org).fetch_all(&mut *conn).await?;
        let mut list = rows.iter().map(maintenance_from_row).collect::<StoreResult<Vec<_>>>()?;
        fill_maintenances(conn, &mut list).await?;
        Ok(list)
    }

    /// Ids are numbers from our own rows, so they are safe to inline (sqlx's Any driver has no
    /// array binding that works on both databases).
    fn id_list(ids: impl Iterator<Item = i64>) -> String {
        ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
    }
}

impl Store {
    pub async fn status_groups(&self, org: OrgId) -> StoreResult<Vec<StatusGroup>> {
        let rows = sqlx::query("SELECT id, name, position FROM status_groups WHERE org_id = $1 ORDER BY position, id")
            .bind(org)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StatusGroup {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                    position: get(r, "position")?,
                })
            })
            .collect()
    }

    /// Every component in display order.
    pub async fn status_components(&self, org: OrgId) -> StoreResult<Vec<StatusComponent>> {
        read::components(&mut *self.pool.acquire().await?, org).await
    }

    /// Incidents newest first, with their components and updates.
    pub async fn incidents(&self, org: OrgId, q: IncidentQuery) -> StoreResult<Vec<Incident>> {
        let mut conn = self.pool.acquire().await?;
        let mut sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = $1");
        if let Some(kind) = q.kind {
            sql.push_str(&format!(" AND kind = '{}'", kind.as_str()));
        }
        if q.open_only {
            sql.push_str(" AND status NOT IN ('resolved', 'postmortem')");
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3");
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(q.limit.clamp(1, 1000))
            .bind(q.offset.max(0))
            .fetch_all(&mut *conn)
            .await?;
        let mut list = rows.iter().map(incident_from_row).collect::<StoreResult<Vec<_>>>()?;
        read::fill_incidents(&mut conn, &mut list).await?;
        Ok(list)
    }

    /// How many incidents of a kind there are (for paging).
    pub async fn incident_count(&self, org: OrgId, kind: Option<IncidentKind>) -> StoreResult<i64> {
        let row = match kind {
            Some(k) => {
                sqlx::query("SELECT COUNT(*) AS n FROM incidents WHERE org_id = $1 AND kind = $2")
                    .bind(org)
                    .bind(k.as_str())
                    .fetch_one(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT COUNT(*) AS n FROM incidents WHERE org_id = $1")
                    .bind(org)
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        get(&row, "n")
    }

    pub async fn incident(&self, org: OrgId, id: i64) -> StoreResult<Option<Incident>> {
        read::incident(&mut *self.pool.acquire().await?, org, id).await
    }

    pub async fn maintenance(&self, org: OrgId, id: i64) -> StoreResult<Option<Maintenance>> {
        read::maintenance(&mut *self.pool.acquire().await?, org, id).await
    }

    /// Maintenance windows, newest window first; `unfinished` keeps those not completed (soonest first).
    pub async fn maintenances(&self, org: OrgId, unfinished: bool, limit: i64) -> StoreResult<Vec<Maintenance>> {
        let mut conn = self.pool.acquire().await?;
        if unfinished {
            return read::unfinished_maintenances(&mut conn, org).await;
        }
        let sql = format!(
            "SELECT {MAINTENANCE_COLUMNS} FROM maintenances WHERE org_id = $1 ORDER BY scheduled_for DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(limit.clamp(1, 1000))
            .fetch_all(&mut *conn)
            .await?;
        let mut list = rows.iter().map(maintenance_from_row).collect::<StoreResult<Vec<_>>>()?;
        read::fill_maintenances(&mut conn, &mut list).await?;
        Ok(list)
    }

    /// The per-day uptime rows of every component from `from_day` on.
    pub async fn status_days(&self, org: OrgId, from_day: i64) -> StoreResult<Vec<(i64, i64, DayTotals)>> {
        let rows = sqlx::query(
            "SELECT d.component_id, d.day, d.observed_secs, d.degraded_secs, d.partial_secs, d.major_secs, \
             d.maintenance_secs, d.checks, d.failed_checks FROM status_days d \
             JOIN status_components c ON c.id = d.component_id WHERE c.org_id = $1 AND d.day >= $2 \
             ORDER BY d.component_id, d.day",
        )
        .bind(org)
        .bind(from_day)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get(r, "component_id")?,
                    get(r, "day")?,
                    DayTotals {
                        observed_secs: get(r, "observed_secs")?,
                        degraded_secs: get(r, "degraded_secs")?,
                        partial_secs: get(r, "partial_secs")?,
                        major_secs: get(r, "major_secs")?,
                        maintenance_secs: get(r, "maintenance_secs")?,
                        checks: get(r, "checks")?,
                        failed_checks: get(r, "failed_checks")?,
                    },
                ))
            })
            .collect()
    }

    /// A component's status changes from `since` on, and the status it had just before.
    pub async fn status_changes(
        &self,
        component: i64,
        since: i64,
    ) -> StoreResult<(Option<ComponentStatus>, Vec<(i64, ComponentStatus)>)> {
        let before = sqlx::query(
            "SELECT status FROM status_changes WHERE component_id = $1 AND at < $2 ORDER BY at DESC, id DESC LIMIT 1",
        )
        .bind(component)
        .bind(since)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| parse(get(&r, "status")?, "component status", ComponentStatus::parse))
        .transpose()?;
        let rows =
            sqlx::query("SELECT at, status FROM status_changes WHERE component_id = $1 AND at >= $2 ORDER BY at, id")
                .bind(component)
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
        let changes = rows
            .iter()
            .map(|r| {
                Ok((
                    get(r, "at")?,
                    parse(get(r, "status")?, "component status", ComponentStatus::parse)?,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((before, changes))
    }

    /// The first day not yet final in a component's history: the last day rolled up (it is
    /// recomputed), or None when nothing was rolled up yet.
    pub async fn last_status_day(&self, component: i64) -> StoreResult<Option<i64>> {
        let row = sqlx::query("SELECT MAX(day) AS d FROM status_days WHERE component_id = $1")
            .bind(component)
            .fetch_one(&self.pool)
            .await?;
        get(&row, "d")
    }

    /// The maintenance windows that covered a component and had not ended by `since`: (started,
    /// completed).
    pub async fn maintenance_windows(&self, component: i64, since: i64) -> StoreResult<Vec<(i64, Option<i64>)>> {
        let rows = sqlx::query(
            "SELECT m.started_at, m.completed_at FROM maintenances m \
             JOIN maintenance_components mc ON mc.maintenance_id = m.id \
             WHERE mc.component_id = $1 AND m.started_at IS NOT NULL AND (m.completed_at IS NULL OR m.completed_at >= $2) \
             ORDER BY m.started_at",
        )
        .bind(component)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((get(r, "started_at")?, get(r, "completed_at")?)))
            .collect()
    }

    /// A component's monitor checks per UTC day from `since`: (day, checks, failed).
    pub async fn check_counts(&self, component: i64, since: i64) -> StoreResult<Vec<(i64, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT (r.at / 86400) * 86400 AS day, COUNT(*) AS n, CAST(SUM(1 - r.ok) AS BIGINT) AS failed FROM monitor_results r \
             JOIN monitors m ON m.id = r.monitor_id WHERE m.component_id = $1 AND r.at >= $2 \
             GROUP BY (r.at / 86400) * 86400 ORDER BY day",
        )
        .bind(component)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let failed: Option<i64> = get(r, "failed")?;
                Ok((get(r, "day")?, get(r, "n")?, failed.unwrap_or(0)))
            })
            .collect()
    }

    /// A number that changes whenever anything on the status page changes, or a disaster-recovery
    /// drill passes (the public site shows the last one), for caches that must notice writes by
    /// another process (`candor dr-drill` runs as a command of its own).
    pub async fn status_fingerprint(&self, org: OrgId) -> StoreResult<String> {
        let row = sqlx::query(
            "SELECT \
             (SELECT COALESCE(MAX(updated_at), 0) FROM status_components WHERE org_id = $1) AS c, \
             (SELECT COUNT(*) FROM status_components WHERE org_id = $1) AS cn, \
             (SELECT COALESCE(MAX(updated_at), 0) FROM status_groups WHERE org_id = $1) AS g, \
             (SELECT COUNT(*) FROM status_groups WHERE org_id = $1) AS gn, \
             (SELECT COALESCE(MAX(updated_at), 0) FROM incidents WHERE org_id = $1) AS i, \
             (SELECT COUNT(*) FROM incidents WHERE org_id = $1) AS i_n, \
             (SELECT COALESCE(MAX(updated_at), 0) FROM maintenances WHERE org_id = $1) AS m, \
             (SELECT COUNT(*) FROM maintenances WHERE org_id = $1) AS mn, \
             (SELECT COALESCE(MAX(id), 0) FROM dr_drills WHERE org_id = $1 AND ok = 1) AS dr",
        )
        .bind(org)
        .fetch_one(&self.pool)
        .await?;
        let mut parts = vec![];
        for col in ["c", "cn", "g", "gn", "i", "i_n", "m", "mn", "dr"] {
            parts.push(get::<i64>(&row, col)?.to_string());
        }
        Ok(parts.join("-"))
    }
}

/// A new incident: its first update is its first message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewIncident {
    pub kind: IncidentKind,
    pub title: String,
    pub impact: Impact,
    pub status: IncidentStatus,
    pub body: String,
    pub components: Vec<(i64, ComponentStatus)>,
    pub monitor_id: Option<i64>,
    pub author: String,
    pub display_at: i64,
}

/// A new maintenance window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMaintenance {
    pub title: String,
    pub body: String,
    pub scheduled_for: i64,
    pub scheduled_until: i64,
    pub auto: bool,
    pub components: Vec<i64>,
    pub author: String,
}

impl Tx {
    pub async fn status_components_now(&mut self, org: OrgId) -> StoreResult<Vec<StatusComponent>> {
        read::components(self, org).await
    }

    pub async fn incident_now(&mut self, org: OrgId, id: i64) -> StoreResult<Option<Incident>> {
        read::incident(self, org, id).await
    }

    pub async fn maintenance_now(&mut self, org: OrgId, id: i64) -> StoreResult<Option<Maintenance>> {
        read::maintenance(self, org, id).await
    }

    pub async fn unfinished_maintenances_now(&mut self, org: OrgId) -> StoreResult<Vec<Maintenance>> {
        read::unfinished_maintenances(self, org).await
    }

    pub async fn status_group_exists(&mut self, org: OrgId, id: i64) -> StoreResult<bool> {
        Ok(
            sqlx::query("SELECT id FROM status_groups WHERE org_id = $1 AND id = $2")
                .bind(org)
                .bind(id)
                .fetch_optional(&mut **self)
                .await?
                .is_some(),
        )
    }

    /// The components that exist among `ids` (for checking a form's choices).
    pub async fn existing_components(&mut self, org: OrgId, ids: &[i64]) -> StoreResult<Vec<i64>> {
        let all = read::components(self, org).await?;
        Ok(ids
            .iter()
            .copied()
            .filter(|id| all.iter().any(|c| c.id == *id))
            .collect())
    }

    /// The statuses that open incidents other than `except` give a component.
    pub async fn open_incident_statuses(
        &mut self,
        org: OrgId,
        component: i64,
        except: i64,
    ) -> StoreResult<Vec<ComponentStatus>> {
        let rows = sqlx::query(
            "SELECT ic.status FROM incident_components ic JOIN incidents i ON i.id = ic.incident_id \
             WHERE i.org_id = $1 AND ic.component_id = $2 AND i.id <> $3 AND i.status NOT IN ('resolved', 'postmortem')",
        )
        .bind(org)
        .bind(component)
        .bind(except)
        .fetch_all(&mut **self)
        .await?;
        rows.iter()
            .map(|r| parse(get(r, "status")?, "component status", ComponentStatus::parse))
            .collect()
    }

    pub async fn create_status_group(&mut self, org: OrgId, name: &str) -> StoreResult<i64> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO status_groups (org_id, name, position, created_at, updated_at) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM status_groups WHERE org_id = $1), $3, $3) RETURNING id",
        )
        .bind(org)
        .bind(name)
        .bind(t)
        .fetch_one(&mut **self)
        .await?;
        get(&row, "id")
    }

    pub async fn rename_status_group(&mut self, org: OrgId, id: i64, name: &str) -> StoreResult<()> {
        let done = sqlx::query("UPDATE status_groups SET name = $1, updated_at = $2 WHERE org_id = $3 AND id = $4")
            .bind(name)
            .bind(now())
            .bind(org)
            .bind(id)
            .execute(&mut **self)
            .await?;
        found(done.rows_affected(), || format!("status group {id}"))
    }

    /// Deletes a group; its components stay, ungrouped.
    pub async fn delete_status_group(&mut self, org: OrgId, id: i64) -> StoreResult<()> {
        // Touch the components first so caches notice they lost their group.
        sqlx::query(
            "UPDATE status_components SET group_id = NULL, updated_at = $1 WHERE org_id = $2 AND group_id = $3",
        )
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        let done = sqlx::query("DELETE FROM status_groups WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut **self)
            .await?;
        found(done.rows_affected(), || format!("status group {id}"))
    }

    /// Adds a component at the end of the list, operational.
    pub async fn create_status_component(&mut self, org: OrgId, f: &ComponentFields) -> StoreResult<i64> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO status_components (org_id, group_id, name, description, position, status, showcase, \
             only_show_if_degraded, created_at, updated_at) VALUES ($1, $2, $3, $4, \
             (SELECT COALESCE(MAX(position), 0) + 1 FROM status_components WHERE org_id = $1), 'operational', $5, $6, $7, $7) RETURNING id",
        )
        .bind(org)
        .bind(f.group_id)
        .bind(&f.name)
        .bind(&f.description)
        .bind(f.showcase as i64)
        .bind(f.only_show_if_degraded as i64)
        .bind(t)
        .fetch_one(&mut **self)
        .await?;
        let id: i64 = get(&row, "id")?;
        self.log_status_change(id, ComponentStatus::Operational, t).await?;
        Ok(id)
    }

    pub async fn update_status_component(&mut self, org: OrgId, id: i64, f: &ComponentFields) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE status_components SET group_id = $1, name = $2, description = $3, showcase = $4, \
             only_show_if_degraded = $5, updated_at = $6 WHERE org_id = $7 AND id = $8",
        )
        .bind(f.group_id)
        .bind(&f.name)
        .bind(&f.description)
        .bind(f.showcase as i64)
        .bind(f.only_show_if_degraded as i64)
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        found(done.rows_affected(), || format!("status component {id}"))
    }

    /// Moves a component to `position` in the display order (1 is first; past the end is last).
    /// The others keep their relative order, and every component is numbered 1, 2, 3, ... again,
    /// so a position is always a component's place in the list.
    pub async fn set_status_component_position(&mut self, org: OrgId, id: i64, position: i64) -> StoreResult<()> {
        let rows = sqlx::query("SELECT id, position FROM status_components WHERE org_id = $1 ORDER BY position, id")
            .bind(org)
            .fetch_all(&mut **self)
            .await?;
        let mut order = rows
            .iter()
            .map(|r| Ok((get::<i64>(r, "id")?, get::<i64>(r, "position")?)))
            .collect::<StoreResult<Vec<_>>>()?;
        let Some(at) = order.iter().position(|(i, _)| *i == id) else {
            return Err(StoreError::NotFound(format!("status component {id}")));
        };
        let moved = order.remove(at);
        let to = usize::try_from(position.saturating_sub(1))
            .unwrap_or(0)
            .min(order.len());
        order.insert(to, moved);
        let t = now();
        for (rank, (component, was)) in (1..).zip(order) {
            if rank == was && component != id {
                continue;
            }
            sqlx::query("UPDATE status_components SET position = $1, updated_at = $2 WHERE id = $3")
                .bind(rank)
                .bind(t)
                .bind(component)
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }

    pub async fn delete_status_component(&mut self, org: OrgId, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM status_components WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut **self)
            .await?;
        found(done.rows_affected(), || format!("status component {id}"))
    }

    /// Sets a component's status and records the change for its uptime; returns the status it
    /// had, or None when it already had this one (nothing written).
    pub async fn set_component_status(
        &mut self,
        org: OrgId,
        id: i64,
        status: ComponentStatus,
    ) -> StoreResult<Option<ComponentStatus>> {
        let row = sqlx::query("SELECT status FROM status_components WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(&mut **self)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("status component {id}")))?;
        let before = parse(get(&row, "status")?, "component status", ComponentStatus::parse)?;
        if before == status {
            return Ok(None);
        }
        let t = now();
        sqlx::query("UPDATE status_components SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(t)
            .bind(id)
            .execute(&mut **self)
            .await?;
        self.log_status_change(id, status, t).await?;
        Ok(Some(before))
    }

    async fn log_status_change(&mut self, component: i64, status: ComponentStatus, at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO status_changes (component_id, at, status) VALUES ($1, $2, $3)")
            .bind(component)
            .bind(at)
            .bind(status.as_str())
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Opens an incident; it counts as created when its first update is dated (a report written
    /// after the fact is back-dated).
    pub async fn create_incident(&mut self, org: OrgId, new: &NewIncident) -> StoreResult<i64> {
        let t = now();
        let resolved_at = (!new.status.is_open()).then_some(t);
        let row = sqlx::query(
            "INSERT INTO incidents (org_id, kind, title, impact, status, monitor_id, created_at, updated_at, resolved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(org)
        .bind(new.kind.as_str())
        .bind(&new.title)
        .bind(new.impact.as_str())
        .bind(new.status.as_str())
        .bind(new.monitor_id)
        .bind(new.display_at.min(t))
        .bind(t)
        .bind(resolved_at.map(|_| new.display_at.min(t)))
        .fetch_one(&mut **self)
        .await?;
        let id: i64 = get(&row, "id")?;
        self.set_incident_components(id, &new.components).await?;
        self.add_incident_update(id, new.status, &new.body, new.display_at, &new.author)
            .await?;
        Ok(id)
    }

    /// Replaces the components an incident affects.
    pub async fn set_incident_components(
        &mut self,
        incident: i64,
        components: &[(i64, ComponentStatus)],
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM incident_components WHERE incident_id = $1")
            .bind(incident)
            .execute(&mut **self)
            .await?;
        for (component, status) in components {
            sqlx::query("INSERT INTO incident_components (incident_id, component_id, status) VALUES ($1, $2, $3)")
                .bind(incident)
                .bind(component)
                .bind(status.as_str())
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }

    /// Adds an update to the timeline and moves the incident to its status.
    pub async fn add_incident_update(
        &mut self,
        incident: i64,
        status: IncidentStatus,
        body: &str,
        display_at: i64,
        author: &str,
    ) -> StoreResult<i64> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO incident_updates (incident_id, status, body, display_at, created_at, author) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(incident)
        .bind(status.as_str())
        .bind(body)
        .bind(display_at)
        .bind(t)
        .bind(author)
        .fetch_one(&mut **self)
        .await?;
        // Resolved at the time the resolving update is dated, kept through a postmortem;
        // reopening clears it.
        sqlx::query(
            "UPDATE incidents SET status = $1, updated_at = $2, resolved_at = CASE WHEN $3 = 1 THEN NULL \
             ELSE COALESCE(resolved_at, $4) END WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(t)
        .bind(status.is_open() as i64)
        .bind(display_at.min(t))
        .bind(incident)
        .execute(&mut **self)
        .await?;
        get(&row, "id")
    }

    /// Changes what an incident says about itself (not its status: that takes an update).
    pub async fn edit_incident(
        &mut self,
        org: OrgId,
        id: i64,
        title: &str,
        impact: Impact,
        postmortem: Option<&str>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE incidents SET title = $1, impact = $2, postmortem = $3, updated_at = $4 WHERE org_id = $5 AND id = $6",
        )
        .bind(title)
        .bind(impact.as_str())
        .bind(postmortem)
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        found(done.rows_affected(), || format!("incident {id}"))
    }

    pub async fn delete_incident(&mut self, org: OrgId, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM incidents WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut **self)
            .await?;
        found(done.rows_affected(), || format!("incident {id}"))
    }

    pub async fn create_maintenance(&mut self, org: OrgId, new: &NewMaintenance) -> StoreResult<i64> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO maintenances (org_id, title, status, scheduled_for, scheduled_until, auto, created_at, updated_at) \
             VALUES ($1, $2, 'scheduled', $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(org)
        .bind(&new.title)
        .bind(new.scheduled_for)
        .bind(new.scheduled_until)
        .bind(new.auto as i64)
        .bind(t)
        .fetch_one(&mut **self)
        .await?;
        let id: i64 = get(&row, "id")?;
        self.set_maintenance_components(id, &new.components).await?;
        self.add_maintenance_update(id, MaintenanceStatus::Scheduled, &new.body, t, &new.author)
            .await?;
        Ok(id)
    }

    pub async fn set_maintenance_components(&mut self, maintenance: i64, components: &[i64]) -> StoreResult<()> {
        sqlx::query("DELETE FROM maintenance_components WHERE maintenance_id = $1")
            .bind(maintenance)
            .execute(&mut **self)
            .await?;
        for component in components {
            sqlx::query("INSERT INTO maintenance_components (maintenance_id, component_id) VALUES ($1, $2)")
                .bind(maintenance)
                .bind(component)
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }

    /// Adds an update to the window's timeline and moves it to `status`.
    pub async fn add_maintenance_update(
        &mut self,
        maintenance: i64,
        status: MaintenanceStatus,
        body: &str,
        display_at: i64,
        author: &str,
    ) -> StoreResult<i64> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO maintenance_updates (maintenance_id, status, body, display_at, created_at, author) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(maintenance)
        .bind(status.as_str())
        .bind(body)
        .bind(display_at)
        .bind(t)
        .bind(author)
        .fetch_one(&mut **self)
        .await?;
        sqlx::query(
            "UPDATE maintenances SET status = $1, updated_at = $2, \
             started_at = CASE WHEN $3 = 1 THEN COALESCE(started_at, $2) ELSE started_at END, \
             completed_at = CASE WHEN $4 = 1 THEN $2 ELSE completed_at END WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(t)
        .bind((status >= MaintenanceStatus::InProgress) as i64)
        .bind((status == MaintenanceStatus::Completed) as i64)
        .bind(maintenance)
        .execute(&mut **self)
        .await?;
        get(&row, "id")
    }

    pub async fn edit_maintenance(
        &mut self,
        org: OrgId,
        id: i64,
        title: &str,
        scheduled_for: i64,
        scheduled_until: i64,
        auto: bool,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE maintenances SET title = $1, scheduled_for = $2, scheduled_until = $3, auto = $4, updated_at = $5 \
             WHERE org_id = $6 AND id = $7",
        )
        .bind(title)
        .bind(scheduled_for)
        .bind(scheduled_until)
        .bind(auto as i64)
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        found(done.rows_affected(), || format!("maintenance {id}"))
    }

    pub async fn delete_maintenance(&mut self, org: OrgId, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM maintenances WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut **self)
            .await?;
        found(done.rows_affected(), || format!("maintenance {id}"))
    }

    /// Writes a component's totals for a day, replacing what was there (the roll-up recomputes
    /// the current day until it is over).
    pub async fn put_status_day(&mut self, component: i64, day: i64, t: &DayTotals) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO status_days (component_id, day, observed_secs, degraded_secs, partial_secs, major_secs, \
             maintenance_secs, checks, failed_checks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (component_id, day) DO UPDATE SET observed_secs = excluded.observed_secs, \
             degraded_secs = excluded.degraded_secs, partial_secs = excluded.partial_secs, \
             major_secs = excluded.major_secs, maintenance_secs = excluded.maintenance_secs, \
             checks = excluded.checks, failed_checks = excluded.failed_checks",
        )
        .bind(component)
        .bind(day)
        .bind(t.observed_secs)
        .bind(t.degraded_secs)
        .bind(t.partial_secs)
        .bind(t.major_secs)
        .bind(t.maintenance_secs)
        .bind(t.checks)
        .bind(t.failed_checks)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Forgets status changes before `before`, keeping each component's last one before it (the
    /// status it entered the kept period with).
    pub async fn prune_status_changes(&mut self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM status_changes WHERE at < $1 AND id NOT IN \
             (SELECT MAX(id) FROM status_changes WHERE at < $1 GROUP BY component_id)",
        )
        .bind(before)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected())
    }
}

fn found(rows: u64, what: impl FnOnce() -> String) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound(what()))
    } else {
        Ok(())
    }
}
