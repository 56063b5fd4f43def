//! Built-in monitors end to end: a monitor set up in the back office checks a real local HTTP
//! server; when the server fails, the component goes down only after the second failure, an
//! automatic incident opens, and both resolve when the server recovers, audited as the monitor.
//! A loopback target is refused when private targets are not allowed.

use crate::harness::csrf_of;
use crate::{both_dbs_fn, Db, TestApp};
use candor_app::status::ComponentDraft;
use candor_core::status::monitor::CheckStatus;
use candor_core::status::{ComponentStatus, IncidentStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A service on loopback whose `/health` answers 200 or 503 as the test says.
struct Service {
    port: u16,
    failing: Arc<AtomicBool>,
}

impl Service {
    async fn start() -> Service {
        let failing = Arc::new(AtomicBool::new(false));
        let flag = failing.clone();
        let app = axum::Router::new().route(
            "/health",
            axum::routing::get(move || {
                let flag = flag.clone();
                async move {
                    if flag.load(Ordering::SeqCst) {
                        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down")
                    } else {
                        (axum::http::StatusCode::OK, "ok")
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Service { port, failing }
    }
}

async fn add_component(app: &TestApp) -> i64 {
    let draft = ComponentDraft {
        group_id: None,
        name: "Payments API".into(),
        description: String::new(),
        showcase: true,
        only_show_if_degraded: false,
    };
    let done = app
        .state
        .app()
        .create_status_component(&candor_app::Actor::System, &draft)
        .await
        .unwrap();
    app.state.apply(done.effects).await;
    done.value
}

/// Adds a monitor through the back-office form; its id.
async fn add_monitor(app: &TestApp, component: i64, port: u16) -> i64 {
    let (status, page) = app.browser().get_text("/admin/status/monitors/new").await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&page);
    let component = component.to_string();
    let target = format!("http://127.0.0.1:{port}/health");
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("name", "Payments health"),
        ("component", component.as_str()),
        ("kind", "http"),
        ("target", target.as_str()),
        ("method", "GET"),
        ("expected_status", "200"),
        ("interval_secs", "10"),
        ("timeout_ms", "2000"),
        ("failures_before_down", "2"),
        ("down_status", "major_outage"),
        ("auto_incident", "on"),
        ("enabled", "on"),
    ];
    // A mistake first: the form comes back with the field named and how to fix it.
    fields[7].1 = "5";
    let r = app.post_form("/admin/status/monitors", &fields).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("from 10 to 86400"), "{page}");
    fields[7].1 = "10";
    let r = app.post_form("/admin/status/monitors", &fields).await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let id = location
        .strip_prefix("/admin/status/monitors/")
        .and_then(|rest| rest.split('?').next())
        .unwrap();
    id.parse().unwrap()
}

/// Waits (up to `secs`) until the monitor's row satisfies `ready`.
async fn wait_for(app: &TestApp, id: i64, secs: u64, what: &str, ready: impl Fn(&candor_store::Monitor) -> bool) {
    for _ in 0..secs * 10 {
        let m = app.store.monitor(app.state.org(), id).await.unwrap().unwrap();
        if ready(&m) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let m = app.store.monitor(app.state.org(), id).await.unwrap();
    panic!("{what}: {m:?}");
}

async fn component_status(app: &TestApp, id: i64) -> ComponentStatus {
    let all = app.store.status_components(app.state.org()).await.unwrap();
    all.into_iter().find(|c| c.id == id).unwrap().status
}

async fn monitor_incidents(app: &TestApp, monitor: i64) -> Vec<candor_store::Incident> {
    let q = candor_store::IncidentQuery {
        limit: 50,
        ..Default::default()
    };
    let all = app.store.incidents(app.state.org(), q).await.unwrap();
    all.into_iter().filter(|i| i.monitor_id == Some(monitor)).collect()
}

async fn failing_service_takes_the_component_down_and_back(db: Db) {
    let Some(app) = TestApp::start_configured(db, false, |c| c.monitors.allow_private = true).await else {
        return;
    };
    app.sign_in_owner().await;
    let service = Service::start().await;
    service.failing.store(true, Ordering::SeqCst);
    let component = add_component(&app).await;
    let id = add_monitor(&app, component, service.port).await;

    // The first failure is counted, and nothing else happens.
    wait_for(&app, id, 10, "the first check", |m| m.last_checked_at.is_some()).await;
    let m = app.store.monitor(app.state.org(), id).await.unwrap().unwrap();
    assert_eq!((m.streak.failures, m.last_status), (1, Some(CheckStatus::Down)));
    assert_eq!(
        m.last_detail.as_deref(),
        Some("expected 200, got 503 Service Unavailable")
    );
    assert_eq!(component_status(&app, component).await, ComponentStatus::Operational);
    assert!(monitor_incidents(&app, id).await.is_empty());

    // The second (ten seconds on) takes it down and opens the incident.
    wait_for(&app, id, 20, "the second failure", |m| m.streak.failures >= 2).await;
    assert_eq!(component_status(&app, component).await, ComponentStatus::MajorOutage);
    let incidents = monitor_incidents(&app, id).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0].status, IncidentStatus::Investigating);

    let (_, page) = app.browser().get_text("/admin/status/monitors").await;
    assert!(
        page.contains("Payments health") && page.contains("expected 200, got 503"),
        "{page}"
    );

    service.failing.store(false, Ordering::SeqCst);
    wait_for(&app, id, 20, "the recovery", |m| m.last_status == Some(CheckStatus::Up)).await;
    assert_eq!(component_status(&app, component).await, ComponentStatus::Operational);
    let incidents = monitor_incidents(&app, id).await;
    assert_eq!(incidents[0].status, IncidentStatus::Resolved);

    let audit = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    let actor = format!("monitor:{id} (Payments health)");
    let mut by_monitor: Vec<String> = audit
        .iter()
        .rev()
        .filter(|e| e.record.actor == actor)
        .map(|e| e.record.action.clone())
        .collect();
    by_monitor.dedup();
    assert_eq!(
        by_monitor,
        [
            "status.component.status",
            "status.incident.create",
            "status.component.status",
            "status.incident.update"
        ],
        "{audit:?}"
    );
    assert!(audit.iter().any(|e| e.record.action == "status.monitor.create"
        && e.record.actor == "user:owner@corvellan.example"
        && e.record.target == format!("monitor/{id}")));
}
both_dbs_fn!(failing_service, failing_service_takes_the_component_down_and_back);

async fn loopback_is_refused_unless_allowed(db: Db) {
    let Some(app) = TestApp::start_configured(db, false, |_| {}).await else {
        return;
    };
    assert!(!app.state.config().monitors.allow_private);
    app.sign_in_owner().await;
    let service = Service::start().await;
    let component = add_component(&app).await;
    let id = add_monitor(&app, component, service.port).await;
    wait_for(&app, id, 10, "the refused check", |m| m.last_checked_at.is_some()).await;
    let m = app.store.monitor(app.state.org(), id).await.unwrap().unwrap();
    assert_eq!(m.last_status, Some(CheckStatus::Down));
    assert_eq!(
        m.last_detail.as_deref(),
        Some("refused: 127.0.0.1 is a loopback address (this machine); set status_monitor_allow_private to allow it")
    );
    let (_, page) = app.browser().get_text(&format!("/admin/status/monitors/{id}")).await;
    assert!(page.contains("set status_monitor_allow_private to allow it"), "{page}");
}
both_dbs_fn!(loopback_refused, loopback_is_refused_unless_allowed);
