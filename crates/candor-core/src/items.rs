//! Rules about content items as they are kept and edited, whichever front end edits them: where an
//! item stands between its draft and what visitors see, which other items it must refer to, and
//! which items may be deleted.

use crate::content::{FieldError, Kind};
use crate::contentdir::PROFILE_SLUG;
use serde_json::Value;

/// Where an item stands: a draft only, published as drafted, or published with a newer draft.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemState {
    Draft,
    Published,
    /// Published, and the draft has changed since.
    Changed,
}

impl ItemState {
    /// The state of an item with this draft and this published body (if any).
    pub fn of(draft: &Value, published: Option<&Value>) -> ItemState {
        match published {
            None => ItemState::Draft,
            Some(p) if p == draft => ItemState::Published,
            Some(_) => ItemState::Changed,
        }
    }

    /// The stable name, for the API and for style classes: `draft`, `published`, `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Draft => "draft",
            ItemState::Published => "published",
            ItemState::Changed => "changed",
        }
    }

    /// How the back office says it.
    pub fn label(self) -> &'static str {
        match self {
            ItemState::Draft => "Draft",
            ItemState::Published => "Published",
            ItemState::Changed => "Published, with unpublished changes",
        }
    }
}

/// Another item that a body names and that must exist when it is saved: a control's section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference<'a> {
    /// The field of the body that names it.
    pub field: &'static str,
    pub kind: Kind,
    pub slug: &'a str,
}

impl Reference<'_> {
    /// The error when the named item does not exist.
    pub fn missing(&self) -> FieldError {
        FieldError::new(
            self.field,
            format!(
                "there is no {} with slug {:?}; create it first or use the slug of an existing {}",
                self.kind, self.slug, self.kind
            ),
        )
    }
}

/// The item a validated body of `kind` refers to, if any.
pub fn reference(kind: Kind, body: &Value) -> Option<Reference<'_>> {
    match kind {
        Kind::Control => Some(Reference {
            field: "section",
            kind: Kind::Section,
            slug: body.get("section").and_then(Value::as_str).unwrap_or(""),
        }),
        _ => None,
    }
}

/// Why an item may not be created under this slug, if it may not: there is one profile, and its
/// slug is fixed.
pub fn slug_error(kind: Kind, slug: &str) -> Option<FieldError> {
    (kind == Kind::Profile && slug != PROFILE_SLUG).then(|| {
        FieldError::new(
            "slug",
            format!("there is one organization profile and its slug is {PROFILE_SLUG:?}"),
        )
    })
}

/// Why an item may not be deleted, if it may not: the organization profile is edited, never
/// deleted.
pub fn deletion_refused(kind: Kind) -> Option<&'static str> {
    (kind == Kind::Profile).then_some("the organization profile cannot be deleted; edit it instead")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_follows_the_draft_and_the_published_body() {
        let (a, b) = (json!({"title": "A"}), json!({"title": "B"}));
        assert_eq!(ItemState::of(&a, None), ItemState::Draft);
        assert_eq!(ItemState::of(&a, Some(&a)), ItemState::Published);
        assert_eq!(ItemState::of(&b, Some(&a)), ItemState::Changed);
        let names: Vec<_> = [ItemState::Draft, ItemState::Published, ItemState::Changed]
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect();
        assert_eq!(
            names,
            [
                ("draft", "Draft"),
                ("published", "Published"),
                ("changed", "Published, with unpublished changes")
            ]
        );
    }

    #[test]
    fn only_controls_refer_to_another_item() {
        let control = json!({"section": "encryption", "title": "T"});
        let r = reference(Kind::Control, &control).unwrap();
        assert_eq!((r.kind, r.slug, r.field), (Kind::Section, "encryption", "section"));
        let e = r.missing();
        assert_eq!(e.field, "section");
        assert!(
            e.message.starts_with("there is no section with slug \"encryption\""),
            "{e}"
        );
        for kind in Kind::ALL.into_iter().filter(|k| *k != Kind::Control) {
            assert_eq!(reference(kind, &control), None, "{kind}");
        }
    }

    #[test]
    fn the_profile_has_one_slug_and_is_never_deleted() {
        assert!(slug_error(Kind::Profile, PROFILE_SLUG).is_none());
        assert_eq!(slug_error(Kind::Profile, "other").unwrap().field, "slug");
        assert!(slug_error(Kind::Faq, "other").is_none());
        assert!(deletion_refused(Kind::Profile).is_some());
        assert!(Kind::ALL
            .into_iter()
            .filter(|k| *k != Kind::Profile)
            .all(|k| deletion_refused(k).is_none()));
    }
}
