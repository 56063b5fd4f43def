//! The audit log's head, checkpointed in a file beside the database (`DATA_DIR/audit-head.json`).
//!
//! The hash chain proves that no entry was changed, inserted or removed in the middle, but a log
//! cut short at the end is still a valid chain. After each appended entry commits, its sequence
//! number and hash are written here too; `candor audit verify` and start-up compare the database
//! with the newest checkpoint. The file only ever moves forward (several processes — the server,
//! the CLI — may append), under a lock, and is replaced atomically.

use crate::OrgId;
use candor_core::audit::Head;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "audit-head.json";

/// The checkpoint file of one data directory.
#[derive(Clone, Debug)]
pub struct HeadFile {
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("audit checkpoint {path}: {why}")]
pub struct HeadFileError {
    path: PathBuf,
    why: String,
}

pub type Heads = BTreeMap<OrgId, Head>;

impl HeadFile {
    pub fn in_dir(data_dir: &Path) -> HeadFile {
        HeadFile {
            path: data_dir.join(FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, why: impl std::fmt::Display) -> HeadFileError {
        HeadFileError {
            path: self.path.clone(),
            why: why.to_string(),
        }
    }

    /// The recorded head of `org`; `None` when nothing was checkpointed yet.
    pub fn read(&self, org: OrgId) -> Result<Option<Head>, HeadFileError> {
        Ok(self.read_all()?.remove(&org))
    }

    /// Every organization's recorded head.
    pub fn read_all(&self) -> Result<Heads, HeadFileError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                self.error(format!(
                    "not readable ({e}); restore it from a backup, or remove it to stop checking"
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Heads::new()),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Records `head` for `org` unless the file already holds a later one.
    pub fn advance(&self, org: OrgId, head: &Head) -> Result<(), HeadFileError> {
        self.update(|heads| {
            let newer = heads.get(&org).is_none_or(|h| h.seq < head.seq);
            if newer {
                heads.insert(org, head.clone());
            }
            newer
        })
    }

    /// Replaces the head of `org` (or forgets it), after the operator accepted a database that is
    /// behind the checkpoint (`--start-over`).
    pub fn rebase(&self, org: OrgId, head: Option<&Head>) -> Result<(), HeadFileError> {
        self.update(|heads| {
            match head {
                Some(h) => heads.insert(org, h.clone()),
                None => heads.remove(&org),
            };
            true
        })
    }

    fn update(&self, change: impl FnOnce(&mut Heads) -> bool) -> Result<(), HeadFileError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.error(e))?;
        }
        let lock_path = self.path.with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| self.error(e))?;
        lock.lock().map_err(|e| self.error(e))?;
        let mut heads = self.read_all()?;
        if !change(&mut heads) {
            return Ok(());
        }
        let text = serde_json::to_string_pretty(&heads).map_err(|e| self.error(e))?;
        let tmp = self.path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| self.error(e))
        // The lock is released when `lock` is dropped.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(seq: i64) -> Head {
        Head {
            seq,
            hash: format!("{seq:064}"),
            at: seq,
        }
    }

    #[test]
    fn the_head_only_moves_forward_per_organization() {
        let dir = tempfile::tempdir().unwrap();
        let f = HeadFile::in_dir(dir.path());
        assert_eq!(f.read(1).unwrap(), None);
        f.advance(1, &head(5)).unwrap();
        f.advance(1, &head(3)).unwrap();
        f.advance(2, &head(1)).unwrap();
        assert_eq!(f.read(1).unwrap(), Some(head(5)));
        assert_eq!(f.read(2).unwrap(), Some(head(1)));
        f.rebase(1, Some(&head(2))).unwrap();
        assert_eq!(f.read(1).unwrap(), Some(head(2)));
        f.rebase(1, None).unwrap();
        assert_eq!(f.read(1).unwrap(), None);
    }

    #[test]
    fn a_damaged_file_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = HeadFile::in_dir(dir.path());
        std::fs::write(f.path(), "{not json").unwrap();
        let e = f.read(1).unwrap_err().to_string();
        assert!(e.contains("audit-head.json") && e.contains("restore"), "{e}");
    }
}
