//! Where uploaded files are kept (`storage`, `storage_dir`, `s3_*`), how large they may be
//! (`upload_limit_mb`) and the master key (`master_key`, else the key file in the data directory).

use super::FileConfig;
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

pub(super) fn settings(fc: &mut FileConfig, data_dir: &Path, problems: &mut Vec<String>) -> StorageSettings {
    let upload_limit_mb = fc.upload_limit_mb.unwrap_or(50);
    if !(1..=10_240).contains(&upload_limit_mb) {
        problems.push(format!(
            "upload_limit_mb = {upload_limit_mb} must be between 1 and 10240"
        ));
    }
    let s3_keys_set = [
        &fc.s3_bucket,
        &fc.s3_endpoint,
        &fc.s3_access_key_id,
        &fc.s3_secret_access_key,
    ]
    .iter()
    .any(|v| v.is_some());
    let backend = match fc.storage.take().as_deref().unwrap_or("local") {
        "local" => {
            if s3_keys_set {
                problems.push("s3_* keys are set but storage is \"local\"; set storage = \"s3\" to use them".into());
            }
            Backend::Local(
                fc.storage_dir
                    .take()
                    .map(Into::into)
                    .unwrap_or_else(|| data_dir.join("blobs")),
            )
        }
        "s3" => {
            let mut need = |key: &str, v: Option<String>| {
                v.filter(|v| !v.is_empty()).unwrap_or_else(|| {
                    problems.push(format!("{key} is not set; storage = \"s3\" needs it"));
                    String::new()
                })
            };
            let bucket = need("s3_bucket", fc.s3_bucket.take());
            let access_key_id = need("s3_access_key_id", fc.s3_access_key_id.take());
            let secret_access_key = need("s3_secret_access_key", fc.s3_secret_access_key.take());
            let endpoint = fc.s3_endpoint.take();
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
                region: fc.s3_region.take().unwrap_or_else(|| "us-east-1".into()),
                endpoint,
                access_key_id,
                secret_access_key,
                prefix: fc.s3_prefix.take().unwrap_or_default(),
            })
        }
        other => {
            problems.push(format!("storage = {other:?} is not known; use \"local\" or \"s3\""));
            Backend::Local(data_dir.join("blobs"))
        }
    };
    let master_key = fc.master_key.take();
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
