//! The status page as one snapshot: what the public pages, the feed, the badges and the
//! Statuspage-compatible JSON are all rendered from, so they always agree.

use super::uptime::HISTORY_DAYS;
use crate::{App, Result};
use candor_core::status::uptime::{day_of, uptime_percent, DayTotals, DAY_SECS};
use candor_core::status::{
    overall_description, overall_indicator, shown_component_status, ComponentStatus, IncidentKind, Indicator,
};
use candor_store::{Incident, IncidentQuery, Maintenance, StatusComponent, StatusGroup};

/// How many past incidents, notices and maintenance windows the snapshot carries.
pub const RECENT: i64 = 50;

/// A component as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentView {
    pub component: StatusComponent,
    /// Its set status, or maintenance while a running window covers it.
    pub shown: ComponentStatus,
    /// The last [`HISTORY_DAYS`] days, oldest first: (day, totals), totals None before the
    /// component existed or when nothing was recorded.
    pub days: Vec<(i64, Option<DayTotals>)>,
    /// Uptime over those days; None when nothing was observed yet.
    pub uptime: Option<f64>,
}

impl ComponentView {
    /// Hidden from the public list while operational when its owners asked for that.
    pub fn is_listed(&self) -> bool {
        !self.component.only_show_if_degraded || self.shown != ComponentStatus::Operational
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct StatusPage {
    /// When the snapshot was taken.
    pub generated_at: i64,
    /// The latest change anywhere on the page (Statuspage's `page.updated_at`).
    pub updated_at: i64,
    pub indicator: Indicator,
    pub description: &'static str,
    pub groups: Vec<StatusGroup>,
    pub components: Vec<ComponentView>,
    /// Open availability incidents, newest first.
    pub open_incidents: Vec<Incident>,
    /// Recent availability incidents of any status, newest first.
    pub recent_incidents: Vec<Incident>,
    /// Recent security notices of any status, newest first.
    pub notices: Vec<Incident>,
    /// Running windows (in progress or verifying).
    pub active_maintenances: Vec<Maintenance>,
    /// Scheduled windows not started, soonest first.
    pub upcoming_maintenances: Vec<Maintenance>,
    /// Recent windows of any status, newest first.
    pub maintenances: Vec<Maintenance>,
}

impl App {
    /// Reads the whole status page as of `now`.
    pub async fn status_page(&self, now: i64) -> Result<StatusPage> {
        let store = self.store();
        let org = self.org();
        let groups = store.status_groups(org).await?;
        let components = store.status_components(org).await?;
        let unfinished = store.maintenances(org, true, 1000).await?;
        let maintenances = store.maintenances(org, false, RECENT).await?;
        let recent_incidents = store
            .incidents(
                org,
                IncidentQuery {
                    kind: Some(IncidentKind::Incident),
                    open_only: false,
                    limit: RECENT,
                    offset: 0,
                },
            )
            .await?;
        let open_incidents = store
            .incidents(
                org,
                IncidentQuery {
                    kind: Some(IncidentKind::Incident),
                    open_only: true,
                    limit: 1000,
                    offset: 0,
                },
            )
            .await?;
        let notices = store
            .incidents(
                org,
                IncidentQuery {
                    kind: Some(IncidentKind::Advisory),
                    open_only: false,
                    limit: RECENT,
                    offset: 0,
                },
            )
            .await?;
        let first_day = day_of(now) - (HISTORY_DAYS - 1) * DAY_SECS;
        let rows = store.status_days(org, first_day).await?;

        let (active_maintenances, upcoming_maintenances): (Vec<_>, Vec<_>) =
            unfinished.into_iter().partition(|m| m.status.is_active());
        let views: Vec<ComponentView> = components
            .into_iter()
            .map(|c| {
                let in_maintenance = active_maintenances.iter().any(|m| m.components.contains(&c.id));
                let days: Vec<(i64, Option<DayTotals>)> = (0..HISTORY_DAYS)
                    .map(|i| {
                        let day = first_day + i * DAY_SECS;
                        let totals = rows
                            .iter()
                            .find(|(id, d, _)| *id == c.id && *d == day)
                            .map(|(_, _, t)| *t);
                        (day, totals)
                    })
                    .collect();
                let observed: Vec<DayTotals> = days.iter().filter_map(|d| d.1).collect();
                ComponentView {
                    shown: shown_component_status(c.status, in_maintenance),
                    uptime: uptime_percent(&observed),
                    days,
                    component: c,
                }
            })
            .collect();
        let statuses: Vec<ComponentStatus> = views.iter().map(|v| v.shown).collect();
        let impacts: Vec<_> = open_incidents.iter().map(|i| i.impact).collect();
        let indicator = overall_indicator(&statuses, &impacts);
        let updated_at = views
            .iter()
            .map(|v| v.component.updated_at)
            .chain(recent_incidents.iter().map(|i| i.updated_at))
            .chain(notices.iter().map(|i| i.updated_at))
            .chain(maintenances.iter().map(|m| m.updated_at))
            .max()
            .unwrap_or(0);
        Ok(StatusPage {
            generated_at: now,
            updated_at,
            indicator,
            description: overall_description(indicator, !active_maintenances.is_empty()),
            groups,
            components: views,
            open_incidents,
            recent_incidents,
            notices,
            active_maintenances,
            upcoming_maintenances,
            maintenances,
        })
    }
}
