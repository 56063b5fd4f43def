//! The public status pages, part of the rendered site: `/status`, `/status/notices`, the pages of
//! recent incidents and maintenance windows, the Atom feed, the SVG badges and the
//! Statuspage-compatible JSON under `/api/v2/`. All of them are rendered from one
//! [`StatusPage`] snapshot (`App::status_page`), so they always agree with one another, and
//! rendered again only when a use case reports `SiteChange::Status` (or the frame of every page,
//! the layout, changes).
//!
//! Older incidents, maintenance windows and the paginated history are rendered on request
//! ([`handlers`]): the history grows without bound, and keeping every page of it in memory would
//! make each status change re-render all of it.

mod badges;
mod feed;
pub mod handlers;
mod html;
mod json;

pub use html::Banner;

use super::{CachedPage, HTML};
use candor_app::status::StatusPage;
use candor_core::status::{overall_description, Indicator};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::{BTreeSet, HashMap};

/// What the status pages are rendered from.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Statuspage's `page.id`: the organization's number, as a string.
    pub page_id: String,
    pub page: StatusPage,
    /// The last disaster-recovery drill that passed, shown in the business-continuity section.
    pub last_drill: Option<candor_store::DrDrill>,
}

impl Snapshot {
    /// Reads the status page of `app`'s organization as of `now`.
    pub async fn read(app: &candor_app::App, now: i64) -> candor_app::Result<Snapshot> {
        Ok(Snapshot {
            page_id: app.org().to_string(),
            page: app.status_page(now).await?,
            last_drill: app.store().last_passing_dr_drill(app.org()).await?,
        })
    }

    /// A status page with nothing on it (sites rendered without a database, in tests).
    pub fn empty() -> Snapshot {
        Snapshot {
            page_id: "1".into(),
            page: StatusPage {
                generated_at: 0,
                updated_at: 0,
                indicator: Indicator::None,
                description: overall_description(Indicator::None, false),
                groups: vec![],
                components: vec![],
                open_incidents: vec![],
                recent_incidents: vec![],
                notices: vec![],
                active_maintenances: vec![],
                upcoming_maintenances: vec![],
                maintenances: vec![],
            },
            last_drill: None,
        }
    }

    /// Whether the status page has anything to show: components, incidents or notices, or
    /// maintenance. Until it does, no page links to it (Candor's own; an external status page
    /// named in the profile is always linked).
    pub fn listed(&self) -> bool {
        let p = &self.page;
        self.in_use()
            || !p.recent_incidents.is_empty()
            || !p.notices.is_empty()
            || !p.upcoming_maintenances.is_empty()
            || !p.maintenances.is_empty()
    }

    /// Whether the trust center uses its status page at all (the home page's banner says
    /// nothing until it does).
    pub fn in_use(&self) -> bool {
        let p = &self.page;
        !p.components.is_empty() || !p.open_incidents.is_empty() || !p.active_maintenances.is_empty()
    }

    fn component_name(&self, id: i64) -> Option<&str> {
        self.page
            .components
            .iter()
            .find(|c| c.component.id == id)
            .map(|c| c.component.name.as_str())
    }
}

/// Whether a path is one of the status outputs (replaced whole when the status changes).
pub fn is_status_path(path: &str) -> bool {
    path == "/status" || path.starts_with("/status/") || path.starts_with("/api/v2/")
}

/// Every status output: (path, page). A page whose bytes are those it has in `before` is that
/// page (not compressed again, and keeping its date).
pub fn render(
    layout: &super::pages::Layout,
    s: &Snapshot,
    public_url: &str,
    before: &HashMap<String, CachedPage>,
) -> Vec<(String, CachedPage)> {
    render_bodies(layout, s, public_url)
        .into_iter()
        .map(|(path, (content_type, body))| {
            let page = match before.get(&path) {
                Some(p) if p.content_type == content_type && p.body == body.as_bytes() => p.clone(),
                _ => CachedPage::new(content_type, body),
            };
            (path, page)
        })
        .collect()
}

/// The HTML status page at `path` rendered with `layout` (a signed-in viewer's header), or
/// `None` when `path` is not one of the status pages the site holds.
pub fn html_page(layout: &super::pages::Layout, s: &Snapshot, path: &str) -> Option<String> {
    match path {
        "/status" => return Some(html::status(layout, s)),
        "/status/notices" => return Some(html::notices(layout, s)),
        _ => {}
    }
    if let Some(id) = path.strip_prefix("/status/incidents/") {
        let id: i64 = id.parse().ok()?;
        let p = &s.page;
        let i = p
            .open_incidents
            .iter()
            .chain(&p.recent_incidents)
            .chain(&p.notices)
            .find(|i| i.id == id)?;
        return Some(html::incident(layout, s, i));
    }
    let id: i64 = path.strip_prefix("/status/maintenance/")?.parse().ok()?;
    let p = &s.page;
    let m = p
        .active_maintenances
        .iter()
        .chain(&p.upcoming_maintenances)
        .chain(&p.maintenances)
        .find(|m| m.id == id)?;
    Some(html::maintenance(layout, s, m))
}

/// Every status output: (path, (content type, body)).
fn render_bodies(
    layout: &super::pages::Layout,
    s: &Snapshot,
    public_url: &str,
) -> Vec<(String, (&'static str, String))> {
    let page = |content_type: &'static str, body: String| (content_type, body);
    let mut out = vec![
        ("/status".to_owned(), page(HTML, html::status(layout, s))),
        ("/status/notices".to_owned(), page(HTML, html::notices(layout, s))),
        (
            "/status/feed.atom".to_owned(),
            page("application/atom+xml; charset=utf-8", feed::atom(layout, s, public_url)),
        ),
    ];
    let mut incidents = BTreeSet::new();
    for i in s
        .page
        .open_incidents
        .iter()
        .chain(&s.page.recent_incidents)
        .chain(&s.page.notices)
    {
        if incidents.insert(i.id) {
            out.push((
                format!("/status/incidents/{}", i.id),
                page(HTML, html::incident(layout, s, i)),
            ));
        }
    }
    let mut windows = BTreeSet::new();
    for m in s
        .page
        .active_maintenances
        .iter()
        .chain(&s.page.upcoming_maintenances)
        .chain(&s.page.maintenances)
    {
        if windows.insert(m.id) {
            out.push((
                format!("/status/maintenance/{}", m.id),
                page(HTML, html::maintenance(layout, s, m)),
            ));
        }
    }
    for c in &s.page.components {
        let id = c.component.id;
        out.push((format!("/status/badges/{id}.svg"), page(badges::SVG, badges::status(c))));
        out.push((
            format!("/status/badges/{id}/uptime.svg"),
            page(badges::SVG, badges::uptime(c)),
        ));
    }
    for (path, body) in json::documents(layout, s, public_url) {
        out.push((path, page(json::CONTENT_TYPE, body)));
    }
    out
}

/// A time as RFC 3339 in UTC (`2026-03-01T14:05:00Z`).
pub(crate) fn rfc3339(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A time as people read it (`1 March 2026, 14:05 UTC`).
pub(crate) fn human_time(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%-d %B %Y, %H:%M UTC")
        .to_string()
}

/// A day as people read it (`1 March 2026`).
pub(crate) fn human_day(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%-d %B %Y")
        .to_string()
}

#[cfg(test)]
mod tests;
