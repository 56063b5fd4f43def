//! Built-in monitors: set up, changed and removed by people (audited), and their check results
//! recorded in batches. A batch is one transaction: the results, each monitor's streak, and what
//! follows from it (candor-core's [`step`]): a component's status changed, an automatic incident
//! opened or resolved, acted by `monitor:ID (NAME)`.

use super::components::change_status;
use super::incidents::{self, IncidentDraft, UpdateDraft};
use crate::{Action, Actor, App, Done, Effects, Error, Result, Work};
use candor_core::content::FieldError;
use candor_core::status::monitor::{step, CheckStatus, IncidentMove, MonitorDraft, Step, Streak};
use candor_core::status::{ComponentStatus, Impact, IncidentKind, IncidentStatus};
use candor_store::{Monitor, NewCheck};
use serde_json::json;
use std::collections::HashMap;

/// One check's outcome, as the runner hands it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub monitor_id: i64,
    /// When the check ended (Unix seconds).
    pub at: i64,
    pub status: CheckStatus,
    pub latency_ms: u32,
    pub detail: String,
}

/// What recording a batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Results stored (those of monitors deleted meanwhile are dropped).
    pub stored: usize,
    /// Components whose status a monitor changed.
    pub status_changes: usize,
    /// Automatic incidents opened and resolved.
    pub opened: Vec<i64>,
    pub resolved: Vec<i64>,
}

/// Results deleted per transaction when pruning.
const PRUNE_BATCH: i64 = 10_000;

async fn check_component(work: &mut Work, component: i64) -> Result<()> {
    let org = work.org();
    if work.existing_components(org, &[component]).await?.is_empty() {
        return Err(Error::Invalid(vec![FieldError::new(
            "component",
            "that component does not exist; choose one from the list",
        )]));
    }
    Ok(())
}

fn audit_details(draft: &MonitorDraft) -> serde_json::Value {
    json!({
        "name": draft.name,
        "kind": draft.spec.kind.as_str(),
        "target": draft.spec.target,
        "component": draft.component_id,
        "enabled": draft.enabled,
    })
}

impl App {
    /// Adds a monitor; the value is its id.
    pub async fn create_monitor(&self, actor: &Actor, draft: &MonitorDraft) -> Result<Done<i64>> {
        let mut work = self.begin().await?;
        check_component(&mut work, draft.component_id).await?;
        let org = work.org();
        let id = work.create_monitor(org, draft).await?;
        work.audit(
            actor,
            Action::StatusMonitorCreate,
            format!("monitor/{id}"),
            audit_details(draft),
        )
        .await?;
        work.finish(id).await
    }

    /// Changes what a monitor checks or reports on.
    pub async fn edit_monitor(&self, actor: &Actor, id: i64, draft: &MonitorDraft) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        check_component(&mut work, draft.component_id).await?;
        let org = work.org();
        work.update_monitor(org, id, draft).await?;
        work.audit(
            actor,
            Action::StatusMonitorEdit,
            format!("monitor/{id}"),
            audit_details(draft),
        )
        .await?;
        work.finish(()).await
    }

    /// Removes a monitor and its raw results. The component keeps the status it has.
    pub async fn delete_monitor(&self, actor: &Actor, id: i64) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let Some(m) = work.monitor_now(org, id).await? else {
            return Err(Error::NotFound(format!("monitor {id}")));
        };
        work.delete_monitor(org, id).await?;
        work.audit(
            actor,
            Action::StatusMonitorDelete,
            format!("monitor/{id}"),
            json!({"name": m.name, "component": m.component_id}),
        )
        .await?;
        work.finish(()).await
    }

    /// Records a batch of check results in one transaction: the results and each monitor's
    /// streak (upkeep, not audited) and, where a streak says so, the component's status and the
    /// monitor's automatic incident (audited, acted by the monitor).
    pub async fn record_checks(&self, results: &[CheckResult]) -> Result<Done<Recorded>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let mut ids: Vec<i64> = results.iter().map(|r| r.monitor_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut monitors: HashMap<i64, Monitor> = work
            .monitors_now(org, &ids)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let mut recorded = Recorded::default();
        let mut stored = Vec::with_capacity(results.len());
        let mut last: HashMap<i64, usize> = HashMap::new();
        let mut in_maintenance: Option<Vec<i64>> = None;
        for r in results {
            let Some(m) = monitors.get_mut(&r.monitor_id) else {
                continue;
            };
            let s = &m.spec;
            let mut next = step(
                m.streak,
                s.failures_before_down,
                r.status,
                s.down_status,
                s.auto_incident,
            );
            if next.set_status.is_some() {
                // Planned work is expected to break things: the streak counts on, but the
                // verdict waits until the window is over.
                let covered = match &in_maintenance {
                    Some(list) => list,
                    None => in_maintenance.insert(components_in_maintenance(&mut work).await?),
                };
                if covered.contains(&m.component_id) {
                    next = Step {
                        streak: Streak {
                            verdict: m.streak.verdict,
                            ..next.streak
                        },
                        set_status: None,
                        incident: None,
                    };
                }
            }
            let detail = r.detail.clone();
            m.streak = next.streak;
            last.insert(m.id, stored.len());
            stored.push(NewCheck {
                monitor_id: m.id,
                at: r.at,
                status: r.status,
                latency_ms: i64::from(r.latency_ms),
                detail,
            });
            if next.set_status.is_some() || next.incident.is_some() {
                act(&mut work, m, &next, r, &mut recorded).await?;
            }
        }
        work.insert_monitor_results(&stored).await?;
        for (id, i) in &last {
            if let Some(m) = monitors.get(id) {
                work.save_monitor_state(*id, m.streak, &stored[*i]).await?;
            }
        }
        recorded.stored = stored.len();
        if recorded.status_changes == 0 && recorded.opened.is_empty() && recorded.resolved.is_empty() {
            work.commit().await?;
            return Ok(Done {
                value: recorded,
                effects: Effects::default(),
            });
        }
        work.finish(recorded).await
    }

    /// Forgets check results older than `before`, a batch per transaction so the database is
    /// never held for long; the number deleted.
    pub async fn prune_monitor_results(&self, before: i64) -> Result<u64> {
        let mut total = 0;
        loop {
            let mut work = self.begin().await?;
            let n = work.prune_monitor_results(before, PRUNE_BATCH).await?;
            work.commit().await?;
            total += n;
            if n < PRUNE_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

/// The components that a running maintenance window covers.
async fn components_in_maintenance(work: &mut Work) -> Result<Vec<i64>> {
    let org = work.org();
    Ok(work
        .unfinished_maintenances_now(org)
        .await?
        .into_iter()
        .filter(|m| m.status.is_active())
        .flat_map(|m| m.components)
        .collect())
}

/// Applies a monitor's step: the component's status, then its automatic incident.
async fn act(work: &mut Work, m: &Monitor, next: &Step, r: &CheckResult, recorded: &mut Recorded) -> Result<()> {
    let org = work.org();
    let actor = Actor::Monitor {
        id: m.id,
        name: m.name.clone(),
    };
    let own_incident = work.open_monitor_incident(org, m.id).await?;
    if let Some(wanted) = next.set_status {
        // Incidents that people opened on the same component still count: the component shows
        // the worst of what they and the monitor say.
        let others = work
            .open_incident_statuses(org, m.component_id, own_incident.unwrap_or(0))
            .await?;
        let to = others.into_iter().fold(wanted, Ord::max);
        let why = match r.status {
            CheckStatus::Up => format!("monitor {}: checks pass again", m.name),
            _ => format!(
                "monitor {}: {} consecutive checks {}: {}",
                m.name,
                if r.status == CheckStatus::Down {
                    next.streak.failures
                } else {
                    next.streak.troubled
                },
                if r.status == CheckStatus::Down {
                    "failed"
                } else {
                    "degraded"
                },
                r.detail
            ),
        };
        if change_status(work, &actor, m.component_id, to, &why).await? {
            recorded.status_changes += 1;
        }
    }
    match (next.incident, own_incident) {
        (Some(IncidentMove::Open), None) => {
            let component = component_name(work, m.component_id).await?;
            let status = m.spec.down_status;
            let draft = IncidentDraft {
                kind: IncidentKind::Incident,
                title: format!("{component}: {}", status.label().to_lowercase()),
                impact: impact_of(status),
                status: IncidentStatus::Investigating,
                body: format!(
                    "Candor's monitor \"{}\" found {} failing {} checks in a row: {}.",
                    plain(&m.name),
                    plain(&component),
                    next.streak.failures,
                    plain(&r.detail)
                ),
                components: vec![(m.component_id, status)],
                display_at: None,
            };
            let id = incidents::open(work, &actor, &draft).await?;
            recorded.opened.push(id);
        }
        (Some(IncidentMove::Resolve), Some(id)) => {
            let update = UpdateDraft {
                status: IncidentStatus::Resolved,
                body: format!(
                    "Candor's monitor \"{}\" finds the checks passing again.",
                    plain(&m.name)
                ),
                display_at: None,
                components: None,
            };
            incidents::post_update(work, &actor, id, &update).await?;
            recorded.resolved.push(id);
        }
        _ => {}
    }
    Ok(())
}

async fn component_name(work: &mut Work, id: i64) -> Result<String> {
    let org = work.org();
    Ok(work
        .status_components_now(org)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| c.name)
        .unwrap_or_else(|| format!("component {id}")))
}

/// Text from names and check details, escaped so that Markdown shows it as written (a body text
/// full of `*` or `>` must not turn into emphasis, or into nesting the incident check refuses).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// How bad an automatic incident is, by the status it gives its component.
fn impact_of(status: ComponentStatus) -> Impact {
    match status {
        ComponentStatus::MajorOutage => Impact::Critical,
        ComponentStatus::PartialOutage => Impact::Major,
        ComponentStatus::DegradedPerformance => Impact::Minor,
        ComponentStatus::Operational | ComponentStatus::UnderMaintenance => Impact::None,
    }
}
