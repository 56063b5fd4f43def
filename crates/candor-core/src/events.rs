//! What happens in a trust center that people subscribe to: one event type for every kind of
//! notice, so one subscription system (email and webhooks) carries them all.

use serde::{Deserialize, Serialize};

/// A subject a subscriber can follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Incidents and maintenance (all components, or the ones a subscriber chose).
    Status,
    /// Security notices (advisories).
    SecurityNotices,
    /// Subprocessors added, changed or removed.
    Subprocessors,
    /// Policies published, changed or withdrawn.
    Policies,
    /// Certifications and attestations gained, renewed, changed or withdrawn.
    Certifications,
    /// Document access requests waiting for a decision, approved or denied: for the team's own
    /// webhooks only (the payload names the requester), never for email subscribers.
    AccessRequests,
}

impl Topic {
    /// The public topics: what anyone may subscribe to by email.
    pub const ALL: [Topic; 5] = [
        Topic::Status,
        Topic::SecurityNotices,
        Topic::Subprocessors,
        Topic::Policies,
        Topic::Certifications,
    ];

    /// What a webhook endpoint may take: the public topics and the back office's own events.
    pub const WEBHOOK: [Topic; 6] = [
        Topic::Status,
        Topic::SecurityNotices,
        Topic::Subprocessors,
        Topic::Policies,
        Topic::Certifications,
        Topic::AccessRequests,
    ];

    /// Whether anyone may follow it (by email or webhook); otherwise it is the team's own.
    pub fn is_public(self) -> bool {
        self != Topic::AccessRequests
    }

    /// The stable spelling (stored, in forms and in webhook payloads).
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Status => "status",
            Topic::SecurityNotices => "security_notices",
            Topic::Subprocessors => "subprocessors",
            Topic::Policies => "policies",
            Topic::Certifications => "certifications",
            Topic::AccessRequests => "access_requests",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Topic::Status => "Incidents and maintenance",
            Topic::SecurityNotices => "Security notices",
            Topic::Subprocessors => "Subprocessor changes",
            Topic::Policies => "Policy changes",
            Topic::Certifications => "Certification changes",
            Topic::AccessRequests => "Document access requests (names the requester; for your team only)",
        }
    }

    pub fn parse(s: &str) -> Option<Topic> {
        Topic::WEBHOOK.into_iter().find(|t| t.as_str() == s)
    }
}

/// One event to tell subscribers about. Use cases build it inside their transaction and hand it
/// to the fan-out, which queues a mail per matching email subscriber and a delivery per matching
/// webhook endpoint in that same transaction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrustEvent {
    /// The webhook event type, `noun.verb`: `incident.created`, `incident.updated`,
    /// `incident.resolved`, `maintenance.scheduled`, `maintenance.started`,
    /// `maintenance.completed`, `subprocessor.added`, ...
    pub kind: String,
    pub topic: Topic,
    /// The status components concerned; empty when the event is not about components (a status
    /// subscriber who chose components then hears of it only if it concerns one of them).
    pub components: Vec<i64>,
    /// One line: the mail's subject.
    pub title: String,
    /// Plain text for the mail's body.
    pub text: String,
    /// Where on the trust center to read more (a path such as `/status/incidents/12`).
    pub path: String,
    /// The webhook payload's `data`.
    pub data: serde_json::Value,
}
