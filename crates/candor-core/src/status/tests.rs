use super::uptime::*;
use super::*;
use proptest::prelude::*;

fn component_status() -> impl Strategy<Value = ComponentStatus> {
    prop::sample::select(ComponentStatus::ALL.to_vec())
}
fn incident_status() -> impl Strategy<Value = IncidentStatus> {
    prop::sample::select(IncidentStatus::ALL.to_vec())
}
fn maintenance_status() -> impl Strategy<Value = MaintenanceStatus> {
    prop::sample::select(MaintenanceStatus::ALL.to_vec())
}
fn impact() -> impl Strategy<Value = Impact> {
    prop::sample::select(Impact::ALL.to_vec())
}

#[test]
fn spellings_are_statuspages() {
    let names = |all: &[&str]| all.join(",");
    assert_eq!(
        names(&ComponentStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        "operational,under_maintenance,degraded_performance,partial_outage,major_outage"
    );
    assert_eq!(
        names(&IncidentStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        "investigating,identified,monitoring,resolved,postmortem"
    );
    assert_eq!(
        names(&MaintenanceStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        "scheduled,in_progress,verifying,completed"
    );
    assert_eq!(
        names(&Indicator::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        "none,minor,major,critical"
    );
    for s in ComponentStatus::ALL {
        assert_eq!(ComponentStatus::parse(s.as_str()), Some(*s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
}

#[test]
fn incidents_move_forward_and_can_be_reopened() {
    use IncidentStatus::*;
    assert!(incident_transition(Investigating, Resolved).is_ok());
    assert!(incident_transition(Monitoring, Monitoring).is_ok());
    assert!(incident_transition(Resolved, Investigating).is_ok(), "reopen");
    assert!(incident_transition(Resolved, Postmortem).is_ok());
    let back = incident_transition(Monitoring, Identified).unwrap_err();
    assert!(back.0.contains("cannot go back"), "{back}");
    assert!(incident_transition(Monitoring, Postmortem)
        .unwrap_err()
        .0
        .contains("resolve"));
    assert!(incident_transition(Postmortem, Investigating).is_err());
}

#[test]
fn maintenance_runs_on_its_own_clock() {
    use MaintenanceStatus::*;
    assert_eq!(maintenance_due(Scheduled, 100, 200, 99, true), None);
    assert_eq!(maintenance_due(Scheduled, 100, 200, 100, true), Some(InProgress));
    assert_eq!(maintenance_due(InProgress, 100, 200, 150, true), None);
    assert_eq!(maintenance_due(Verifying, 100, 200, 200, true), Some(Completed));
    assert_eq!(
        maintenance_due(Scheduled, 100, 200, 500, true),
        Some(Completed),
        "a window missed entirely"
    );
    assert_eq!(maintenance_due(Scheduled, 100, 200, 150, false), None);
}

#[test]
fn overall_status_is_the_worst_of_components_and_incidents() {
    use ComponentStatus::*;
    assert_eq!(overall_indicator(&[], &[]), Indicator::None);
    assert_eq!(
        overall_indicator(&[Operational, UnderMaintenance], &[]),
        Indicator::None
    );
    assert_eq!(
        overall_indicator(&[Operational, PartialOutage], &[Impact::Minor]),
        Indicator::Major
    );
    assert_eq!(
        overall_indicator(&[Operational], &[Impact::Critical]),
        Indicator::Critical
    );
    assert_eq!(overall_description(Indicator::None, true), "Service under maintenance");
}

#[test]
fn a_day_is_split_at_midnight() {
    use ComponentStatus::*;
    let day = 10 * DAY_SECS;
    let days = split_by_day(
        Operational,
        &[(day - 600, MajorOutage), (day + 900, Operational)],
        day - 3600,
        day + 3600,
    );
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].0, day - DAY_SECS);
    assert_eq!((days[0].1.observed_secs, days[0].1.major_secs), (3600, 600));
    assert_eq!((days[1].1.observed_secs, days[1].1.major_secs), (3600, 900));
    assert_eq!(format_percent(uptime_percent(&[days[0].1]).unwrap()), "83.33%");
    assert_eq!(format_percent(99.999), "99.99%", "never rounded up to a perfect score");
    assert_eq!(uptime_percent(&[]), None);
}

proptest! {
    /// Whatever path an incident takes through allowed updates, a postmortem is final and it
    /// reaches postmortem only through resolved.
    #[test]
    fn incident_paths_respect_the_rules(steps in prop::collection::vec(incident_status(), 0..20)) {
        let mut at = IncidentStatus::Investigating;
        let mut seen_resolved = false;
        for to in steps {
            if incident_transition(at, to).is_ok() {
                if to == IncidentStatus::Postmortem && at != IncidentStatus::Postmortem {
                    prop_assert_eq!(at, IncidentStatus::Resolved);
                }
                if at == IncidentStatus::Postmortem {
                    prop_assert_eq!(to, IncidentStatus::Postmortem);
                }
                seen_resolved |= to == IncidentStatus::Resolved;
                at = to;
            }
        }
        if at == IncidentStatus::Postmortem {
            prop_assert!(seen_resolved);
        }
    }

    /// Maintenance never goes backwards, whether moved by hand or by its clock.
    #[test]
    fn maintenance_never_goes_back(
        steps in prop::collection::vec((maintenance_status(), 0i64..400), 0..20),
        start in 0i64..200, len in 1i64..200,
    ) {
        let mut at = MaintenanceStatus::Scheduled;
        for (to, now) in steps {
            let next = maintenance_due(at, start, start + len, now, true).unwrap_or(to);
            if maintenance_transition(at, next).is_ok() {
                prop_assert!(next >= at);
                at = next;
            }
        }
    }

    /// The overall status is never better than any component or open incident, and is one of
    /// them (or none).
    #[test]
    fn overall_is_the_worst(
        components in prop::collection::vec(component_status(), 0..10),
        impacts in prop::collection::vec(impact(), 0..5),
    ) {
        let overall = overall_indicator(&components, &impacts);
        for c in &components { prop_assert!(overall >= c.indicator()); }
        for i in &impacts { prop_assert!(overall >= i.indicator()); }
        let candidates: Vec<Indicator> = components.iter().map(|c| c.indicator())
            .chain(impacts.iter().map(|i| i.indicator())).chain([Indicator::None]).collect();
        prop_assert!(candidates.contains(&overall));
    }

    /// Splitting by day loses and invents no time, and uptime stays a percentage.
    #[test]
    fn days_add_up(
        initial in component_status(),
        mut changes in prop::collection::vec((0i64..400_000, component_status()), 0..30),
        from in 0i64..200_000, len in 0i64..300_000,
    ) {
        changes.sort_by_key(|c| c.0);
        let days = split_by_day(initial, &changes, from, from + len);
        let observed: i64 = days.iter().map(|d| d.1.observed_secs).sum();
        prop_assert_eq!(observed, len);
        for (day, totals) in &days {
            prop_assert_eq!(*day % DAY_SECS, 0);
            prop_assert!(totals.observed_secs <= DAY_SECS);
            prop_assert!(totals.degraded_secs + totals.partial_secs + totals.major_secs + totals.maintenance_secs <= totals.observed_secs);
        }
        let totals: Vec<DayTotals> = days.iter().map(|d| d.1).collect();
        if let Some(p) = uptime_percent(&totals) {
            prop_assert!((0.0..=100.0).contains(&p));
        }
    }

    /// Maintenance shows only over statuses no worse than degraded.
    #[test]
    fn maintenance_never_hides_an_outage(set in component_status(), running in any::<bool>()) {
        let shown = shown_component_status(set, running);
        if set >= ComponentStatus::PartialOutage { prop_assert_eq!(shown, set); }
        if !running { prop_assert_eq!(shown, set); }
    }
}

#[test]
fn maintenance_shows_over_operational_time_only() {
    use ComponentStatus::*;
    let (first, changes) = overlay_maintenance(
        Operational,
        &[(50, MajorOutage), (70, Operational)],
        &[(40, Some(100))],
        0,
    );
    assert_eq!(first, Operational);
    assert_eq!(
        changes,
        vec![
            (40, UnderMaintenance),
            (50, MajorOutage),
            (70, UnderMaintenance),
            (100, Operational)
        ]
    );
    let (first, changes) = overlay_maintenance(Operational, &[], &[(0, None)], 10);
    assert_eq!((first, changes), (UnderMaintenance, vec![]));
}
