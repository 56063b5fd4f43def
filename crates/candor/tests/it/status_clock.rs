//! The status clock in the running server: a maintenance window with automatic start and end
//! opens and closes by itself, audited as `system`, on SQLite and PostgreSQL.

use crate::{both_dbs, TestApp};
use candor_app::status::{ComponentDraft, MaintenanceDraft};
use candor_app::Actor;
use candor_core::status::MaintenanceStatus;
use std::time::Duration;

both_dbs!(maintenance_opens_and_closes_on_time, |app: TestApp| async move {
    let state = &app.state;
    let owner = Actor::User {
        email: "owner@corvellan.example".into(),
        ip: "127.0.0.1".into(),
    };
    let component = state
        .app()
        .create_status_component(
            &owner,
            &ComponentDraft {
                group_id: None,
                name: "API".into(),
                description: String::new(),
                showcase: true,
                only_show_if_degraded: false,
            },
        )
        .await
        .unwrap();
    state.apply(component.effects).await;
    let now = candor_store::now();
    let scheduled = state
        .app()
        .schedule_maintenance(
            &owner,
            &MaintenanceDraft {
                title: "Failover test".into(),
                body: "A short planned failover.".into(),
                scheduled_for: now + 1,
                scheduled_until: now + 4,
                auto: true,
                components: vec![component.value],
            },
        )
        .await
        .unwrap();
    let id = scheduled.value;
    state.apply(scheduled.effects).await;
    let mut seen = vec![];
    for _ in 0..60 {
        let m = app.store.maintenance(state.org(), id).await.unwrap().unwrap();
        if seen.last() != Some(&m.status) {
            seen.push(m.status);
        }
        if m.status == MaintenanceStatus::Completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(seen.first(), Some(&MaintenanceStatus::Scheduled));
    assert_eq!(
        seen.last(),
        Some(&MaintenanceStatus::Completed),
        "the clock closed the window: {seen:?}"
    );
    let by_clock: Vec<String> = app
        .store
        .audit_chain(state.org())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.actor == "system" && e.record.action == "status.maintenance.update")
        .map(|e| e.record.details["status"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(by_clock.last().is_some_and(|s| s == "completed"), "{by_clock:?}");
});
