//! Incremental updates: after a change, read again only what it names and render again only the
//! pages whose inputs differ, instead of reading and rendering everything.
//!
//! Which page reads what (the dependency map; `layout` is the header, navigation and footer
//! every HTML page shares, derived from the profile and from which kinds have items):
//!
//! | output | inputs |
//! |---|---|
//! | every HTML page, `404` | layout |
//! | `/` | profile, sections and their controls, certifications, policies, subprocessors, pages (the "updated" date) |
//! | `/s/SLUG` | that section and its controls, every section's slug and title (sidebar), documents linked to it |
//! | `/s/business-continuity` | also the status snapshot (overall status, last passing drill) |
//! | `/controls` | sections and their controls |
//! | `/llms.txt` | every kind, documents (rendered again on any change; kept when its bytes are the same) |
//! | `/compliance` | certifications, documents linked to them |
//! | `/subprocessors`, `/policies`, `/faq`, `/cookies`, `/documents` | their own kind |
//! | `/policies/SLUG`, `/p/SLUG` | that policy or page |
//! | `trust.json` | every kind but documents |
//! | `feed.atom` | profile, sections and controls, certifications, policies, subprocessors, pages |
//! | `brand.css`, `favicon.ico` (plain and hashed names) | the profile's brand colour |
//! | `sitemap.xml` | the set of HTML pages and the "updated" date (always rendered again: cheap) |
//! | search index | every kind but profile and documents, per item |
//! | `/status`, `/status/…`, `/api/v2/…` | the status snapshot, layout |
//! | `/` (its status banner) | the status snapshot |
//!
//! A new day or another public URL renders everything. The test
//! `apply_renders_what_build_renders` holds an updated site byte-for-byte to a full build.

use super::content::{Entry, Published, SectionEntry};
use super::source::{Source, StoreReader};
use super::{continuity, controls, feeds, library, llms, pages, status, CachedPage, Site, HTML};
use bytes::Bytes;
use candor_core::{SiteChange, SiteReads};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

/// Which groups of content differ between two versions.
struct Changed {
    profile: bool,
    sections: bool,
    certifications: bool,
    subprocessors: bool,
    policies: bool,
    faq: bool,
    cookies: bool,
    pages: bool,
    documents: bool,
}

impl Changed {
    fn between(a: &Published, b: &Published) -> Changed {
        Changed {
            profile: a.profile != b.profile,
            sections: a.sections != b.sections,
            certifications: a.certifications != b.certifications,
            subprocessors: a.subprocessors != b.subprocessors,
            policies: a.policies != b.policies,
            faq: a.faq != b.faq,
            cookies: a.cookies != b.cookies,
            pages: a.pages != b.pages,
            documents: a.documents != b.documents,
        }
    }

    /// Anything the search index, `trust.json` and the feed read (documents aside).
    fn items(&self) -> bool {
        self.profile
            || self.sections
            || self.certifications
            || self.subprocessors
            || self.policies
            || self.faq
            || self.cookies
            || self.pages
    }
}

fn page(content_type: &'static str, body: String) -> CachedPage {
    CachedPage::new(content_type, body)
}

/// Puts `body` at `path`, keeping the page already there (not compressed again) when its bytes
/// are the same: for outputs cheap to render that depend on much but change rarely.
fn put_if_changed(map: &mut HashMap<String, CachedPage>, path: &str, content_type: &'static str, body: String) {
    if map.get(path).is_some_and(|p| p.body == body.as_bytes()) {
        return;
    }
    map.insert(path.to_owned(), page(content_type, body));
}

/// Entries of one kind that have their own page, by slug.
fn by_slug<T>(entries: &[Entry<T>]) -> HashMap<&str, &Entry<T>> {
    entries.iter().map(|e| (e.slug.as_str(), e)).collect()
}

impl Site {
    /// This site after `changes`: reads what they name (one item, a kind, the documents, the
    /// status page) and renders again the pages that depend on what differs. `Everything`, a new
    /// day, another public URL or a site without a [`Source`] read and render everything.
    pub async fn apply(
        &self,
        app: &candor_app::App,
        public_url: &str,
        today: NaiveDate,
        changes: &[SiteChange],
    ) -> candor_app::Result<Site> {
        let (store, org) = (app.store(), app.org());
        let reads = SiteReads::of(changes);
        let Some(source) = &self.source else {
            return Site::load(app, public_url, today).await;
        };
        if reads.everything || today != self.built_for || public_url != self.public_url {
            return Site::load(app, public_url, today).await;
        }
        // Read first, as `load` does; see `needs_check` for what it may cover besides.
        let fingerprint = store.content_fingerprint(org).await?;
        let status = if reads.status {
            let seen = store.status_fingerprint(org).await?;
            Some((seen, status::Snapshot::read(app, candor_store::now()).await?))
        } else {
            None
        };
        let next = source.patched(&reads, &StoreReader { store, org }).await?;
        let mut site = self.with_source(next, public_url, today);
        if let Some((seen, snapshot)) = status {
            site = site.with_status(Arc::new(snapshot));
            site.status_fingerprint = seen;
        }
        Ok(Site {
            fingerprint,
            needs_check: AtomicBool::new(true),
            ..site
        })
    }

    /// This site showing `snapshot` on its status pages and the home page's banner; the rest is
    /// kept. The result is what a full render gives for the same content and snapshot.
    pub fn with_status(mut self, snapshot: Arc<status::Snapshot>) -> Site {
        if *snapshot == *self.status {
            return self;
        }
        if snapshot.listed() != self.status.listed() {
            // The Status link comes or goes: the frame of every page changes.
            let rebuilt = Site::build_with(&self.published, snapshot, &self.public_url, self.built_for);
            return Site {
                source: self.source.take(),
                fingerprint: std::mem::take(&mut self.fingerprint),
                status_fingerprint: std::mem::take(&mut self.status_fingerprint),
                needs_check: AtomicBool::new(self.needs_check.load(std::sync::atomic::Ordering::Relaxed)),
                ..rebuilt
            };
        }
        let banner = status::Banner::of(&snapshot);
        if banner != status::Banner::of(&self.status) {
            self.pages.insert(
                "/".into(),
                page(
                    HTML,
                    pages::home(&self.layout, &self.published, self.built_for, banner.as_ref()),
                ),
            );
        }
        let rendered = status::render(&self.layout, &snapshot, &self.public_url, &self.pages);
        self.pages.retain(|path, _| !status::is_status_path(path));
        self.pages.extend(rendered);
        let slug = continuity::SECTION_SLUG;
        if continuity::of(slug, &snapshot) != continuity::of(slug, &self.status) {
            if let Some(s) = self.published.sections.iter().find(|s| s.section.slug == slug) {
                let links = pages::section_links(&self.published);
                let html = pages::section(&self.layout, &self.published, &links, s, &snapshot);
                self.pages.insert(format!("/s/{slug}"), page(HTML, html));
            }
        }
        // Incident pages come and go with the snapshot.
        let paths: Vec<String> = self
            .pages
            .keys()
            .filter(|k| self.pages[*k].content_type == HTML)
            .cloned()
            .collect();
        self.pages.insert(
            "/sitemap.xml".into(),
            page(
                "application/xml; charset=utf-8",
                feeds::sitemap(&paths, &self.public_url, self.published.last_updated()),
            ),
        );
        self.status = snapshot;
        self
    }

    /// Whether the content this site shows is `source` (read whole from the store).
    pub fn matches(&self, source: &Source) -> bool {
        self.source.as_ref() == Some(source)
    }

    /// This site rendered from `source` instead: pages whose inputs are unchanged are kept, the
    /// rest are rendered again. The result is what [`Site::render`] gives for `source`, byte for
    /// byte; only the fingerprint is not carried over.
    pub fn with_source(&self, source: Source, public_url: &str, today: NaiveDate) -> Site {
        if today != self.built_for || public_url != self.public_url {
            return Site {
                status_fingerprint: self.status_fingerprint.clone(),
                ..Site::render_with(source, self.status.clone(), public_url, today)
            };
        }
        let before = &self.published;
        let p = source.published(today);
        let layout = pages::Layout::new(&p, self.status.listed());
        let all = layout != self.layout;
        let changed = Changed::between(before, &p);
        let mut map = self.pages.clone();

        if all
            || changed.profile
            || changed.sections
            || changed.certifications
            || changed.policies
            || changed.subprocessors
            || changed.pages
            || (changed.documents && pages::nda_titles(before) != pages::nda_titles(&p))
        {
            let banner = status::Banner::of(&self.status);
            map.insert("/".into(), page(HTML, pages::home(&layout, &p, today, banner.as_ref())));
        }
        if all {
            let rendered = status::render(&layout, &self.status, public_url, &map);
            map.retain(|path, _| !status::is_status_path(path));
            map.extend(rendered);
        }

        // Section pages.
        let links = pages::section_links(&p);
        let every_section = all || links != pages::section_links(before);
        let sections_before: HashMap<&str, &SectionEntry> =
            before.sections.iter().map(|s| (s.section.slug.as_str(), s)).collect();
        for s in &p.sections {
            let slug = s.section.slug.as_str();
            let link = format!("section/{slug}");
            if every_section
                || sections_before.get(slug) != Some(&s)
                || (changed.documents && library::related(before, &link) != library::related(&p, &link))
            {
                let html = pages::section(&layout, &p, &links, s, &self.status);
                map.insert(format!("/s/{slug}"), page(HTML, html));
            }
        }
        let live: HashSet<String> = p.sections.iter().map(|s| format!("/s/{}", s.section.slug)).collect();
        map.retain(|path, _| !path.starts_with("/s/") || live.contains(path));
        if p.sections.is_empty() {
            map.remove("/controls");
        } else if all || changed.sections || !map.contains_key("/controls") {
            map.insert("/controls".into(), page(HTML, controls::page(&layout, &p)));
        }

        // Pages that exist only while there is something to list.
        let certification_documents = changed.documents
            && p.certifications.iter().any(|c| {
                let link = format!("certification/{}", c.slug);
                library::related(before, &link) != library::related(&p, &link)
            });
        if p.certifications.is_empty() {
            map.remove("/compliance");
        } else if all || changed.certifications || certification_documents || !map.contains_key("/compliance") {
            map.insert("/compliance".into(), page(HTML, pages::compliance(&layout, &p, today)));
        }
        if p.documents.is_empty() {
            map.remove("/documents");
        } else if all || changed.documents || !map.contains_key("/documents") {
            map.insert("/documents".into(), page(HTML, library::page(&layout, &p)));
        }

        if all || changed.subprocessors {
            map.insert("/subprocessors".into(), page(HTML, pages::subprocessors(&layout, &p)));
        }
        if all || changed.policies {
            map.insert("/policies".into(), page(HTML, pages::policies(&layout, &p)));
        }
        if all || changed.faq {
            map.insert("/faq".into(), page(HTML, pages::faq(&layout, &p)));
        }
        if all || changed.cookies {
            map.insert("/cookies".into(), page(HTML, pages::cookies(&layout, &p)));
        }

        // Policy and free pages, one each.
        let policies_before = by_slug(&before.policies);
        for e in &p.policies {
            if all || policies_before.get(e.slug.as_str()) != Some(&e) {
                map.insert(format!("/policies/{}", e.slug), page(HTML, pages::policy(&layout, e)));
            }
        }
        let pages_before = by_slug(&before.pages);
        for e in &p.pages {
            if all || pages_before.get(e.slug.as_str()) != Some(&e) {
                map.insert(format!("/p/{}", e.slug), page(HTML, pages::free_page(&layout, e)));
            }
        }
        let live: HashSet<String> = p
            .policies
            .iter()
            .map(|e| format!("/policies/{}", e.slug))
            .chain(p.pages.iter().map(|e| format!("/p/{}", e.slug)))
            .collect();
        map.retain(|path, _| !(path.starts_with("/policies/") || path.starts_with("/p/")) || live.contains(path));

        if before.profile.body.brand_color != p.profile.body.brand_color {
            let color = &p.profile.body.brand_color;
            super::assets::put_brand(&mut map, color);
        }
        let trust = if changed.items() {
            let trust = self.trust.updated(before, &p, public_url, today);
            map.insert(
                "/trust.json".into(),
                page("application/json", trust.render(&p, public_url, today)),
            );
            trust
        } else {
            self.trust.clone()
        };
        if changed.profile
            || changed.sections
            || changed.certifications
            || changed.policies
            || changed.subprocessors
            || changed.pages
        {
            map.insert(
                "/feed.atom".into(),
                page("application/atom+xml; charset=utf-8", feeds::atom(&p, public_url)),
            );
        }
        if changed.items() || changed.documents {
            let text = llms::render(&p, public_url, layout.status_href.as_deref());
            put_if_changed(&mut map, "/llms.txt", llms::CONTENT_TYPE, text);
        }
        let paths: Vec<String> = map.keys().filter(|k| map[*k].content_type == HTML).cloned().collect();
        map.insert(
            "/sitemap.xml".into(),
            page(
                "application/xml; charset=utf-8",
                feeds::sitemap(&paths, public_url, p.last_updated()),
            ),
        );

        let search = if changed.items() {
            self.search.updated(before, &p)
        } else {
            self.search.clone()
        };
        let not_found = if all {
            Bytes::from(pages::not_found(&layout))
        } else {
            self.not_found.clone()
        };
        Site {
            pages: map,
            not_found,
            search,
            layout,
            built_for: today,
            fingerprint: Default::default(),
            published: p,
            trust,
            source: Some(source),
            public_url: public_url.to_owned(),
            needs_check: AtomicBool::new(false),
            status: self.status.clone(),
            status_fingerprint: self.status_fingerprint.clone(),
            viewers: OnceLock::new(),
        }
    }
}
