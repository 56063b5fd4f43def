//! Scheduled maintenance: announced ahead, started and completed on time by its clock (or by
//! hand), shown over the components it covers while it runs.

use super::{check_text, invalid_if_any};
use crate::{Action, Actor, App, Done, Error, Result, SiteChange, Work};
use candor_core::content::FieldError;
use candor_core::events::{Topic, TrustEvent};
use candor_core::status::{maintenance_due, maintenance_transition, MaintenanceStatus};
use candor_store::{Maintenance, NewMaintenance};
use serde_json::json;

/// The longest window one announcement may cover.
const MAX_WINDOW_SECS: i64 = 14 * 86_400;

/// A maintenance window as a person schedules it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaintenanceDraft {
    pub title: String,
    /// What will happen and what customers will notice (Markdown).
    pub body: String,
    pub scheduled_for: i64,
    pub scheduled_until: i64,
    /// Starts and completes by itself at the window's edges.
    pub auto: bool,
    pub components: Vec<i64>,
}

impl MaintenanceDraft {
    fn check(&self, body_required: bool) -> Result<()> {
        let mut errors = vec![];
        check_text(&mut errors, Some(&self.title), "body", &self.body, body_required);
        if self.scheduled_until <= self.scheduled_for {
            errors.push(FieldError::new(
                "scheduled_until",
                "the window must end after it starts",
            ));
        } else if self.scheduled_until - self.scheduled_for > MAX_WINDOW_SECS {
            errors.push(FieldError::new(
                "scheduled_until",
                "a window may last up to 14 days; announce longer work as several windows",
            ));
        }
        let mut ids = self.components.clone();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.components.len() {
            errors.push(FieldError::new("components", "name each component once"));
        }
        invalid_if_any(errors)
    }
}

async fn check_components_exist(work: &mut Work, ids: &[i64]) -> Result<()> {
    let org = work.org();
    let found = work.existing_components(org, ids).await?;
    if found.len() != ids.len() {
        return Err(Error::Invalid(vec![FieldError::new(
            "components",
            "a chosen component does not exist; choose from the list",
        )]));
    }
    Ok(())
}

pub(crate) fn maintenance_event(m: &Maintenance, verb: &str, latest: &str) -> TrustEvent {
    let when = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    TrustEvent {
        kind: format!("maintenance.{verb}"),
        topic: Topic::Status,
        components: m.components.clone(),
        title: format!("[Maintenance {}] {}", m.status.label().to_lowercase(), m.title),
        text: format!(
            "Maintenance: {}\nStatus: {}\nWindow: {} to {}\n\n{}\n",
            m.title,
            m.status.label(),
            when(m.scheduled_for),
            when(m.scheduled_until),
            candor_core::markdown::to_plain_text(latest).trim()
        ),
        path: format!("/status/maintenance/{}", m.id),
        data: json!({
            "scheduled_maintenance": {
                "id": m.id,
                "name": m.title,
                "status": m.status.as_str(),
                "scheduled_for": m.scheduled_for,
                "scheduled_until": m.scheduled_until,
                "components": m.components,
                "latest_update": latest,
            }
        }),
    }
}

/// Moves a window to `to` with an update, in the caller's transaction, and tells subscribers.
async fn move_on(work: &mut Work, actor: &Actor, id: i64, to: MaintenanceStatus, body: &str) -> Result<()> {
    let org = work.org();
    let before = work
        .maintenance_now(org, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("maintenance {id}")))?;
    maintenance_transition(before.status, to)
        .map_err(|refused| Error::Invalid(vec![FieldError::new("status", refused.0)]))?;
    work.add_maintenance_update(id, to, body, candor_store::now(), &actor.author())
        .await?;
    let after = work
        .maintenance_now(org, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("maintenance {id}")))?;
    work.audit(
        actor,
        Action::StatusMaintenanceUpdate,
        format!("maintenance/{id}"),
        json!({"from": before.status.as_str(), "status": to.as_str()}),
    )
    .await?;
    let verb = match (before.status, to) {
        (MaintenanceStatus::Scheduled, MaintenanceStatus::InProgress) => "started",
        (from, MaintenanceStatus::Completed) if from != MaintenanceStatus::Completed => "completed",
        _ => "updated",
    };
    crate::subscriptions::fan_out(work, &maintenance_event(&after, verb, body)).await?;
    work.site_changed(SiteChange::Status);
    Ok(())
}

impl App {
    /// Announces a maintenance window; the value is its id.
    pub async fn schedule_maintenance(&self, actor: &Actor, draft: &MaintenanceDraft) -> Result<Done<i64>> {
        draft.check(true)?;
        let mut work = self.begin().await?;
        check_components_exist(&mut work, &draft.components).await?;
        let org = work.org();
        let new = NewMaintenance {
            title: draft.title.trim().to_owned(),
            body: draft.body.trim().to_owned(),
            scheduled_for: draft.scheduled_for,
            scheduled_until: draft.scheduled_until,
            auto: draft.auto,
            components: draft.components.clone(),
            author: actor.author(),
        };
        let id = work.create_maintenance(org, &new).await?;
        let m = work
            .maintenance_now(org, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("maintenance {id}")))?;
        work.audit(
            actor,
            Action::StatusMaintenanceCreate,
            format!("maintenance/{id}"),
            json!({"title": new.title, "scheduled_for": new.scheduled_for,
                   "scheduled_until": new.scheduled_until, "auto": new.auto, "components": new.components}),
        )
        .await?;
        crate::subscriptions::fan_out(&mut work, &maintenance_event(&m, "scheduled", &new.body)).await?;
        work.site_changed(SiteChange::Status);
        work.finish(id).await
    }

    /// Posts an update on a window, moving it to `status` (forward only).
    pub async fn post_maintenance_update(
        &self,
        actor: &Actor,
        id: i64,
        status: MaintenanceStatus,
        body: &str,
    ) -> Result<Done<()>> {
        let mut errors = vec![];
        check_text(&mut errors, None, "body", body, true);
        invalid_if_any(errors)?;
        let mut work = self.begin().await?;
        move_on(&mut work, actor, id, status, body.trim()).await?;
        work.finish(()).await
    }

    /// Changes a window's title, times, clock and components.
    pub async fn edit_maintenance(&self, actor: &Actor, id: i64, draft: &MaintenanceDraft) -> Result<Done<()>> {
        draft.check(false)?;
        let mut work = self.begin().await?;
        check_components_exist(&mut work, &draft.components).await?;
        let org = work.org();
        work.edit_maintenance(
            org,
            id,
            draft.title.trim(),
            draft.scheduled_for,
            draft.scheduled_until,
            draft.auto,
        )
        .await?;
        work.set_maintenance_components(id, &draft.components).await?;
        work.audit(
            actor,
            Action::StatusMaintenanceEdit,
            format!("maintenance/{id}"),
            json!({"title": draft.title.trim(), "scheduled_for": draft.scheduled_for,
                   "scheduled_until": draft.scheduled_until, "auto": draft.auto, "components": draft.components}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(()).await
    }

    pub async fn delete_maintenance(&self, actor: &Actor, id: i64) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        work.delete_maintenance(org, id).await?;
        work.audit(
            actor,
            Action::StatusMaintenanceDelete,
            format!("maintenance/{id}"),
            json!({}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(()).await
    }

    /// Starts and completes the windows whose time has come (as `system`), one transaction
    /// each, so one window's failure does not hold up the others. The value is how many moved.
    pub async fn run_maintenance_clock(&self, now: i64) -> Result<Done<usize>> {
        let due: Vec<(i64, MaintenanceStatus)> = self
            .store()
            .maintenances(self.org(), true, 1000)
            .await?
            .into_iter()
            .filter_map(|m| {
                maintenance_due(m.status, m.scheduled_for, m.scheduled_until, now, m.auto).map(|to| (m.id, to))
            })
            .collect();
        let mut effects = crate::Effects::default();
        let mut moved = 0;
        for (id, to) in due {
            let body = match to {
                MaintenanceStatus::InProgress => "The maintenance window has opened; work is under way.",
                _ => "The maintenance window has closed; the work is complete.",
            };
            let mut work = self.begin().await?;
            // Read again under the write lock: another instance or a person may have moved it.
            let Some(m) = work.maintenance_now(self.org(), id).await? else {
                continue;
            };
            if maintenance_due(m.status, m.scheduled_for, m.scheduled_until, now, m.auto) != Some(to) {
                continue;
            }
            move_on(&mut work, &crate::Actor::System, id, to, body).await?;
            effects.merge(work.finish(()).await?.effects);
            moved += 1;
        }
        Ok(Done { value: moved, effects })
    }
}
