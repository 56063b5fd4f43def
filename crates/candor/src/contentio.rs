//! Reading and writing content directories on disk.

use anyhow::Context;
use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir` as `relative/path -> contents`.
///
/// Symbolic links are refused, files and folders alike: a content directory is what its owner
/// reviewed, and a link would import whatever it points to, anywhere on the machine. A file that
/// is not UTF-8 is reported with the line of its first invalid byte.
pub fn read_dir(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read directory {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .map_err(|_| anyhow::anyhow!("{} is outside {}", path.display(), root.display()))?
                .to_string_lossy()
                .replace('\\', "/");
            // The entry's own type: a symbolic link is not followed to find out what it points to.
            let kind = entry
                .file_type()
                .with_context(|| format!("{rel}: cannot read its type"))?;
            if kind.is_symlink() {
                let target = std::fs::read_link(&path)
                    .map(|t| t.display().to_string())
                    .unwrap_or_else(|_| "somewhere unreadable".to_owned());
                anyhow::bail!(
                    "{rel}: is a symbolic link (to {target}); candor import reads only real files and folders inside the content directory, so copy what it points to into the directory instead"
                );
            }
            if kind.is_dir() {
                if !rel.starts_with('.') {
                    walk(root, &path, out)?;
                }
            } else {
                let bytes = std::fs::read(&path).with_context(|| format!("{rel}: cannot read it"))?;
                out.insert(rel.clone(), utf8_text(&rel, bytes)?);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

/// The file's text, or an error at `file:line` naming where the first byte that is not UTF-8 is.
fn utf8_text(rel: &str, bytes: Vec<u8>) -> anyhow::Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..valid];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        anyhow::anyhow!(
            "{rel}:{line}: is not UTF-8 text: byte {column} of line {line} (0x{:02X}) is not valid there; save the file as UTF-8",
            e.as_bytes()[valid]
        )
    })
}

/// Writes files under `dir`, creating folders. Refuses a non-empty directory that does not look
/// like a content directory, so an export cannot scatter files over unrelated ones.
pub fn write_dir(dir: &Path, files: &BTreeMap<String, String>) -> anyhow::Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() && !dir.join("trust.toml").exists() {
        anyhow::bail!(
            "{} is not empty and has no trust.toml; export into an empty directory or an earlier export",
            dir.display()
        );
    }
    for sub in ["sections", "policies", "pages"] {
        let p = dir.join(sub);
        if p.is_dir() {
            // Files of items deleted since the last export must not linger.
            for e in std::fs::read_dir(&p)? {
                let e = e?.path();
                if e.extension().is_some_and(|x| x == "md") {
                    std::fs::remove_file(e)?;
                }
            }
        }
    }
    for f in ["certifications.toml", "subprocessors.toml", "faq.toml", "cookies.toml"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Writes files under `dir` (created if needed), for static exports.
pub fn write_files(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
