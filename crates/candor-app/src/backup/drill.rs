//! The disaster-recovery drill: restore the latest backup into a scratch SQLite database and
//! blob directory, check it the way an auditor would, and record what it took.

use super::archive::Manifest;
use super::{load_archive, verify_archive, Progress};
use crate::{Action, Actor, App, Done, Error, Result};
use candor_blob::{Backend, BlobStore};
use candor_crypto::envelope::{KeyRing, WrappedKey};
use candor_store::{DrDrill, Store};
use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The archives in `dir`, oldest first (their names sort by the time they were taken).
pub fn archives_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(super::is_archive_name)
        })
        .collect();
    found.sort();
    Ok(found)
}

/// What a drill found in the restored copy.
struct Checked {
    rows: i64,
    blobs: i64,
    audit_entries: i64,
}

impl App {
    /// Restores `archive` into `scratch` (an empty directory, removed afterwards), checks every
    /// digest, the row counts against the manifest, the audit chain and that every blob
    /// decrypts to its recorded SHA-256, and records the drill with its RTO (the whole restore
    /// and checks) and RPO (the backup's age). The recorded drill says whether it passed.
    pub async fn dr_drill(
        &self,
        actor: &Actor,
        archive: &Path,
        scratch: &Path,
        progress: Progress<'_>,
    ) -> Result<Done<DrDrill>> {
        let ring = self.key_ring();
        let started = Instant::now();
        let ran_at = candor_store::now();
        let mut taken_at = 0;
        let outcome = async {
            let manifest = verify_archive(archive, &ring, progress).await?;
            taken_at = manifest.created_at;
            restore_and_check(archive, &manifest, scratch, &ring, progress).await
        }
        .await;
        let rto_ms = started.elapsed().as_millis() as i64;
        let _ = tokio::fs::remove_dir_all(scratch).await;
        let mut drill = DrDrill {
            id: 0,
            ran_at,
            archive: archive
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            backup_taken_at: taken_at,
            ok: outcome.is_ok(),
            rto_ms,
            rpo_secs: if taken_at > 0 { (ran_at - taken_at).max(0) } else { 0 },
            row_count: 0,
            blob_count: 0,
            audit_entries: 0,
            error: String::new(),
        };
        match outcome {
            Ok(c) => {
                drill.row_count = c.rows;
                drill.blob_count = c.blobs;
                drill.audit_entries = c.audit_entries;
            }
            Err(e) => drill.error = e.to_string(),
        }
        let mut work = self.begin().await?;
        let org = work.org();
        drill.id = work.record_dr_drill(org, &drill).await?;
        work.audit(
            actor,
            Action::BackupDrill,
            format!("backup/{}", drill.archive),
            json!({"ok": drill.ok, "rto_ms": drill.rto_ms, "rpo_secs": drill.rpo_secs, "rows": drill.row_count, "blobs": drill.blob_count, "error": drill.error}),
        )
        .await?;
        if drill.ok {
            // The public business-continuity section shows the last passing drill.
            work.site_changed(candor_core::SiteChange::Status);
        }
        work.finish(drill).await
    }
}

async fn restore_and_check(
    archive: &Path,
    manifest: &Manifest,
    scratch: &Path,
    ring: &KeyRing,
    progress: Progress<'_>,
) -> Result<Checked> {
    std::fs::create_dir_all(scratch).map_err(anyhow::Error::from)?;
    let url = format!("sqlite://{}", scratch.join("drill.db").display());
    let store = Store::open_at(&url, Some(manifest.schema_version)).await?;
    let blobs = BlobStore::open(&Backend::Local(scratch.join("blobs"))).map_err(anyhow::Error::from)?;
    let checked = async {
        load_archive(archive, manifest, &store, &blobs, ring, false, progress).await?;
        let checked = check(&store, &blobs, manifest, ring, progress).await?;
        // An archive taken before an upgrade must also upgrade: the restore would do it next.
        store.migrate().await?;
        Ok(checked)
    }
    .await;
    store.close().await;
    checked
}

async fn check(
    store: &Store,
    blobs: &BlobStore,
    manifest: &Manifest,
    ring: &KeyRing,
    progress: Progress<'_>,
) -> Result<Checked> {
    let counts = store.row_counts().await?;
    for t in &manifest.tables {
        let found = counts
            .iter()
            .find(|(name, _)| *name == t.schema.name)
            .map_or(0, |(_, n)| *n);
        if found != t.rows {
            return Err(Error::Internal(anyhow::anyhow!(
                "table {} has {found} rows after the restore; the backup listed {}",
                t.schema.name,
                t.rows
            )));
        }
    }
    let mut audit_entries = 0;
    for org in store.org_ids().await? {
        // Page by page, so the drill's memory does not grow with the audit log.
        let mut chain = candor_core::audit::ChainCheck::new();
        loop {
            let page = store.audit_chain_page(org, chain.checked() as i64, 1000).await?;
            for entry in &page {
                chain
                    .next(entry)
                    .map_err(|e| Error::Internal(anyhow::anyhow!("the restored audit log is broken: {e}")))?;
            }
            if page.len() < 1000 {
                break;
            }
        }
        audit_entries += chain.checked() as i64;
    }
    let rows = store.all_blobs().await?;
    for (i, row) in rows.iter().enumerate() {
        progress("decrypting files", i as u64, rows.len() as u64);
        let wrapped = WrappedKey {
            key_id: row.key_id.clone(),
            sealed: row.wrapped_key.clone(),
        };
        let opened: anyhow::Result<(u64, String)> = async {
            let mut plain = blobs.get(ring, &row.id, &wrapped).await?;
            let mut hash = Sha256::new();
            let mut size = 0u64;
            while let Some(piece) = plain.next().await {
                let piece = piece?;
                size += piece.len() as u64;
                hash.update(&piece);
            }
            Ok((size, hex::encode(hash.finalize())))
        }
        .await;
        match opened {
            Ok((size, sha)) if size == row.size as u64 && sha == row.sha256 => {}
            Ok(_) => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "stored file {} decrypts, but not to the contents recorded for it",
                    row.id
                )))
            }
            Err(e) => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "stored file {} does not decrypt: {e}",
                    row.id
                )))
            }
        }
    }
    Ok(Checked {
        rows: counts.iter().map(|(_, n)| n).sum(),
        blobs: rows.len() as i64,
        audit_entries,
    })
}
