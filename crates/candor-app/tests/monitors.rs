//! Monitors' use cases on real SQLite and PostgreSQL: set-up is audited, a batch of results moves
//! the component only after N consecutive failures and opens and resolves its automatic
//! incident as the monitor, maintenance holds the verdict, and old results are pruned.

use candor_app::status::{CheckResult, ComponentDraft, MaintenanceDraft};
use candor_app::{Actor, Error};
use candor_core::status::monitor::{CheckStatus, MonitorDraft, MonitorForm};
use candor_core::status::{ComponentStatus, IncidentStatus};

#[macro_use]
mod common;
use common::Db;

fn owner() -> Actor {
    Actor::User {
        email: "owner@northwind.example".into(),
        ip: "192.0.2.9".into(),
    }
}

async fn new_component(db: &Db, name: &str) -> i64 {
    let draft = ComponentDraft {
        group_id: None,
        name: name.into(),
        description: String::new(),
        showcase: true,
        only_show_if_degraded: false,
    };
    db.app.create_status_component(&owner(), &draft).await.unwrap().value
}

fn monitor(component: i64, failures: &str) -> MonitorDraft {
    let mut f = MonitorForm::blank();
    f.name = "API health".into();
    f.component = component.to_string();
    f.target = "https://api.northwind.example/health".into();
    f.failures_before_down = failures.into();
    f.auto_incident = "on".into();
    f.parse().unwrap()
}

fn result(monitor_id: i64, at: i64, status: CheckStatus) -> CheckResult {
    CheckResult {
        monitor_id,
        at,
        status,
        latency_ms: 12,
        detail: match status {
            CheckStatus::Up => String::new(),
            _ => "expected 200, got 503 Service Unavailable".into(),
        },
    }
}

async fn component_status(db: &Db, id: i64) -> ComponentStatus {
    let all = db.store.status_components(db.app.org()).await.unwrap();
    all.into_iter().find(|c| c.id == id).unwrap().status
}

async fn failures_move_the_component_and_the_incident(db: &Db) {
    let app = &db.app;
    let api = new_component(db, "API").await;
    let id = app.create_monitor(&owner(), &monitor(api, "2")).await.unwrap().value;
    let refused = app.create_monitor(&owner(), &monitor(9999, "2")).await.unwrap_err();
    assert!(
        matches!(&refused, Error::Invalid(e) if e[0].field == "component"),
        "{refused:?}"
    );

    let t = 1_900_000_000;
    let first = app.record_checks(&[result(id, t, CheckStatus::Down)]).await.unwrap();
    assert_eq!(first.value.stored, 1);
    assert!(first.effects.audit.is_empty(), "one failure is upkeep");
    assert_eq!(component_status(db, api).await, ComponentStatus::Operational);

    let second = app
        .record_checks(&[result(id, t + 60, CheckStatus::Down)])
        .await
        .unwrap();
    assert_eq!(second.value.status_changes, 1);
    assert_eq!(second.value.opened.len(), 1);
    assert_eq!(component_status(db, api).await, ComponentStatus::MajorOutage);
    let incident = db
        .store
        .incident(app.org(), second.value.opened[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(incident.monitor_id, Some(id));
    assert_eq!(incident.status, IncidentStatus::Investigating);
    let text = candor_core::markdown::to_plain_text(&incident.updates[0].body);
    let says = "\"API health\" found API failing 2 checks in a row: expected 200, got 503";
    assert!(text.contains(says), "{text}");

    // Still failing: nothing more happens; then one success recovers.
    let more = app
        .record_checks(&[result(id, t + 120, CheckStatus::Down)])
        .await
        .unwrap();
    assert!(more.effects.audit.is_empty());
    let up = app
        .record_checks(&[result(id, t + 180, CheckStatus::Up)])
        .await
        .unwrap();
    assert_eq!(up.value.resolved, second.value.opened);
    assert_eq!(component_status(db, api).await, ComponentStatus::Operational);
    let incident = db
        .store
        .incident(app.org(), second.value.opened[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(incident.status, IncidentStatus::Resolved);

    let m = db.store.monitor(app.org(), id).await.unwrap().unwrap();
    assert_eq!((m.streak.failures, m.last_status), (0, Some(CheckStatus::Up)));
    assert_eq!(db.store.monitor_results(app.org(), id, 10).await.unwrap().len(), 4);

    let audit = db.audit().await;
    let actor = format!("monitor:{id} (API health)");
    let by_monitor: Vec<&str> = audit.iter().filter(|e| e.0 == actor).map(|e| e.1.as_str()).collect();
    assert_eq!(
        by_monitor,
        [
            "status.component.status",
            "status.incident.create",
            "status.component.status",
            "status.incident.update"
        ]
    );
    assert!(audit
        .iter()
        .any(|e| e.0 == "user:owner@northwind.example" && e.1 == "status.monitor.create"));
}
both_dbs!(failures, failures_move_the_component_and_the_incident);

async fn a_batch_is_in_order_and_skips_deleted_monitors(db: &Db) {
    let app = &db.app;
    let api = new_component(db, "API").await;
    let a = app.create_monitor(&owner(), &monitor(api, "3")).await.unwrap().value;
    let b = app.create_monitor(&owner(), &monitor(api, "1")).await.unwrap().value;
    let _ = app.delete_monitor(&owner(), b).await.unwrap();
    let t = 1_900_000_000;
    let batch: Vec<CheckResult> = (0..3)
        .map(|i| result(a, t + i, CheckStatus::Down))
        .chain([result(b, t, CheckStatus::Down)])
        .collect();
    let done = app.record_checks(&batch).await.unwrap();
    assert_eq!((done.value.stored, done.value.status_changes), (3, 1));
    assert_eq!(component_status(db, api).await, ComponentStatus::MajorOutage);

    // A detail full of Markdown (a body text the server lacks) is shown as written.
    let c = app.create_monitor(&owner(), &monitor(api, "1")).await.unwrap().value;
    let odd = "the body does not contain \"> > > > > > > > > > > > > > > > > > > > ***_[[x]]_***\"";
    let mut r = result(c, t, CheckStatus::Down);
    r.detail = odd.into();
    let opened = app.record_checks(&[r]).await.unwrap().value.opened;
    let incident = db.store.incident(app.org(), opened[0]).await.unwrap().unwrap();
    assert!(candor_core::markdown::to_plain_text(&incident.updates[0].body).contains(odd));

    // Pruning keeps what is recent.
    assert_eq!(app.prune_monitor_results(t + 2).await.unwrap(), 3);
    assert_eq!(db.store.monitor_results(app.org(), a, 10).await.unwrap().len(), 1);
}
both_dbs!(batch, a_batch_is_in_order_and_skips_deleted_monitors);

async fn maintenance_holds_the_verdict(db: &Db) {
    let app = &db.app;
    let api = new_component(db, "API").await;
    let id = app.create_monitor(&owner(), &monitor(api, "1")).await.unwrap().value;
    let now = candor_store::now();
    let window = MaintenanceDraft {
        title: "Database upgrade".into(),
        body: "Upgrading.".into(),
        scheduled_for: now - 60,
        scheduled_until: now + 3600,
        auto: true,
        components: vec![api],
    };
    let _ = app.schedule_maintenance(&owner(), &window).await.unwrap();
    let _ = app.run_maintenance_clock(now).await.unwrap();
    let during = app.record_checks(&[result(id, now, CheckStatus::Down)]).await.unwrap();
    assert_eq!((during.value.status_changes, during.value.opened.len()), (0, 0));
    let m = db.store.monitor(app.org(), id).await.unwrap().unwrap();
    assert_eq!(m.streak.failures, 1, "the streak counts on");
}
both_dbs!(maintenance, maintenance_holds_the_verdict);
