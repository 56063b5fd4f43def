//! The published content of a trust center, typed and in display order.

use candor_core::contentdir::PROFILE_SLUG;
use candor_core::{
    Certification, Control, Cookie, Faq, Kind, Page, Policy, Profile, Section, Subprocessor, Visibility,
};
use candor_store::Item;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;

/// An item's metadata beside its typed body.
#[derive(Clone, Debug)]
pub struct Entry<T> {
    pub slug: String,
    pub updated: NaiveDate,
    pub body: T,
}

#[derive(Clone, Debug)]
pub struct SectionEntry {
    pub section: Entry<Section>,
    /// Public controls only: NDA controls wait for the gated-documents work.
    pub controls: Vec<Entry<Control>>,
}

/// Everything visitors may see.
#[derive(Clone, Debug)]
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

fn entries<T: DeserializeOwned>(items: &[Item], kind: Kind) -> Vec<Entry<T>> {
    items
        .iter()
        .filter(|i| i.kind == kind)
        .filter_map(|i| {
            let body = i.published.as_ref()?;
            match serde_json::from_value(body.clone()) {
                Ok(b) => Some(Entry { slug: i.slug.clone(), updated: i.updated, body: b }),
                Err(e) => {
                    // Bodies are validated on the way in; a bad one is skipped, not fatal.
                    tracing::error!(item.kind = %kind, item.slug = %i.slug, error = %e, "published item does not parse");
                    None
                }
            }
        })
        .collect()
}

impl Published {
    /// Sorts published items (already in position order from the store) into the typed model.
    pub fn from_items(items: &[Item], today: NaiveDate) -> Published {
        let profile = entries::<Profile>(items, Kind::Profile)
            .into_iter()
            .find(|e| e.slug == PROFILE_SLUG)
            .unwrap_or_else(|| Entry {
                slug: PROFILE_SLUG.into(),
                updated: today,
                body: placeholder_profile(),
            });
        let controls = entries::<Control>(items, Kind::Control);
        let mut sections: Vec<SectionEntry> = entries::<Section>(items, Kind::Section)
            .into_iter()
            .map(|section| {
                let controls = controls
                    .iter()
                    .filter(|c| c.body.section == section.slug && c.body.visibility == Visibility::Public)
                    .cloned()
                    .collect();
                SectionEntry { section, controls }
            })
            .collect();
        sections.retain(|s| !s.controls.is_empty() || !s.section.body.body.is_empty());
        let mut policies = entries::<Policy>(items, Kind::Policy);
        policies.sort_by(|a, b| a.body.title.cmp(&b.body.title));
        let mut pages = entries::<Page>(items, Kind::Page);
        pages.sort_by(|a, b| a.body.title.cmp(&b.body.title));
        Published {
            profile,
            sections,
            certifications: entries(items, Kind::Certification),
            subprocessors: entries(items, Kind::Subprocessor),
            policies,
            faq: entries(items, Kind::Faq),
            cookies: entries(items, Kind::Cookie),
            pages,
            documents: vec![],
        }
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
fn placeholder_profile() -> Profile {
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
    }
}
