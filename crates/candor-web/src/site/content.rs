//! The published content of a trust center, typed and in display order.

use candor_core::{Certification, Control, Cookie, Faq, Page, Policy, Profile, Section, Subprocessor};
use candor_store::Item;
use chrono::NaiveDate;

/// An item's metadata beside its typed body.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<T> {
    pub slug: String,
    pub updated: NaiveDate,
    pub body: T,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SectionEntry {
    pub section: Entry<Section>,
    /// The controls this audience may read, in control order: public ones only in the public
    /// site's [`Published`]; NDA ones too (`body.visibility`) in a signed-in viewer's.
    pub controls: Vec<Entry<Control>>,
}

/// Everything visitors may see (or, made by `Source::published_for_viewers`, everything a
/// signed-in viewer with a live grant may see).
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    pub profile: Entry<Profile>,
    pub sections: Vec<SectionEntry>,
    pub certifications: Vec<Entry<Certification>>,
    pub subprocessors: Vec<Entry<Subprocessor>>,
    pub policies: Vec<Entry<Policy>>,
    pub faq: Vec<Entry<Faq>>,
    pub cookies: Vec<Entry<Cookie>>,
    pub pages: Vec<Entry<Page>>,
    /// Documents visitors can see listed (public and NDA ones with a file).
    pub documents: Vec<super::library::ListedDocument>,
}

impl Published {
    /// Sorts published items (already in position order from the store) into the typed model.
    pub fn from_items(items: &[Item], today: NaiveDate) -> Published {
        super::source::Source::from_items(items, vec![]).published(today)
    }

    /// Nothing published (the placeholder profile, dated the earliest day).
    pub fn empty() -> Published {
        super::source::Source::default().published(NaiveDate::MIN)
    }

    /// The newest "updated" date of anything published.
    pub fn last_updated(&self) -> NaiveDate {
        let mut d = self.profile.updated;
        for s in &self.sections {
            d = d.max(s.section.updated);
            for c in &s.controls {
                d = d.max(c.updated);
            }
        }
        for x in self
            .certifications
            .iter()
            .map(|e| e.updated)
            .chain(self.subprocessors.iter().map(|e| e.updated))
            .chain(self.policies.iter().map(|e| e.updated))
            .chain(self.pages.iter().map(|e| e.updated))
        {
            d = d.max(x);
        }
        d
    }
}

/// Shown until an organization profile is published.
pub(super) fn placeholder_profile() -> Profile {
    Profile {
        name: "Candor".into(),
        tagline: "This trust center has not been set up yet.".into(),
        description: "Sign in to the back office at /admin to publish an organization profile.".into(),
        website: None,
        logo_url: None,
        brand_color: "#1d4ed8".into(),
        security_email: "security@example.com".into(),
        privacy_email: "privacy@example.com".into(),
        support_email: "support@example.com".into(),
        hosting_regions: vec![],
        status_url: None,
    }
}
