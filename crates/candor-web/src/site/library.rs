//! The public document list (`/documents`): public documents to download, NDA ones to ask for
//! (or, for a signed-in viewer whose grant covers them, to download). Private documents are
//! never listed.

use super::content::Published;
use super::pages::Layout;
use askama::Template;
use candor_core::documents::Access;

/// A document as visitors see it in the list.
#[derive(Clone, Debug, PartialEq)]
pub struct ListedDocument {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub kind: &'static str,
    /// Downloadable by anyone; otherwise behind the NDA.
    pub public: bool,
    pub size: String,
    pub updated: String,
    /// `certification/SLUG` and `section/SLUG` this document belongs with.
    pub links: Vec<String>,
    /// An NDA document the signed-in viewer's live grant covers: theirs to download. Always
    /// false on the public pages.
    pub yours: bool,
}

/// The listed documents that belong with `link` (`section/SLUG` or `certification/SLUG`).
pub fn related(p: &Published, link: &str) -> Vec<ListedDocument> {
    p.documents
        .iter()
        .filter(|d| d.links.iter().any(|l| l == link))
        .cloned()
        .collect()
}

/// The documents to list, from the library: public and NDA ones that have a file.
pub fn listed(documents: Vec<candor_store::Document>) -> Vec<ListedDocument> {
    documents
        .into_iter()
        .filter(|d| d.access != Access::Private)
        .filter_map(|d| {
            let v = d.current?;
            Some(ListedDocument {
                public: d.access == Access::Public,
                kind: d.kind.label(),
                size: crate::http::format::human_size(v.size),
                updated: chrono::DateTime::from_timestamp(v.created_at, 0)
                    .map(|t| t.date_naive().to_string())
                    .unwrap_or_default(),
                slug: d.slug,
                title: d.title,
                description: d.description,
                links: d.links,
                yours: false,
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "site/documents.html")]
struct DocumentsPage<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    documents: &'a [ListedDocument],
}

pub fn page(layout: &Layout, p: &Published) -> String {
    DocumentsPage {
        layout,
        current: "/documents",
        query: "",
        documents: &p.documents,
    }
    .render()
    .expect("renders")
}
