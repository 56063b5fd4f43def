//! Reading and writing content directories on disk.

use anyhow::Context;
use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir` as `relative/path -> contents`. Non-UTF-8 files are reported.
pub fn read_dir(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read directory {}", dir.display()))? {
            let path = entry?.path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                if !rel.starts_with('.') {
                    walk(root, &path, out)?;
                }
            } else {
                let text =
                    std::fs::read_to_string(&path).with_context(|| format!("{rel}: cannot read as UTF-8 text"))?;
                out.insert(rel, text);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
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
