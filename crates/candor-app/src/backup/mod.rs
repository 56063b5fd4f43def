//! Backups, restores and disaster-recovery drills.
//!
//! A backup is one encrypted archive ([`archive`]) of every table (a consistent snapshot taken
//! while Candor serves) and every blob. Its key is a fresh data key wrapped by the master key
//! ring, like every stored file's: restoring needs the ring anyway (blobs and sealed secrets are
//! wrapped by it and are copied as they are), so a second backup key would be one more secret to
//! keep without protecting anything more. The ring must therefore be kept apart from the
//! archives: an archive together with its ring is the whole trust center.
//!
//! Each run is recorded (`backup_runs`) and audited, a failed scheduled run is mailed to the
//! owners, and a drill ([`App::dr_drill`]) restores the latest archive into a scratch database
//! and records how long that took (RTO) and how old the backup was (RPO).

pub mod archive;
mod drill;
mod restore;

pub use drill::archives_in;
pub use restore::{load_archive, verify_archive};

use crate::mail::{compose, Part};
use crate::{Action, Actor, App, Done, Result};
use archive::{ArchiveWriter, Manifest, TableManifest};
use candor_store::snapshot::select_all;
use candor_store::BackupRun;
use futures_util::StreamExt;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Reports how far a long step has come: `(what, done, total)` (bytes or items).
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

/// Progress nobody watches.
pub fn quiet(_: &str, _: u64, _: u64) {}

/// The file name of an archive taken at `at` (Unix seconds); names sort by time.
pub fn archive_name(at: i64) -> String {
    let t = chrono::DateTime::from_timestamp(at, 0).unwrap_or_default();
    format!("candor-backup-{}.cbk", t.format("%Y%m%dT%H%M%SZ"))
}

/// Where archives go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Dir(PathBuf),
    /// A prefix of an S3-compatible bucket (`s3://bucket/prefix`).
    S3(candor_blob::S3Settings),
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Dir(d) => write!(f, "{}", d.display()),
            Destination::S3(s) if s.prefix.is_empty() => write!(f, "s3://{}", s.bucket),
            Destination::S3(s) => write!(f, "s3://{}/{}", s.bucket, s.prefix.trim_matches('/')),
        }
    }
}

impl Destination {
    /// The archives there, oldest first.
    pub async fn archives(&self) -> anyhow::Result<Vec<String>> {
        let mut names: Vec<String> = match self {
            Destination::Dir(dir) => archives_in(dir)?
                .into_iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect(),
            Destination::S3(s) => candor_blob::bucket::Bucket::open(s)?
                .names()
                .await?
                .into_iter()
                .filter(|n| is_archive_name(n))
                .collect(),
        };
        names.sort();
        Ok(names)
    }

    /// Deletes all but the newest `keep` archives; returns how many it deleted.
    pub async fn prune(&self, keep: usize) -> anyhow::Result<usize> {
        let names = self.archives().await?;
        let extra = names.len().saturating_sub(keep);
        for old in &names[..extra] {
            match self {
                Destination::Dir(dir) => tokio::fs::remove_file(dir.join(old)).await?,
                Destination::S3(s) => candor_blob::bucket::Bucket::open(s)?.delete(old).await?,
            }
        }
        Ok(extra)
    }

    /// The newest archive as a local file: itself in a directory, or downloaded into `scratch`
    /// from a bucket.
    pub async fn fetch_latest(&self, scratch: &Path) -> Result<PathBuf> {
        let name = self.archives().await?.pop().ok_or_else(|| {
            crate::Error::NotFound(format!(
                "a backup in {self} (take one with `candor backup --to {self}`)"
            ))
        })?;
        match self {
            Destination::Dir(dir) => Ok(dir.join(name)),
            Destination::S3(s) => {
                tokio::fs::create_dir_all(scratch).await.map_err(anyhow::Error::from)?;
                let to = scratch.join(&name);
                candor_blob::bucket::Bucket::open(s)
                    .map_err(anyhow::Error::from)?
                    .download(&name, &to)
                    .await
                    .map_err(anyhow::Error::from)?;
                Ok(to)
            }
        }
    }
}

/// Whether a file or object name is one of our archives.
pub fn is_archive_name(name: &str) -> bool {
    name.starts_with("candor-backup-") && name.ends_with(".cbk")
}

impl App {
    /// Takes a backup into `dest` and records the run (and, when it failed and Candor itself
    /// started it, mails the owners). The recorded run says whether it worked.
    pub async fn backup(&self, actor: &Actor, dest: &Destination, progress: Progress<'_>) -> Result<Done<BackupRun>> {
        let started_at = candor_store::now();
        let name = archive_name(started_at);
        let outcome = match dest {
            Destination::Dir(dir) => self.backup_to_dir(dir, &name, progress).await,
            Destination::S3(s) => self.backup_to_s3(s, &name, progress).await,
        };
        let started_by = if *actor == Actor::System { "schedule" } else { "cli" };
        let mut run = BackupRun {
            id: 0,
            started_at,
            finished_at: candor_store::now(),
            started_by: started_by.into(),
            destination: dest.to_string(),
            archive: name,
            ok: outcome.is_ok(),
            bytes: 0,
            row_count: 0,
            blob_count: 0,
            error: String::new(),
        };
        match &outcome {
            Ok((manifest, bytes)) => {
                run.bytes = *bytes as i64;
                run.row_count = manifest.row_count();
                run.blob_count = manifest.blobs as i64;
            }
            Err(e) => {
                run.error = format!("{e:#}");
                tracing::error!(error = %run.error, destination = %run.destination, "backup failed");
            }
        }
        self.record_run(actor, run).await
    }

    async fn backup_to_dir(&self, dir: &Path, name: &str, progress: Progress<'_>) -> anyhow::Result<(Manifest, u64)> {
        use anyhow::Context;
        tokio::fs::create_dir_all(dir)
            .await
            .with_context(|| format!("cannot create the backup directory {}", dir.display()))?;
        let path = dir.join(name);
        let partial = dir.join(format!("{name}.partial"));
        // Readable by the owner only: encrypted, but still the whole trust center.
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)
            .await
            .with_context(|| format!("cannot write {}", partial.display()))?;
        let written = self
            .write_archive(tokio::io::BufWriter::with_capacity(1 << 20, file), progress)
            .await;
        let (manifest, bytes, out) = match written {
            Ok(w) => w,
            Err(e) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(e);
            }
        };
        out.into_inner().sync_all().await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok((manifest, bytes))
    }

    async fn backup_to_s3(
        &self,
        settings: &candor_blob::S3Settings,
        name: &str,
        progress: Progress<'_>,
    ) -> anyhow::Result<(Manifest, u64)> {
        use tokio::io::AsyncWriteExt;
        let bucket = candor_blob::bucket::Bucket::open(settings)?;
        let (manifest, bytes, mut out) = self.write_archive(bucket.writer(name), progress).await?;
        // The upload completes (and the object appears) only here.
        if let Err(e) = out.shutdown().await {
            let _ = out.abort().await;
            return Err(e.into());
        }
        Ok((manifest, bytes))
    }

    /// Writes the whole archive to `out`: the snapshot's tables, then every blob.
    async fn write_archive<W>(&self, out: W, progress: Progress<'_>) -> anyhow::Result<(Manifest, u64, W)>
    where
        W: tokio::io::AsyncWrite + Unpin,
    {
        use anyhow::Context;
        let mut snap = self.store().snapshot().await?;
        let created_at = candor_store::now();
        let source = match snap.backend() {
            candor_store::Backend::Sqlite => "sqlite",
            candor_store::Backend::Postgres => "postgres",
        };
        let schema_version = snap.schema_version().await?;
        let tables = snap.tables().await?;
        let ring = self.key_ring();
        let mut ar = ArchiveWriter::new(out, &ring).await?;
        let mut listed = vec![];
        let mut buf = Vec::with_capacity(1 << 18);
        for (i, table) in tables.iter().enumerate() {
            progress("tables", i as u64, tables.len() as u64);
            ar.begin_entry(&format!("tables/{}.jsonl", table.name)).await?;
            let sql = select_all(table);
            let mut rows = snap.rows(table, &sql);
            let mut n = 0i64;
            while let Some(row) = rows.next().await {
                serde_json::to_writer(&mut buf, &row?)?;
                buf.push(b'\n');
                n += 1;
                if buf.len() >= 1 << 18 {
                    ar.write(&buf).await?;
                    buf.clear();
                }
            }
            drop(rows);
            ar.write(&buf).await?;
            buf.clear();
            ar.end_entry().await?;
            listed.push(TableManifest {
                schema: table.clone(),
                rows: n,
            });
        }
        let blob_ids = snap.blob_ids().await?;
        // Blobs are never changed once written, so they need not be read inside the snapshot.
        snap.close().await?;
        for (i, id) in blob_ids.iter().enumerate() {
            progress("files", i as u64, blob_ids.len() as u64);
            ar.begin_entry(&format!("blobs/{id}")).await?;
            let mut sealed = self
                .blobs()
                .sealed_stream(id)
                .await
                .with_context(|| format!("stored file {id} is listed in the database but cannot be read"))?;
            while let Some(piece) = sealed.next().await {
                ar.write(&piece?).await?;
            }
            ar.end_entry().await?;
        }
        progress("files", blob_ids.len() as u64, blob_ids.len() as u64);
        let manifest = Manifest {
            format: archive::FORMAT,
            created_at,
            candor_version: env!("CARGO_PKG_VERSION").into(),
            source: source.into(),
            schema_version,
            tables: listed,
            blobs: blob_ids.len() as u64,
            entries: vec![],
        };
        let (manifest, bytes, out) = ar.finish(manifest).await?;
        Ok((manifest, bytes, out))
    }

    /// Records a run with its audit entry; a failed run that Candor started by itself is mailed
    /// to the owners, who would otherwise not know.
    async fn record_run(&self, actor: &Actor, mut run: BackupRun) -> Result<Done<BackupRun>> {
        let mut work = self.begin().await?;
        let org = work.org();
        run.id = work.record_backup_run(org, &run).await?;
        if !run.ok && *actor == Actor::System {
            let page = format!("{}/admin/operations", self.public_url());
            for owner in work.owner_emails(org).await? {
                let parts = [
                    Part::Text(format!(
                        "The scheduled backup to {} failed.\n\nWhy: {}\n\nThe next scheduled run tries again. Until one succeeds, the last good backup is older than you expect. The run is recorded here:",
                        run.destination, run.error
                    )),
                    Part::Link(page.clone()),
                ];
                work.mail(&compose(
                    &owner,
                    "A scheduled backup failed".into(),
                    &parts,
                    "backup-failed",
                ))
                .await?;
            }
        }
        let (action, details) = if run.ok {
            (
                Action::BackupCreate,
                json!({"destination": run.destination, "archive": run.archive, "bytes": run.bytes, "rows": run.row_count, "blobs": run.blob_count}),
            )
        } else {
            (
                Action::BackupFailed,
                json!({"destination": run.destination, "error": run.error}),
            )
        };
        work.audit(actor, action, format!("backup/{}", run.archive), details)
            .await?;
        work.finish(run).await
    }
}
