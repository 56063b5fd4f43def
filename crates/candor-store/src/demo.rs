//! Which content and documents came with the demo trust center. Nothing new is stored for it:
//! the history already says so. A demo item's first revision was written by the demo import
//! ([`DEMO_IMPORT_ACTOR`]) and a demo document's first version was uploaded by
//! [`DEMO_UPLOADER`]; both survive edits, backups and restores, and no person can be either.
//! The status page's parts carry a `demo` flag instead (migration 0020): they have no revisions,
//! and the seeding marks what it created.

use crate::{get, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::Kind;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// The actor of the demo's import at first start (the first revision of every demo item).
pub const DEMO_IMPORT_ACTOR: &str = "candor (demo)";
/// Who uploaded the first version of every demo document.
pub const DEMO_UPLOADER: &str = "demo";

/// The demo's items, documents and status page parts still present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoContent {
    /// Items (kind, slug), the profile among them.
    pub items: Vec<(Kind, String)>,
    /// Document slugs.
    pub documents: Vec<String>,
    /// The demo's status page.
    pub status: DemoStatus,
}

impl DemoContent {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.documents.is_empty() && self.status.is_empty()
    }
}

/// The ids of the demo's status page parts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoStatus {
    pub groups: Vec<i64>,
    pub components: Vec<i64>,
    /// Incidents and security notices.
    pub incidents: Vec<i64>,
    pub maintenances: Vec<i64>,
}

impl DemoStatus {
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many parts in all.
    pub fn len(&self) -> usize {
        self.by_table().iter().map(|(_, ids)| ids.len()).sum()
    }

    /// Each list with the table it names rows of.
    fn by_table(&self) -> [(&'static str, &[i64]); 4] {
        [
            ("status_groups", &self.groups),
            ("status_components", &self.components),
            ("incidents", &self.incidents),
            ("maintenances", &self.maintenances),
        ]
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
    /// The demo's items, documents and status page parts still present (for the back office's
    /// offer to remove them).
    pub async fn demo_content(&self, org: OrgId) -> StoreResult<DemoContent> {
        read(&mut *self.pool.acquire().await?, org).await
    }
}

/// The demo's content as `conn` sees it: a pooled connection, or a use case's transaction.
async fn read(conn: &mut AnyConnection, org: OrgId) -> StoreResult<DemoContent> {
    let rows = sqlx::query(ITEMS_SQL)
        .bind(org)
        .bind(DEMO_IMPORT_ACTOR)
        .fetch_all(&mut *conn)
        .await?;
    let documents = sqlx::query_scalar(DOCUMENTS_SQL)
        .bind(org)
        .bind(DEMO_UPLOADER)
        .fetch_all(&mut *conn)
        .await?;
    let status = DemoStatus {
        groups: demo_ids(conn, "status_groups", org).await?,
        components: demo_ids(conn, "status_components", org).await?,
        incidents: demo_ids(conn, "incidents", org).await?,
        maintenances: demo_ids(conn, "maintenances", org).await?,
    };
    Ok(DemoContent {
        items: items_from_rows(&rows)?,
        documents,
        status,
    })
}

async fn demo_ids(conn: &mut AnyConnection, table: &str, org: OrgId) -> StoreResult<Vec<i64>> {
    let sql = format!("SELECT id FROM {table} WHERE org_id = $1 AND demo = 1 ORDER BY id");
    Ok(sqlx::query_scalar(&sql).bind(org).fetch_all(conn).await?)
}

impl Tx {
    /// The demo's content, read in this transaction (the removal deletes exactly this).
    pub async fn demo_content(&mut self, org: OrgId) -> StoreResult<DemoContent> {
        read(self, org).await
    }

    /// Marks these status page parts as the demo's (the seeding calls it for what it created).
    pub async fn mark_status_demo(&mut self, org: OrgId, parts: &DemoStatus) -> StoreResult<()> {
        for (table, ids) in parts.by_table() {
            for id in ids {
                sqlx::query(&format!("UPDATE {table} SET demo = 1 WHERE org_id = $1 AND id = $2"))
                    .bind(org)
                    .bind(*id)
                    .execute(&mut **self)
                    .await?;
            }
        }
        Ok(())
    }
}
