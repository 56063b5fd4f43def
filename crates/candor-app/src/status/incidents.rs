//! Incidents and security notices: opened, given updates along their timeline, resolved,
//! given a postmortem. An incident sets the status of the components it affects while it is
//! open, and gives it back when it is resolved.

use super::components::change_status;
use super::{check_text, invalid_if_any};
use crate::{Action, Actor, App, Done, Error, Result, SiteChange, Work};
use candor_core::content::FieldError;
use candor_core::events::{Topic, TrustEvent};
use candor_core::status::{incident_transition, ComponentStatus, Impact, IncidentKind, IncidentStatus};
use candor_store::{Incident, NewIncident};
use serde_json::json;

/// A new incident or security notice, as a person (or a monitor) writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentDraft {
    pub kind: IncidentKind,
    pub title: String,
    pub impact: Impact,
    pub status: IncidentStatus,
    /// The first update's text (Markdown).
    pub body: String,
    /// Affected components and the status the incident gives each.
    pub components: Vec<(i64, ComponentStatus)>,
    /// When the first update is shown as written (a back-dated report); now when None.
    pub display_at: Option<i64>,
}

/// An update on an incident's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateDraft {
    pub status: IncidentStatus,
    pub body: String,
    pub display_at: Option<i64>,
    /// New statuses for the affected components; None keeps them as they are.
    pub components: Option<Vec<(i64, ComponentStatus)>>,
}

fn check_components(errors: &mut Vec<FieldError>, components: &[(i64, ComponentStatus)]) {
    let mut ids: Vec<i64> = components.iter().map(|c| c.0).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != components.len() {
        errors.push(FieldError::new("components", "name each component once"));
    }
}

fn check_display_at(errors: &mut Vec<FieldError>, display_at: Option<i64>, now: i64) {
    if let Some(t) = display_at {
        if t > now + 300 {
            errors.push(FieldError::new(
                "display_at",
                "an update cannot be dated in the future; leave it empty for now",
            ));
        }
    }
}

/// The components named must exist in this organization.
async fn check_components_exist(work: &mut Work, components: &[(i64, ComponentStatus)]) -> Result<()> {
    let org = work.org();
    let ids: Vec<i64> = components.iter().map(|c| c.0).collect();
    let found = work.existing_components(org, &ids).await?;
    if found.len() != ids.len() {
        let missing: Vec<String> = ids
            .iter()
            .filter(|i| !found.contains(i))
            .map(|i| i.to_string())
            .collect();
        return Err(Error::Invalid(vec![FieldError::new(
            "components",
            format!("no component with id {}; choose from the list", missing.join(", ")),
        )]));
    }
    Ok(())
}

/// What an incident's event is called for webhooks, and its topic.
fn event_kind(kind: IncidentKind, verb: &str) -> (String, Topic) {
    match kind {
        IncidentKind::Incident => (format!("incident.{verb}"), Topic::Status),
        IncidentKind::Advisory => (format!("security_notice.{verb}"), Topic::SecurityNotices),
    }
}

/// The notice sent to subscribers about an incident, as it stands after this change.
pub(crate) fn incident_event(incident: &Incident, verb: &str, latest: &str) -> TrustEvent {
    let (kind, topic) = event_kind(incident.kind, verb);
    let label = match incident.kind {
        IncidentKind::Incident => "Incident",
        IncidentKind::Advisory => "Security notice",
    };
    let path = format!("/status/incidents/{}", incident.id);
    TrustEvent {
        kind,
        topic,
        components: incident.components.iter().map(|c| c.0).collect(),
        title: format!("[{}] {}: {}", incident.status.label(), label, incident.title),
        text: format!(
            "{label}: {}\nStatus: {}\nImpact: {}\n\n{}\n",
            incident.title,
            incident.status.label(),
            incident.impact.label(),
            candor_core::markdown::to_plain_text(latest).trim()
        ),
        path,
        data: json!({
            "incident": {
                "id": incident.id,
                "kind": incident.kind.as_str(),
                "name": incident.title,
                "status": incident.status.as_str(),
                "impact": incident.impact.as_str(),
                "created_at": incident.created_at,
                "resolved_at": incident.resolved_at,
                "components": incident.components.iter()
                    .map(|(id, s)| json!({"id": id, "status": s.as_str()})).collect::<Vec<_>>(),
                "latest_update": latest,
            }
        }),
    }
}

/// Opens an incident in the caller's transaction: its row, first update, component statuses,
/// audit entry and subscriber notices. Monitors open their automatic incidents through here.
pub(crate) async fn open(work: &mut Work, actor: &Actor, draft: &IncidentDraft) -> Result<i64> {
    let mut errors = vec![];
    check_text(&mut errors, Some(&draft.title), "body", &draft.body, true);
    check_components(&mut errors, &draft.components);
    check_display_at(&mut errors, draft.display_at, candor_store::now());
    invalid_if_any(errors)?;
    check_components_exist(work, &draft.components).await?;
    let org = work.org();
    let monitor_id = match actor {
        Actor::Monitor { id, .. } => Some(*id),
        _ => None,
    };
    let new = NewIncident {
        kind: draft.kind,
        title: draft.title.trim().to_owned(),
        impact: draft.impact,
        status: draft.status,
        body: draft.body.trim().to_owned(),
        components: draft.components.clone(),
        monitor_id,
        author: actor.author(),
        display_at: draft.display_at.unwrap_or_else(candor_store::now),
    };
    let id = work.create_incident(org, &new).await?;
    if draft.status.is_open() {
        set_components(work, actor, id, &draft.components, &format!("incident {id}")).await?;
    }
    let incident = work
        .incident_now(org, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("incident {id}")))?;
    work.audit(
        actor,
        Action::StatusIncidentCreate,
        format!("incident/{id}"),
        json!({"kind": draft.kind.as_str(), "title": new.title, "impact": draft.impact.as_str(),
               "status": draft.status.as_str(), "components": draft.components.len()}),
    )
    .await?;
    crate::subscriptions::fan_out(work, &incident_event(&incident, "created", &new.body)).await?;
    work.site_changed(SiteChange::Status);
    Ok(id)
}

/// Adds an update in the caller's transaction, moving the incident and its components on.
pub(crate) async fn post_update(work: &mut Work, actor: &Actor, id: i64, update: &UpdateDraft) -> Result<()> {
    let mut errors = vec![];
    check_text(&mut errors, None, "body", &update.body, true);
    if let Some(c) = &update.components {
        check_components(&mut errors, c);
    }
    check_display_at(&mut errors, update.display_at, candor_store::now());
    invalid_if_any(errors)?;
    let org = work.org();
    let before = work
        .incident_now(org, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("incident {id}")))?;
    incident_transition(before.status, update.status)
        .map_err(|refused| Error::Invalid(vec![FieldError::new("status", refused.0)]))?;
    if let Some(components) = &update.components {
        check_components_exist(work, components).await?;
        work.set_incident_components(id, components).await?;
    }
    let body = update.body.trim();
    let display_at = update.display_at.unwrap_or_else(candor_store::now);
    work.add_incident_update(id, update.status, body, display_at, &actor.author())
        .await?;
    if update.status == IncidentStatus::Postmortem {
        work.edit_incident(org, id, &before.title, before.impact, Some(body))
            .await?;
    }
    let after = work
        .incident_now(org, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("incident {id}")))?;
    let why = format!("incident {id} {}", update.status.as_str());
    if after.status.is_open() {
        set_components(work, actor, id, &after.components, &why).await?;
    } else {
        give_back_components(work, actor, &after, &why).await?;
    }
    work.audit(
        actor,
        Action::StatusIncidentUpdate,
        format!("incident/{id}"),
        json!({"from": before.status.as_str(), "status": update.status.as_str(), "display_at": display_at}),
    )
    .await?;
    let verb = match (before.status.is_open(), after.status) {
        (true, IncidentStatus::Resolved) => "resolved",
        (false, s) if s.is_open() => "reopened",
        (_, IncidentStatus::Postmortem) => "postmortem",
        _ => "updated",
    };
    crate::subscriptions::fan_out(work, &incident_event(&after, verb, body)).await?;
    work.site_changed(SiteChange::Status);
    Ok(())
}

/// While incidents are open, each component they affect shows the worst status any of them
/// gives it.
async fn set_components(
    work: &mut Work,
    actor: &Actor,
    incident: i64,
    components: &[(i64, ComponentStatus)],
    why: &str,
) -> Result<()> {
    let org = work.org();
    for (component, status) in components {
        let others = work.open_incident_statuses(org, *component, incident).await?;
        let to = others.into_iter().fold(*status, Ord::max);
        change_status(work, actor, *component, to, why).await?;
    }
    Ok(())
}

/// When an incident closes, each of its components goes back to the worst status another open
/// incident gives it, or to operational.
async fn give_back_components(work: &mut Work, actor: &Actor, incident: &Incident, why: &str) -> Result<()> {
    let org = work.org();
    for (component, _) in &incident.components {
        let others = work.open_incident_statuses(org, *component, incident.id).await?;
        let to = others.into_iter().max().unwrap_or(ComponentStatus::Operational);
        change_status(work, actor, *component, to, why).await?;
    }
    Ok(())
}

impl App {
    /// Opens an incident or security notice; the value is its id.
    pub async fn open_incident(&self, actor: &Actor, draft: &IncidentDraft) -> Result<Done<i64>> {
        let mut work = self.begin().await?;
        let id = open(&mut work, actor, draft).await?;
        work.finish(id).await
    }

    /// Adds an update to an incident's timeline.
    pub async fn post_incident_update(&self, actor: &Actor, id: i64, update: &UpdateDraft) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        post_update(&mut work, actor, id, update).await?;
        work.finish(()).await
    }

    /// Changes an incident's title, impact or postmortem text (its status moves with updates).
    pub async fn edit_incident(
        &self,
        actor: &Actor,
        id: i64,
        title: &str,
        impact: Impact,
        postmortem: Option<&str>,
    ) -> Result<Done<()>> {
        let mut errors = vec![];
        check_text(&mut errors, Some(title), "postmortem", postmortem.unwrap_or(""), false);
        invalid_if_any(errors)?;
        let mut work = self.begin().await?;
        let org = work.org();
        let postmortem = postmortem.map(str::trim).filter(|p| !p.is_empty());
        work.edit_incident(org, id, title.trim(), impact, postmortem).await?;
        work.audit(
            actor,
            Action::StatusIncidentEdit,
            format!("incident/{id}"),
            json!({"title": title.trim(), "impact": impact.as_str(), "postmortem": postmortem.is_some()}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(()).await
    }

    /// Deletes an incident (one opened by mistake); its components get their status back.
    pub async fn delete_incident(&self, actor: &Actor, id: i64) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let incident = work
            .incident_now(org, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("incident {id}")))?;
        work.delete_incident(org, id).await?;
        if incident.status.is_open() {
            give_back_components(&mut work, actor, &incident, &format!("incident {id} deleted")).await?;
        }
        work.audit(
            actor,
            Action::StatusIncidentDelete,
            format!("incident/{id}"),
            json!({"title": incident.title}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(()).await
    }
}
