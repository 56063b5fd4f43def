//! The status page's model and rules: component statuses, incidents and their timeline,
//! scheduled maintenance, and how they add up to the page's overall status.
//!
//! The value sets and their spellings are Atlassian Statuspage's, so the JSON that Candor
//! publishes at `/api/v2/*.json` works with the widgets, exporters and clients written for it.
//! Everything here is pure: the store keeps these values, the use cases ask these functions
//! whether a change is allowed and what follows from it.

pub mod monitor;
pub mod uptime;

use serde::{Deserialize, Serialize};

/// Declares a closed set of values with its stable spelling (Statuspage's) and its label for
/// people. `ALL` lists them in order of increasing severity or progress.
macro_rules! value_set {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $spelling:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable spelling (stored, and published in the JSON).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $spelling,)+ }
            }

            /// How a person reads it.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($spelling => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

value_set! {
    /// How a component is doing. Ordered from best to worst; maintenance sits apart (see
    /// [`ComponentStatus::severity`]).
    ComponentStatus {
        Operational = "operational", "Operational";
        UnderMaintenance = "under_maintenance", "Under maintenance";
        DegradedPerformance = "degraded_performance", "Degraded performance";
        PartialOutage = "partial_outage", "Partial outage";
        MajorOutage = "major_outage", "Major outage";
    }
}

value_set! {
    /// How much an incident hurts customers, as its authors judge it.
    Impact {
        None = "none", "None";
        Minor = "minor", "Minor";
        Major = "major", "Major";
        Critical = "critical", "Critical";
    }
}

value_set! {
    /// Where an incident stands. Updates move it forward; see [`incident_transition`].
    IncidentStatus {
        Investigating = "investigating", "Investigating";
        Identified = "identified", "Identified";
        Monitoring = "monitoring", "Monitoring";
        Resolved = "resolved", "Resolved";
        Postmortem = "postmortem", "Postmortem";
    }
}

value_set! {
    /// What an incident is: an availability incident, or a security notice (an advisory),
    /// which has its own list and its own subscription topic.
    IncidentKind {
        Incident = "incident", "Incident";
        Advisory = "advisory", "Security notice";
    }
}

value_set! {
    /// Where a maintenance window stands; see [`maintenance_transition`] and [`maintenance_due`].
    MaintenanceStatus {
        Scheduled = "scheduled", "Scheduled";
        InProgress = "in_progress", "In progress";
        Verifying = "verifying", "Verifying";
        Completed = "completed", "Completed";
    }
}

value_set! {
    /// The page's overall status (`status.indicator` in the JSON).
    Indicator {
        None = "none", "All systems operational";
        Minor = "minor", "Minor service disruption";
        Major = "major", "Partial system outage";
        Critical = "critical", "Major system outage";
    }
}

impl ComponentStatus {
    /// How bad this is for the overall status: maintenance is planned, so it counts as nothing.
    pub fn indicator(self) -> Indicator {
        match self {
            ComponentStatus::Operational | ComponentStatus::UnderMaintenance => Indicator::None,
            ComponentStatus::DegradedPerformance => Indicator::Minor,
            ComponentStatus::PartialOutage => Indicator::Major,
            ComponentStatus::MajorOutage => Indicator::Critical,
        }
    }

    /// Whether customers feel it (anything but operational and planned maintenance).
    pub fn is_disrupted(self) -> bool {
        self.indicator() != Indicator::None
    }
}

impl Impact {
    pub fn indicator(self) -> Indicator {
        match self {
            Impact::None => Indicator::None,
            Impact::Minor => Indicator::Minor,
            Impact::Major => Indicator::Major,
            Impact::Critical => Indicator::Critical,
        }
    }
}

impl IncidentStatus {
    /// Resolved and postmortem incidents are history; the others are shown as active.
    pub fn is_open(self) -> bool {
        !matches!(self, IncidentStatus::Resolved | IncidentStatus::Postmortem)
    }
}

impl MaintenanceStatus {
    pub fn is_active(self) -> bool {
        matches!(self, MaintenanceStatus::InProgress | MaintenanceStatus::Verifying)
    }
}

/// Why a status change was refused; the message says what is allowed instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransitionRefused(pub String);

/// Whether an incident may go from `from` to `to` with an update.
///
/// An update may keep the status (a new message) or move it forward, skipping steps
/// (investigating → resolved is a quick fix). A resolved incident may be reopened (back to
/// investigating, identified or monitoring) or given its postmortem; a postmortem is final,
/// though it may be amended.
pub fn incident_transition(from: IncidentStatus, to: IncidentStatus) -> Result<(), TransitionRefused> {
    use IncidentStatus::*;
    let allowed = match (from, to) {
        (Postmortem, Postmortem) => true,
        (Postmortem, _) => false,
        (Resolved, _) => true,
        (_, Postmortem) => false,
        (from, to) => to >= from,
    };
    if allowed {
        Ok(())
    } else {
        let why = match (from, to) {
            (Postmortem, _) => {
                "the incident has its postmortem: it is closed; amend the postmortem or open a new incident".to_owned()
            }
            (_, Postmortem) => "a postmortem follows resolution: resolve the incident first".to_owned(),
            _ => format!(
                "an incident that is {} cannot go back to {}; resolve it and reopen it if it has started again",
                from.label().to_lowercase(),
                to.label().to_lowercase()
            ),
        };
        Err(TransitionRefused(why))
    }
}

/// Whether a maintenance window may go from `from` to `to`: forward only, steps may be skipped
/// (scheduled → completed ends one that needed no work), and a completed window stays completed.
pub fn maintenance_transition(from: MaintenanceStatus, to: MaintenanceStatus) -> Result<(), TransitionRefused> {
    if from == MaintenanceStatus::Completed && to != MaintenanceStatus::Completed {
        return Err(TransitionRefused(
            "the maintenance is completed; schedule a new window instead".into(),
        ));
    }
    if to < from {
        return Err(TransitionRefused(format!(
            "maintenance that is {} cannot go back to {}",
            from.label().to_lowercase(),
            to.label().to_lowercase()
        )));
    }
    Ok(())
}

/// The status a maintenance window moves to by itself at `now`, if any: it starts when its
/// window opens and completes when the window closes (a window still being verified at its end
/// completes too). `auto` is false for windows whose owner moves them by hand.
pub fn maintenance_due(
    status: MaintenanceStatus,
    scheduled_for: i64,
    scheduled_until: i64,
    now: i64,
    auto: bool,
) -> Option<MaintenanceStatus> {
    if !auto {
        return None;
    }
    match status {
        MaintenanceStatus::Scheduled if now >= scheduled_until => Some(MaintenanceStatus::Completed),
        MaintenanceStatus::Scheduled if now >= scheduled_for => Some(MaintenanceStatus::InProgress),
        MaintenanceStatus::InProgress | MaintenanceStatus::Verifying if now >= scheduled_until => {
            Some(MaintenanceStatus::Completed)
        }
        _ => None,
    }
}

/// The overall status: the worst of the components' statuses and of the open incidents'
/// impacts. Maintenance alone leaves it at `none`; [`overall_description`] says so.
pub fn overall_indicator(components: &[ComponentStatus], open_incident_impacts: &[Impact]) -> Indicator {
    let worst_component = components.iter().map(|c| c.indicator()).max();
    let worst_incident = open_incident_impacts.iter().map(|i| i.indicator()).max();
    worst_component
        .into_iter()
        .chain(worst_incident)
        .max()
        .unwrap_or(Indicator::None)
}

/// The banner's words (`status.description` in the JSON).
pub fn overall_description(indicator: Indicator, maintenance_running: bool) -> &'static str {
    match indicator {
        Indicator::None if maintenance_running => "Service under maintenance",
        Indicator::None => "All systems operational",
        Indicator::Minor => "Minor service disruption",
        Indicator::Major => "Partial system outage",
        Indicator::Critical => "Major system outage",
    }
}

/// The status a component shows: the status its owners (or its monitors) set, unless a running
/// maintenance window covers it and nothing worse than degraded performance is going on.
pub fn shown_component_status(set: ComponentStatus, in_maintenance: bool) -> ComponentStatus {
    if in_maintenance && set <= ComponentStatus::DegradedPerformance {
        ComponentStatus::UnderMaintenance
    } else {
        set
    }
}

#[cfg(test)]
mod tests;
