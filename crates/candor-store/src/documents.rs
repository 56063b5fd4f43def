//! The document library: documents, their versions, and the encrypted blobs behind them.

use crate::{get, now, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::documents::{Access, DocumentKind};
use sqlx::any::AnyRow;

/// An encrypted file as the database knows it (its bytes are in the blob store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobRow {
    pub id: String,
    pub key_id: String,
    pub wrapped_key: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub kind: DocumentKind,
    pub access: Access,
    /// `certification/SLUG` or `section/SLUG`.
    pub links: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The newest version, if a file was uploaded.
    pub current: Option<DocumentVersion>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DocumentVersion {
    pub id: i64,
    pub document_id: i64,
    pub number: i64,
    pub blob_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_by: String,
    pub created_at: i64,
}

/// The fields an editor sets.
#[derive(Clone, Debug)]
pub struct DocumentFields {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub kind: DocumentKind,
    pub access: Access,
    pub links: Vec<String>,
}

/// A file just stored, to record as a new version.
#[derive(Clone, Debug)]
pub struct NewVersion {
    pub blob: BlobRow,
    pub filename: String,
    pub content_type: String,
    pub uploaded_by: String,
}

const DOC_COLUMNS: &str = "d.id, d.slug, d.title, d.description, d.kind, d.access, d.links, d.created_at, d.updated_at";
const VERSION_COLUMNS: &str =
    "v.id AS v_id, v.document_id, v.number, v.blob_id, v.filename, v.content_type, v.size, v.uploaded_by, v.created_at AS v_created";

fn version_from_row(row: &AnyRow) -> StoreResult<DocumentVersion> {
    Ok(DocumentVersion {
        id: get(row, "v_id")?,
        document_id: get(row, "document_id")?,
        number: get(row, "number")?,
        blob_id: get(row, "blob_id")?,
        filename: get(row, "filename")?,
        content_type: get(row, "content_type")?,
        size: get(row, "size")?,
        uploaded_by: get(row, "uploaded_by")?,
        created_at: get(row, "v_created")?,
    })
}

fn document_from_row(row: &AnyRow, with_version: bool) -> StoreResult<Document> {
    let kind: String = get(row, "kind")?;
    let access: String = get(row, "access")?;
    let links: String = get(row, "links")?;
    let current = if with_version && get::<Option<i64>>(row, "v_id")?.is_some() {
        Some(version_from_row(row)?)
    } else {
        None
    };
    Ok(Document {
        id: get(row, "id")?,
        slug: get(row, "slug")?,
        title: get(row, "title")?,
        description: get(row, "description")?,
        kind: DocumentKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("document kind {kind}")))?,
        access: Access::parse(&access).ok_or_else(|| StoreError::Corrupt(format!("document access {access}")))?,
        links: serde_json::from_str(&links).map_err(|e| StoreError::Corrupt(format!("document links: {e}")))?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        current,
    })
}

/// Documents joined with their newest version.
fn documents_sql(filter: &str) -> String {
    format!(
        "SELECT {DOC_COLUMNS}, {VERSION_COLUMNS} FROM documents d \
         LEFT JOIN document_versions v ON v.document_id = d.id \
           AND v.number = (SELECT MAX(number) FROM document_versions WHERE document_id = d.id) \
         WHERE d.org_id = $1 {filter} ORDER BY d.title, d.id"
    )
}

impl Store {
    pub async fn documents(&self, org: OrgId) -> StoreResult<Vec<Document>> {
        let rows = sqlx::query(&documents_sql("")).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(|r| document_from_row(r, true)).collect()
    }

    pub async fn document(&self, org: OrgId, slug: &str) -> StoreResult<Option<Document>> {
        let row = sqlx::query(&documents_sql("AND d.slug = $2"))
            .bind(org)
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| document_from_row(r, true)).transpose()
    }

    /// Adds the next version, in a transaction of its own (tests; use cases use [`Tx`]).
    pub async fn add_document_version(&self, org: OrgId, slug: &str, v: &NewVersion) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let number = tx.add_document_version(org, slug, v).await?;
        tx.commit().await?;
        Ok(number)
    }

    /// Every version, newest first.
    pub async fn document_versions(&self, document_id: i64) -> StoreResult<Vec<DocumentVersion>> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM document_versions v WHERE v.document_id = $1 ORDER BY v.number DESC"
        );
        let rows = sqlx::query(&sql).bind(document_id).fetch_all(&self.pool).await?;
        rows.iter().map(version_from_row).collect()
    }

    pub async fn blob(&self, id: &str) -> StoreResult<Option<BlobRow>> {
        let row = sqlx::query("SELECT id, key_id, wrapped_key, size, sha256 FROM blobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(blob_from_row).transpose()
    }

    /// Every master key id that some stored file's key is wrapped under.
    pub async fn blob_key_ids(&self) -> StoreResult<Vec<String>> {
        let ids = sqlx::query_scalar("SELECT DISTINCT key_id FROM blobs ORDER BY key_id")
            .fetch_all(&self.pool)
            .await?;
        Ok(ids)
    }

    /// Blobs whose data key is wrapped by another master key than `key_id` (for rotation).
    pub async fn blobs_not_under(&self, key_id: &str, limit: i64) -> StoreResult<Vec<BlobRow>> {
        let rows = sqlx::query(
            "SELECT id, key_id, wrapped_key, size, sha256 FROM blobs WHERE key_id <> $1 ORDER BY id LIMIT $2",
        )
        .bind(key_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(blob_from_row).collect()
    }

    /// Replaces a blob's wrapped key, only if it is still wrapped by `old_key_id` (so two rotations
    /// running at once cannot undo each other).
    pub async fn rewrap_blob(&self, id: &str, old_key_id: &str, new_key_id: &str, wrapped: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE blobs SET key_id = $1, wrapped_key = $2 WHERE id = $3 AND key_id = $4")
            .bind(new_key_id)
            .bind(wrapped)
            .bind(id)
            .bind(old_key_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Which of `ids` have a row in `blobs` (in any organization): the blobs the database knows.
    pub async fn known_blob_ids(&self, ids: &[String]) -> StoreResult<std::collections::HashSet<String>> {
        let mut known = std::collections::HashSet::new();
        for id in ids {
            let row = sqlx::query("SELECT id FROM blobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = row {
                known.insert(get::<String>(&row, "id")?);
            }
        }
        Ok(known)
    }

    /// Records a blob stored outside a document (tests, future attachments).
    pub async fn insert_blob(&self, org: OrgId, b: &BlobRow) -> StoreResult<()> {
        insert_blob(&self.pool, org, b).await
    }
}

pub(crate) fn blob_from_row(row: &AnyRow) -> StoreResult<BlobRow> {
    Ok(BlobRow {
        id: get(row, "id")?,
        key_id: get(row, "key_id")?,
        wrapped_key: get(row, "wrapped_key")?,
        size: get(row, "size")?,
        sha256: get(row, "sha256")?,
    })
}

pub(crate) async fn insert_blob<'c, E>(exec: E, org: OrgId, b: &BlobRow) -> StoreResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO blobs (id, org_id, key_id, wrapped_key, size, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&b.id)
    .bind(org)
    .bind(&b.key_id)
    .bind(&b.wrapped_key)
    .bind(b.size)
    .bind(&b.sha256)
    .bind(now())
    .execute(exec)
    .await?;
    Ok(())
}

async fn insert_version(
    tx: &mut crate::Tx,
    org: OrgId,
    document_id: i64,
    number: i64,
    v: &NewVersion,
) -> StoreResult<()> {
    insert_blob(&mut **tx, org, &v.blob).await?;
    sqlx::query(
        "INSERT INTO document_versions (document_id, number, blob_id, filename, content_type, size, uploaded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(document_id)
    .bind(number)
    .bind(&v.blob.id)
    .bind(&v.filename)
    .bind(&v.content_type)
    .bind(v.blob.size)
    .bind(&v.uploaded_by)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Tx {
    /// A new document with its first file.
    pub async fn create_document(&mut self, org: OrgId, f: &DocumentFields, first: &NewVersion) -> StoreResult<()> {
        let links = serde_json::to_string(&f.links).map_err(|e| StoreError::Corrupt(format!("document links: {e}")))?;
        let t = now();
        let inserted = sqlx::query(
            "INSERT INTO documents (org_id, slug, title, description, kind, access, links, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (org_id, slug) DO NOTHING RETURNING id",
        )
        .bind(org)
        .bind(&f.slug)
        .bind(&f.title)
        .bind(&f.description)
        .bind(f.kind.as_str())
        .bind(f.access.as_str())
        .bind(links)
        .bind(t)
        .fetch_optional(&mut **self)
        .await?;
        let Some(row) = inserted else {
            return Err(StoreError::Conflict(format!("document {}", f.slug)));
        };
        let id: i64 = get(&row, "id")?;
        insert_version(self, org, id, 1, first).await
    }

    pub async fn update_document(&mut self, org: OrgId, slug: &str, f: &DocumentFields) -> StoreResult<()> {
        let links = serde_json::to_string(&f.links).map_err(|e| StoreError::Corrupt(format!("document links: {e}")))?;
        let done = sqlx::query(
            "UPDATE documents SET title = $1, description = $2, kind = $3, access = $4, links = $5, updated_at = $6 \
             WHERE org_id = $7 AND slug = $8",
        )
        .bind(&f.title)
        .bind(&f.description)
        .bind(f.kind.as_str())
        .bind(f.access.as_str())
        .bind(links)
        .bind(now())
        .bind(org)
        .bind(slug)
        .execute(&mut **self)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("document {slug}")));
        }
        Ok(())
    }

    /// Adds the next version (old ones are kept); returns its number.
    pub async fn add_document_version(&mut self, org: OrgId, slug: &str, v: &NewVersion) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT d.id, COALESCE(MAX(v.number), 0) AS last FROM documents d \
             LEFT JOIN document_versions v ON v.document_id = d.id WHERE d.org_id = $1 AND d.slug = $2 GROUP BY d.id",
        )
        .bind(org)
        .bind(slug)
        .fetch_optional(&mut **self)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("document {slug}")))?;
        let (id, last): (i64, i64) = (get(&row, "id")?, get(&row, "last")?);
        insert_version(self, org, id, last + 1, v).await?;
        sqlx::query("UPDATE documents SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&mut **self)
            .await?;
        Ok(last + 1)
    }

    /// Deletes a document, every version of it and their blob rows; returns the ids of the blobs
    /// whose stored files the caller removes once this transaction has committed. The access log
    /// keeps its lines (they name the document by slug, as history).
    pub async fn delete_document(&mut self, org: OrgId, slug: &str) -> StoreResult<Vec<String>> {
        let row = sqlx::query("SELECT id FROM documents WHERE org_id = $1 AND slug = $2")
            .bind(org)
            .bind(slug)
            .fetch_optional(&mut **self)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("document {slug}")))?;
        let id: i64 = get(&row, "id")?;
        let blob_ids: Vec<String> =
            sqlx::query_scalar("SELECT blob_id FROM document_versions WHERE document_id = $1 ORDER BY number")
                .bind(id)
                .fetch_all(&mut **self)
                .await?;
        sqlx::query("DELETE FROM document_versions WHERE document_id = $1")
            .bind(id)
            .execute(&mut **self)
            .await?;
        for blob in &blob_ids {
            sqlx::query("DELETE FROM blobs WHERE id = $1 AND org_id = $2")
                .bind(blob)
                .bind(org)
                .execute(&mut **self)
                .await?;
        }
        sqlx::query("DELETE FROM documents WHERE id = $1")
            .bind(id)
            .execute(&mut **self)
            .await?;
        Ok(blob_ids)
    }
}
