//! What a change did to the public site, as a use case reports it (one of its effects), so the
//! rendered site can read and render again only what depends on it.
//!
//! Naming a change too narrowly leaves visitors looking at stale pages; naming it too broadly
//! only costs time. When in doubt, a use case says [`SiteChange::Everything`].

use crate::content::Kind;
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SiteChange {
    /// One item's public state changed: it was published, unpublished, deleted, or a published
    /// revision was restored. The organization profile is the item `Item { kind: Profile, slug:
    /// "profile" }`. Its place among the other items of its kind is re-read too, but a move that
    /// renumbers other items is an [`SiteChange::Order`].
    Item { kind: Kind, slug: String },
    /// The display order of a kind's items changed (an item moved up or down).
    Order { kind: Kind },
    /// The document library changed: a document was added, edited, deleted or given a new file.
    Documents,
    /// The status page changed: a component, incident or maintenance window, or a new day of
    /// uptime history; or a disaster-recovery drill passed. The status pages, their feed, badges
    /// and JSON, the home page's banner and the business-continuity section are rendered again.
    Status,
    /// Anything else, or more than is worth naming (an import): read and render everything.
    Everything,
}

impl SiteChange {
    pub fn item(kind: Kind, slug: impl Into<String>) -> SiteChange {
        SiteChange::Item {
            kind,
            slug: slug.into(),
        }
    }
}

/// What to read again for a list of changes, with overlaps removed: an item whose whole kind is
/// read anyway is not read on its own, and `everything` makes the rest moot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteReads {
    pub everything: bool,
    /// Kinds to read whole, in display order.
    pub kinds: BTreeSet<Kind>,
    /// Single items to read (none of them of a kind in `kinds`).
    pub items: BTreeSet<(Kind, String)>,
    pub documents: bool,
    pub status: bool,
}

impl SiteReads {
    pub fn of(changes: &[SiteChange]) -> SiteReads {
        let mut reads = SiteReads::default();
        for change in changes {
            match change {
                SiteChange::Item { kind, slug } => {
                    reads.items.insert((*kind, slug.clone()));
                }
                SiteChange::Order { kind } => {
                    reads.kinds.insert(*kind);
                }
                SiteChange::Documents => reads.documents = true,
                SiteChange::Status => reads.status = true,
                SiteChange::Everything => reads.everything = true,
            }
        }
        let kinds = reads.kinds.clone();
        reads.items.retain(|(kind, _)| !kinds.contains(kind));
        reads
    }

    /// Nothing to read: the site stays as it is.
    pub fn is_empty(&self) -> bool {
        !self.everything && self.kinds.is_empty() && self.items.is_empty() && !self.documents && !self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_not_read_twice_when_its_kind_is_read() {
        let reads = SiteReads::of(&[
            SiteChange::item(Kind::Control, "mfa"),
            SiteChange::Order { kind: Kind::Control },
            SiteChange::item(Kind::Policy, "privacy"),
            SiteChange::item(Kind::Policy, "privacy"),
        ]);
        assert_eq!(reads.kinds, BTreeSet::from([Kind::Control]));
        assert_eq!(reads.items, BTreeSet::from([(Kind::Policy, "privacy".to_owned())]));
        assert!(!reads.documents && !reads.everything);
    }

    #[test]
    fn no_changes_read_nothing() {
        assert!(SiteReads::of(&[]).is_empty());
        assert!(!SiteReads::of(&[SiteChange::Documents]).is_empty());
        assert!(SiteReads::of(&[SiteChange::Documents, SiteChange::Everything]).everything);
    }
}
