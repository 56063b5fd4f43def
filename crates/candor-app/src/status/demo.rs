//! The demo trust center's status page (Corvellan, a fictional company): components in two
//! groups, 90 days of history with one bad afternoon, a resolved incident with its postmortem,
//! a security notice and a maintenance window next week, so a newcomer sees every part of the
//! page working.

use super::{ComponentDraft, IncidentDraft, MaintenanceDraft, UpdateDraft};
use crate::{Actor, App, Done, Effects, Result};
use candor_core::status::uptime::{day_of, DayTotals, DAY_SECS};
use candor_core::status::{ComponentStatus, Impact, IncidentKind, IncidentStatus};
use candor_store::DemoStatus;

const GROUPS: &[(&str, &[(&str, &str)])] = &[
    (
        "Platform",
        &[
            ("Web application", "The Corvellan app customers sign in to."),
            ("Public API", "REST API and webhooks."),
            ("Single sign-on", "Sign-in through customers' identity providers."),
        ],
    ),
    (
        "Data services",
        &[
            ("File storage", "Uploads and exports."),
            ("Email delivery", "Notifications and reports sent by mail."),
        ],
    ),
];

impl App {
    /// Seeds the demo status page into an organization that has no components yet; does
    /// nothing otherwise. Everything goes through the use cases, audited as `system`.
    pub async fn seed_status_demo(&self, now: i64) -> Result<Done<()>> {
        let mut effects = Effects::default();
        if !self.store().status_components(self.org()).await?.is_empty() {
            return Ok(Done { value: (), effects });
        }
        let system = Actor::System;
        let mut demo = DemoStatus::default();
        let mut ids = vec![];
        for (group, components) in GROUPS {
            let done = self.create_status_group(&system, group).await?;
            demo.groups.push(done.value);
            effects.merge(done.effects);
            for (name, description) in *components {
                let done = self
                    .create_status_component(
                        &system,
                        &ComponentDraft {
                            group_id: Some(done.value),
                            name: (*name).into(),
                            description: (*description).into(),
                            showcase: true,
                            only_show_if_degraded: false,
                        },
                    )
                    .await?;
                ids.push(done.value);
                effects.merge(done.effects);
            }
        }
        let (web, api) = (ids[0], ids[1]);

        // History: 89 quiet days before today, except an API slowdown 12 days ago.
        let bad_day = day_of(now) - 12 * DAY_SECS;
        let mut work = self.begin().await?;
        for &id in &ids {
            for back in 1..90 {
                let day = day_of(now) - back * DAY_SECS;
                let mut totals = DayTotals {
                    observed_secs: DAY_SECS,
                    checks: 4320,
                    ..DayTotals::default()
                };
                if day == bad_day && (id == api || id == web) {
                    totals.partial_secs = if id == api { 47 * 60 } else { 0 };
                    totals.degraded_secs = if id == web { 35 * 60 } else { 0 };
                    totals.failed_checks = if id == api { 141 } else { 0 };
                }
                work.put_status_day(id, day, &totals).await?;
            }
        }
        work.commit().await?;

        let opened = self
            .open_incident(
                &system,
                &IncidentDraft {
                    kind: IncidentKind::Incident,
                    title: "Slow and failing API requests".into(),
                    impact: Impact::Major,
                    status: IncidentStatus::Investigating,
                    body: "Some API requests are timing out. We are investigating.".into(),
                    components: vec![
                        (api, ComponentStatus::PartialOutage),
                        (web, ComponentStatus::DegradedPerformance),
                    ],
                    display_at: Some(bad_day + 14 * 3600),
                },
            )
            .await?;
        effects.merge(opened.effects);
        for (status, body, minutes) in [
            (
                IncidentStatus::Identified,
                "A database index was dropped by a migration; we are rebuilding it.",
                18,
            ),
            (
                IncidentStatus::Monitoring,
                "The index is back and response times are normal. We are watching closely.",
                41,
            ),
            (
                IncidentStatus::Resolved,
                "Requests have been normal for an hour. Resolved.",
                107,
            ),
        ] {
            let done = self
                .post_incident_update(
                    &system,
                    opened.value,
                    &UpdateDraft {
                        status,
                        body: body.into(),
                        display_at: Some(bad_day + 14 * 3600 + minutes * 60),
                        components: None,
                    },
                )
                .await?;
            effects.merge(done.effects);
        }
        let done = self
            .post_incident_update(
                &system,
                opened.value,
                &UpdateDraft {
                    status: IncidentStatus::Postmortem,
                    body: "**What happened.** A schema migration replaced an index on the API's busiest table \
                           without building the new one first, so queries fell back to full scans.\n\n\
                           **What we changed.** Migrations that touch indexes now run against a copy of \
                           production first, and the deploy pipeline refuses a migration that drops an \
                           index without naming its replacement."
                        .into(),
                    display_at: Some(bad_day + 3 * DAY_SECS),
                    components: None,
                },
            )
            .await?;
        effects.merge(done.effects);

        let notice = self
            .open_incident(
                &system,
                &IncidentDraft {
                    kind: IncidentKind::Advisory,
                    title: "TLS library flaw reported this week: not affected".into(),
                    impact: Impact::None,
                    status: IncidentStatus::Resolved,
                    body: "A flaw in a widely used TLS library was published this week. Corvellan's services \
                           use a different implementation and were never exposed. No action is needed."
                        .into(),
                    components: vec![],
                    display_at: Some(now - 5 * DAY_SECS),
                },
            )
            .await?;
        effects.merge(notice.effects);

        let start = day_of(now) + 8 * DAY_SECS + 2 * 3600;
        let maintenance = self
            .schedule_maintenance(
                &system,
                &MaintenanceDraft {
                    title: "Database upgrade".into(),
                    body: "We are moving to a newer database version. The web application and API may \
                           answer slowly for up to ten minutes within the window."
                        .into(),
                    scheduled_for: start,
                    scheduled_until: start + 3600,
                    auto: true,
                    components: vec![web, api],
                },
            )
            .await?;
        effects.merge(maintenance.effects);
        demo.components = ids;
        demo.incidents = vec![opened.value, notice.value];
        demo.maintenances = vec![maintenance.value];
        let mut work = self.begin().await?;
        let org = work.org();
        work.mark_status_demo(org, &demo).await?;
        work.commit().await?;
        let rolled = self.roll_up_uptime(now, 7 * DAY_SECS).await?;
        effects.merge(rolled.effects);
        Ok(Done { value: (), effects })
    }
}
