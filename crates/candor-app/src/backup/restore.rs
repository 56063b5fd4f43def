//! Restoring an archive: every digest is checked in a first pass that writes nothing; only then
//! are the rows loaded (in one transaction) and the blobs written back.

use super::archive::{self, ArchiveError, ArchiveReader, Frame, Manifest};
use super::Progress;
use crate::{Error, Result};
use candor_blob::{BlobStore, SealedUpload};
use candor_crypto::envelope::KeyRing;
use candor_store::snapshot::{Cell, TableSchema};
use candor_store::{Store, StoreError};
use std::collections::HashMap;
use std::path::Path;

/// Rows gathered before they are inserted.
const BATCH: usize = 1000;

async fn open_file(path: &Path) -> Result<tokio::io::BufReader<tokio::fs::File>> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::BadRequest(format!("cannot read the archive {}: {e}", path.display())))?;
    Ok(tokio::io::BufReader::with_capacity(1 << 20, file))
}

fn archive_error(e: ArchiveError) -> Error {
    match e {
        ArchiveError::Io(io) => Error::Internal(io.into()),
        other => Error::BadRequest(other.to_string()),
    }
}

/// Refuses an archive this Candor cannot load into a database at schema version `target`.
fn check_versions(manifest: &Manifest, target: i64) -> Result<()> {
    let (archive, ours, by) = (
        manifest.schema_version,
        Store::current_schema_version(),
        &manifest.candor_version,
    );
    if archive > ours {
        return Err(Error::BadRequest(format!(
            "the archive was written by a newer Candor (candor {by}, schema version {archive}) than this one (schema version {ours}): restore it with candor {by} or later"
        )));
    }
    if target != archive {
        return Err(Error::BadRequest(format!(
            "the target database is at schema version {target} and the archive at {archive}: restore into a new, empty database (a new SQLite file, or a database made with createdb); Candor creates it at the archive's version, loads it, then upgrades it"
        )));
    }
    Ok(())
}

/// Decrypts the whole archive and checks every entry against the manifest. Writes nothing.
pub async fn verify_archive(path: &Path, ring: &KeyRing, progress: Progress<'_>) -> Result<Manifest> {
    let total = tokio::fs::metadata(path).await.map(|m| m.len()).unwrap_or(0);
    let input = open_file(path).await?;
    archive::verify(input, ring, |done| progress("verifying", done, total))
        .await
        .map_err(archive_error)
}

/// Loads a verified archive into `store` and `blobs`. A database that holds any row is refused
/// unless `replace` (then everything in it is replaced). The audit checkpoint beside the
/// database, if any, is set to the restored log's head.
///
/// `store` must be at the archive's schema version: open it with
/// `Store::open_at(url, Some(manifest.schema_version))`, and [`Store::migrate`] it afterwards,
/// so an archive taken before an upgrade is loaded as it was and then upgraded like any
/// database.
pub async fn load_archive(
    path: &Path,
    manifest: &Manifest,
    store: &Store,
    blobs: &BlobStore,
    ring: &KeyRing,
    replace: bool,
    progress: Progress<'_>,
) -> Result<()> {
    check_versions(manifest, store.schema_version().await?)?;
    let mut load = store.begin_load(replace).await.map_err(|e| match e {
        StoreError::Conflict(what) => Error::Conflict(format!(
            "the target is not empty ({what}); restore into an empty database, or pass --force to replace everything in it"
        )),
        other => other.into(),
    })?;
    let tables: HashMap<String, &TableSchema> = manifest
        .tables
        .iter()
        .map(|t| (format!("tables/{}.jsonl", t.schema.name), &t.schema))
        .collect();
    let total: u64 = manifest.entries.iter().map(|e| e.size).sum();
    let mut reader = ArchiveReader::open(open_file(path).await?, ring)
        .await
        .map_err(archive_error)?;
    let mut into: Option<Sink> = None;
    let mut done = 0u64;
    let result: Result<()> = async {
        while let Some(frame) = reader.next().await.map_err(archive_error)? {
            match frame {
                Frame::Begin(name) => {
                    into = Some(if let Some(schema) = tables.get(&name) {
                        Sink::Table {
                            schema,
                            line: vec![],
                            rows: vec![],
                        }
                    } else if let Some(id) = name.strip_prefix("blobs/") {
                        Sink::Blob(blobs.sealed_upload(id).await.map_err(anyhow::Error::from)?)
                    } else {
                        return Err(Error::BadRequest(format!("the archive holds an unknown entry {name}")));
                    });
                }
                Frame::Data(data) => {
                    done += data.len() as u64;
                    progress("restoring", done, total);
                    match into.as_mut() {
                        Some(Sink::Table { schema, line, rows }) => {
                            for piece in data.split_inclusive(|b| *b == b'\n') {
                                line.extend_from_slice(piece);
                                if line.ends_with(b"\n") {
                                    rows.push(parse_row(line, schema)?);
                                    line.clear();
                                }
                            }
                            if rows.len() >= BATCH {
                                load.insert(schema, rows).await?;
                                rows.clear();
                            }
                        }
                        Some(Sink::Blob(upload)) => upload.write(&data).await.map_err(anyhow::Error::from)?,
                        None => return Err(Error::BadRequest("the archive has data outside an entry".into())),
                    }
                }
                Frame::End => match into.take() {
                    Some(Sink::Table { schema, line, rows }) => {
                        if !line.is_empty() {
                            return Err(Error::BadRequest(format!("table {} ends inside a row", schema.name)));
                        }
                        load.insert(schema, &rows).await?;
                    }
                    Some(Sink::Blob(upload)) => upload.finish().await.map_err(anyhow::Error::from)?,
                    None => {}
                },
                Frame::Manifest(_) => {}
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        if let Some(Sink::Blob(upload)) = into {
            upload.abandon().await;
        }
        return Err(e);
    }
    load.finish().await?;
    if let Some(file) = store.audit_checkpoint() {
        for org in store.org_ids().await? {
            let head = store.audit_head(org).await?;
            file.rebase(org, head.as_ref()).map_err(anyhow::Error::from)?;
        }
    }
    Ok(())
}

/// Where the bytes of the open entry go.
enum Sink<'a> {
    Table {
        schema: &'a TableSchema,
        line: Vec<u8>,
        rows: Vec<Vec<Cell>>,
    },
    Blob(SealedUpload),
}

fn parse_row(line: &[u8], schema: &TableSchema) -> Result<Vec<Cell>> {
    serde_json::from_slice(line)
        .map_err(|e| Error::BadRequest(format!("a row of table {} cannot be read: {e}", schema.name)))
}
