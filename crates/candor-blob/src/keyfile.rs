//! The master key ring on disk: `DATA_DIR/master.keys`, created by `candor init` (or the first
//! `candor serve`) readable by its owner only, or given whole in `CANDOR_MASTER_KEY` (the same
//! text; lines may be separated by `;`) for deployments that keep secrets outside the disk.

use candor_crypto::envelope::KeyRing;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "master.keys";

/// Where the ring came from; rotation can rewrite only a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    File(PathBuf),
    Environment,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("CANDOR_MASTER_KEY: {0}")]
    Environment(String),
}

fn file_error(path: &Path, why: impl std::fmt::Display) -> KeyFileError {
    KeyFileError::File {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
}

/// The ring from `CANDOR_MASTER_KEY` if given, else from the key file, which is created (with a
/// new key) when missing and `create` is true.
pub fn load(data_dir: &Path, env: Option<&str>, create: bool) -> Result<(KeyRing, KeySource), KeyFileError> {
    if let Some(text) = env {
        let ring = KeyRing::parse(&text.replace(';', "\n")).map_err(|e| KeyFileError::Environment(e.to_string()))?;
        return Ok((ring, KeySource::Environment));
    }
    let path = data_dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            check_private(&path)?;
            let ring = KeyRing::parse(&text).map_err(|e| file_error(&path, e))?;
            Ok((ring, KeySource::File(path)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let ring = KeyRing::generate();
            save(&path, &ring)?;
            tracing::info!(path = %path.display(), key.id = ring.current_id(), "created the master key file; back it up apart from the data");
            Ok((ring, KeySource::File(path)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(file_error(
            &path,
            "missing: run `candor init` to create it, or set CANDOR_MASTER_KEY",
        )),
        Err(e) => Err(file_error(&path, e)),
    }
}

/// Refuses a key file that others than its owner may read.
fn check_private(path: &Path) -> Result<(), KeyFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| file_error(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(file_error(
                path,
                format!(
                    "readable by others (mode {:o}); run `chmod 600 {}`",
                    mode & 0o777,
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Writes the ring atomically (a private temporary file, flushed to disk, then renamed over the
/// old one), so an interruption leaves either the old ring or the new one, never half of one.
pub fn save(path: &Path, ring: &KeyRing) -> Result<(), KeyFileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    let tmp = path.with_extension("keys.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(|e| file_error(&tmp, e))?;
    file.write_all(ring.to_text().as_bytes())
        .map_err(|e| file_error(&tmp, e))?;
    file.sync_all().map_err(|e| file_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| file_error(path, e))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_private_loaded_again_and_refused_when_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path(), None, false)
            .unwrap_err()
            .to_string()
            .contains("candor init"));
        let (ring, source) = load(dir.path(), None, true).unwrap();
        let path = dir.path().join(FILE_NAME);
        assert_eq!(source, KeySource::File(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            let (again, _) = load(dir.path(), None, true).unwrap();
            assert_eq!(again.ids(), ring.ids(), "an existing file is read, not replaced");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = load(dir.path(), None, true).unwrap_err().to_string();
            assert!(e.contains("readable by others") && e.contains("chmod 600"), "{e}");
        }
    }

    #[test]
    fn the_environment_wins_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let text = KeyRing::generate().to_text().replace('\n', ";");
        let (ring, source) = load(dir.path(), Some(&text), true).unwrap();
        assert_eq!(source, KeySource::Environment);
        assert_eq!(ring.ids().len(), 1);
        assert!(
            !dir.path().join(FILE_NAME).exists(),
            "no file is made when the key comes from the environment"
        );
        let e = load(dir.path(), Some("k1 short"), true).unwrap_err().to_string();
        assert!(e.starts_with("CANDOR_MASTER_KEY:"), "{e}");
    }
}
