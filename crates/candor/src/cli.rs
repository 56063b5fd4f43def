//! Subcommands.

use crate::contentio;
use anyhow::Context;
use candor_core::contentdir;
use candor_store::{Role, Store};
use candor_web::bootstrap::{bootstrap, DEFAULT_ORG};
use candor_web::config::LogFormat;
use candor_web::{AppState, Config};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "candor", version, about = "A self-hostable security trust center")]
pub struct Args {
    /// Configuration file (default: ./candor.toml if it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates the database and loads the demo on first start).
    Serve {
        #[command(flatten)]
        start: StartOptions,
    },
    /// Create the data directory and database without serving.
    Init {
        #[command(flatten)]
        start: StartOptions,
    },
    /// Validate a content directory and apply it in one transaction.
    Import { dir: PathBuf },
    /// Write the published content as a content directory.
    Export { dir: PathBuf },
    /// Write the public site as static files (the reference for benchmarks, or a static mirror),
    /// each with its gzip and brotli forms beside it (NAME.gz, NAME.br) for nginx's gzip_static.
    ExportSite { dir: PathBuf },
    /// Validate the configuration (and a content directory, if given); list every problem.
    Check { dir: Option<PathBuf> },
    /// Check or export the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage back-office users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Master keys that wrap the keys of stored files.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Write an encrypted backup (a consistent snapshot of the database and every stored file)
    /// while Candor serves.
    Backup {
        /// Directory or s3://BUCKET/PREFIX for the archive (default: backup_dir).
        #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
        to: Option<String>,
    },
    /// Restore a backup into an empty database and file storage (this configuration's). Every
    /// digest is checked before anything is written.
    Restore {
        archive: PathBuf,
        /// Replace everything in a database that is not empty.
        #[arg(long)]
        force: bool,
    },
    /// Restore the latest backup into a scratch location, check it, and record the measured
    /// recovery time (RTO) and recovery point (RPO).
    DrDrill {
        /// The archive to drill with (default: the newest in --from).
        archive: Option<PathBuf>,
        /// Directory or s3://BUCKET/PREFIX holding the backups (default: backup_dir).
        #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
        from: Option<String>,
    },
}

#[derive(clap::Args)]
struct StartOptions {
    /// Accept a database that is empty, missing or behind this data directory's audit checkpoint
    /// (after a deliberate reset, or a restore from an older backup) instead of refusing to start.
    #[arg(long)]
    start_over: bool,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a new key ring (one key) for CANDOR_MASTER_KEY; changes nothing.
    New,
    /// Add a new master key, re-wrap every file's key under it, retire the old one. Safe to
    /// interrupt and run again.
    Rotate,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain and compare its end with the checkpoint kept beside the database
    /// (and with --expect); name the first entry that does not fit, or what is missing, and exit 1.
    Verify {
        /// A head recorded elsewhere, as SEQ:HASH (from a JSON audit line your SIEM kept, or a
        /// backup's checkpoint): the log must reach it.
        #[arg(long, value_name = "SEQ:HASH")]
        expect: Option<String>,
    },
    /// Print every entry as JSON Lines, oldest first.
    Export,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user and print their one-time setup link.
    Add {
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        /// owner, admin, editor, access-manager, triager or auditor
        #[arg(long, default_value = "admin")]
        role: String,
    },
    List,
    Disable {
        email: String,
    },
    /// Print a one-time link where the user sets a new password.
    ResetPassword {
        email: String,
    },
}

fn load_config(args: &Args) -> anyhow::Result<Config> {
    let env = std::env::vars().collect();
    Ok(Config::load(args.config.as_deref(), &env)?)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

/// Opens the database, with the audit log's head checkpointed beside it.
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    open_store_at(config, None).await
}

/// The store with migrations applied only up to `version` (see [`Store::open_at`]).
pub(crate) async fn open_store_at(config: &Config, version: Option<i64>) -> anyhow::Result<Store> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    }
    let store = Store::open_at(&config.database_url, version).await.with_context(|| {
        format!(
            "cannot open database {}",
            candor_store::redact_url(&config.database_url)
        )
    })?;
    Ok(store.with_audit_checkpoint(candor_store::checkpoint::HeadFile::in_dir(&config.data_dir)))
}

/// Opens the database for `serve` and `init`, refusing lost data that would pass for a first
/// start (see `preflight`).
async fn open_checked_store(config: &Config, start_over: bool) -> anyhow::Result<Store> {
    crate::preflight::check_files(config, start_over)?;
    let store = open_store(config).await?;
    let org = store.ensure_org(DEFAULT_ORG).await?;
    crate::preflight::check_store(&store, org, config, start_over).await?;
    Ok(store)
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = match load_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    match &args.command {
        Command::Serve { start } => serve(config, start.start_over).await,
        Command::Init { start } => {
            init_logging(&config);
            let store = open_checked_store(&config, start.start_over).await?;
            let boot = bootstrap(&store, config.demo).await?;
            let (ring, source) =
                candor_blob::keyfile::load(&config.data_dir, config.storage.master_key.as_deref(), true)?;
            if boot.demo_loaded {
                let state = AppState::new(store.clone(), boot.org, config.clone()).await?;
                candor_web::demo_documents::seed(&state).await?;
                let status = state.app().seed_status_demo(candor_store::now()).await?;
                state.apply(status.effects).await;
            }
            if let candor_blob::keyfile::KeySource::File(path) = source {
                println!(
                    "Master key {} is in {} (readable by you only); back it up apart from the data.",
                    ring.current_id(),
                    path.display()
                );
            }
            println!("Initialized {}.", candor_store::redact_url(&config.database_url));
            print_setup_link(&config, boot.setup_token.as_ref().map(|t| t.expose()));
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { dir } => {
            println!("Configuration is valid.");
            if let Some(dir) = dir {
                let files = contentio::read_dir(dir)?;
                match contentdir::parse(&files) {
                    Ok(b) => println!("{}: {} items, all valid.", dir.display(), b.items.len()),
                    Err(problems) => {
                        for p in &problems {
                            eprintln!("{p}");
                        }
                        eprintln!("{} problem(s) found in {}.", problems.len(), dir.display());
                        return Ok(ExitCode::FAILURE);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { dir } => {
            let files = contentio::read_dir(dir)?;
            let bundle = match contentdir::parse(&files) {
                Ok(b) => b,
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    eprintln!("{} problem(s) found; nothing was imported.", problems.len());
                    return Ok(ExitCode::FAILURE);
                }
            };
            let store = open_store(&config).await?;
            let org = store.ensure_org(DEFAULT_ORG).await?;
            let app = use_cases(&config, &store, org)?;
            let actor = candor_app::Actor::Cli { os_user: os_user() };
            let done = app.import(&actor, &bundle.items, &dir.display().to_string()).await?;
            let s = apply_cli(&config, done);
            println!(
                "Imported {}: {} created, {} changed, {} unchanged, {} unpublished.",
                dir.display(),
                s.created,
                s.changed,
                s.unchanged,
                s.unpublished
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { dir } => {
            let store = open_store(&config).await?;
            let org = store.ensure_org(DEFAULT_ORG).await?;
            let app = use_cases(&config, &store, org)?;
            let actor = candor_app::Actor::Cli { os_user: os_user() };
            let done = app
                .export(&actor, &dir.display().to_string(), |bundle| {
                    let files = contentdir::render(bundle);
                    contentio::write_dir(dir, &files)?;
                    Ok(files.len())
                })
                .await?;
            let files = apply_cli(&config, done);
            println!("Exported {files} files to {}.", dir.display());
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => user(&config, command).await,
        Command::Keys {
            command: KeysCommand::New,
        } => {
            print!(
                "{}",
                candor_crypto::envelope::KeyRing::generate()
                    .to_text()
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .collect::<Vec<_>>()
                    .join(";")
            );
            println!();
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            init_logging(&config);
            let store = open_store(&config).await?;
            let org = store.ensure_org(DEFAULT_ORG).await?;
            let app = open_app(&config, store.clone(), org, false)?;
            let r = app.rotate_keys(&cli_actor(), None).await?.value;
            println!(
                "Master key {} now wraps every file key and stored secret ({} file keys and {} secrets re-wrapped{}{}).",
                r.current,
                r.rewrapped,
                r.secrets,
                if r.started {
                    ""
                } else {
                    "; a rotation in progress was resumed"
                },
                if r.retired.is_empty() {
                    String::new()
                } else {
                    format!("; retired {}", r.retired.join(", "))
                }
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command } => audit(&config, command).await,
        Command::Backup { to } => crate::backup::backup(&config, to.as_deref()).await,
        Command::Restore { archive, force } => crate::backup::restore(&config, archive, *force).await,
        Command::DrDrill { archive, from } => {
            crate::backup::dr_drill(&config, archive.as_deref(), from.as_deref()).await
        }
        Command::ExportSite { dir } => {
            let store = open_store(&config).await?;
            let org = store.ensure_org(DEFAULT_ORG).await?;
            let today = chrono::Utc::now().date_naive();
            let app = open_app(&config, store.clone(), org, false)?;
            let site = candor_web::site::Site::load(&app, &config.public_url, today).await?;
            let mut files = site.static_files();
            // The uploaded logo, at the address the pages name (`/brand/logo.TYPE`).
            if let Some((kind, bytes)) = app.logo_file().await? {
                files.insert(format!("brand/logo.{}", kind.as_str()), bytes);
            }
            contentio::write_files(dir, &files)?;
            println!("Wrote {} files to {}.", files.len(), dir.display());
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The use cases over an opened store, with this installation's key ring and file storage opened
/// as `serve` opens them.
fn use_cases(config: &Config, store: &Store, org: i64) -> anyhow::Result<candor_app::App> {
    let blobs = candor_blob::BlobStore::open(&config.storage.backend)?;
    let (ring, _) = candor_blob::keyfile::load(&config.data_dir, config.storage.master_key.as_deref(), true)?;
    Ok(candor_app::App::new(
        store.clone(),
        org,
        blobs,
        ring,
        config.data_dir.clone(),
        config.storage.master_key.clone(),
    )
    .with_public_url(&config.public_url))
}

/// Applies a use case's effects at the command line: its audit entries go to standard output as
/// JSON lines when `audit_stdout` is on, as the server prints them. A running server notices
/// the content change itself and sends any queued mail on its next round.
pub(crate) fn apply_cli<T>(config: &Config, done: candor_app::Done<T>) -> T {
    if config.audit_stdout {
        for entry in &done.effects.audit {
            match serde_json::to_string(entry) {
                Ok(line) => println!("{line}"),
                Err(e) => tracing::error!(error = %e, "could not print an audit entry"),
            }
        }
    }
    done.value
}

fn print_setup_link(config: &Config, token: Option<&str>) {
    if let Some(t) = token {
        println!(
            "\n  Set the owner's password (link works once, for one hour):\n  {}/admin/setup/{t}\n",
            config.public_url
        );
    }
}

async fn serve(mut config: Config, start_over: bool) -> anyhow::Result<ExitCode> {
    init_logging(&config);
    let started = std::time::Instant::now();
    fit_connections_to_descriptors(&mut config);
    let store = open_checked_store(&config, start_over).await?;
    let boot = bootstrap(&store, config.demo).await?;
    if boot.demo_loaded {
        tracing::info!("loaded the demo trust center into the empty database");
    }
    let state = AppState::new(store.clone(), boot.org, config.clone()).await?;
    if boot.demo_loaded {
        candor_web::demo_documents::seed(&state).await?;
        let status = state.app().seed_status_demo(candor_store::now()).await?;
        state.apply(status.effects).await;
    }
    let std_listener =
        std::net::TcpListener::bind(config.listen).with_context(|| format!("cannot listen on {}", config.listen))?;
    std_listener.set_nonblocking(true)?;
    let bound = std_listener.local_addr()?;
    tracing::info!(
        listen = %bound,
        tls = config.tls.is_some(),
        database = %candor_store::redact_url(&config.database_url),
        startup_ms = started.elapsed().as_millis() as u64,
        "candor is ready at {}", config.public_url
    );
    print_setup_link(&config, boot.setup_token.as_ref().map(|t| t.expose()));
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let stopped = |tx: &tokio::sync::broadcast::Sender<()>| {
        let mut rx = tx.subscribe();
        async move {
            let _ = rx.recv().await;
        }
    };
    let signal_tx = stop_tx.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = signal_tx.send(());
    });
    match &config.tls {
        Some((cert, key)) => {
            let tls = candor_web::tls::server_config(cert, key)?;
            if let Some(addr) = config.redirect_http_listen {
                let l = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr}"))?;
                tracing::info!(listen = %addr, "redirecting plain HTTP to HTTPS");
                tokio::spawn(candor_web::tls::serve_redirect(
                    l,
                    config.public_url.clone(),
                    config.http.clone(),
                    stopped(&stop_tx),
                ));
            }
            candor_web::tls::serve_tls(std_listener, state, tls, stopped(&stop_tx)).await?;
        }
        None => {
            let listener = tokio::net::TcpListener::from_std(std_listener)?;
            candor_web::serve(listener, state, stopped(&stop_tx)).await?;
        }
    }
    // A request cut off at the end of the grace period may still hold a database connection;
    // closing the pool waits for those, so it gets a bound of its own.
    if tokio::time::timeout(STORE_CLOSE_TIMEOUT, store.close()).await.is_err() {
        tracing::warn!("database connections still in use at exit; closing without them");
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// How long closing the database pool may take at shutdown.
const STORE_CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Descriptors kept free of client connections: database pool, uploads, blobs, logs.
const RESERVED_DESCRIPTORS: u64 = 128;

/// Raises the soft open-file limit to the hard one, and lowers `max_connections` if the limit
/// still cannot hold that many connections besides the descriptors Candor needs itself.
fn fit_connections_to_descriptors(config: &mut Config) {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            return;
        }
    };
    let room = limit.saturating_sub(RESERVED_DESCRIPTORS).max(1);
    let wanted = config.http.max_connections as u64;
    if wanted > room {
        config.http.max_connections = room as usize;
        tracing::warn!(
            open_file_limit = limit,
            max_connections = room,
            configured_max_connections = wanted,
            "the open-file limit is too low for max_connections; serving fewer connections at once (raise ulimit -n)"
        );
    } else {
        tracing::debug!(open_file_limit = limit, max_connections = wanted, "connection limit");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down; letting requests in flight finish within the grace period");
}

/// The operating-system user running `candor`, for the audit log: `USER`, else `LOGNAME`, else
/// the numeric user id (`uid:1000`), read from the owner of `/proc/self`.
fn os_user() -> String {
    let named = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty());
    if let Some(name) = named {
        return name;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::metadata("/proc/self") {
            return format!("uid:{}", meta.uid());
        }
    }
    "unknown".into()
}

/// Records a command-line action on `target`; the actor is the operating-system user running
/// `candor`.
/// Who acts at the command line, for the use cases.
pub(crate) fn cli_actor() -> candor_app::Actor {
    candor_app::Actor::Cli { os_user: os_user() }
}

/// The use cases over `store`, with the blob store and master key ring from `config`.
/// `create_keys` makes the key file if there is none, as the first start does (commands that
/// can run before it, such as `candor user add`); key rotation needs the existing one.
pub(crate) fn open_app(config: &Config, store: Store, org: i64, create_keys: bool) -> anyhow::Result<candor_app::App> {
    let blobs = candor_blob::BlobStore::open(&config.storage.backend)?;
    let (ring, _) = candor_blob::keyfile::load(&config.data_dir, config.storage.master_key.as_deref(), create_keys)?;
    Ok(candor_app::App::new(
        store,
        org,
        blobs,
        ring,
        config.data_dir.clone(),
        config.storage.master_key.clone(),
    )
    .with_public_url(&config.public_url))
}

async fn audit(config: &Config, command: &AuditCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let org = store.ensure_org(DEFAULT_ORG).await?;
    let chain = store.audit_chain(org).await?;
    let code = match command {
        AuditCommand::Verify { expect } => verify_audit(&store, org, &chain, expect.as_deref())?,
        AuditCommand::Export => {
            for e in &chain {
                println!("{}", serde_json::to_string(e)?);
            }
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}

/// The chain must be intact and reach every head recorded elsewhere: the checkpoint beside the
/// database and the one given with `--expect`.
fn verify_audit(
    store: &Store,
    org: i64,
    chain: &[candor_core::audit::AuditEntry],
    expect: Option<&str>,
) -> anyhow::Result<ExitCode> {
    use candor_core::audit::{check_head, verify, Head};
    let n = match verify(chain) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("Audit log BROKEN: {e}.");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut heads = vec![];
    if let Some(file) = store.audit_checkpoint() {
        if let Some(h) = file.read(org)? {
            heads.push((format!("the checkpoint in {}", file.path().display()), h));
        }
    }
    if let Some(text) = expect {
        let h = Head::parse(text)
            .with_context(|| format!("--expect {text:?}: give SEQ:HASH, e.g. 42:9f86d0…(64 hex digits)"))?;
        heads.push(("--expect".into(), h));
    }
    for (source, head) in &heads {
        if let Err(e) = check_head(chain, head) {
            eprintln!("Audit log INCOMPLETE: {e} ({source}).");
            return Ok(ExitCode::FAILURE);
        }
    }
    let reach = heads
        .iter()
        .map(|(source, h)| format!("; reaches entry {} recorded by {source}", h.seq))
        .collect::<String>();
    println!("Audit log intact: {n} entries, hash chain verified{reach}.");
    Ok(ExitCode::SUCCESS)
}

async fn user(config: &Config, command: &UserCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let org = store.ensure_org(DEFAULT_ORG).await?;
    match command {
        UserCommand::Add { email, name, role } => {
            let role = Role::parse(role).with_context(|| {
                format!("role {role:?} is not known; use owner, admin, editor, access-manager, triager or auditor")
            })?;
            let name = if name.is_empty() {
                email.split('@').next().unwrap_or(email)
            } else {
                name
            };
            let app = open_app(config, store.clone(), org, true)?;
            let (u, token) = app.invite_user(&cli_actor(), email, name, role, 24 * 3600).await?.value;
            println!(
                "Added {} ({}). They set a password here (once, within 24 hours):\n{}/admin/reset/{}",
                u.email,
                role.as_str(),
                config.public_url,
                token.expose()
            );
        }
        UserCommand::List => {
            for u in store.users(org).await? {
                let state = if u.disabled {
                    "disabled"
                } else if u.has_password {
                    "active"
                } else {
                    "invited"
                };
                println!("{}\t{}\t{}\t{}", u.email, u.role.as_str(), state, u.name);
            }
        }
        UserCommand::Disable { email } => {
            let u = store
                .user_by_email(org, email)
                .await?
                .with_context(|| format!("no user {email}"))?;
            let app = open_app(config, store.clone(), org, true)?;
            let _ = app.set_user_disabled(&cli_actor(), None, &u, true).await?;
            println!("Disabled {} and ended their sessions.", u.email);
        }
        UserCommand::ResetPassword { email } => {
            let u = store
                .user_by_email(org, email)
                .await?
                .with_context(|| format!("no user {email}"))?;
            let app = open_app(config, store.clone(), org, true)?;
            let token = app.reset_link(&cli_actor(), &u, 3600).await?.value;
            println!(
                "Password reset link for {} (once, within one hour):\n{}/admin/reset/{}",
                u.email,
                config.public_url,
                token.expose()
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
