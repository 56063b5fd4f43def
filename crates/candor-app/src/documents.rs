//! The document library: create, describe, add a version, delete. A file is stored (encrypted)
//! before its use case runs; when the use case fails, the use case removes it again, and when a
//! document is deleted its files are removed once the deletion has committed.

use crate::{Action, Actor, App, Done, Error, Result, SiteChange};
use candor_store::{DocumentFields, NewVersion, StoreError};
use serde_json::json;

impl App {
    /// A new document with its first file. A slug in use is [`Error::Conflict`]. When the
    /// document is not created, its stored file is deleted.
    pub async fn create_document(
        &self,
        actor: &Actor,
        fields: &DocumentFields,
        first: &NewVersion,
    ) -> Result<Done<()>> {
        let done = self.create_document_in(Some(actor), fields, first).await;
        if done.is_err() {
            self.remove_blob(&first.blob.id).await;
        }
        done
    }

    /// A sample document of the demo trust center (made on first start, not audited: no one
    /// decided it).
    pub async fn add_sample_document(&self, fields: &DocumentFields, first: &NewVersion) -> Result<Done<()>> {
        let done = self.create_document_in(None, fields, first).await;
        if done.is_err() {
            self.remove_blob(&first.blob.id).await;
        }
        done
    }

    async fn create_document_in(
        &self,
        actor: Option<&Actor>,
        fields: &DocumentFields,
        first: &NewVersion,
    ) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        match work.create_document(org, fields, first).await {
            Err(StoreError::Conflict(_)) => {
                return Err(Error::Conflict(format!(
                    "a document called {} exists already",
                    fields.slug
                )))
            }
            other => other?,
        }
        work.site_changed(SiteChange::Documents);
        if let Some(actor) = actor {
            let details = json!({"title": fields.title, "access": fields.access.as_str(), "size": first.blob.size, "sha256": first.blob.sha256});
            work.audit(
                actor,
                Action::DocumentCreate,
                format!("document/{}", fields.slug),
                details,
            )
            .await?;
        }
        work.finish(()).await
    }

    /// New details for a document (its slug stays).
    pub async fn update_document(&self, actor: &Actor, slug: &str, fields: &DocumentFields) -> Result<Done<()>> {
        let before = self
            .store
            .document(self.org, slug)
            .await?
            .ok_or_else(|| Error::NotFound(format!("document {slug}")))?;
        let mut work = self.begin().await?;
        let org = work.org();
        work.update_document(org, slug, fields).await?;
        work.site_changed(SiteChange::Documents);
        let details =
            json!({"access": {"from": before.access.as_str(), "to": fields.access.as_str()}, "title": fields.title});
        work.audit(actor, Action::DocumentEdit, format!("document/{slug}"), details)
            .await?;
        work.finish(()).await
    }

    /// Adds the next version of a document (older ones are kept); returns its number. When it is
    /// not added, its stored file is deleted.
    pub async fn add_document_version(&self, actor: &Actor, slug: &str, version: &NewVersion) -> Result<Done<i64>> {
        let done = async {
            let mut work = self.begin().await?;
            let org = work.org();
            let number = work.add_document_version(org, slug, version).await?;
            work.site_changed(SiteChange::Documents);
            let details = json!({"version": number, "size": version.blob.size, "sha256": version.blob.sha256});
            work.audit(actor, Action::DocumentVersion, format!("document/{slug}"), details)
                .await?;
            work.finish(number).await
        }
        .await;
        if done.is_err() {
            self.remove_blob(&version.blob.id).await;
        }
        done
    }

    /// Deletes a document with every version. Its rows and the audit entry commit together; then
    /// the encrypted files are removed. A file that cannot be removed then (storage unreachable)
    /// no longer has a row, so the orphan sweep removes it within the hour.
    pub async fn delete_document(&self, actor: &Actor, slug: &str) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let blobs = work.delete_document(org, slug).await?;
        work.site_changed(SiteChange::Documents);
        work.audit(
            actor,
            Action::DocumentDelete,
            format!("document/{slug}"),
            json!({"versions": blobs.len()}),
        )
        .await?;
        let done = work.finish(()).await?;
        for id in &blobs {
            self.remove_blob(id).await;
        }
        Ok(done)
    }

    /// Removes a file stored for an upload that was refused before any use case ran (a bad
    /// field, a second file). A failure is logged and left to the orphan sweep.
    pub async fn discard_upload(&self, blob_id: &str) {
        self.remove_blob(blob_id).await;
    }

    /// Deletes the stored files that no row of `blobs` names and that were last written more
    /// than `older_than` ago; returns how many. They are left by a process that stopped between
    /// writing a file and committing its row, or by a local write that never finished
    /// (`ID.partial`); a deletion whose files could not be removed at once also leaves them.
    ///
    /// The age keeps the sweep from deleting a file whose row is being written at that moment:
    /// an upload writes its file first and its row right after (checking a PDF in between takes
    /// seconds), so an hour-old file without a row will never get one. Several instances may
    /// sweep the same storage at once: deleting an object twice is harmless.
    pub async fn sweep_orphan_blobs(&self, older_than: std::time::Duration) -> anyhow::Result<usize> {
        let cutoff = chrono::Utc::now().timestamp() - i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        // Listed before the rows are read: a row committed before the query is always seen.
        let old = self.blobs.written_before(cutoff).await?;
        let known = self.store.known_blob_ids(&old).await?;
        let mut deleted = 0;
        for name in old.iter().filter(|n| !known.contains(*n)) {
            self.blobs.delete(name).await?;
            tracing::info!(blob.id = %name, "deleted a blob that no row references");
            deleted += 1;
        }
        Ok(deleted)
    }

    /// Removes a stored file; a failure is logged and left to the orphan sweep.
    pub(crate) async fn remove_blob(&self, id: &str) {
        if let Err(e) = self.blobs.delete(id).await {
            tracing::warn!(blob.id = %id, error = %e, "could not delete a stored file; the orphan sweep will");
        }
    }
}
