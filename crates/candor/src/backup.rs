//! `candor backup`, `candor restore` and `candor dr-drill`.

use crate::cli::{apply_cli, cli_actor, open_app, open_store, open_store_at};
use anyhow::Context;
use candor_app::backup::{self, Destination};
use candor_web::bootstrap::DEFAULT_ORG;
use candor_web::Config;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;

/// A destination given on the command line, else `backup_dir`.
fn destination(config: &Config, given: Option<&str>) -> anyhow::Result<Destination> {
    match given {
        Some(text) => candor_web::config::backup_destination(text, &config.storage.backend, &|k| std::env::var(k).ok())
            .map_err(|why| anyhow::anyhow!("{text}: {why}")),
        None => Ok(config.backup.destination.clone()),
    }
}

/// A one-line progress display on standard error, only when it is a terminal (logs and pipes
/// get no control characters).
struct Bar {
    on: bool,
    /// The step and percentage last shown.
    shown: Mutex<(String, u64)>,
}

impl Bar {
    fn new() -> Bar {
        Bar {
            on: std::io::stderr().is_terminal(),
            shown: Mutex::new((String::new(), u64::MAX)),
        }
    }

    fn update(&self, what: &str, done: u64, total: u64) {
        if !self.on || total == 0 {
            return;
        }
        let pct = (done.min(total) * 100) / total;
        let Ok(mut shown) = self.shown.lock() else { return };
        if shown.0 == what && shown.1 == pct {
            return;
        }
        if shown.0 != what && !shown.0.is_empty() {
            eprintln!();
        }
        *shown = (what.to_owned(), pct);
        let filled = (pct / 5) as usize;
        eprint!(
            "\r{what:>16} [{}{}] {pct:>3}%",
            "#".repeat(filled),
            " ".repeat(20 - filled)
        );
        let _ = std::io::stderr().flush();
    }

    fn end(&self) {
        if self.on && self.shown.lock().is_ok_and(|s| !s.0.is_empty()) {
            eprintln!();
        }
    }
}

pub async fn backup(config: &Config, to: Option<&str>) -> anyhow::Result<ExitCode> {
    let dest = destination(config, to)?;
    let store = open_store(config).await?;
    let org = store.ensure_org(DEFAULT_ORG).await?;
    let app = open_app(config, store.clone(), org, true)?;
    let bar = Bar::new();
    let done = app.backup(&cli_actor(), &dest, &|w, d, t| bar.update(w, d, t)).await?;
    bar.end();
    let run = apply_cli(config, done);
    store.close().await;
    if !run.ok {
        eprintln!("Backup FAILED: {}", run.error);
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "Backup written: {}/{} ({} bytes; {} rows, {} files; encrypted under master key {}).",
        dest,
        run.archive,
        run.bytes,
        run.row_count,
        run.blob_count,
        app.key_ring().current_id()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(config: &Config, archive: &Path, force: bool) -> anyhow::Result<ExitCode> {
    // The key ring of the installation that made the archive must be in place first: it opens
    // the archive, and every stored file in it.
    let (ring, _) = candor_blob::keyfile::load(&config.data_dir, config.storage.master_key.as_deref(), false)
        .context("the archive is opened with the master key ring it was made under; put that ring in place first")?;
    let bar = Bar::new();
    let progress = |w: &str, d: u64, t: u64| bar.update(w, d, t);
    let manifest = match backup::verify_archive(archive, &ring, &progress).await {
        Ok(m) => m,
        Err(e) => {
            bar.end();
            eprintln!("Restore refused: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    // At the archive's schema version: an archive taken before an upgrade is loaded as it was,
    // then upgraded below like any database.
    let store = open_store_at(config, Some(manifest.schema_version)).await?;
    let blobs = candor_blob::BlobStore::open(&config.storage.backend)?;
    let loaded = backup::load_archive(archive, &manifest, &store, &blobs, &ring, force, &progress).await;
    bar.end();
    if let Err(e) = loaded {
        store.close().await;
        eprintln!("Restore refused: {e}");
        return Ok(ExitCode::FAILURE);
    }
    store
        .migrate()
        .await
        .context("the archive was restored but could not be upgraded to this version")?;
    let org = store.ensure_org(DEFAULT_ORG).await?;
    let app = open_app(config, store.clone(), org, false)?;
    let taken = when(manifest.created_at);
    let done = app
        .record(
            &cli_actor(),
            candor_app::Action::BackupRestore,
            format!("backup/{}", archive.file_name().unwrap_or_default().to_string_lossy()),
            serde_json::json!({"source": manifest.source, "taken_at": manifest.created_at, "rows": manifest.row_count(), "blobs": manifest.blobs, "replaced": force}),
        )
        .await?;
    apply_cli(config, done);
    store.close().await;
    println!(
        "Restored {} (taken {taken} on {}): {} rows in {} tables, {} files; every digest checked.",
        archive.display(),
        manifest.source,
        manifest.row_count(),
        manifest.tables.len(),
        manifest.blobs
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn dr_drill(config: &Config, archive: Option<&Path>, from: Option<&str>) -> anyhow::Result<ExitCode> {
    let scratch = config
        .data_dir
        .join(format!("dr-drill-{}-{}", std::process::id(), candor_store::now()));
    let archive = match archive {
        Some(a) => a.to_path_buf(),
        None => destination(config, from)?.fetch_latest(&scratch).await?,
    };
    let store = open_store(config).await?;
    let org = store.ensure_org(DEFAULT_ORG).await?;
    let app = open_app(config, store.clone(), org, false)?;
    let bar = Bar::new();
    let done = app
        .dr_drill(&cli_actor(), &archive, &scratch, &|w, d, t| bar.update(w, d, t))
        .await?;
    bar.end();
    let drill = apply_cli(config, done);
    store.close().await;
    if !drill.ok {
        eprintln!(
            "Disaster-recovery drill FAILED with {}: {}",
            archive.display(),
            drill.error
        );
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "Disaster-recovery drill passed with {}: RTO {} ms (restore and checks), RPO {} s (backup taken {}); {} rows, {} files decrypted, {} audit entries verified.",
        archive.display(),
        drill.rto_ms,
        drill.rpo_secs,
        when(drill.backup_taken_at),
        drill.row_count,
        drill.blob_count,
        drill.audit_entries
    );
    Ok(ExitCode::SUCCESS)
}

fn when(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "at an unknown time".into())
}
