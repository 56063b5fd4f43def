//! `/status/feed.atom`: incidents, security notices and maintenance windows, each entry with its
//! whole timeline, most recently updated first.

use super::{human_time, rfc3339, Snapshot};
use crate::site::feeds::esc;
use crate::site::pages::Layout;
use candor_core::markdown::{escape_html, to_safe_html_with_top};
use candor_core::status::{IncidentKind, IncidentStatus, MaintenanceStatus};
use candor_store::TimelineEntry;
use std::collections::BTreeSet;

/// The most entries the feed carries.
const ENTRIES: usize = 50;

struct Entry {
    updated: i64,
    published: i64,
    title: String,
    path: String,
    /// HTML, escaped again when written.
    content: String,
}

/// The timeline as HTML: each update's status and time, then its text.
fn timeline(entries: &[TimelineEntry], label: fn(&str) -> &'static str) -> String {
    let mut out = String::new();
    for u in entries {
        out.push_str(&format!(
            "<p><strong>{}</strong> · {}</p>\n{}",
            label(&u.status),
            escape_html(&human_time(u.display_at)),
            to_safe_html_with_top(&u.body, 3)
        ));
    }
    out
}

/// The Atom document.
pub fn atom(layout: &Layout, s: &Snapshot, public_url: &str) -> String {
    let p = &s.page;
    let mut entries = vec![];
    let mut seen = BTreeSet::new();
    for i in p.open_incidents.iter().chain(&p.recent_incidents).chain(&p.notices) {
        if !seen.insert(i.id) {
            continue;
        }
        let title = match i.kind {
            IncidentKind::Advisory => format!("Security notice: {}", i.title),
            IncidentKind::Incident => format!("{} ({})", i.title, i.status.label().to_lowercase()),
        };
        entries.push(Entry {
            updated: i.updated_at,
            published: i.created_at,
            title,
            path: format!("/status/incidents/{}", i.id),
            content: timeline(&i.updates, |st| {
                IncidentStatus::parse(st).map_or("Update", IncidentStatus::label)
            }),
        });
    }
    let mut windows = BTreeSet::new();
    for m in p
        .active_maintenances
        .iter()
        .chain(&p.upcoming_maintenances)
        .chain(&p.maintenances)
    {
        if !windows.insert(m.id) {
            continue;
        }
        let when = format!(
            "<p>From {} to {}.</p>\n",
            escape_html(&human_time(m.scheduled_for)),
            escape_html(&human_time(m.scheduled_until))
        );
        entries.push(Entry {
            updated: m.updated_at,
            published: m.created_at,
            title: format!("Maintenance: {} ({})", m.title, m.status.label().to_lowercase()),
            path: format!("/status/maintenance/{}", m.id),
            content: when
                + &timeline(&m.updates, |st| {
                    MaintenanceStatus::parse(st).map_or("Update", MaintenanceStatus::label)
                }),
        });
    }
    entries.sort_by(|a, b| b.updated.cmp(&a.updated).then(a.path.cmp(&b.path)));
    entries.truncate(ENTRIES);

    let base = esc(public_url);
    let name = esc(&layout.org_name);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{name} status</title>\n<id>{base}/status</id>\n<link href=\"{base}/status\"/>\n<link rel=\"self\" href=\"{base}/status/feed.atom\"/>\n<updated>{}</updated>\n<author><name>{name}</name></author>\n",
        rfc3339(p.updated_at)
    );
    for e in entries {
        out.push_str(&format!(
            "<entry><title>{}</title><id>{base}{}</id><link href=\"{base}{}\"/><published>{}</published><updated>{}</updated><content type=\"html\">{}</content></entry>\n",
            esc(&e.title),
            esc(&e.path),
            esc(&e.path),
            rfc3339(e.published),
            rfc3339(e.updated),
            esc(&e.content)
        ));
    }
    out.push_str("</feed>\n");
    out
}
