//! The status page's use cases on real SQLite and PostgreSQL: incidents move their components
//! and give them back, refused transitions change nothing, maintenance runs on its clock, the
//! snapshot adds up, and an action's rows and its audit entry commit together or not at all.

use candor_app::status::{ComponentDraft, IncidentDraft, MaintenanceDraft, UpdateDraft};
use candor_app::{Actor, Error, SiteChange};
use candor_core::status::{ComponentStatus, Impact, IncidentKind, IncidentStatus, Indicator, MaintenanceStatus};

#[macro_use]
mod common;
use common::Db;

fn owner() -> Actor {
    Actor::User {
        email: "owner@northwind.example".into(),
        ip: "192.0.2.9".into(),
    }
}

fn component(name: &str) -> ComponentDraft {
    ComponentDraft {
        group_id: None,
        name: name.into(),
        description: String::new(),
        showcase: true,
        only_show_if_degraded: false,
    }
}

async fn components(db: &Db) -> Vec<(String, ComponentStatus)> {
    db.store
        .status_components(db.app.org())
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.status))
        .collect()
}

async fn incidents_set_and_give_back_component_statuses(db: &Db) {
    let app = &db.app;
    let api = app.create_status_component(&owner(), &component("API")).await.unwrap();
    assert_eq!(api.effects.site, vec![SiteChange::Status]);
    let web = app
        .create_status_component(&owner(), &component("Dashboard"))
        .await
        .unwrap()
        .value;
    let api = api.value;
    let draft = IncidentDraft {
        kind: IncidentKind::Incident,
        title: "Elevated API errors".into(),
        impact: Impact::Major,
        status: IncidentStatus::Investigating,
        body: "We are looking into **errors** on the API.".into(),
        components: vec![
            (api, ComponentStatus::PartialOutage),
            (web, ComponentStatus::DegradedPerformance),
        ],
        display_at: None,
    };
    let first = app.open_incident(&owner(), &draft).await.unwrap().value;
    // A second incident on the API keeps it down after the first resolves.
    let second = app
        .open_incident(
            &owner(),
            &IncidentDraft {
                title: "API latency".into(),
                components: vec![(api, ComponentStatus::DegradedPerformance)],
                ..draft.clone()
            },
        )
        .await
        .unwrap()
        .value;
    assert_eq!(
        components(db).await,
        vec![
            ("API".into(), ComponentStatus::PartialOutage),
            ("Dashboard".into(), ComponentStatus::DegradedPerformance)
        ],
        "each component shows the worst status an open incident gives it"
    );
    let page = app.status_page(candor_store::now()).await.unwrap();
    assert_eq!(page.indicator, Indicator::Major);
    assert_eq!(page.open_incidents.len(), 2);

    // Going back is refused with the reason, and nothing is written.
    let _ = app
        .post_incident_update(
            &owner(),
            first,
            &UpdateDraft {
                status: IncidentStatus::Monitoring,
                body: "A fix is deployed.".into(),
                display_at: None,
                components: None,
            },
        )
        .await
        .unwrap();
    let audit_before = db.audit().await.len();
    let refused = app
        .post_incident_update(
            &owner(),
            first,
            &UpdateDraft {
                status: IncidentStatus::Investigating,
                body: "Back to square one.".into(),
                display_at: None,
                components: None,
            },
        )
        .await
        .unwrap_err();
    match refused {
        Error::Invalid(errors) => assert!(errors[0].message.contains("cannot go back"), "{errors:?}"),
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(db.audit().await.len(), audit_before, "a refused update writes nothing");

    let resolve = |body: &str| UpdateDraft {
        status: IncidentStatus::Resolved,
        body: body.into(),
        display_at: None,
        components: None,
    };
    let _ = app
        .post_incident_update(&owner(), first, &resolve("Fixed."))
        .await
        .unwrap();
    assert_eq!(
        components(db).await,
        vec![
            ("API".into(), ComponentStatus::DegradedPerformance),
            ("Dashboard".into(), ComponentStatus::Operational)
        ],
        "the API keeps the other open incident's status"
    );
    let _ = app
        .post_incident_update(&owner(), second, &resolve("Latency is back to normal."))
        .await
        .unwrap();
    assert!(components(db).await.iter().all(|c| c.1 == ComponentStatus::Operational));
    let incident = db.store.incident(app.org(), first).await.unwrap().unwrap();
    assert_eq!(incident.status, IncidentStatus::Resolved);
    assert!(incident.resolved_at.is_some());
    assert_eq!(incident.updates.len(), 3, "opened, monitoring, resolved");
    assert_eq!(incident.updates[0].body, "Fixed.", "newest first");

    // A postmortem follows resolution.
    let _ = app
        .post_incident_update(
            &owner(),
            first,
            &UpdateDraft {
                status: IncidentStatus::Postmortem,
                body: "A configuration change exhausted the connection pool.".into(),
                display_at: None,
                components: None,
            },
        )
        .await
        .unwrap();
    let incident = db.store.incident(app.org(), first).await.unwrap().unwrap();
    assert_eq!(
        incident.postmortem.as_deref(),
        Some("A configuration change exhausted the connection pool.")
    );
    let page = app.status_page(candor_store::now()).await.unwrap();
    assert_eq!(page.indicator, Indicator::None);
    assert_eq!(page.recent_incidents.len(), 2);

    let actions: Vec<String> = db.audit().await.into_iter().map(|a| a.1).collect();
    assert!(actions.contains(&"status.incident.create".to_owned()));
    assert!(actions.contains(&"status.component.status".to_owned()));
}
both_dbs!(incidents, incidents_set_and_give_back_component_statuses);

async fn an_incident_and_its_audit_entry_commit_together(db: &Db) {
    let api = db
        .app
        .create_status_component(&owner(), &component("API"))
        .await
        .unwrap()
        .value;
    db.refuse_audit().await;
    let draft = IncidentDraft {
        kind: IncidentKind::Advisory,
        title: "OpenSSL advisory".into(),
        impact: Impact::None,
        status: IncidentStatus::Identified,
        body: "We are not affected.".into(),
        components: vec![(api, ComponentStatus::DegradedPerformance)],
        display_at: None,
    };
    assert!(db.app.open_incident(&owner(), &draft).await.is_err());
    db.accept_audit().await;
    assert_eq!(db.store.incident_count(db.app.org(), None).await.unwrap(), 0);
    assert_eq!(components(db).await, vec![("API".into(), ComponentStatus::Operational)]);
    let id = db.app.open_incident(&owner(), &draft).await.unwrap().value;
    let notices = db.app.status_page(candor_store::now()).await.unwrap().notices;
    assert_eq!(notices.iter().map(|n| n.id).collect::<Vec<_>>(), vec![id]);
}
both_dbs!(atomic, an_incident_and_its_audit_entry_commit_together);

async fn maintenance_runs_on_its_clock(db: &Db) {
    let app = &db.app;
    let api = app
        .create_status_component(&owner(), &component("API"))
        .await
        .unwrap()
        .value;
    let now = candor_store::now();
    let draft = MaintenanceDraft {
        title: "Database upgrade".into(),
        body: "The API may be slow for a few minutes.".into(),
        scheduled_for: now + 60,
        scheduled_until: now + 3600,
        auto: true,
        components: vec![api],
    };
    let bad = app
        .schedule_maintenance(
            &owner(),
            &MaintenanceDraft {
                scheduled_until: now,
                ..draft.clone()
            },
        )
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("scheduled_until"), "{bad}");
    let id = app.schedule_maintenance(&owner(), &draft).await.unwrap().value;
    assert_eq!(app.run_maintenance_clock(now).await.unwrap().value, 0, "not yet");
    let started = app.run_maintenance_clock(now + 61).await.unwrap();
    assert_eq!(started.value, 1);
    assert_eq!(started.effects.site, vec![SiteChange::Status]);
    let page = app.status_page(now + 61).await.unwrap();
    assert_eq!(page.active_maintenances.len(), 1);
    assert_eq!(page.components[0].shown, ComponentStatus::UnderMaintenance);
    assert_eq!(
        page.components[0].component.status,
        ComponentStatus::Operational,
        "set status unchanged"
    );
    assert_eq!(page.description, "Service under maintenance");
    assert_eq!(
        app.run_maintenance_clock(now + 62).await.unwrap().value,
        0,
        "started once"
    );
    assert_eq!(app.run_maintenance_clock(now + 3600).await.unwrap().value, 1);
    let m = db.store.maintenance(app.org(), id).await.unwrap().unwrap();
    assert_eq!(m.status, MaintenanceStatus::Completed);
    assert_eq!(m.updates.len(), 3);
    let back = app
        .post_maintenance_update(&owner(), id, MaintenanceStatus::InProgress, "Again?")
        .await
        .unwrap_err();
    assert!(back.to_string().contains("completed"), "{back}");
    let by_system = db.audit().await.into_iter().filter(|a| a.0 == "system").count();
    assert_eq!(by_system, 2, "the clock's two moves are audited as system");
}
both_dbs!(maintenance, maintenance_runs_on_its_clock);

async fn uptime_rolls_up_into_days(db: &Db) {
    let app = &db.app;
    let api = app
        .create_status_component(&owner(), &component("API"))
        .await
        .unwrap()
        .value;
    let done = app.roll_up_uptime(candor_store::now() + 5, 7 * 86_400).await.unwrap();
    assert_eq!(
        done.effects.site,
        vec![SiteChange::Status],
        "the first day's bar appears"
    );
    let _ = app
        .set_status_component_status(&owner(), api, ComponentStatus::MajorOutage)
        .await
        .unwrap();
    let later = candor_store::now() + 600;
    let _ = app.roll_up_uptime(later, 7 * 86_400).await.unwrap();
    let page = app.status_page(later).await.unwrap();
    let today = page.components[0].days.last().unwrap().1.unwrap();
    assert!(today.major_secs >= 590, "{today:?}");
    let uptime = page.components[0].uptime.unwrap();
    assert!(uptime < 5.0, "mostly down so far: {uptime}");
    let again = app.roll_up_uptime(later, 7 * 86_400).await.unwrap();
    assert!(again.effects.site.is_empty(), "nothing a visitor sees changed");
}
both_dbs!(uptime, uptime_rolls_up_into_days);

async fn the_demo_status_page_is_complete(db: &Db) {
    let now = candor_store::now();
    let _ = db.app.seed_status_demo(now).await.unwrap();
    let page = db.app.status_page(now).await.unwrap();
    assert_eq!(page.groups.len(), 2);
    assert_eq!(page.components.len(), 5);
    assert_eq!(page.indicator, Indicator::None, "the demo's incident is over");
    assert_eq!(page.recent_incidents.len(), 1);
    let incident = &page.recent_incidents[0];
    assert_eq!(incident.status, IncidentStatus::Postmortem);
    assert!(
        incident.created_at < now - 11 * 86_400,
        "back-dated to the day it happened"
    );
    assert_eq!(page.notices.len(), 1);
    assert_eq!(page.upcoming_maintenances.len(), 1);
    let api = page
        .components
        .iter()
        .find(|c| c.component.name == "Public API")
        .unwrap();
    let uptime = api.uptime.unwrap();
    assert!(uptime < 100.0 && uptime > 99.0, "{uptime}");
    assert_eq!(
        api.days.iter().filter(|d| d.1.is_some()).count(),
        89,
        "today's bar starts at the first roll-up"
    );
    let _ = db.app.roll_up_uptime(now + 120, 7 * 86_400).await.unwrap();
    let page = db.app.status_page(now + 120).await.unwrap();
    let api = page
        .components
        .iter()
        .find(|c| c.component.name == "Public API")
        .unwrap();
    assert_eq!(api.days.iter().filter(|d| d.1.is_some()).count(), 90);
    assert!(components(db).await.iter().all(|c| c.1 == ComponentStatus::Operational));
    let again = db.app.seed_status_demo(now).await.unwrap();
    assert!(again.effects.audit.is_empty(), "seeding twice does nothing");
    assert_eq!(db.app.status_page(now).await.unwrap().components.len(), 5);
}
both_dbs!(demo, the_demo_status_page_is_complete);

/// A database whose demo status page was seeded before the `demo` flag existed (migration 0020)
/// still has it recognised, from the audit log's `system` entries, so removing the demo takes
/// it; a person's own component and incident are left alone.
async fn a_demo_seeded_before_the_flag_is_recognised(db: &Db) {
    let now = candor_store::now();
    let _ = db.app.seed_status_demo(now).await.unwrap();
    let ours = db
        .app
        .create_status_component(&owner(), &component("Billing"))
        .await
        .unwrap();
    let draft = IncidentDraft {
        kind: IncidentKind::Incident,
        title: "Billing slow".into(),
        impact: Impact::Minor,
        status: IncidentStatus::Investigating,
        body: "Looking.".into(),
        components: vec![(ours.value, ComponentStatus::DegradedPerformance)],
        display_at: None,
    };
    let our_incident = db.app.open_incident(&owner(), &draft).await.unwrap().value;
    // Back to the schema before 0020: no flags, the migration not yet applied.
    for table in ["status_groups", "status_components", "incidents", "maintenances"] {
        db.sql(&format!("ALTER TABLE {table} DROP COLUMN demo")).await;
    }
    db.sql("DELETE FROM candor_migrations WHERE version = 20").await;
    let store = candor_store::Store::open(&db.url).await.unwrap();
    let demo = store.demo_content(db.app.org()).await.unwrap().status;
    assert_eq!(demo.groups.len(), 2);
    assert_eq!(demo.components.len(), 5);
    assert!(!demo.components.contains(&ours.value));
    assert_eq!(demo.incidents.len(), 2);
    assert!(!demo.incidents.contains(&our_incident));
    assert_eq!(demo.maintenances.len(), 1);
    store.close().await;
}
both_dbs!(demo_before_the_flag, a_demo_seeded_before_the_flag_is_recognised);
