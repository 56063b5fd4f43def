//! The parts of the monitor benchmark (`bench/monitors.sh`) that are not `candor serve` itself:
//!
//!     monitors target ADDR            a test service: /health answers 200, /count how many
//!                                     /health requests it has answered
//!     monitors seed DATA_DIR N URL    adds a component and N HTTP monitors of URL every 20 s
//!                                     to the initialised database in DATA_DIR (as `cli:bench`)

use candor_app::status::ComponentDraft;
use candor_app::{Actor, App};
use candor_core::status::monitor::MonitorForm;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["target", addr] => target(addr).await,
        ["seed", dir, n, url] => seed(Path::new(dir), n.parse()?, url).await,
        _ => anyhow::bail!("usage: monitors target ADDR | monitors seed DATA_DIR N URL"),
    }
}

async fn target(addr: &str) -> anyhow::Result<()> {
    let hits = Arc::new(AtomicU64::new(0));
    let counted = hits.clone();
    let app = axum::Router::new()
        .route(
            "/health",
            axum::routing::get(move || {
                counted.fetch_add(1, Ordering::Relaxed);
                async { "ok" }
            }),
        )
        .route(
            "/count",
            axum::routing::get(move || {
                let n = hits.load(Ordering::Relaxed);
                async move { n.to_string() }
            }),
        );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn seed(dir: &Path, n: usize, url: &str) -> anyhow::Result<()> {
    let store = candor_store::Store::open(&format!("sqlite://{}", dir.join("candor.db").display())).await?;
    let org = store.ensure_org("default").await?;
    let (ring, _) = candor_blob::keyfile::load(dir, None, false)?;
    let blobs = candor_blob::BlobStore::open(&candor_blob::Backend::Local(dir.join("blobs")))?;
    let app = App::new(store.clone(), org, blobs, ring, dir.to_path_buf(), None);
    let actor = Actor::Cli {
        os_user: "bench".into(),
    };
    let component = ComponentDraft {
        group_id: None,
        name: "Benchmark target".into(),
        description: String::new(),
        showcase: true,
        only_show_if_degraded: false,
    };
    let component = app.create_status_component(&actor, &component).await?.value;
    for i in 0..n {
        let mut form = MonitorForm::blank();
        form.name = format!("bench {i}");
        form.component = component.to_string();
        form.target = url.to_owned();
        form.interval_secs = "20".into();
        form.timeout_ms = "5000".into();
        let draft = form.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let _ = app.create_monitor(&actor, &draft).await?;
    }
    println!("seeded {n} monitors of {url}");
    store.close().await;
    Ok(())
}
