//! The Statuspage-compatible JSON under `/api/v2/`: the field names, value sets and shapes of
//! Atlassian Statuspage's public v2 API, so the widgets, exporters and clients written for it
//! read Candor unchanged.
//!
//! Where Candor's model differs, the mapping is:
//! - ids are strings of the numeric ids; groups are numbered apart from components, so a group's
//!   id is `g` and its number (`g3`), never equal to a component's;
//! - a group is a component with `group: true` and `components: [ids]`; its status is the worst
//!   of its components', its times the span of theirs;
//! - security notices are not availability incidents and are left out (they have their own page
//!   and the feed);
//! - an incident's affected components are given on its first update (where the incident set
//!   them, from operational), the other updates have `affected_components: null`;
//! - maintenance windows have `impact: "maintenance"`, as on Statuspage.

use super::{rfc3339, Snapshot};
use crate::site::pages::Layout;
use candor_app::status::ComponentView;
use candor_core::status::ComponentStatus;
use candor_store::{Incident, Maintenance, TimelineEntry};
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/json";

#[derive(Serialize)]
struct PageJson<'a> {
    id: &'a str,
    name: &'a str,
    url: String,
    time_zone: &'static str,
    updated_at: String,
}

#[derive(Serialize)]
struct StatusJson {
    indicator: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct ComponentJson {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
    position: i64,
    description: Option<String>,
    showcase: bool,
    start_date: Option<String>,
    group_id: Option<String>,
    page_id: String,
    group: bool,
    only_show_if_degraded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<Vec<String>>,
}

#[derive(Serialize)]
struct AffectedJson {
    code: String,
    name: String,
    old_status: &'static str,
    new_status: &'static str,
}

#[derive(Serialize)]
struct UpdateJson {
    id: String,
    status: String,
    body: String,
    incident_id: String,
    created_at: String,
    updated_at: String,
    display_at: String,
    affected_components: Option<Vec<AffectedJson>>,
    deliver_notifications: bool,
    custom_tweet: Option<String>,
    tweet_id: Option<String>,
}

#[derive(Serialize)]
struct IncidentJson {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: &'static str,
    shortlink: String,
    started_at: String,
    page_id: String,
    incident_updates: Vec<UpdateJson>,
    components: Vec<ComponentJson>,
}

#[derive(Serialize)]
struct MaintenanceJson {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: &'static str,
    shortlink: String,
    started_at: String,
    page_id: String,
    incident_updates: Vec<UpdateJson>,
    components: Vec<ComponentJson>,
    scheduled_for: String,
    scheduled_until: String,
}

/// Builds the JSON parts from one snapshot.
struct Render<'a> {
    s: &'a Snapshot,
    name: &'a str,
    public_url: &'a str,
}

impl Render<'_> {
    fn page(&self) -> PageJson<'_> {
        PageJson {
            id: &self.s.page_id,
            name: self.name,
            url: format!("{}/status", self.public_url),
            time_zone: "Etc/UTC",
            updated_at: rfc3339(self.s.page.updated_at),
        }
    }

    fn status(&self) -> StatusJson {
        StatusJson {
            indicator: self.s.page.indicator.as_str(),
            description: self.s.page.description,
        }
    }

    fn component(&self, c: &ComponentView) -> ComponentJson {
        let x = &c.component;
        ComponentJson {
            id: x.id.to_string(),
            name: x.name.clone(),
            status: c.shown.as_str(),
            created_at: rfc3339(x.created_at),
            updated_at: rfc3339(x.updated_at),
            position: x.position,
            description: (!x.description.is_empty()).then(|| x.description.clone()),
            showcase: x.showcase,
            start_date: chrono::DateTime::from_timestamp(x.created_at, 0).map(|d| d.date_naive().to_string()),
            group_id: x.group_id.map(|g| format!("g{g}")),
            page_id: self.s.page_id.clone(),
            group: false,
            only_show_if_degraded: x.only_show_if_degraded,
            components: None,
        }
    }

    /// Components and groups, in Statuspage's one list: each group after the components of no
    /// group, then its own components.
    fn components(&self) -> Vec<ComponentJson> {
        let views = &self.s.page.components;
        let mut out: Vec<ComponentJson> = views
            .iter()
            .filter(|c| {
                c.component
                    .group_id
                    .is_none_or(|g| !self.s.page.groups.iter().any(|x| x.id == g))
            })
            .map(|c| self.component(c))
            .collect();
        for g in &self.s.page.groups {
            let members: Vec<&ComponentView> = views.iter().filter(|c| c.component.group_id == Some(g.id)).collect();
            let span = |f: fn(&ComponentView) -> i64| members.iter().map(move |c| f(c));
            out.push(ComponentJson {
                id: format!("g{}", g.id),
                name: g.name.clone(),
                status: members
                    .iter()
                    .map(|c| c.shown)
                    .max()
                    .unwrap_or(ComponentStatus::Operational)
                    .as_str(),
                created_at: rfc3339(span(|c| c.component.created_at).min().unwrap_or(self.s.page.updated_at)),
                updated_at: rfc3339(span(|c| c.component.updated_at).max().unwrap_or(self.s.page.updated_at)),
                position: g.position,
                description: None,
                showcase: false,
                start_date: None,
                group_id: None,
                page_id: self.s.page_id.clone(),
                group: true,
                only_show_if_degraded: false,
                components: Some(members.iter().map(|c| c.component.id.to_string()).collect()),
            });
            out.extend(members.iter().map(|c| self.component(c)));
        }
        out
    }

    fn components_of(&self, ids: impl Iterator<Item = i64>) -> Vec<ComponentJson> {
        ids.filter_map(|id| self.s.page.components.iter().find(|c| c.component.id == id))
            .map(|c| self.component(c))
            .collect()
    }

    fn updates(&self, parent: i64, entries: &[TimelineEntry], first: Option<Vec<AffectedJson>>) -> Vec<UpdateJson> {
        let oldest = entries.len().saturating_sub(1);
        let mut first = first;
        entries
            .iter()
            .enumerate()
            .map(|(n, u)| UpdateJson {
                id: u.id.to_string(),
                status: u.status.clone(),
                body: u.body.clone(),
                incident_id: parent.to_string(),
                created_at: rfc3339(u.created_at),
                updated_at: rfc3339(u.created_at),
                display_at: rfc3339(u.display_at),
                affected_components: if n == oldest { first.take() } else { None },
                deliver_notifications: true,
                custom_tweet: None,
                tweet_id: None,
            })
            .collect()
    }

    fn incident(&self, i: &Incident) -> IncidentJson {
        let affected = i
            .components
            .iter()
            .filter_map(|(id, status)| {
                let c = self.s.page.components.iter().find(|c| c.component.id == *id)?;
                Some(AffectedJson {
                    code: id.to_string(),
                    name: c.component.name.clone(),
                    old_status: ComponentStatus::Operational.as_str(),
                    new_status: status.as_str(),
                })
            })
            .collect();
        // The first time it was being monitored, if it ever was.
        let monitoring_at = i
            .updates
            .iter()
            .rev()
            .find(|u| u.status == "monitoring")
            .map(|u| rfc3339(u.display_at));
        IncidentJson {
            id: i.id.to_string(),
            name: i.title.clone(),
            status: i.status.as_str(),
            created_at: rfc3339(i.created_at),
            updated_at: rfc3339(i.updated_at),
            monitoring_at,
            resolved_at: i.resolved_at.map(rfc3339),
            impact: i.impact.as_str(),
            shortlink: format!("{}/status/incidents/{}", self.public_url, i.id),
            started_at: rfc3339(i.updates.last().map_or(i.created_at, |u| u.display_at)),
            page_id: self.s.page_id.clone(),
            incident_updates: self.updates(i.id, &i.updates, Some(affected)),
            components: self.components_of(i.components.iter().map(|c| c.0)),
        }
    }

    fn maintenance(&self, m: &Maintenance) -> MaintenanceJson {
        MaintenanceJson {
            id: m.id.to_string(),
            name: m.title.clone(),
            status: m.status.as_str(),
            created_at: rfc3339(m.created_at),
            updated_at: rfc3339(m.updated_at),
            monitoring_at: None,
            resolved_at: m.completed_at.map(rfc3339),
            impact: "maintenance",
            shortlink: format!("{}/status/maintenance/{}", self.public_url, m.id),
            started_at: rfc3339(m.started_at.unwrap_or(m.scheduled_for)),
            page_id: self.s.page_id.clone(),
            incident_updates: self.updates(m.id, &m.updates, None),
            components: self.components_of(m.components.iter().copied()),
            scheduled_for: rfc3339(m.scheduled_for),
            scheduled_until: rfc3339(m.scheduled_until),
        }
    }
}

/// One `/api/v2/` document: the page and the parts its endpoint carries, in Statuspage's order.
#[derive(Serialize)]
struct Doc<'a> {
    page: &'a PageJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<&'a [ComponentJson]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incidents: Option<&'a [IncidentJson]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_maintenances: Option<Vec<&'a MaintenanceJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a StatusJson>,
}

/// Every `/api/v2/` document: (path, body).
pub fn documents(layout: &Layout, s: &Snapshot, public_url: &str) -> Vec<(String, String)> {
    let r = Render {
        s,
        name: &layout.org_name,
        public_url,
    };
    let p = &s.page;
    let page = r.page();
    let status = r.status();
    let components = r.components();
    let unresolved: Vec<IncidentJson> = p.open_incidents.iter().map(|i| r.incident(i)).collect();
    let recent: Vec<IncidentJson> = p.recent_incidents.iter().map(|i| r.incident(i)).collect();
    let active: Vec<MaintenanceJson> = p.active_maintenances.iter().map(|m| r.maintenance(m)).collect();
    let upcoming: Vec<MaintenanceJson> = p.upcoming_maintenances.iter().map(|m| r.maintenance(m)).collect();
    let all_windows: Vec<MaintenanceJson> = p.maintenances.iter().map(|m| r.maintenance(m)).collect();
    let base = || Doc {
        page: &page,
        components: None,
        incidents: None,
        scheduled_maintenances: None,
        status: None,
    };
    let doc = |path: &str, d: Doc| {
        (
            format!("/api/v2/{path}"),
            serde_json::to_string(&d).expect("status JSON serialises"),
        )
    };
    vec![
        doc(
            "summary.json",
            Doc {
                components: Some(&components),
                incidents: Some(&unresolved),
                scheduled_maintenances: Some(active.iter().chain(&upcoming).collect()),
                status: Some(&status),
                ..base()
            },
        ),
        doc(
            "status.json",
            Doc {
                status: Some(&status),
                ..base()
            },
        ),
        doc(
            "components.json",
            Doc {
                components: Some(&components),
                ..base()
            },
        ),
        doc(
            "incidents.json",
            Doc {
                incidents: Some(&recent),
                ..base()
            },
        ),
        doc(
            "incidents/unresolved.json",
            Doc {
                incidents: Some(&unresolved),
                ..base()
            },
        ),
        doc(
            "scheduled-maintenances.json",
            Doc {
                scheduled_maintenances: Some(all_windows.iter().collect()),
                ..base()
            },
        ),
        doc(
            "scheduled-maintenances/upcoming.json",
            Doc {
                scheduled_maintenances: Some(upcoming.iter().collect()),
                ..base()
            },
        ),
        doc(
            "scheduled-maintenances/active.json",
            Doc {
                scheduled_maintenances: Some(active.iter().collect()),
                ..base()
            },
        ),
    ]
}
