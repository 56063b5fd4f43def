//! The events of content changes: subprocessors, policies and certifications that became
//! public, changed while public, or stopped being public.

use super::fan_out;
use crate::{Result, Work};
use candor_core::events::{Topic, TrustEvent};
use candor_core::Kind;
use serde_json::{json, Value};

/// The event a content change makes, if any: subprocessors, policies and certifications that
/// became public, changed while public, or stopped being public. `before` and `after` are the
/// published bodies.
fn content_event(kind: Kind, slug: &str, before: Option<&Value>, after: Option<&Value>) -> Option<TrustEvent> {
    let (topic, noun, path, words) = match kind {
        Kind::Subprocessor => (
            Topic::Subprocessors,
            "subprocessor",
            "/subprocessors".to_owned(),
            ["added", "changed", "removed"],
        ),
        Kind::Policy => (
            Topic::Policies,
            "policy",
            format!("/policies/{slug}"),
            ["published", "changed", "withdrawn"],
        ),
        Kind::Certification => (
            Topic::Certifications,
            "certification",
            "/compliance".to_owned(),
            ["added", "changed", "withdrawn"],
        ),
        _ => return None,
    };
    let (verb, body) = match (before, after) {
        (None, Some(a)) => (words[0], a),
        (Some(b), Some(a)) if b != a => (words[1], a),
        (Some(b), None) => (words[2], b),
        _ => return None,
    };
    let title = kind.title_of(body);
    let label = match kind {
        Kind::Subprocessor => "Subprocessor",
        Kind::Policy => "Policy",
        _ => "Certification",
    };
    let text = match kind {
        Kind::Subprocessor => {
            let purpose = body.get("purpose").and_then(Value::as_str).unwrap_or("");
            let places = body
                .get("locations")
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            let mut t = format!("{label} {verb}: {title}.");
            if !purpose.is_empty() {
                t.push_str(&format!("\n\nPurpose: {purpose}"));
            }
            if !places.is_empty() {
                t.push_str(&format!("\nLocations: {places}"));
            }
            t
        }
        _ => format!("{label} {verb}: {title}."),
    };
    Some(TrustEvent {
        kind: format!("{noun}.{verb}"),
        topic,
        components: vec![],
        title: format!("{label} {verb}: {title}"),
        text,
        // A withdrawn policy has no page any more.
        path: if verb == "withdrawn" && kind == Kind::Policy {
            "/policies".to_owned()
        } else {
            path
        },
        data: json!({"kind": kind.as_str(), "slug": slug, "change": verb, kind.as_str(): body}),
    })
}

/// Fans out the event of a content change (see [`content_event`]), if it makes one.
pub(crate) async fn content_changed(
    work: &mut Work,
    kind: Kind,
    slug: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<()> {
    match content_event(kind, slug, before, after) {
        Some(event) => fan_out(work, &event).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_changes_make_events_only_when_the_public_side_changes() {
        let a = json!({"name": "Acme Mail", "purpose": "Email delivery", "locations": ["EU"]});
        let b = json!({"name": "Acme Mail", "purpose": "Email and SMS", "locations": ["EU"]});
        let e = content_event(Kind::Subprocessor, "acme", None, Some(&a)).unwrap();
        assert_eq!(e.kind, "subprocessor.added");
        assert_eq!(e.topic, Topic::Subprocessors);
        assert!(e.text.contains("Email delivery") && e.text.contains("EU"));
        assert_eq!(e.data["subprocessor"]["name"], "Acme Mail");
        assert_eq!(
            content_event(Kind::Subprocessor, "acme", Some(&a), Some(&b))
                .unwrap()
                .kind,
            "subprocessor.changed"
        );
        assert_eq!(
            content_event(Kind::Subprocessor, "acme", Some(&a), None).unwrap().kind,
            "subprocessor.removed"
        );
        assert!(content_event(Kind::Subprocessor, "acme", Some(&a), Some(&a)).is_none());
        assert!(content_event(Kind::Subprocessor, "acme", None, None).is_none());
        assert!(content_event(Kind::Faq, "q", None, Some(&a)).is_none());
        let p = json!({"title": "Privacy"});
        let w = content_event(Kind::Policy, "privacy", Some(&p), None).unwrap();
        assert_eq!((w.kind.as_str(), w.path.as_str()), ("policy.withdrawn", "/policies"));
        assert_eq!(
            content_event(Kind::Certification, "iso", None, Some(&json!({"name": "ISO 27001"})))
                .unwrap()
                .topic,
            Topic::Certifications
        );
    }
}
