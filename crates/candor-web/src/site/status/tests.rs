use super::*;
use crate::site::{Published, Site};
use candor_app::status::ComponentView;
use candor_core::status::uptime::{DayTotals, DAY_SECS};
use candor_core::status::{ComponentStatus, Impact, IncidentKind, IncidentStatus, MaintenanceStatus};
use candor_store::{Incident, Maintenance, StatusComponent, StatusGroup, TimelineEntry};
use chrono::NaiveDate;
use std::sync::Arc;

const URL: &str = "https://trust.example";
/// 1 March 2026, 00:00 UTC.
const DAY: i64 = 1_772_323_200;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
}

fn component(id: i64, name: &str, group: Option<i64>, status: ComponentStatus, hidden: bool) -> ComponentView {
    let days = (0..90)
        .map(|i| {
            let day = DAY - (89 - i) * DAY_SECS;
            let totals = (i >= 30).then(|| {
                let mut t = DayTotals::default();
                if i == 60 {
                    t.add(ComponentStatus::PartialOutage, 3600);
                    t.add(ComponentStatus::Operational, DAY_SECS - 3600);
                } else {
                    t.add(ComponentStatus::Operational, DAY_SECS);
                }
                t
            });
            (day, totals)
        })
        .collect::<Vec<_>>();
    let observed: Vec<DayTotals> = days.iter().filter_map(|d| d.1).collect();
    ComponentView {
        component: StatusComponent {
            id,
            group_id: group,
            name: name.into(),
            description: format!("{name} for customers"),
            position: id,
            status,
            showcase: true,
            only_show_if_degraded: hidden,
            created_at: DAY - 60 * DAY_SECS,
            updated_at: DAY - 3600,
        },
        shown: status,
        uptime: candor_core::status::uptime::uptime_percent(&observed),
        days,
    }
}

fn entry(id: i64, status: &str, body: &str, at: i64) -> TimelineEntry {
    TimelineEntry {
        id,
        status: status.into(),
        body: body.into(),
        display_at: at,
        created_at: at,
        author: "user:1 (Owner)".into(),
    }
}

fn incident(id: i64, kind: IncidentKind, status: IncidentStatus, title: &str) -> Incident {
    Incident {
        id,
        kind,
        title: title.into(),
        impact: Impact::Major,
        status,
        postmortem: None,
        monitor_id: None,
        created_at: DAY - 7200,
        updated_at: DAY - 600,
        resolved_at: (!status.is_open()).then_some(DAY - 600),
        components: vec![(2, ComponentStatus::PartialOutage)],
        updates: vec![
            entry(
                id * 10 + 1,
                status.as_str(),
                "We **fixed** it <script>x</script>",
                DAY - 600,
            ),
            entry(id * 10, "investigating", "Looking into *errors*", DAY - 7200),
        ],
    }
}

fn snapshot() -> Snapshot {
    let open = incident(1, IncidentKind::Incident, IncidentStatus::Identified, "API errors");
    let old = incident(2, IncidentKind::Incident, IncidentStatus::Resolved, "Slow logins");
    let notice = incident(3, IncidentKind::Advisory, IncidentStatus::Resolved, "OpenSSL advisory");
    let window = Maintenance {
        id: 7,
        title: "Database upgrade".into(),
        status: MaintenanceStatus::Scheduled,
        scheduled_for: DAY + 86_400,
        scheduled_until: DAY + 90_000,
        auto: true,
        created_at: DAY - 100,
        updated_at: DAY - 100,
        started_at: None,
        completed_at: None,
        components: vec![1],
        updates: vec![entry(70, "scheduled", "We upgrade the database.", DAY - 100)],
    };
    let mut s = Snapshot::empty();
    s.page.updated_at = DAY - 100;
    s.page.indicator = Indicator::Major;
    s.page.description = overall_description(Indicator::Major, false);
    s.page.groups = vec![StatusGroup {
        id: 1,
        name: "Core".into(),
        position: 1,
    }];
    s.page.components = vec![
        component(1, "Website", None, ComponentStatus::Operational, false),
        component(2, "API", Some(1), ComponentStatus::PartialOutage, false),
        component(3, "Legacy export", Some(1), ComponentStatus::Operational, true),
    ];
    s.page.open_incidents = vec![open.clone()];
    s.page.recent_incidents = vec![open, old];
    s.page.notices = vec![notice];
    s.page.upcoming_maintenances = vec![window.clone()];
    s.page.maintenances = vec![window];
    s
}

fn site_with(s: Snapshot) -> Site {
    Site::build_with(&Published::empty(), Arc::new(s), URL, today())
}

fn text(site: &Site, path: &str) -> String {
    String::from_utf8(site.pages[path].body.to_vec()).unwrap_or_else(|_| panic!("{path} is UTF-8"))
}

#[test]
fn the_status_page_shows_components_with_90_focusable_days_and_no_inline_style() {
    let site = site_with(snapshot());
    let html = text(&site, "/status");
    assert!(html.contains("Partial system outage"), "the banner");
    assert!(html.contains("Website") && html.contains("API") && html.contains(">Core "));
    assert!(
        !html.contains("Legacy export"),
        "hidden while operational (only_show_if_degraded)"
    );
    assert_eq!(
        html.matches("tabindex=\"0\"").count(),
        2 * 90,
        "two listed components, 90 days each"
    );
    assert!(html.contains("no data"), "days before history began say so");
    assert!(
        html.contains("partial outage"),
        "the day of the outage names its worst status"
    );
    assert!(!html.contains("style="), "no inline style (the CSP forbids it)");
    assert!(!html.contains("<script"), "no script");
    assert!(html.contains("href=\"/status/notices\""));
    assert_eq!(
        html.contains("href=\"/subscribe\""),
        crate::routes::table().iter().any(|r| r.path == "/subscribe"),
        "a link to the subscription page exactly when it is served"
    );
    assert!(html.contains("API errors") && html.contains("Database upgrade") && html.contains("Slow logins"));
    assert!(
        html.contains("<strong>fixed</strong>") && !html.contains("<script>x"),
        "Markdown, sanitised"
    );
}

#[test]
fn the_json_uses_statuspage_shapes() {
    let site = site_with(snapshot());
    let summary: serde_json::Value = serde_json::from_str(&text(&site, "/api/v2/summary.json")).unwrap();
    assert_eq!(summary["status"]["indicator"], "major");
    assert_eq!(summary["page"]["time_zone"], "Etc/UTC");
    let components = summary["components"].as_array().unwrap();
    let group = components.iter().find(|c| c["group"] == true).unwrap();
    assert_eq!(group["id"], "g1");
    assert_eq!(group["components"], serde_json::json!(["2", "3"]));
    assert_eq!(group["status"], "partial_outage", "the worst of its components");
    let api = components.iter().find(|c| c["id"] == "2").unwrap();
    assert_eq!(api["group_id"], "g1");
    assert!(api.get("components").is_none(), "only groups list components");
    assert_eq!(
        summary["incidents"].as_array().unwrap().len(),
        1,
        "only unresolved ones"
    );
    let updates = summary["incidents"][0]["incident_updates"].as_array().unwrap();
    assert_eq!(updates[0]["affected_components"], serde_json::Value::Null);
    assert_eq!(updates[1]["affected_components"][0]["new_status"], "partial_outage");
    assert_eq!(summary["scheduled_maintenances"][0]["impact"], "maintenance");
    let all: serde_json::Value = serde_json::from_str(&text(&site, "/api/v2/incidents.json")).unwrap();
    let names: Vec<&str> = all["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["API errors", "Slow logins"],
        "security notices are not incidents here"
    );
    assert_eq!(all["incidents"][0]["created_at"], "2026-02-28T22:00:00Z");
}

#[test]
fn feed_and_badges_are_well_formed_xml() {
    let site = site_with(snapshot());
    let feed = text(&site, "/status/feed.atom");
    let doc = roxmltree::Document::parse(&feed).expect("the feed is XML");
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("entry"))
        .filter_map(|e| e.children().find(|c| c.has_tag_name("title"))?.text())
        .collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    assert!(titles.contains(&"Security notice: OpenSSL advisory"));
    let badge = text(&site, "/status/badges/2.svg");
    roxmltree::Document::parse(&badge).expect("the badge is XML");
    assert!(badge.contains(">partial outage<") && !badge.contains("style"));
    let uptime = text(&site, "/status/badges/2/uptime.svg");
    assert!(uptime.contains("99.97%"), "{uptime}");
}

#[test]
fn a_status_change_renders_what_a_full_render_gives() {
    let before = site_with(Snapshot::empty());
    assert!(!text(&before, "/").contains("status-banner"), "no banner while unused");
    let after = before.with_status(Arc::new(snapshot()));
    let full = site_with(snapshot());
    let mut paths: Vec<&String> = after.pages.keys().chain(full.pages.keys()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        assert!(after.pages.get(path) == full.pages.get(path), "{path} differs");
    }
    assert!(
        text(&after, "/").contains("Partial system outage"),
        "the home page's banner"
    );
    assert!(after.pages.contains_key("/status/incidents/3"));
    assert!(
        text(&after, "/faq").contains("<a href=\"/status\">Status</a>"),
        "linked once listed"
    );
    assert!(
        !text(&site_with(Snapshot::empty()), "/faq").contains("href=\"/status\""),
        "not while empty"
    );
    // A change while the page stays listed re-renders only the status parts, to the same bytes.
    let mut quieter = snapshot();
    quieter.page.open_incidents.clear();
    let updated = site_with(snapshot()).with_status(Arc::new(quieter.clone()));
    let full = site_with(quieter);
    let mut paths: Vec<&String> = updated.pages.keys().chain(full.pages.keys()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        assert!(updated.pages.get(path) == full.pages.get(path), "{path} differs");
    }
    // And back: pages of incidents no longer in the snapshot go.
    let back = after.with_status(Arc::new(Snapshot::empty()));
    assert!(!back.pages.contains_key("/status/incidents/3"));
    assert!(back.pages == site_with(Snapshot::empty()).pages);
}

#[test]
fn page_numbers() {
    use handlers::page_number;
    assert_eq!(page_number(None), Ok(1));
    assert_eq!(page_number(Some("3")), Ok(3));
    for bad in ["0", "-1", "two", "1.5"] {
        assert!(page_number(Some(bad)).unwrap_err().contains("whole number"), "{bad}");
    }
}
