//! What `serve` and `init` check before they touch anything, so that lost data is never
//! mistaken for a first start.
//!
//! A first start loads the demo and prints a new owner link. That is right for an empty data
//! directory and wrong for a database that was truncated, dropped or restored from an old backup,
//! or for a data directory whose master key went missing: each of those would otherwise start
//! "fine" and replace the trust center, or leave every stored document unreadable. Each refusal
//! says what is wrong and how to proceed; `--start-over` is the explicit way to accept a database
//! that is behind what this data directory last saw.

use anyhow::bail;
use candor_blob::keyfile;
use candor_core::audit::{check_head, Head};
use candor_store::{OrgId, Store};
use candor_web::Config;
use std::path::PathBuf;

/// The SQLite file a `sqlite:` URL names.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Before the database is opened (opening creates a missing SQLite file): an empty file, or a
/// missing one in a data directory that has held a trust center before.
pub fn check_files(config: &Config, start_over: bool) -> anyhow::Result<()> {
    let Some(db) = sqlite_file(&config.database_url) else {
        return Ok(());
    };
    let head_file = candor_store::checkpoint::HeadFile::in_dir(&config.data_dir);
    match std::fs::metadata(&db) {
        Ok(m) if m.len() == 0 => {
            if start_over {
                tracing::warn!(path = %db.display(), "the database file was empty; starting over as asked (--start-over)");
                std::fs::remove_file(&db)?;
                return Ok(());
            }
            bail!(
                "the database file {} is empty (0 bytes): it was truncated or never written. Candor will not start on it, because a new trust center would silently replace yours.\n\
                 - Restore the database from your latest backup, or\n\
                 - to start over with a new, empty trust center, run the command again with --start-over.",
                db.display()
            )
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if start_over {
                return Ok(());
            }
            let key_file = config.data_dir.join(keyfile::FILE_NAME);
            let trace = match head_file.read_all()?.into_values().max_by_key(|h| h.seq) {
                Some(head) => format!(
                    "its audit checkpoint ({}) records {} audit entries",
                    head_file.path().display(),
                    head.seq
                ),
                None if key_file.exists() => format!("it holds a master key file ({})", key_file.display()),
                None => return Ok(()),
            };
            bail!(
                "the database file {} is missing, but this data directory held a trust center before: {trace}.\n\
                 - Restore the database from your latest backup (or point database_url at it), or\n\
                 - to start over with a new, empty trust center, run the command again with --start-over.",
                db.display(),
            )
        }
        _ => Ok(()),
    }
}

/// After the database is opened and before anything is written: the audit log must reach the
/// checkpoint kept beside it, and every master key that stored files are encrypted under must
/// be at hand (a missing key file is never replaced by a new key while files need the old one).
pub async fn check_store(store: &Store, org: OrgId, config: &Config, start_over: bool) -> anyhow::Result<()> {
    check_audit_head(store, org, start_over).await?;
    check_master_keys(store, config).await
}

async fn check_audit_head(store: &Store, org: OrgId, start_over: bool) -> anyhow::Result<()> {
    let Some(file) = store.audit_checkpoint() else {
        return Ok(());
    };
    let Some(recorded) = file.read(org)? else {
        return Ok(());
    };
    let head = store.audit_head(org).await?;
    let mut entries = vec![];
    if let Some(at) = store.audit_entry(org, recorded.seq).await? {
        entries.push(at);
    }
    if let Some(h) = &head {
        if let Some(last) = store.audit_entry(org, h.seq).await? {
            entries.push(last);
        }
    }
    let Err(mismatch) = check_head(&entries, &recorded) else {
        return Ok(());
    };
    if start_over {
        tracing::warn!(%mismatch, "accepting a database that is behind the audit checkpoint (--start-over); the checkpoint now follows it");
        file.rebase(org, head.as_ref())?;
        return Ok(());
    }
    bail!(
        "the database is not the one this data directory last ran on: {mismatch} (checkpoint {}, written {}).\n\
         It was truncated, replaced or restored from an older backup.\n\
         - Restore the newest backup, or\n\
         - to accept this database as it is (and lose what came after it), run the command again with --start-over.",
        file.path().display(),
        when(&recorded)
    )
}

fn when(head: &Head) -> String {
    chrono::DateTime::from_timestamp(head.at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "at an unknown time".into())
}

async fn check_master_keys(store: &Store, config: &Config) -> anyhow::Result<()> {
    let mut used = store.blob_key_ids().await?;
    // Sealed secrets (TOTP) name the master key that wraps them too.
    for sealed in store.totp_secrets().await? {
        if let Some(id) = candor_crypto::secret::sealed_key_id(&sealed) {
            if !used.iter().any(|u| u == id) {
                used.push(id.to_owned());
            }
        }
    }
    if used.is_empty() {
        return Ok(());
    }
    let key_file = config.data_dir.join(keyfile::FILE_NAME);
    let from_env = config.storage.master_key.as_deref();
    if from_env.is_none() && !key_file.exists() {
        bail!(
            "the master key file {} is missing, but stored files are encrypted under master key {}: without it they cannot be read, and Candor will not create a new key in its place.\n\
             - Restore master.keys from your backup into {} (readable by you only), or\n\
             - give the key ring in CANDOR_MASTER_KEY.",
            key_file.display(),
            used.join(", "),
            config.data_dir.display()
        )
    }
    let (ring, _) = keyfile::load(&config.data_dir, from_env, false)?;
    let missing: Vec<&String> = used.iter().filter(|id| !ring.ids().iter().any(|k| k == *id)).collect();
    if !missing.is_empty() {
        bail!(
            "the master key ring ({}) lacks key {} that stored files are encrypted under.\n\
             - Restore the key file from the backup made with those keys, or\n\
             - add them to CANDOR_MASTER_KEY.",
            from_env.map_or_else(|| key_file.display().to_string(), |_| "CANDOR_MASTER_KEY".into()),
            missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_files_are_found_in_urls() {
        use super::sqlite_file;
        assert_eq!(sqlite_file("sqlite://./d/c.db"), Some("./d/c.db".into()));
        assert_eq!(sqlite_file("sqlite:///abs/c.db?mode=rwc"), Some("/abs/c.db".into()));
        assert_eq!(sqlite_file("postgres://h/db"), None);
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
