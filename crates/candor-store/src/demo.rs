//! Which content and documents came with the demo trust center. Nothing new is stored for it:
//! the history already says so. A demo item's first revision was written by the demo import
//! ([`DEMO_IMPORT_ACTOR`]) and a demo document's first version was uploaded by
//! [`DEMO_UPLOADER`]; both survive edits, backups and restores, and no person can be either.

use crate::{get, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::Kind;
use sqlx::any::AnyRow;

/// The actor of the demo's import at first start (the first revision of every demo item).
pub const DEMO_IMPORT_ACTOR: &str = "candor (demo)";
/// Who uploaded the first version of every demo document.
pub const DEMO_UPLOADER: &str = "demo";

/// The demo's items and documents still present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoContent {
    /// Items (kind, slug), the profile among them.
    pub items: Vec<(Kind, String)>,
    /// Document slugs.
    pub documents: Vec<String>,
}

impl DemoContent {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.documents.is_empty()
    }
}

const ITEMS_SQL: &str = "SELECT i.kind, i.slug FROM items i JOIN revisions r ON r.item_id = i.id AND r.number = 1 \
     WHERE i.org_id = $1 AND r.actor = $2 ORDER BY i.kind, i.position, i.slug";
const DOCUMENTS_SQL: &str = "SELECT d.slug FROM documents d \
     JOIN document_versions v ON v.document_id = d.id AND v.number = 1 \
     WHERE d.org_id = $1 AND v.uploaded_by = $2 ORDER BY d.slug";

fn items_from_rows(rows: &[AnyRow]) -> StoreResult<Vec<(Kind, String)>> {
    rows.iter()
        .map(|row| {
            let kind: String = get(row, "kind")?;
            let kind = Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("item kind {kind}")))?;
            Ok((kind, get(row, "slug")?))
        })
        .collect()
}

impl Store {
    /// The demo's items and documents still present (for the back office's offer to remove them).
    pub async fn demo_content(&self, org: OrgId) -> StoreResult<DemoContent> {
        let rows = sqlx::query(ITEMS_SQL)
            .bind(org)
            .bind(DEMO_IMPORT_ACTOR)
            .fetch_all(&self.pool)
            .await?;
        let documents = sqlx::query_scalar(DOCUMENTS_SQL)
            .bind(org)
            .bind(DEMO_UPLOADER)
            .fetch_all(&self.pool)
            .await?;
        Ok(DemoContent {
            items: items_from_rows(&rows)?,
            documents,
        })
    }
}

impl Tx {
    /// The demo's items and documents, read in this transaction (the removal deletes exactly these).
    pub async fn demo_content(&mut self, org: OrgId) -> StoreResult<DemoContent> {
        let rows = sqlx::query(ITEMS_SQL)
            .bind(org)
            .bind(DEMO_IMPORT_ACTOR)
            .fetch_all(&mut **self)
            .await?;
        let documents = sqlx::query_scalar(DOCUMENTS_SQL)
            .bind(org)
            .bind(DEMO_UPLOADER)
            .fetch_all(&mut **self)
            .await?;
        Ok(DemoContent {
            items: items_from_rows(&rows)?,
            documents,
        })
    }
}
