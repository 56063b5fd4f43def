//! What one change costs the public site: a full render (`Site::load`, what every publish did
//! before) against an incremental update (`Site::apply`), on a trust center TIMES the demo's size,
//! in the same run.
//!
//!     cargo run --release -p candor-web --example site_update [-- TIMES [ROUNDS]]
//!
//! TIMES defaults to 50 (8,151 items: 750 sections, 4,450 controls; 100 documents), ROUNDS to 15.
//! The content goes into a fresh SQLite database in a temporary directory, removed at the end.
//! Each round changes the database first (untimed), as the use case would, then times the update.
//! Prints a Markdown table of medians.

use candor_core::contentdir::{self, BundleItem};
use candor_core::documents::{Access, DocumentKind};
use candor_core::{Kind, SiteChange, Slug};
use candor_store::{BlobRow, DocumentFields, Move, NewVersion, OrgId, Store};
use candor_web::site::{Site, Source};
use std::time::{Duration, Instant};

const URL: &str = "https://trust.example";

/// The demo's items TIMES over: copy `n` of each item gets the slug suffix `-n` (the first copy
/// keeps the demo's slugs), and its controls point at copy `n` of their section. One profile.
fn content(times: usize) -> Vec<BundleItem> {
    let demo = contentdir::parse(&candor_web::bootstrap::demo_files()).expect("the demo parses");
    let mut out = vec![];
    for n in 0..times {
        for item in &demo.items {
            if item.kind == Kind::Profile && n > 0 {
                continue;
            }
            let mut item = item.clone();
            if n > 0 {
                item.slug = Slug::parse(&format!("{}-{n}", item.slug.as_str())).expect("a valid slug");
                if let Some(section) = item.body.get("section").and_then(|s| s.as_str()) {
                    item.body["section"] = format!("{section}-{n}").into();
                }
            }
            out.push(item);
        }
    }
    out
}

/// Two documents per copy, linked to the copy's first section and first certification.
async fn documents(store: &Store, org: OrgId, items: &[BundleItem], times: usize) -> anyhow::Result<()> {
    let first = |kind| {
        items
            .iter()
            .find(|i| i.kind == kind)
            .map(|i| i.slug.as_str().to_owned())
    };
    let (section, cert) = (first(Kind::Section).unwrap(), first(Kind::Certification).unwrap());
    for n in 0..times {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        for (slug, access, link) in [
            ("overview", Access::Public, format!("section/{section}{suffix}")),
            ("report", Access::Nda, format!("certification/{cert}{suffix}")),
        ] {
            let slug = format!("{slug}{suffix}");
            let fields = DocumentFields {
                slug: slug.clone(),
                title: format!("Document {slug}"),
                description: "A sample.".into(),
                kind: DocumentKind::Policy,
                access,
                links: vec![link],
            };
            let version = NewVersion {
                blob: BlobRow {
                    id: format!("blob-{slug}"),
                    key_id: "k".into(),
                    wrapped_key: "w".into(),
                    size: 12_345,
                    sha256: "0".repeat(64),
                },
                filename: format!("{slug}.pdf"),
                content_type: "application/pdf".into(),
                uploaded_by: "bench".into(),
            };
            let mut tx = store.begin().await?;
            tx.create_document(org, &fields, &version).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Edits an item's draft with `edit` and publishes it (untimed: the use case's own work).
async fn publish(store: &Store, org: OrgId, kind: Kind, slug: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut body = store.item(org, kind, slug).await.unwrap().unwrap().draft;
    edit(&mut body);
    store.save_draft(org, kind, slug, &body, "bench").await.unwrap();
    store.publish(org, kind, slug, "bench").await.unwrap();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let times = args.first().copied().unwrap_or(50);
    let rounds = args.get(1).copied().unwrap_or(15);
    let dir = std::env::temp_dir().join(format!("candor-site-update-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir, times, rounds).await;
    std::fs::remove_dir_all(&dir)?;
    result
}

async fn run(dir: &std::path::Path, times: usize, rounds: usize) -> anyhow::Result<()> {
    let store = Store::open(&format!("sqlite://{}/candor.db", dir.display())).await?;
    let org = store.ensure_org("default").await?;
    // The site reads through the use cases (the status page); their files and keys go unused here.
    let app = candor_app::App::new(
        store.clone(),
        org,
        candor_blob::BlobStore::open(&candor_blob::Backend::Local(dir.join("blobs")))?,
        candor_crypto::envelope::KeyRing::generate(),
        dir.to_path_buf(),
        None,
    );
    let items = content(times);
    store.import(org, &items, "bench").await?;
    documents(&store, org, &items, times).await?;
    let today = chrono::Utc::now().date_naive();

    let mut site = Site::load(&app, URL, today).await?;
    let count = |k| items.iter().filter(|i| i.kind == k).count();
    println!(
        "content: {times}x the demo, {} items ({} sections, {} controls), {} documents; {} pages rendered",
        items.len(),
        count(Kind::Section),
        count(Kind::Control),
        site.published.documents.len(),
        site.pages.len()
    );

    let mut full = vec![];
    for _ in 0..rounds.min(7) {
        let t = Instant::now();
        let s = Site::load(&app, URL, today).await?;
        full.push(t.elapsed());
        drop(s);
    }
    let full = median(full);

    // One control published: the update (read + render), and its render alone.
    let control = items
        .iter()
        .find(|i| i.kind == Kind::Control)
        .unwrap()
        .slug
        .as_str()
        .to_owned();
    let (mut update, mut render, mut free) = (vec![], vec![], vec![]);
    for round in 0..rounds {
        publish(&store, org, Kind::Control, &control, |b| {
            b["title"] = format!("Encryption at rest, round {round}").into()
        })
        .await;
        let changes = [SiteChange::item(Kind::Control, &control)];
        let mut source = site.source.clone().expect("loaded with its source");
        let item = store.item(org, Kind::Control, &control).await?;
        source.set_item(Kind::Control, &control, item.as_ref()).ok();
        let t = Instant::now();
        let rendered = site.with_source(source, URL, today);
        render.push(t.elapsed());
        drop(rendered);
        let t = Instant::now();
        let next = site.apply(&app, URL, today, &changes).await?;
        update.push(t.elapsed());
        let t = Instant::now();
        drop(std::mem::replace(&mut site, next));
        free.push(t.elapsed());
    }
    let mut check = vec![];
    for _ in 0..3 {
        let t = Instant::now();
        let source = Source::read(&store, org).await?;
        assert!(site.matches(&source), "the updated site shows what the database holds");
        check.push(t.elapsed());
    }
    let check = median(check);

    let mut other = vec![];
    let few = rounds.clamp(1, 5);
    let mut timed = async |label: &str, changes: &[SiteChange], site: &mut Site| -> anyhow::Result<()> {
        let t = Instant::now();
        let next = site.apply(&app, URL, today, changes).await?;
        other.push((label.to_owned(), t.elapsed()));
        *site = next;
        Ok(())
    };
    for round in 0..few {
        let doc = store.document(org, "overview").await?.unwrap();
        let fields = DocumentFields {
            slug: doc.slug,
            title: format!("Security overview, round {round}"),
            description: doc.description,
            kind: doc.kind,
            access: doc.access,
            links: doc.links,
        };
        let mut tx = store.begin().await?;
        tx.update_document(org, "overview", &fields).await?;
        tx.commit().await?;
        timed("a document renamed", &[SiteChange::Documents], &mut site).await?;
    }
    for round in 0..few {
        let dir = if round % 2 == 0 { Move::Down } else { Move::Up };
        let mut tx = store.begin().await?;
        tx.move_item(org, Kind::Control, &control, dir).await?;
        tx.commit().await?;
        timed(
            "a control moved (reads every control)",
            &[SiteChange::Order { kind: Kind::Control }],
            &mut site,
        )
        .await?;
    }
    for round in 0..few {
        publish(&store, org, Kind::Profile, "profile", |b| {
            b["tagline"] = format!("Round {round}").into()
        })
        .await;
        timed(
            "the profile edited (every page)",
            &[SiteChange::item(Kind::Profile, "profile")],
            &mut site,
        )
        .await?;
    }
    assert!(site.matches(&Source::read(&store, org).await?));

    let update = median(update);
    println!();
    println!("| what | median (ms) | full render ÷ this |");
    println!("|---|---:|---:|");
    println!(
        "| full render (`Site::load`: read everything, render every page) | {} | 1.0 |",
        ms(full)
    );
    let row =
        |label: &str, d: Duration| println!("| {label} | {} | {:.0}× |", ms(d), full.as_secs_f64() / d.as_secs_f64());
    row(
        "**one control published** (`Site::apply`: read one item, render what it touches)",
        update,
    );
    row("  of which rendering (`Site::with_source`)", median(render));
    row("  then freeing the previous site (after the swap)", median(free));
    let labels: Vec<String> = {
        let mut l: Vec<String> = other.iter().map(|(l, _)| l.clone()).collect();
        l.dedup();
        l
    };
    for label in labels {
        let ds: Vec<Duration> = other.iter().filter(|(l, _)| *l == label).map(|(_, d)| *d).collect();
        row(&label, median(ds));
    }
    row(
        "the watcher's check after an update (read everything, compare; in the background)",
        check,
    );
    println!();
    println!(
        "rounds: {rounds} (full render: {}, other changes: {few}); cores: {}",
        rounds.min(7),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    Ok(())
}
