use super::*;
use proptest::prelude::*;

fn form(pairs: &[(&str, &str)]) -> MonitorForm {
    let mut f = MonitorForm::blank();
    f.name = "API".into();
    f.component = "3".into();
    f.target = "https://api.example.com/health".into();
    for (k, v) in pairs {
        let slot = match *k {
            "name" => &mut f.name,
            "component" => &mut f.component,
            "kind" => &mut f.kind,
            "target" => &mut f.target,
            "method" => &mut f.method,
            "expected_status" => &mut f.expected_status,
            "body_contains" => &mut f.body_contains,
            "latency_ms" => &mut f.latency_ms,
            "cert_expiry_days" => &mut f.cert_expiry_days,
            "min_tls" => &mut f.min_tls,
            "interval_secs" => &mut f.interval_secs,
            "timeout_ms" => &mut f.timeout_ms,
            "failures_before_down" => &mut f.failures_before_down,
            "down_status" => &mut f.down_status,
            "auto_incident" => &mut f.auto_incident,
            "enabled" => &mut f.enabled,
            other => panic!("no field {other}"),
        };
        *slot = (*v).to_owned();
    }
    f
}

/// The one error of a form that should have exactly one, by field.
fn only_error(pairs: &[(&str, &str)]) -> FieldError {
    let errors = form(pairs).parse().unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn a_filled_form_gives_its_monitor_and_back() {
    let draft = form(&[
        ("body_contains", "ok"),
        ("latency_ms", "800"),
        ("cert_expiry_days", "14"),
        ("min_tls", "1.3"),
        ("auto_incident", "on"),
        ("down_status", "partial_outage"),
    ])
    .parse()
    .unwrap();
    assert_eq!(draft.component_id, 3);
    assert!(draft.enabled);
    let s = &draft.spec;
    assert_eq!(s.kind, MonitorKind::Http);
    assert_eq!(s.settings.latency_ms, Some(800));
    assert_eq!(s.settings.min_tls, TlsVersion::V1_3);
    assert_eq!(s.down_status, ComponentStatus::PartialOutage);
    assert!(s.auto_incident && s.uses_tls());
    assert_eq!(MonitorForm::of(&draft).parse().unwrap(), draft);
    let json = serde_json::to_string(&s.settings).unwrap();
    assert_eq!(serde_json::from_str::<CheckSettings>(&json).unwrap(), s.settings);
    assert!(json.contains("\"min_tls\":\"1.3\""), "{json}");
}

#[test]
fn every_bad_field_is_named_with_its_fix() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (&[("name", " ")], "name", "Give the monitor a name"),
        (&[("component", "x")], "component", "Choose the component"),
        (&[("kind", "ping")], "kind", "http, tcp or tls"),
        (&[("target", "ftp://x.example")], "target", "http:// or https://"),
        (
            &[("target", "https://u:p@x.example/")],
            "target",
            "user name or password",
        ),
        (&[("kind", "tcp"), ("target", "db.example.com")], "target", "host:port"),
        (&[("kind", "tcp"), ("target", "::1:5432")], "target", "brackets"),
        (&[("method", "BREW")], "method", "GET, HEAD"),
        (&[("expected_status", "700")], "expected_status", "100 to 599"),
        (&[("method", "HEAD"), ("body_contains", "ok")], "body_contains", "HEAD"),
        (&[("interval_secs", "5")], "interval_secs", "from 10"),
        (
            &[("interval_secs", "10"), ("timeout_ms", "10000")],
            "timeout_ms",
            "below the interval",
        ),
        (&[("latency_ms", "20000")], "latency_ms", "below the timeout"),
        (
            &[("target", "http://x.example/"), ("cert_expiry_days", "7")],
            "cert_expiry_days",
            "TLS",
        ),
        (&[("cert_expiry_days", "0")], "cert_expiry_days", "1 to 365"),
        (&[("min_tls", "1.1")], "min_tls", "1.2 or 1.3"),
        (&[("failures_before_down", "0")], "failures_before_down", "from 1"),
        (&[("down_status", "operational")], "down_status", "partial_outage"),
        (&[("down_status", "under_maintenance")], "down_status", "major_outage"),
    ];
    for (pairs, field, fix) in cases {
        let e = only_error(pairs);
        assert_eq!(e.field, *field, "{pairs:?}: {e}");
        assert!(e.message.contains(fix), "{pairs:?}: {e}");
    }
    let all = form(&[("name", ""), ("interval_secs", "x"), ("kind", "")])
        .parse()
        .unwrap_err();
    assert_eq!(all.len(), 3, "every problem at once: {all:?}");
}

#[test]
fn targets_give_their_endpoint() {
    let d = form(&[("target", "https://API.example.com:8443/h?x=1")])
        .parse()
        .unwrap();
    let e = d.spec.endpoint().unwrap();
    assert_eq!((e.host.as_str(), e.port, e.tls), ("api.example.com", 8443, true));
    assert_eq!(e.path, "/h?x=1");
    assert_eq!(e.host_header, "api.example.com:8443");
    let d = form(&[("target", "http://[::1]")]).parse().unwrap();
    let e = d.spec.endpoint().unwrap();
    assert_eq!(
        (e.host.as_str(), e.port, e.tls, e.path.as_str()),
        ("::1", 80, false, "/")
    );
    let d = form(&[
        ("kind", "tls"),
        ("target", "[2001:db8::1]:443"),
        ("cert_expiry_days", "10"),
    ])
    .parse()
    .unwrap();
    let e = d.spec.endpoint().unwrap();
    assert_eq!((e.host.as_str(), e.port, e.tls), ("2001:db8::1", 443, true));
    let d = form(&[("kind", "tcp"), ("target", "db.example.com:5432")])
        .parse()
        .unwrap();
    assert!(!d.spec.uses_tls());
    assert_eq!(d.spec.endpoint().unwrap().port, 5432);
}

fn spec_step(streak: Streak, n: u32, outcome: CheckStatus) -> Step {
    step(streak, n, outcome, ComponentStatus::MajorOutage, true)
}

#[test]
fn the_state_machine_by_example() {
    use CheckStatus::*;
    let mut s = Streak::default();
    let mut changes = vec![];
    for outcome in [Down, Down, Down, Degraded, Down, Up, Degraded, Degraded] {
        let step = spec_step(s, 2, outcome);
        changes.push((step.set_status, step.incident));
        s = step.streak;
    }
    use ComponentStatus::*;
    assert_eq!(
        changes,
        vec![
            (None, None),
            (Some(MajorOutage), Some(IncidentMove::Open)),
            (None, None),
            (Some(DegradedPerformance), None),
            (None, None),
            (Some(Operational), Some(IncidentMove::Resolve)),
            (None, None),
            (Some(DegradedPerformance), None),
        ]
    );
    // Without automatic incidents nothing opens, but recovery still resolves any the monitor had.
    let down = step(Streak::default(), 1, Down, PartialOutage, false);
    assert_eq!((down.set_status, down.incident), (Some(PartialOutage), None));
    let up = step(down.streak, 1, Up, PartialOutage, false);
    assert_eq!(up.incident, Some(IncidentMove::Resolve));
}

fn outcome() -> impl Strategy<Value = CheckStatus> {
    prop::sample::select(CheckStatus::ALL.to_vec())
}

fn up_or_down() -> impl Strategy<Value = CheckStatus> {
    prop::sample::select(vec![CheckStatus::Up, CheckStatus::Down])
}

/// The length of the run of `Down` results that ends at each position.
fn runs(outcomes: &[CheckStatus]) -> Vec<u32> {
    let mut run = 0;
    outcomes
        .iter()
        .map(|o| {
            run = if *o == CheckStatus::Down { run + 1 } else { 0 };
            run
        })
        .collect()
}

proptest! {
    /// Up and down results only: the component goes down exactly when a run of down results
    /// reaches N, and at no other check.
    #[test]
    fn down_after_exactly_n_consecutive_failures(n in 1u32..6, outcomes in prop::collection::vec(up_or_down(), 0..60)) {
        let mut s = Streak::default();
        for (o, run) in outcomes.iter().zip(runs(&outcomes)) {
            let step = spec_step(s, n, *o);
            let went_down = step.set_status == Some(ComponentStatus::MajorOutage);
            prop_assert_eq!(went_down, run == n, "run {} of threshold {}", run, n);
            prop_assert_eq!(step.incident == Some(IncidentMove::Open), run == n);
            s = step.streak;
        }
    }

    /// From any state reachable by any results, one up check recovers: operational, streaks
    /// cleared, and the incident resolved if the monitor had changed anything.
    #[test]
    fn one_success_recovers(n in 1u32..6, outcomes in prop::collection::vec(outcome(), 0..60)) {
        let mut s = Streak::default();
        for o in &outcomes {
            s = spec_step(s, n, *o).streak;
        }
        let step = spec_step(s, n, CheckStatus::Up);
        prop_assert_eq!(step.streak, Streak::default());
        if s.verdict == Verdict::Up {
            prop_assert_eq!((step.set_status, step.incident), (None, None));
        } else {
            prop_assert_eq!(step.set_status, Some(ComponentStatus::Operational));
            prop_assert_eq!(step.incident, Some(IncidentMove::Resolve));
        }
    }

    /// Results that alternate, or otherwise never stay bad for N checks in a row, change nothing.
    #[test]
    fn no_flapping_below_the_threshold(n in 2u32..6, outcomes in prop::collection::vec(outcome(), 0..80)) {
        let mut s = Streak::default();
        let mut troubled = 0;
        for o in &outcomes {
            troubled = if *o == CheckStatus::Up { 0 } else { troubled + 1 };
            // Keep the run of bad results below the threshold: turn the one that would reach it up.
            let o = if troubled >= n { troubled = 0; CheckStatus::Up } else { *o };
            let step = spec_step(s, n, o);
            prop_assert_eq!((step.set_status, step.incident), (None, None));
            s = step.streak;
        }
    }

    /// Whatever happens: a status change comes with a changed verdict; a monitor that changed
    /// anything has seen at least N bad results in a row; down means N failures in a row.
    #[test]
    fn invariants_hold(n in 1u32..6, outcomes in prop::collection::vec(outcome(), 0..80)) {
        let mut s = Streak::default();
        for o in &outcomes {
            let step = spec_step(s, n, *o);
            prop_assert_eq!(step.set_status.is_some(), step.streak.verdict != s.verdict);
            prop_assert!(step.streak.failures <= step.streak.troubled);
            if step.streak.verdict != Verdict::Up {
                prop_assert!(step.streak.troubled >= n);
            }
            if step.streak.verdict == Verdict::Down {
                prop_assert!(step.streak.failures >= n);
            }
            s = step.streak;
        }
    }
}
