//! Components and their groups: what the status page lists, and the status each shows.

use super::invalid_if_any;
use crate::{Action, Actor, App, Done, Error, Result, SiteChange, Work};
use candor_core::content::FieldError;
use candor_core::status::ComponentStatus;
use candor_store::ComponentFields;
use serde_json::json;

/// A component's fields as a person typed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentDraft {
    pub group_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub showcase: bool,
    pub only_show_if_degraded: bool,
}

impl ComponentDraft {
    fn check(&self) -> Result<ComponentFields> {
        let mut errors = vec![];
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new(
                "name",
                "give the component a name of 1 to 100 characters",
            ));
        }
        if self.description.chars().count() > 1000 {
            errors.push(FieldError::new(
                "description",
                "keep the description under 1,000 characters",
            ));
        }
        invalid_if_any(errors)?;
        Ok(ComponentFields {
            group_id: self.group_id,
            name: name.to_owned(),
            description: self.description.trim().to_owned(),
            showcase: self.showcase,
            only_show_if_degraded: self.only_show_if_degraded,
        })
    }
}

fn check_group_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid(vec![FieldError::new(
            "name",
            "give the group a name of 1 to 100 characters",
        )]));
    }
    Ok(name.to_owned())
}

/// Sets a component's status inside the caller's transaction, audited; false when it already
/// had it. Incidents, monitors and people all change status through here.
pub(crate) async fn change_status(
    work: &mut Work,
    actor: &Actor,
    component: i64,
    to: ComponentStatus,
    why: &str,
) -> Result<bool> {
    let org = work.org();
    let Some(from) = work.set_component_status(org, component, to).await? else {
        return Ok(false);
    };
    work.audit(
        actor,
        Action::StatusComponentStatus,
        format!("status-component/{component}"),
        json!({"from": from.as_str(), "to": to.as_str(), "why": why}),
    )
    .await?;
    work.site_changed(SiteChange::Status);
    Ok(true)
}

/// The group must exist in this organization (a form could name any number).
async fn check_group(work: &mut Work, group: Option<i64>) -> Result<()> {
    let Some(id) = group else { return Ok(()) };
    let org = work.org();
    if !work.status_group_exists(org, id).await? {
        return Err(Error::Invalid(vec![FieldError::new(
            "group",
            "that group does not exist; choose one from the list",
        )]));
    }
    Ok(())
}

impl App {
    pub async fn create_status_group(&self, actor: &Actor, name: &str) -> Result<Done<i64>> {
        let name = check_group_name(name)?;
        let mut work = self.begin().await?;
        let org = work.org();
        let id = work.create_status_group(org, &name).await?;
        work.audit(
            actor,
            Action::StatusGroupCreate,
            format!("status-group/{id}"),
            json!({"name": name}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(id).await
    }

    pub async fn rename_status_group(&self, actor: &Actor, id: i64, name: &str) -> Result<Done<()>> {
        let name = check_group_name(name)?;
        let mut work = self.begin().await?;
        let org = work.org();
        work.rename_status_group(org, id, &name).await?;
        work.audit(
            actor,
            Action::StatusGroupEdit,
            format!("status-group/{id}"),
            json!({"name": name}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(()).await
    }

    /// Deletes a group; its components stay, ungrouped.
    pub async fn delete_status_group(&self, actor: &Actor, id: i64) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        work.delete_status_group(org, id).await?;
        work.audit(
            actor,
            Action::StatusGroupDelete,
            format!("status-group/{id}"),
            json!({}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(()).await
    }

    /// Adds a component, operational, at the end of the list.
    pub async fn create_status_component(&self, actor: &Actor, draft: &ComponentDraft) -> Result<Done<i64>> {
        let fields = draft.check()?;
        let mut work = self.begin().await?;
        check_group(&mut work, fields.group_id).await?;
        let org = work.org();
        let id = work.create_status_component(org, &fields).await?;
        work.audit(
            actor,
            Action::StatusComponentCreate,
            format!("status-component/{id}"),
            json!({"name": fields.name, "group": fields.group_id}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(id).await
    }

    pub async fn edit_status_component(&self, actor: &Actor, id: i64, draft: &ComponentDraft) -> Result<Done<()>> {
        let fields = draft.check()?;
        let mut work = self.begin().await?;
        check_group(&mut work, fields.group_id).await?;
        let org = work.org();
        work.update_status_component(org, id, &fields).await?;
        work.audit(
            actor,
            Action::StatusComponentEdit,
            format!("status-component/{id}"),
            json!({"name": fields.name, "group": fields.group_id, "showcase": fields.showcase,
                   "only_show_if_degraded": fields.only_show_if_degraded}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(()).await
    }

    /// Moves a component to a place in the display order (1 is first).
    pub async fn move_status_component(&self, actor: &Actor, id: i64, position: i64) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        work.set_status_component_position(org, id, position).await?;
        work.audit(
            actor,
            Action::StatusComponentEdit,
            format!("status-component/{id}"),
            json!({"position": position}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(()).await
    }

    /// Deletes a component with its uptime history and monitors.
    pub async fn delete_status_component(&self, actor: &Actor, id: i64) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        work.delete_status_component(org, id).await?;
        work.audit(
            actor,
            Action::StatusComponentDelete,
            format!("status-component/{id}"),
            json!({}),
        )
        .await?;
        work.site_changed(SiteChange::Status);
        work.finish(()).await
    }

    /// Sets a component's status by hand; the value says whether it changed.
    pub async fn set_status_component_status(
        &self,
        actor: &Actor,
        id: i64,
        status: ComponentStatus,
    ) -> Result<Done<bool>> {
        let mut work = self.begin().await?;
        let changed = change_status(&mut work, actor, id, status, "set by hand").await?;
        work.finish(changed).await
    }
}
