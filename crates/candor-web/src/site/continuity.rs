//! The business-continuity section's live evidence: the current overall status (from the status
//! page) and the last disaster-recovery drill that passed (`candor dr-drill`), with its measured
//! recovery time and recovery point. A section's prose says what the company intends; these two
//! facts show what it measured.

use super::status::{Banner, Snapshot};
use chrono::DateTime;

/// The section that shows the evidence (`sections/business-continuity.md` in the content
/// directory).
pub const SECTION_SLUG: &str = "business-continuity";

/// The last passing drill, as the section shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct DrillView {
    /// `YYYY-MM-DD`, for `<time datetime>`.
    pub date: String,
    pub date_human: String,
    /// How long the restore and its checks took (the measured RTO).
    pub rto: String,
    /// How old the restored backup was (the measured RPO).
    pub rpo: String,
}

/// What the business-continuity section shows besides its content.
#[derive(Clone, Debug, PartialEq)]
pub struct Continuity {
    /// The overall status, while the status page is in use.
    pub status: Option<Banner>,
    pub drill: Option<DrillView>,
}

/// The evidence for the section `slug`: `None` for any other section, or when there is neither a
/// status in use nor a passing drill.
pub fn of(slug: &str, s: &Snapshot) -> Option<Continuity> {
    if slug != SECTION_SLUG {
        return None;
    }
    let drill = s.last_drill.as_ref().map(|d| {
        let day = DateTime::from_timestamp(d.ran_at, 0).unwrap_or_default().date_naive();
        DrillView {
            date: day.to_string(),
            date_human: super::pages::human_date(day),
            rto: duration(d.rto_ms.max(0) as f64 / 1000.0),
            rpo: duration(d.rpo_secs.max(0) as f64),
        }
    });
    let status = Banner::of(s);
    (status.is_some() || drill.is_some()).then_some(Continuity { status, drill })
}

/// A duration as people say it, to the precision that matters: "0.4 seconds", "12 seconds",
/// "3 minutes 20 seconds", "2 hours 5 minutes", "3 days 4 hours".
pub fn duration(secs: f64) -> String {
    fn unit(n: u64, one: &str) -> String {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    }
    fn pair(big: u64, big_unit: &str, small: u64, small_unit: &str) -> String {
        if small == 0 {
            unit(big, big_unit)
        } else {
            format!("{} {}", unit(big, big_unit), unit(small, small_unit))
        }
    }
    if secs < 10.0 {
        let tenths = (secs * 10.0).round() / 10.0;
        return if tenths == 1.0 {
            "1 second".into()
        } else {
            format!("{tenths} seconds")
        };
    }
    let s = secs.round() as u64;
    match s {
        0..60 => unit(s, "second"),
        60..3600 => pair(s / 60, "minute", s % 60, "second"),
        3600..172_800 => pair(s / 3600, "hour", s % 3600 / 60, "minute"),
        _ => pair(s / 86_400, "day", s % 86_400 / 3600, "hour"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(0.0), "0 seconds");
        assert_eq!(duration(0.43), "0.4 seconds");
        assert_eq!(duration(1.0), "1 second");
        assert_eq!(duration(12.4), "12 seconds");
        assert_eq!(duration(60.0), "1 minute");
        assert_eq!(duration(200.0), "3 minutes 20 seconds");
        assert_eq!(duration(7500.0), "2 hours 5 minutes");
        assert_eq!(duration(3.0 * 86_400.0 + 4.0 * 3600.0), "3 days 4 hours");
    }

    #[test]
    fn only_the_continuity_section_shows_evidence_and_only_when_there_is_some() {
        let mut s = Snapshot::empty();
        assert_eq!(of(SECTION_SLUG, &s), None);
        s.last_drill = Some(candor_store::DrDrill {
            id: 1,
            ran_at: 1_764_763_200, // 2025-12-03 12:00 UTC
            archive: "a".into(),
            backup_taken_at: 1_764_756_000,
            ok: true,
            rto_ms: 2_500,
            rpo_secs: 7_200,
            row_count: 1,
            blob_count: 0,
            audit_entries: 1,
            error: String::new(),
        });
        assert_eq!(of("encryption", &s), None);
        let c = of(SECTION_SLUG, &s).unwrap();
        assert_eq!(c.status, None);
        let d = c.drill.unwrap();
        assert_eq!(
            (d.date.as_str(), d.date_human.as_str(), d.rto.as_str(), d.rpo.as_str()),
            ("2025-12-03", "3 December 2025", "2.5 seconds", "2 hours")
        );
    }
}
