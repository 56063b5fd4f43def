//! What a site is rendered from, as read from the store: every published item, typed, in the
//! store's order, and the listed documents. [`Published`] is derived from it; an incremental
//! update patches it with the few items it reads again and derives `Published` anew.

use super::content::{Entry, Published, SectionEntry};
use super::library::ListedDocument;
use candor_core::contentdir::PROFILE_SLUG;
use candor_core::SiteReads;
use candor_core::{
    Certification, Control, Cookie, Faq, Kind, Page, Policy, Profile, Section, Subprocessor, Visibility,
};
use candor_store::{Item, OrgId, Store, StoreResult};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A published item with its place in the order of its kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked<T> {
    pub position: i64,
    pub entry: Entry<T>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Source {
    profile: Vec<Ranked<Profile>>,
    sections: Vec<Ranked<Section>>,
    controls: Vec<Ranked<Control>>,
    certifications: Vec<Ranked<Certification>>,
    subprocessors: Vec<Ranked<Subprocessor>>,
    policies: Vec<Ranked<Policy>>,
    faq: Vec<Ranked<Faq>>,
    cookies: Vec<Ranked<Cookie>>,
    pages: Vec<Ranked<Page>>,
    /// Documents visitors can see listed (public and NDA ones with a file).
    pub documents: Vec<ListedDocument>,
}

/// Where an incremental update reads content again: the store, or in tests a model of it.
pub(crate) trait Reader {
    /// One item (`None`: it does not exist).
    async fn item(&self, kind: Kind, slug: &str) -> StoreResult<Option<Item>>;
    /// Every item of a kind, in display order.
    async fn items(&self, kind: Kind) -> StoreResult<Vec<Item>>;
    /// The documents to list.
    async fn documents(&self) -> StoreResult<Vec<ListedDocument>>;
}

pub(crate) struct StoreReader<'a> {
    pub store: &'a Store,
    pub org: OrgId,
}

impl Reader for StoreReader<'_> {
    async fn item(&self, kind: Kind, slug: &str) -> StoreResult<Option<Item>> {
        self.store.item(self.org, kind, slug).await
    }
    async fn items(&self, kind: Kind) -> StoreResult<Vec<Item>> {
        self.store.items(self.org, kind).await
    }
    async fn documents(&self) -> StoreResult<Vec<ListedDocument>> {
        Ok(super::library::listed(self.store.documents(self.org).await?))
    }
}

/// A single item could not be put in its place without reading its whole kind: another item
/// holds the same position, and only the database's order of slugs (a collation) settles it.
#[derive(Debug)]
pub struct NeedsWholeKind;

/// The item's published body, typed; `None` when it is not published (or, logged, does not
/// parse: bodies are validated on the way in, so a bad one is skipped rather than fatal).
fn ranked<T: DeserializeOwned>(item: &Item) -> Option<Ranked<T>> {
    let body = item.published.as_ref()?;
    match T::deserialize(body) {
        Ok(body) => Some(Ranked {
            position: item.position,
            entry: Entry {
                slug: item.slug.clone(),
                updated: item.updated,
                body,
            },
        }),
        Err(e) => {
            tracing::error!(item.kind = %item.kind, item.slug = %item.slug, error = %e, "published item does not parse");
            None
        }
    }
}

/// Puts `item` (read again; `None` when it no longer exists) in place of the entry with `slug`.
fn patch<T: DeserializeOwned>(
    list: &mut Vec<Ranked<T>>,
    slug: &str,
    item: Option<&Item>,
) -> Result<(), NeedsWholeKind> {
    let old = list.iter().position(|r| r.entry.slug == slug);
    let new = item.and_then(ranked::<T>);
    match (old, new) {
        (None, None) => {}
        (Some(i), None) => {
            list.remove(i);
        }
        (Some(i), Some(new)) if list[i].position == new.position => list[i] = new,
        (old, Some(new)) => {
            if let Some(i) = old {
                list.remove(i);
            }
            if list.iter().any(|r| r.position == new.position) {
                return Err(NeedsWholeKind);
            }
            let at = list.partition_point(|r| r.position < new.position);
            list.insert(at, new);
        }
    }
    Ok(())
}

fn all<T: DeserializeOwned>(items: &[Item], kind: Kind) -> Vec<Ranked<T>> {
    items.iter().filter(|i| i.kind == kind).filter_map(ranked).collect()
}

fn entries<T: Clone>(list: &[Ranked<T>]) -> Vec<Entry<T>> {
    list.iter().map(|r| r.entry.clone()).collect()
}

/// Calls `$f` with the list of `$kind` in `$source` (generic over the body type).
macro_rules! with_list {
    ($source:expr, $kind:expr, $f:ident ( $($arg:expr),* )) => {
        match $kind {
            Kind::Profile => $f(&mut $source.profile, $($arg),*),
            Kind::Section => $f(&mut $source.sections, $($arg),*),
            Kind::Control => $f(&mut $source.controls, $($arg),*),
            Kind::Certification => $f(&mut $source.certifications, $($arg),*),
            Kind::Subprocessor => $f(&mut $source.subprocessors, $($arg),*),
            Kind::Policy => $f(&mut $source.policies, $($arg),*),
            Kind::Faq => $f(&mut $source.faq, $($arg),*),
            Kind::Cookie => $f(&mut $source.cookies, $($arg),*),
            Kind::Page => $f(&mut $source.pages, $($arg),*),
        }
    };
}

fn replace<T: DeserializeOwned>(list: &mut Vec<Ranked<T>>, items: &[Item], kind: Kind) {
    *list = all(items, kind);
}

impl Source {
    /// Everything, from the store.
    pub async fn read(store: &Store, org: OrgId) -> StoreResult<Source> {
        let items = store.all_items(org).await?;
        let documents = super::library::listed(store.documents(org).await?);
        Ok(Source::from_items(&items, documents))
    }

    /// From items in the store's order (by kind, then position and slug).
    pub fn from_items(items: &[Item], documents: Vec<ListedDocument>) -> Source {
        Source {
            profile: all(items, Kind::Profile),
            sections: all(items, Kind::Section),
            controls: all(items, Kind::Control),
            certifications: all(items, Kind::Certification),
            subprocessors: all(items, Kind::Subprocessor),
            policies: all(items, Kind::Policy),
            faq: all(items, Kind::Faq),
            cookies: all(items, Kind::Cookie),
            pages: all(items, Kind::Page),
            documents,
        }
    }

    /// This source with what `reads` names read again from `from`.
    pub(crate) async fn patched(&self, reads: &SiteReads, from: &impl Reader) -> StoreResult<Source> {
        let mut next = self.clone();
        for &kind in &reads.kinds {
            next.set_kind(kind, &from.items(kind).await?);
        }
        for (kind, slug) in &reads.items {
            let item = from.item(*kind, slug).await?;
            if next.set_item(*kind, slug, item.as_ref()).is_err() {
                next.set_kind(*kind, &from.items(*kind).await?);
            }
        }
        if reads.documents {
            next.documents = from.documents().await?;
        }
        Ok(next)
    }

    /// Replaces every item of `kind` with `items` (the kind as the store lists it, in order).
    pub fn set_kind(&mut self, kind: Kind, items: &[Item]) {
        with_list!(self, kind, replace(items, kind))
    }

    /// Replaces one item of `kind` with `item` as read again (`None`: it is gone).
    pub fn set_item(&mut self, kind: Kind, slug: &str, item: Option<&Item>) -> Result<(), NeedsWholeKind> {
        with_list!(self, kind, patch(slug, item))
    }

    /// The typed model the public pages are rendered from: NDA-only controls are left out.
    /// `today` dates the placeholder profile shown before one is published.
    pub fn published(&self, today: NaiveDate) -> Published {
        self.published_with(today, false)
    }

    /// What a signed-in viewer with a live grant reads: the public content plus the NDA-only
    /// controls, each in its place among its section's controls.
    pub fn published_for_viewers(&self, today: NaiveDate) -> Published {
        self.published_with(today, true)
    }

    fn published_with(&self, today: NaiveDate, with_nda: bool) -> Published {
        let profile = self
            .profile
            .iter()
            .find(|r| r.entry.slug == PROFILE_SLUG)
            .map(|r| r.entry.clone())
            .unwrap_or_else(|| Entry {
                slug: PROFILE_SLUG.into(),
                updated: today,
                body: super::content::placeholder_profile(),
            });
        // Controls by section, each list in control order.
        let mut by_section: HashMap<&str, Vec<Entry<Control>>> = HashMap::new();
        for c in &self.controls {
            if with_nda || c.entry.body.visibility == Visibility::Public {
                by_section
                    .entry(c.entry.body.section.as_str())
                    .or_default()
                    .push(c.entry.clone());
            }
        }
        let sections = self
            .sections
            .iter()
            .map(|s| SectionEntry {
                section: s.entry.clone(),
                controls: by_section.get(s.entry.slug.as_str()).cloned().unwrap_or_default(),
            })
            .filter(|s| !s.controls.is_empty() || !s.section.body.body.is_empty())
            .collect();
        let mut policies = entries(&self.policies);
        policies.sort_by(|a, b| a.body.title.cmp(&b.body.title));
        let mut pages = entries(&self.pages);
        pages.sort_by(|a, b| a.body.title.cmp(&b.body.title));
        Published {
            profile,
            sections,
            certifications: entries(&self.certifications),
            subprocessors: entries(&self.subprocessors),
            policies,
            faq: entries(&self.faq),
            cookies: entries(&self.cookies),
            pages,
            documents: self.documents.clone(),
        }
    }
}
