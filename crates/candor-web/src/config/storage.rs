//! Where uploaded files are kept (`storage`, `storage_dir`, `s3_*`), how large they may be
//! (`upload_limit_mb`) and the master key (`master_key`, else the key file in the data directory).

use super::values::Values;
use candor_blob::{Backend, S3Settings};
use std::path::Path;

#[derive(Clone)]
pub struct StorageSettings {
    pub backend: Backend,
    /// Largest upload, in bytes.
    pub upload_limit: u64,
    /// The key ring's text when given in configuration (`CANDOR_MASTER_KEY`); otherwise the key
    /// file `DATA_DIR/master.keys` is used.
    pub master_key: Option<String>,
}

/// The master key never reaches logs.
impl std::fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageSettings")
            .field("backend", &self.backend)
            .field("upload_limit", &self.upload_limit)
            .field("master_key", &self.master_key.as_ref().map(|_| "***"))
            .finish()
    }
}

pub(super) fn settings(v: &mut Values, data_dir: &Path, problems: &mut Vec<String>) -> StorageSettings {
    let upload_limit_mb = v.number("upload_limit_mb").unwrap_or_default();
    if !(1..=10_240).contains(&upload_limit_mb) {
        problems.push(format!(
            "upload_limit_mb = {upload_limit_mb} must be between 1 and 10240"
        ));
    }
    let s3_keys_set = ["s3_bucket", "s3_endpoint", "s3_access_key_id", "s3_secret_access_key"]
        .into_iter()
        .any(|k| v.is_set(k));
    let backend = match v.text("storage").unwrap_or_default().as_str() {
        "local" => {
            if s3_keys_set {
                problems.push("s3_* keys are set but storage is \"local\"; set storage = \"s3\" to use them".into());
            }
            Backend::Local(
                v.text("storage_dir")
                    .map(Into::into)
                    .unwrap_or_else(|| data_dir.join("blobs")),
            )
        }
        "s3" => {
            let mut need = |key: &str| {
                v.text(key).filter(|s| !s.is_empty()).unwrap_or_else(|| {
                    problems.push(format!("{key} is not set; storage = \"s3\" needs it"));
                    String::new()
                })
            };
            let bucket = need("s3_bucket");
            let access_key_id = need("s3_access_key_id");
            let secret_access_key = need("s3_secret_access_key");
            let endpoint = v.text("s3_endpoint");
            if let Some(e) = &endpoint {
                if url::Url::parse(e)
                    .map(|u| !matches!(u.scheme(), "http" | "https"))
                    .unwrap_or(true)
                {
                    problems.push(format!(
                        "s3_endpoint = {e:?} is not a URL; write e.g. https://s3.eu-central-1.example.com"
                    ));
                }
            }
            Backend::S3(S3Settings {
                bucket,
                region: v.text("s3_region").unwrap_or_default(),
                endpoint,
                access_key_id,
                secret_access_key,
                prefix: v.text("s3_prefix").unwrap_or_default(),
            })
        }
        other => {
            problems.push(format!("storage = {other:?} is not known; use \"local\" or \"s3\""));
            Backend::Local(data_dir.join("blobs"))
        }
    };
    let master_key = v.text("master_key");
    if let Some(text) = &master_key {
        if let Err(e) = candor_crypto::envelope::KeyRing::parse(&text.replace(';', "\n")) {
            problems.push(format!("master_key: {e}; generate a ring with `candor keys new`"));
        }
    }
    StorageSettings {
        backend,
        upload_limit: upload_limit_mb.clamp(1, 10_240) as u64 * 1024 * 1024,
        master_key,
    }
}
