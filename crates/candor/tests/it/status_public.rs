//! The public status page over HTTP: what the status use cases did shows on `/status`, on the
//! incident and maintenance pages, in the history, the Atom feed, the SVG badges, the home
//! page's banner, and in the Statuspage-compatible JSON, which is checked against a JSON Schema
//! of Statuspage's format (statuspage.schema.json) with its value sets.

use crate::{both_dbs, TestApp};
use candor_app::status::{ComponentDraft, IncidentDraft, MaintenanceDraft, UpdateDraft};
use candor_app::Actor;
use candor_core::status::{ComponentStatus, Impact, IncidentKind, IncidentStatus};
use std::time::Duration;

const SCHEMA: &str = include_str!("statuspage.schema.json");

/// Every `/api/v2/` endpoint, by the name of its definition in the schema.
const ENDPOINTS: [&str; 8] = [
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
];

fn owner() -> Actor {
    Actor::User {
        email: "owner@localhost".into(),
        ip: "127.0.0.1".into(),
    }
}

/// A validator for one endpoint's definition in the schema.
fn validator(endpoint: &str) -> jsonschema::Validator {
    let mut schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    let pointer = endpoint.replace('~', "~0").replace('/', "~1");
    schema["$ref"] = format!("#/$defs/{pointer}").into();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

fn problems(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn component(name: &str, group: Option<i64>, hidden: bool) -> ComponentDraft {
    ComponentDraft {
        group_id: group,
        name: name.into(),
        description: format!("{name} as customers use it"),
        showcase: true,
        only_show_if_degraded: hidden,
    }
}

fn incident(
    kind: IncidentKind,
    title: &str,
    status: IncidentStatus,
    components: Vec<(i64, ComponentStatus)>,
) -> IncidentDraft {
    IncidentDraft {
        kind,
        title: title.into(),
        impact: Impact::Major,
        status,
        body: format!("We are looking into **{title}**."),
        components,
        display_at: None,
    }
}

async fn json(app: &TestApp, path: &str) -> serde_json::Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(r.headers()["content-type"], "application/json", "{path}");
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "*",
        "{path}: widgets on other sites read it"
    );
    assert!(
        r.headers()["cache-control"].to_str().unwrap().starts_with("public"),
        "{path}"
    );
    r.json().await.unwrap()
}

both_dbs!(
    status_pages_feed_badges_and_json_show_the_status,
    |app: TestApp| async move {
        let (_, home) = app.get_text("/").await;
        assert!(
            !home.contains("status-banner"),
            "no banner before the status page is used"
        );
        let (code, page) = app.get_text("/status").await;
        assert_eq!(code, 200);
        assert!(
            !page.contains("All systems operational") && page.contains("No components are listed yet."),
            "an empty page claims nothing: {page}"
        );

        let uc = app.state.app();
        let group = uc.create_status_group(&owner(), "Core platform").await.unwrap();
        app.state.apply(group.effects).await;
        let group = group.value;
        let mut ids = vec![];
        for (name, group, hidden) in [
            ("API", Some(group), false),
            ("Website", None, false),
            ("Legacy export", Some(group), true),
        ] {
            let done = uc
                .create_status_component(&owner(), &component(name, group, hidden))
                .await
                .unwrap();
            app.state.apply(done.effects).await;
            ids.push(done.value);
        }
        let (api, website) = (ids[0], ids[1]);

        // An open incident with two updates, a resolved one, and a security notice.
        let done = uc
            .open_incident(
                &owner(),
                &incident(
                    IncidentKind::Incident,
                    "Elevated API errors",
                    IncidentStatus::Investigating,
                    vec![(api, ComponentStatus::PartialOutage)],
                ),
            )
            .await
            .unwrap();
        app.state.apply(done.effects).await;
        let open = done.value;
        let update = UpdateDraft {
            status: IncidentStatus::Identified,
            body: "A bad deploy; *rolling back*.".into(),
            display_at: None,
            components: None,
        };
        let done = uc.post_incident_update(&owner(), open, &update).await.unwrap();
        app.state.apply(done.effects).await;
        let done = uc
            .open_incident(
                &owner(),
                &incident(IncidentKind::Incident, "Slow sign-in", IncidentStatus::Resolved, vec![]),
            )
            .await
            .unwrap();
        app.state.apply(done.effects).await;
        let slow = done.value;
        let done = uc
            .open_incident(
                &owner(),
                &incident(
                    IncidentKind::Advisory,
                    "OpenSSL advisory",
                    IncidentStatus::Resolved,
                    vec![],
                ),
            )
            .await
            .unwrap();
        app.state.apply(done.effects).await;
        let notice = done.value;
        // Maintenance: one next week, one running now.
        let now = candor_store::now();
        for (title, from, until) in [
            ("Database upgrade", now + 7 * 86_400, now + 7 * 86_400 + 3600),
            ("Network change", now - 60, now + 3600),
        ] {
            let draft = MaintenanceDraft {
                title: title.into(),
                body: format!("{title}: no downtime expected."),
                scheduled_for: from,
                scheduled_until: until,
                auto: true,
                components: vec![website],
            };
            let done = uc.schedule_maintenance(&owner(), &draft).await.unwrap();
            app.state.apply(done.effects).await;
        }
        let done = uc.run_maintenance_clock(candor_store::now()).await.unwrap();
        app.state.apply(done.effects).await;

        // /status
        let (code, page) = app.get_text("/status").await;
        assert_eq!(code, 200);
        assert!(page.contains("Partial system outage"), "the banner");
        for text in [
            "Core platform",
            "API",
            "Website",
            "Elevated API errors",
            "rolling back",
            "Database upgrade",
            "Network change",
            "Slow sign-in",
            "href=\"/status/notices\"",
        ] {
            assert!(page.contains(text), "/status shows {text}");
        }
        assert!(!page.contains("Legacy export"), "hidden while operational");
        let subscribe = candor_web::route_table().iter().any(|r| r.path == "/subscribe");
        assert_eq!(
            page.contains("href=\"/subscribe\""),
            subscribe,
            "links to /subscribe when it is served"
        );
        assert_eq!(
            page.matches("tabindex=\"0\"").count(),
            180,
            "90 focusable days for each listed component"
        );
        assert!(
            !page.contains("style=") && !page.contains("<script"),
            "no inline style or script"
        );

        // The home page's banner.
        let (_, home) = app.get_text("/").await;
        assert!(
            home.contains("status-banner")
                && home.contains("Partial system outage")
                && home.contains("href=\"/status\"")
        );

        // The incident's page: its timeline newest first, Markdown rendered; the notice's page.
        let (code, html) = app.get_text(&format!("/status/incidents/{open}")).await;
        assert_eq!(code, 200);
        let newest = html.find("<em>rolling back</em>").expect("the latest update, rendered");
        let oldest = html
            .find("<strong>Elevated API errors</strong>")
            .expect("the first update");
        assert!(newest < oldest, "newest first");
        assert!(html.contains("API: Partial outage"), "affected components");
        let (code, html) = app.get_text(&format!("/status/incidents/{notice}")).await;
        assert_eq!(code, 200);
        assert!(html.contains("Security notice") && html.contains("OpenSSL advisory"));
        let (_, html) = app.get_text("/status/notices").await;
        assert!(html.contains("OpenSSL advisory") && !html.contains("Slow sign-in"));
        for path in [
            "/status/incidents/999999",
            "/status/incidents/abc",
            "/status/maintenance/999999",
        ] {
            assert_eq!(app.get(path).await.status(), 404, "{path}");
        }

        // JSON: every endpoint matches Statuspage's schema.
        for endpoint in ENDPOINTS {
            let doc = json(&app, &format!("/api/v2/{endpoint}")).await;
            let found = problems(&validator(endpoint), &doc);
            assert!(
                found.is_empty(),
                "{endpoint} does not match the schema:\n{}",
                found.join("\n")
            );
        }
        let summary = json(&app, "/api/v2/summary.json").await;
        assert_eq!(summary["status"]["indicator"], "major");
        let names = |key: &str, doc: &serde_json::Value| -> Vec<String> {
            doc[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names("incidents", &summary), ["Elevated API errors"]);
        assert_eq!(names("scheduled_maintenances", &summary).len(), 2);
        let api_id = api.to_string();
        let api_json = summary["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == api_id.as_str())
            .unwrap()
            .clone();
        assert_eq!(api_json["status"], "partial_outage");
        assert_eq!(api_json["group_id"], format!("g{group}"));
        let active = json(&app, "/api/v2/scheduled-maintenances/active.json").await;
        assert_eq!(names("scheduled_maintenances", &active), ["Network change"]);
        assert_eq!(active["scheduled_maintenances"][0]["status"], "in_progress");
        // The schema is not a rubber stamp: a value outside Statuspage's sets fails it.
        let v = validator("summary.json");
        for (pointer, wrong) in [
            ("/status/indicator", "green"),
            ("/components/0/status", "down"),
            ("/incidents/0/impact", "severe"),
            ("/incidents/0/incident_updates/0/status", "fixing"),
        ] {
            let mut bad = summary.clone();
            *bad.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = wrong.into();
            assert!(!v.is_valid(&bad), "{pointer} = {wrong} should fail the schema");
        }
        let mut bad = summary.clone();
        bad["page"]["updated_at"] = 1_700_000_000.into();
        assert!(!v.is_valid(&bad), "a time must be an RFC 3339 string");

        // The feed, the badges.
        let r = app.get("/status/feed.atom").await;
        assert_eq!(r.headers()["content-type"], "application/atom+xml; charset=utf-8");
        let feed = r.text().await.unwrap();
        let doc = roxmltree::Document::parse(&feed).expect("the feed is well-formed XML");
        let titles: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("entry"))
            .filter_map(|e| {
                e.children()
                    .find(|c| c.has_tag_name("title"))?
                    .text()
                    .map(str::to_owned)
            })
            .collect();
        for t in [
            "Elevated API errors",
            "Security notice: OpenSSL advisory",
            "Maintenance: Network change",
        ] {
            assert!(titles.iter().any(|x| x.starts_with(t)), "the feed has {t}: {titles:?}");
        }
        let r = app.get(&format!("/status/badges/{api}.svg")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        let svg = r.text().await.unwrap();
        roxmltree::Document::parse(&svg).expect("the badge is well-formed XML");
        assert!(svg.starts_with("<svg") && svg.contains(">partial outage<"), "{svg}");
        let svg = app.get_text(&format!("/status/badges/{website}/uptime.svg")).await.1;
        assert!(svg.contains("Website uptime"), "{svg}");

        // The history: pages of 20, the oldest incidents read from the database on request.
        for n in 0..55 {
            let done = uc
                .open_incident(
                    &owner(),
                    &incident(
                        IncidentKind::Incident,
                        &format!("Old incident {n}"),
                        IncidentStatus::Resolved,
                        vec![],
                    ),
                )
                .await
                .unwrap();
            app.state.apply(done.effects).await;
        }
        let (code, html) = app.get_text("/status/history").await;
        assert_eq!(code, 200);
        assert!(html.contains("57 incidents") && html.contains("page 1 of 3") && html.contains("Old incident 54"));
        let (code, html) = app.get_text("/status/history?page=3").await;
        assert_eq!(code, 200);
        assert!(html.contains("Elevated API errors") && !html.contains("Old incident 54"));
        for bad in ["0", "-2", "two"] {
            let (code, html) = app.get_text(&format!("/status/history?page={bad}")).await;
            assert_eq!(code, 400, "page={bad}");
            assert!(html.contains("whole number"), "page={bad} says what is wrong");
        }
        assert_eq!(app.get("/status/history?page=4").await.status(), 404);
        let site = app.state.site().await;
        let older = format!("/status/incidents/{slow}");
        assert!(!site.pages.contains_key(&older), "past the recent ones the site holds");
        let (code, html) = app.get_text(&older).await;
        assert_eq!(code, 200, "an older incident is read on request");
        assert!(html.contains("Slow sign-in"));

        // The incremental updates gave what a full render gives.
        let full = candor_web::site::Site::load(app.state.app(), &app.state.config().public_url, site.built_for)
            .await
            .unwrap();
        // `generated_at` is the second of reading, which differs when the reads straddle one.
        let mut fresh = (*full.status).clone();
        fresh.page.generated_at = site.status.page.generated_at;
        assert!(*site.status == fresh, "the status snapshot differs from a fresh read");
        for (path, page) in &full.pages {
            assert!(site.pages.get(path) == Some(page), "{path} differs from a full render");
        }
    }
);

both_dbs!(
    a_status_change_made_elsewhere_shows_within_a_watch_round,
    |app: TestApp| async move {
        // Written without applying its effects, as another instance on the same database would.
        let done = app
            .state
            .app()
            .create_status_component(&owner(), &component("Search", None, false))
            .await
            .unwrap();
        drop(done);
        for _ in 0..150 {
            if app.get_text("/status").await.1.contains("Search as customers use it") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("a component added behind the server's back never showed on /status");
    }
);
