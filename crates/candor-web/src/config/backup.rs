//! Scheduled backups from `serve`: how often (`backup_interval_minutes`), where (`backup_dir`)
//! and how many archives are kept (`backup_keep`).

use super::values::Values;
use candor_app::backup::Destination;
use candor_blob::{Backend, S3Settings};
use std::path::Path;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSettings {
    /// Time between scheduled backups; `None` when `serve` takes none (`candor backup` from cron
    /// or a systemd timer works either way).
    pub interval: Option<Duration>,
    /// Where scheduled backups are written (and where `candor backup` and `candor dr-drill`
    /// look by default): a directory or `s3://bucket/prefix`.
    pub destination: Destination,
    /// Scheduled archives kept in `dir`; older ones are deleted after each good run.
    pub keep: usize,
}

pub(super) fn settings(
    v: &mut Values,
    data_dir: &Path,
    storage: &Backend,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> BackupSettings {
    let minutes = v.number("backup_interval_minutes").unwrap_or_default();
    if !(0..=525_600).contains(&minutes) {
        problems.push(format!(
            "backup_interval_minutes = {minutes} must be between 0 (no scheduled backups) and 525600 (a year)"
        ));
    }
    let keep = v.number("backup_keep").unwrap_or_default();
    if !(1..=10_000).contains(&keep) {
        problems.push(format!("backup_keep = {keep} must be between 1 and 10000 (archives)"));
    }
    BackupSettings {
        interval: (minutes > 0).then(|| Duration::from_secs(minutes.clamp(1, 525_600) as u64 * 60)),
        destination: match v.text("backup_dir") {
            Some(text) => destination(&text, storage, env).unwrap_or_else(|why| {
                problems.push(format!("backup_dir = {text:?}: {why}"));
                Destination::Dir(data_dir.join("backups"))
            }),
            None => Destination::Dir(data_dir.join("backups")),
        },
        keep: keep.clamp(1, 10_000) as usize,
    }
}

/// A backup destination as written in `backup_dir` or after `--to`: a directory, or
/// `s3://bucket/prefix`. A bucket is reached with the `s3_*` settings when files are stored in
/// S3 too, else with the standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`
/// and `AWS_ENDPOINT_URL` variables.
pub fn destination(text: &str, storage: &Backend, env: &dyn Fn(&str) -> Option<String>) -> Result<Destination, String> {
    let Some(rest) = text.strip_prefix("s3://") else {
        if text.contains("://") {
            return Err("write a directory, or s3://BUCKET/PREFIX".into());
        }
        return Ok(Destination::Dir(text.into()));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err("the bucket is missing: write s3://BUCKET/PREFIX".into());
    }
    let settings = match storage {
        Backend::S3(s) => S3Settings {
            bucket: bucket.into(),
            prefix: prefix.trim_matches('/').into(),
            ..s.clone()
        },
        Backend::Local(_) => {
            let need = |k: &str| {
                env(k).filter(|v| !v.is_empty()).ok_or_else(|| {
                    format!("{k} is not set: an S3 destination needs credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or store files in S3 with the s3_* keys)")
                })
            };
            S3Settings {
                bucket: bucket.into(),
                prefix: prefix.trim_matches('/').into(),
                region: env("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
                endpoint: env("AWS_ENDPOINT_URL"),
                access_key_id: need("AWS_ACCESS_KEY_ID")?,
                secret_access_key: need("AWS_SECRET_ACCESS_KEY")?,
            }
        }
    };
    Ok(Destination::S3(settings))
}

#[cfg(test)]
mod tests {
    use super::destination;
    use candor_app::backup::Destination;
    use candor_blob::{Backend, S3Settings};

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn destinations_are_directories_or_buckets() {
        let local = Backend::Local("/d/blobs".into());
        assert_eq!(
            destination("/mnt/backups", &local, &none),
            Ok(Destination::Dir("/mnt/backups".into()))
        );
        assert!(destination("ftp://host/x", &local, &none)
            .unwrap_err()
            .contains("s3://BUCKET/PREFIX"));
        assert!(destination("s3://", &local, &none)
            .unwrap_err()
            .contains("bucket is missing"));
        assert!(destination("s3://b/p", &local, &none)
            .unwrap_err()
            .contains("AWS_ACCESS_KEY_ID is not set"));
        let env = |k: &str| (k.starts_with("AWS_ACCESS") || k.starts_with("AWS_SECRET")).then(|| "k".to_owned());
        let Ok(Destination::S3(s)) = destination("s3://b/nightly/", &local, &env) else {
            panic!("an S3 destination")
        };
        assert_eq!(
            (s.bucket.as_str(), s.prefix.as_str(), s.region.as_str()),
            ("b", "nightly", "us-east-1")
        );
        // Files in S3: the same credentials and endpoint, another bucket and prefix.
        let files = Backend::S3(S3Settings {
            bucket: "files".into(),
            region: "eu-central-1".into(),
            endpoint: Some("http://minio:9000".into()),
            access_key_id: "id".into(),
            secret_access_key: "secret".into(),
            prefix: "candor".into(),
        });
        let Ok(Destination::S3(s)) = destination("s3://backups", &files, &none) else {
            panic!("an S3 destination")
        };
        assert_eq!(s.bucket, "backups");
        assert_eq!(s.prefix, "");
        assert_eq!(s.endpoint.as_deref(), Some("http://minio:9000"));
        assert_eq!(s.access_key_id, "id");
    }
}
