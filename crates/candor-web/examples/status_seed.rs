//! Fills a Candor database with a status page to look at or measure: COMPONENTS components in
//! GROUPS groups, 90 days of uptime history with a few outages, incidents (one still open), a
//! security notice, and maintenance (one window next week, one done). Everything is written in one
//! transaction, so a running server (its content watcher) sees all of it at once or nothing.
//!
//!     cargo run --example status_seed -- sqlite:///path/to/candor.db [COMPONENTS] [GROUPS]
//!
//! Used by `bench/status.sh` (50 components) and the browser tests. Rows are written through the
//! store directly, not through the use cases: uptime history is otherwise only written by the
//! roll-up, which cannot invent 90 past days.

use candor_core::status::uptime::{day_of, DayTotals, DAY_SECS};
use candor_core::status::{ComponentStatus, Impact, IncidentKind, IncidentStatus, MaintenanceStatus};
use candor_store::{ComponentFields, NewIncident, NewMaintenance, Store};

const AUTHOR: &str = "candor (seed)";

/// A day's totals for component `c`, `days_ago` days back: mostly operational, now and then an
/// outage, the same every run.
fn totals(c: usize, days_ago: i64, observed: i64) -> DayTotals {
    let mut t = DayTotals::default();
    let (status, secs) = match (c * 31 + days_ago as usize * 17) % 97 {
        0 => (ComponentStatus::MajorOutage, 1200),
        1 | 2 => (ComponentStatus::PartialOutage, 3600),
        3..=5 => (ComponentStatus::DegradedPerformance, 7200),
        6 => (ComponentStatus::UnderMaintenance, 3600),
        _ => (ComponentStatus::Operational, 0),
    };
    let secs = secs.min(observed);
    t.add(status, secs);
    t.add(ComponentStatus::Operational, observed - secs);
    t.checks = observed / 30;
    t
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: status_seed DATABASE_URL [COMPONENTS] [GROUPS]"))?;
    let components: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(50);
    let groups: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5).max(1);
    let store = Store::open(&url).await?;
    let org = store.ensure_org("default").await?;
    let now = candor_store::now();
    let today = day_of(now);

    let mut tx = store.begin().await?;
    let mut group_ids = vec![];
    for g in 0..groups {
        group_ids.push(tx.create_status_group(org, &format!("Region {}", g + 1)).await?);
    }
    let mut ids = vec![];
    for c in 0..components {
        let fields = ComponentFields {
            // The first components stand alone; the rest fill the groups in turn.
            group_id: (c >= 2).then(|| group_ids[c % groups]),
            name: format!("Service {:02}", c + 1),
            description: format!("Service {:02} as customers use it", c + 1),
            showcase: true,
            only_show_if_degraded: false,
        };
        let id = tx.create_status_component(org, &fields).await?;
        for days_ago in 0..90 {
            let day = today - days_ago * DAY_SECS;
            let observed = if days_ago == 0 { now - today } else { DAY_SECS };
            tx.put_status_day(id, day, &totals(c, days_ago, observed)).await?;
        }
        ids.push(id);
    }

    let incident = |kind, title: &str, impact, status, components: Vec<(i64, ComponentStatus)>| NewIncident {
        kind,
        title: title.into(),
        impact,
        status,
        body: format!("We are investigating **{title}**."),
        components,
        monitor_id: None,
        author: AUTHOR.into(),
        display_at: now - 3 * 3600,
    };
    for (n, title) in ["Elevated error rates", "Slow dashboard", "Delayed emails"]
        .iter()
        .enumerate()
    {
        let affected = ids
            .get(n)
            .map(|id| vec![(*id, ComponentStatus::PartialOutage)])
            .unwrap_or_default();
        let id = tx
            .create_incident(
                org,
                &incident(
                    IncidentKind::Incident,
                    title,
                    Impact::Major,
                    IncidentStatus::Investigating,
                    affected,
                ),
            )
            .await?;
        tx.add_incident_update(
            id,
            IncidentStatus::Identified,
            "We found the cause.",
            now - 2 * 3600,
            AUTHOR,
        )
        .await?;
        tx.add_incident_update(id, IncidentStatus::Resolved, "This is resolved.", now - 3600, AUTHOR)
            .await?;
    }
    if let Some(first) = ids.first() {
        tx.create_incident(
            org,
            &incident(
                IncidentKind::Incident,
                "Slow searches",
                Impact::Minor,
                IncidentStatus::Identified,
                vec![(*first, ComponentStatus::DegradedPerformance)],
            ),
        )
        .await?;
        tx.set_component_status(org, *first, ComponentStatus::DegradedPerformance)
            .await?;
    }
    tx.create_incident(
        org,
        &incident(
            IncidentKind::Advisory,
            "OpenSSL advisory",
            Impact::None,
            IncidentStatus::Resolved,
            vec![],
        ),
    )
    .await?;
    let window = |title: &str, from: i64| NewMaintenance {
        title: title.into(),
        body: format!("{title}: no downtime expected."),
        scheduled_for: from,
        scheduled_until: from + 2 * 3600,
        auto: true,
        components: ids.iter().take(3).copied().collect(),
        author: AUTHOR.into(),
    };
    tx.create_maintenance(org, &window("Database upgrade", now + 7 * DAY_SECS))
        .await?;
    let done = tx
        .create_maintenance(org, &window("Network change", now - 3 * DAY_SECS))
        .await?;
    tx.add_maintenance_update(
        done,
        MaintenanceStatus::Completed,
        "Done.",
        now - 3 * DAY_SECS + 7200,
        AUTHOR,
    )
    .await?;
    tx.commit().await?;
    store.close().await;
    println!("seeded {components} components in {groups} groups with 90 days of history");
    Ok(())
}
