//! The public trust center, served from memory.
//!
//! [`Site::build`] renders every public page from published content once; publishing, importing
//! or a change of date (certifications expire at midnight) swaps in a new `Site`. A page view is a
//! hash lookup and a clone of shared bytes: no database work, no rendering.

mod apply;
#[cfg(test)]
mod apply_tests;
mod assets;
pub mod cached;
mod content;
mod continuity;
mod controls;
mod feeds;
mod icon;
pub mod library;
mod llms;
pub mod pages;
mod reuse;
mod search;
pub mod serve;
mod source;
pub mod status;
pub mod trust_json;
mod variant;

pub use assets::{is_immutable, SITE_CSS};
pub use cached::CachedPage;
pub use content::Published;
pub use search::{render as render_search, SearchIndex};
pub use source::Source;
pub use variant::ViewerContent;

use bytes::Bytes;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

pub struct Site {
    pub pages: HashMap<String, CachedPage>,
    pub not_found: Bytes,
    pub search: SearchIndex,
    pub layout: pages::Layout,
    /// The day the pages were rendered for; a new day means a rebuild.
    pub built_for: NaiveDate,
    /// The content fingerprint read before rendering; a different one means a rebuild.
    pub fingerprint: candor_store::ContentFingerprint,
    /// The content the pages show, as the renderers see it.
    pub published: Published,
    /// What `published` was derived from, for [`Site::apply`]; `None` for a site rendered by
    /// [`Site::build`] straight from `Published`.
    pub source: Option<Source>,
    /// The pieces `/trust.json` was joined from, for incremental updates.
    pub trust: trust_json::TrustParts,
    /// The public URL the feeds, `trust.json` and the sitemap were rendered with.
    pub public_url: String,
    /// Set by [`Site::apply`]: the fingerprint was read after changes this update may not have
    /// read (made by another process just before), so the content watcher reads everything once
    /// to confirm the pages match the database ([`Site::matches`]), and clears it.
    pub needs_check: AtomicBool,
    /// What the status pages, their feed, badges and JSON, and the home page's banner were
    /// rendered from.
    pub status: Arc<status::Snapshot>,
    /// The store's status fingerprint read before `status`: a different one means a status
    /// change made by another process, which the content watcher then reads.
    pub status_fingerprint: String,
    /// What a signed-in viewer's pages are rendered from, made on the first viewer request
    /// ([`Site::viewer_page`]).
    pub viewers: OnceLock<ViewerContent>,
}

const HTML: &str = "text/html; charset=utf-8";

impl Site {
    /// Every page as a file: `/` becomes `index.html`, an extension-less path gains `.html`
    /// (serve with `try_files $uri $uri.html`), and `404.html` holds the not-found page. Next to
    /// each file that compresses are `NAME.gz` and `NAME.br`, the same bytes Candor sends, for
    /// nginx's `gzip_static` and `brotli_static`.
    pub fn static_files(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut out = std::collections::BTreeMap::new();
        for (path, page) in &self.pages {
            let rel = path.trim_start_matches('/');
            let name = if rel.is_empty() {
                "index.html".to_owned()
            } else if rel.rsplit('/').next().is_some_and(|last| last.contains('.')) {
                rel.to_owned()
            } else {
                format!("{rel}.html")
            };
            if let Some(gz) = &page.gzip {
                out.insert(format!("{name}.gz"), gz.body.to_vec());
            }
            if let Some(br) = &page.brotli {
                out.insert(format!("{name}.br"), br.body.to_vec());
            }
            out.insert(name, page.body.to_vec());
        }
        out.insert("404.html".into(), self.not_found.to_vec());
        out
    }

    /// Gives each page that `previous` served with the same bytes the date it had there, so
    /// `Last-Modified` moves only when a page changes, not whenever the site is rendered again.
    pub fn keep_dates_of(&mut self, previous: &Site) {
        for (path, page) in self.pages.iter_mut() {
            if let Some(before) = previous.pages.get(path) {
                if before.etag == page.etag && before.modified != page.modified {
                    page.redate(before.modified);
                }
            }
        }
    }

    /// Reads everything the public site shows (published content and the status page, through
    /// `app`) and renders every page.
    pub async fn load(app: &candor_app::App, public_url: &str, today: NaiveDate) -> candor_app::Result<Site> {
        let (store, org) = (app.store(), app.org());
        // Read first: a change that lands while rendering then shows as a new fingerprint and
        // causes one more rebuild, never a missed one.
        let fingerprint = store.content_fingerprint(org).await?;
        let status_fingerprint = store.status_fingerprint(org).await?;
        let source = Source::read(store, org).await?;
        let status = status::Snapshot::read(app, candor_store::now()).await?;
        Ok(Site {
            fingerprint,
            status_fingerprint,
            ..Site::render_with(source, Arc::new(status), public_url, today)
        })
    }

    /// Every page from `source`, which the site keeps for later incremental updates, with an
    /// empty status page.
    pub fn render(source: Source, public_url: &str, today: NaiveDate) -> Site {
        Site::render_with(source, Arc::new(status::Snapshot::empty()), public_url, today)
    }

    /// Every page from `source` and `status`.
    pub fn render_with(source: Source, status: Arc<status::Snapshot>, public_url: &str, today: NaiveDate) -> Site {
        let published = source.published(today);
        Site {
            source: Some(source),
            ..Site::build_with(&published, status, public_url, today)
        }
    }

    /// Every page from published content, with an empty status page.
    pub fn build(p: &Published, public_url: &str, today: NaiveDate) -> Site {
        Site::build_with(p, Arc::new(status::Snapshot::empty()), public_url, today)
    }

    pub fn build_with(p: &Published, status: Arc<status::Snapshot>, public_url: &str, today: NaiveDate) -> Site {
        let layout = pages::Layout::new(p, status.listed());
        let mut map = HashMap::new();
        fn put(map: &mut HashMap<String, CachedPage>, path: String, content_type: &'static str, body: String) {
            map.insert(path, CachedPage::new(content_type, body));
        }
        let banner = status::Banner::of(&status);
        put(
            &mut map,
            "/".into(),
            HTML,
            pages::home(&layout, p, today, banner.as_ref()),
        );
        map.extend(status::render(&layout, &status, public_url, &HashMap::new()));
        for (slug, html) in pages::sections(&layout, p, &status) {
            put(&mut map, format!("/s/{slug}"), HTML, html);
        }
        if !p.sections.is_empty() {
            put(&mut map, "/controls".into(), HTML, controls::page(&layout, p));
        }
        if !p.certifications.is_empty() {
            put(
                &mut map,
                "/compliance".into(),
                HTML,
                pages::compliance(&layout, p, today),
            );
        }
        put(
            &mut map,
            "/subprocessors".into(),
            HTML,
            pages::subprocessors(&layout, p),
        );
        put(&mut map, "/policies".into(), HTML, pages::policies(&layout, p));
        for (path, html) in pages::documents(&layout, p) {
            put(&mut map, path, HTML, html);
        }
        put(&mut map, "/faq".into(), HTML, pages::faq(&layout, p));
        if !p.documents.is_empty() {
            put(&mut map, "/documents".into(), HTML, library::page(&layout, p));
        }
        put(&mut map, "/cookies".into(), HTML, pages::cookies(&layout, p));
        assets::put_site_css(&mut map);
        assets::put_brand(&mut map, &p.profile.body.brand_color);
        let trust = trust_json::TrustParts::new(p, public_url, today);
        put(
            &mut map,
            "/trust.json".into(),
            "application/json",
            trust.render(p, public_url, today),
        );
        put(
            &mut map,
            "/llms.txt".into(),
            llms::CONTENT_TYPE,
            llms::render(p, public_url, layout.status_href.as_deref()),
        );
        put(
            &mut map,
            "/feed.atom".into(),
            "application/atom+xml; charset=utf-8",
            feeds::atom(p, public_url),
        );
        let paths: Vec<String> = map.keys().filter(|k| map[*k].content_type == HTML).cloned().collect();
        put(
            &mut map,
            "/sitemap.xml".into(),
            "application/xml; charset=utf-8",
            feeds::sitemap(&paths, public_url, p.last_updated()),
        );
        put(
            &mut map,
            "/robots.txt".into(),
            "text/plain; charset=utf-8",
            feeds::robots(public_url),
        );
        Site {
            pages: map,
            not_found: Bytes::from(pages::not_found(&layout)),
            search: SearchIndex::new(p),
            layout,
            built_for: today,
            fingerprint: Default::default(),
            published: p.clone(),
            trust,
            source: None,
            public_url: public_url.to_owned(),
            needs_check: AtomicBool::new(false),
            status,
            status_fingerprint: String::new(),
            viewers: OnceLock::new(),
        }
    }
}
