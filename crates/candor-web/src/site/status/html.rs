//! The status pages people read: `/status`, `/status/notices`, one incident or maintenance
//! window, and a page of the history. No inline style or script anywhere (the CSP forbids
//! both): the uptime bars are lists coloured by class, and a day's details are text that the
//! stylesheet shows as a tooltip while the day has focus or the pointer.

use super::{human_day, human_time, rfc3339, Snapshot};
use crate::site::pages::Layout;
use askama::Template;
use candor_app::status::ComponentView;
use candor_core::markdown::{to_safe_html, to_safe_html_with_top};
use candor_core::status::uptime::{format_percent, uptime_percent};
use candor_core::status::{ComponentStatus, IncidentKind, IncidentStatus, MaintenanceStatus};
use candor_store::{Incident, Maintenance, TimelineEntry};

/// The overall status as the home page's banner shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Banner {
    /// Statuspage's indicator (`none`, `minor`, `major`, `critical`), for the colour.
    pub indicator: &'static str,
    pub description: &'static str,
}

impl Banner {
    /// The banner for `s`; None while the status page is not in use.
    pub fn of(s: &Snapshot) -> Option<Banner> {
        s.in_use().then(|| Banner {
            indicator: s.page.indicator.as_str(),
            description: s.page.description,
        })
    }
}

/// One day of a component's uptime bar.
pub struct DayCell {
    /// `day-major_outage`, …, or `day-none` without data; empty for an operational day (most
    /// of them: the bar's own colour), which keeps a page of many components lighter.
    pub class: String,
    /// What the day's tooltip and screen readers say.
    pub label: String,
}

pub struct ComponentRow {
    pub name: String,
    pub description: String,
    pub status: &'static str,
    pub status_label: &'static str,
    /// The 90-day uptime as printed, or "No data".
    pub uptime: String,
    pub days: Vec<DayCell>,
}

/// Components shown together: a group, or the components in no group (no name).
pub struct GroupBlock {
    pub name: Option<String>,
    pub status: &'static str,
    pub status_label: &'static str,
    pub components: Vec<ComponentRow>,
}

/// An incident or notice in a list, with its latest update.
pub struct IncidentCard {
    pub id: i64,
    pub title: String,
    pub impact: &'static str,
    pub impact_label: &'static str,
    pub status_label: &'static str,
    pub latest_html: String,
    pub at: String,
    pub at_human: String,
    pub affected: String,
}

pub struct WindowCard {
    pub id: i64,
    pub title: String,
    pub status_label: &'static str,
    pub from: String,
    pub from_human: String,
    pub until: String,
    pub until_human: String,
    pub affected: String,
}

fn day_cell(day: i64, totals: Option<&candor_core::status::uptime::DayTotals>) -> DayCell {
    let date = human_day(day);
    match totals.filter(|t| t.observed_secs > 0) {
        Some(t) => {
            let worst = t.worst();
            let percent = uptime_percent(std::slice::from_ref(t)).map_or_else(String::new, format_percent);
            DayCell {
                class: if worst == ComponentStatus::Operational {
                    String::new()
                } else {
                    format!("day-{}", worst.as_str())
                },
                label: format!("{date}: {percent} uptime, {}", worst.label().to_lowercase()),
            }
        }
        None => DayCell {
            class: "day-none".into(),
            label: format!("{date}: no data"),
        },
    }
}

fn component_row(c: &ComponentView) -> ComponentRow {
    ComponentRow {
        name: c.component.name.clone(),
        description: c.component.description.clone(),
        status: c.shown.as_str(),
        status_label: c.shown.label(),
        uptime: c.uptime.map_or_else(|| "No data".to_owned(), format_percent),
        days: c.days.iter().map(|(day, t)| day_cell(*day, t.as_ref())).collect(),
    }
}

fn block(name: Option<String>, members: &[&ComponentView]) -> Option<GroupBlock> {
    let listed: Vec<&&ComponentView> = members.iter().filter(|c| c.is_listed()).collect();
    let worst = listed.iter().map(|c| c.shown).max()?;
    Some(GroupBlock {
        name,
        status: worst.as_str(),
        status_label: worst.label(),
        components: listed.into_iter().map(|c| component_row(c)).collect(),
    })
}

/// Components in no group first, then each group in its order; a component hidden while
/// operational (`only_show_if_degraded`) is left out, and so is a group with nothing to show.
fn blocks(s: &Snapshot) -> Vec<GroupBlock> {
    let views = &s.page.components;
    let loose: Vec<&ComponentView> = views.iter().filter(|c| c.component.group_id.is_none()).collect();
    let mut out: Vec<GroupBlock> = block(None, &loose).into_iter().collect();
    for g in &s.page.groups {
        let members: Vec<&ComponentView> = views.iter().filter(|c| c.component.group_id == Some(g.id)).collect();
        out.extend(block(Some(g.name.clone()), &members));
    }
    // A component whose group is gone (deleted meanwhile) still shows, with the loose ones.
    let known = |id: i64| s.page.groups.iter().any(|g| g.id == id);
    let orphans: Vec<&ComponentView> = views
        .iter()
        .filter(|c| c.component.group_id.is_some_and(|g| !known(g)))
        .collect();
    out.extend(block(None, &orphans));
    out
}

fn incident_status_label(spelling: &str) -> &'static str {
    IncidentStatus::parse(spelling).map_or("Update", IncidentStatus::label)
}

fn maintenance_status_label(spelling: &str) -> &'static str {
    MaintenanceStatus::parse(spelling).map_or("Update", MaintenanceStatus::label)
}

fn names(s: &Snapshot, ids: impl Iterator<Item = i64>) -> String {
    ids.filter_map(|id| s.component_name(id)).collect::<Vec<_>>().join(", ")
}

fn incident_card(s: &Snapshot, i: &Incident) -> IncidentCard {
    let latest = i.updates.first();
    let at = latest.map_or(i.updated_at, |u| u.display_at);
    IncidentCard {
        id: i.id,
        title: i.title.clone(),
        impact: i.impact.as_str(),
        impact_label: i.impact.label(),
        status_label: i.status.label(),
        latest_html: latest.map_or_else(String::new, |u| to_safe_html_with_top(&u.body, 4)),
        at: rfc3339(at),
        at_human: human_time(at),
        affected: names(s, i.components.iter().map(|c| c.0)),
    }
}

fn window_card(s: &Snapshot, m: &Maintenance) -> WindowCard {
    WindowCard {
        id: m.id,
        title: m.title.clone(),
        status_label: m.status.label(),
        from: rfc3339(m.scheduled_for),
        from_human: human_time(m.scheduled_for),
        until: rfc3339(m.scheduled_until),
        until_human: human_time(m.scheduled_until),
        affected: names(s, m.components.iter().copied()),
    }
}

/// How many past incidents `/status` lists before pointing to the history.
const PAST_ON_STATUS: usize = 10;

/// Whether this build serves the subscription page (`/subscribe`, the subscriptions feature):
/// the status pages link to it only then, so they never link to a missing page.
fn can_subscribe() -> bool {
    static SERVED: std::sync::LazyLock<bool> =
        std::sync::LazyLock::new(|| crate::routes::table().iter().any(|r| r.path == "/subscribe"));
    *SERVED
}

#[derive(Template)]
#[template(path = "site/status.html")]
struct StatusTemplate<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    indicator: &'static str,
    /// The overall status, None while nothing is watched (no component, no open incident, no
    /// maintenance running): "All systems operational" over an empty page would claim too much.
    description: Option<&'static str>,
    blocks: Vec<GroupBlock>,
    active: Vec<IncidentCard>,
    running: Vec<WindowCard>,
    upcoming: Vec<WindowCard>,
    past: Vec<IncidentCard>,
    subscribe: bool,
}

/// `/status`.
pub fn status(layout: &Layout, s: &Snapshot) -> String {
    let p = &s.page;
    StatusTemplate {
        layout,
        current: "/status",
        query: "",
        indicator: p.indicator.as_str(),
        description: s.in_use().then_some(p.description),
        blocks: blocks(s),
        active: p.open_incidents.iter().map(|i| incident_card(s, i)).collect(),
        running: p.active_maintenances.iter().map(|m| window_card(s, m)).collect(),
        upcoming: p.upcoming_maintenances.iter().map(|m| window_card(s, m)).collect(),
        past: p
            .recent_incidents
            .iter()
            .filter(|i| !i.status.is_open())
            .take(PAST_ON_STATUS)
            .map(|i| incident_card(s, i))
            .collect(),
        subscribe: can_subscribe(),
    }
    .render()
    .expect("the status page renders")
}

#[derive(Template)]
#[template(path = "site/status_notices.html")]
struct NoticesTemplate<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    notices: Vec<IncidentCard>,
    subscribe: bool,
}

/// `/status/notices`: the security notices, newest first.
pub fn notices(layout: &Layout, s: &Snapshot) -> String {
    NoticesTemplate {
        layout,
        current: "/status",
        query: "",
        notices: s.page.notices.iter().map(|i| incident_card(s, i)).collect(),
        subscribe: can_subscribe(),
    }
    .render()
    .expect("the notices page renders")
}

/// One entry of a timeline.
pub struct UpdateView {
    pub status_label: &'static str,
    pub body_html: String,
    pub at: String,
    pub at_human: String,
}

fn timeline(entries: &[TimelineEntry], label: fn(&str) -> &'static str) -> Vec<UpdateView> {
    entries
        .iter()
        .map(|u| UpdateView {
            status_label: label(&u.status),
            body_html: to_safe_html_with_top(&u.body, 4),
            at: rfc3339(u.display_at),
            at_human: human_time(u.display_at),
        })
        .collect()
}

/// A component an incident or window touches, by name.
pub struct Affected {
    pub name: String,
    pub status_label: &'static str,
}

#[derive(Template)]
#[template(path = "site/status_incident.html")]
struct IncidentTemplate<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    title: String,
    kind_label: &'static str,
    impact: &'static str,
    impact_label: &'static str,
    status_label: &'static str,
    started: String,
    started_human: String,
    resolved: Option<(String, String)>,
    affected: Vec<Affected>,
    updates: Vec<UpdateView>,
    postmortem_html: Option<String>,
    back_href: &'static str,
    back_label: &'static str,
}

/// `/status/incidents/{id}`: an incident or security notice with its whole timeline.
pub fn incident(layout: &Layout, s: &Snapshot, i: &Incident) -> String {
    let notice = i.kind == IncidentKind::Advisory;
    // When its first update says it began (it may be posted after the fact).
    let started = i.updates.last().map_or(i.created_at, |u| u.display_at);
    IncidentTemplate {
        layout,
        current: "/status",
        query: "",
        title: i.title.clone(),
        kind_label: i.kind.label(),
        impact: i.impact.as_str(),
        impact_label: i.impact.label(),
        status_label: i.status.label(),
        started: rfc3339(started),
        started_human: human_time(started),
        resolved: i.resolved_at.map(|t| (rfc3339(t), human_time(t))),
        affected: i
            .components
            .iter()
            .filter_map(|(id, status)| {
                Some(Affected {
                    name: s.component_name(*id)?.to_owned(),
                    status_label: status.label(),
                })
            })
            .collect(),
        updates: timeline(&i.updates, incident_status_label),
        postmortem_html: i
            .postmortem
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(to_safe_html),
        back_href: if notice { "/status/notices" } else { "/status" },
        back_label: if notice { "Security notices" } else { "Status" },
    }
    .render()
    .expect("an incident page renders")
}

#[derive(Template)]
#[template(path = "site/status_maintenance.html")]
struct MaintenanceTemplate<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    window: WindowCard,
    updates: Vec<UpdateView>,
}

/// `/status/maintenance/{id}`: a maintenance window with its timeline.
pub fn maintenance(layout: &Layout, s: &Snapshot, m: &Maintenance) -> String {
    MaintenanceTemplate {
        layout,
        current: "/status",
        query: "",
        window: window_card(s, m),
        updates: timeline(&m.updates, maintenance_status_label),
    }
    .render()
    .expect("a maintenance page renders")
}

#[derive(Template)]
#[template(path = "site/status_history.html")]
struct HistoryTemplate<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    incidents: Vec<IncidentCard>,
    page: i64,
    pages: i64,
    total: i64,
}

/// One page of `/status/history`: `incidents` newest first, page `page` of `pages`.
pub fn history(layout: &Layout, s: &Snapshot, incidents: &[Incident], page: i64, pages: i64, total: i64) -> String {
    HistoryTemplate {
        layout,
        current: "/status",
        query: "",
        incidents: incidents.iter().map(|i| incident_card(s, i)).collect(),
        page,
        pages,
        total,
    }
    .render()
    .expect("a history page renders")
}

#[derive(Template)]
#[template(path = "site/status_message.html")]
struct MessageTemplate<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    title: &'a str,
    message: &'a str,
}

/// A short page that says what was wrong with a request (a bad page number).
pub fn message(layout: &Layout, title: &str, message: &str) -> String {
    MessageTemplate {
        layout,
        current: "/status",
        query: "",
        title,
        message,
    }
    .render()
    .expect("a message page renders")
}
