//! The viewer variant of the public pages: what a signed-in viewer with a live grant sees. The
//! NDA-only controls in their sections (labelled "Confidential"), "Download" instead of "Request
//! access" on the documents their grants cover, and "Your documents" in the header.
//!
//! The public pages stay prerendered, compressed and cached for everyone else; a viewer's page is
//! rendered per request (they are few, and each sees their own downloads) from a model derived
//! once per site on the first viewer request ([`ViewerContent`]), and is never cached.

use super::content::Published;
use super::pages::{self, Layout};
use super::{controls, library, status, SearchIndex, Site};
use std::sync::OnceLock;

/// What viewer pages are rendered from: made from the site's source when the first viewer
/// asks, and dropped with the site.
pub struct ViewerContent {
    /// The public content with the NDA-only controls.
    pub published: Published,
    /// The public frame with "Your documents" in the header.
    pub layout: Layout,
    search: OnceLock<SearchIndex>,
}

impl ViewerContent {
    fn new(site: &Site) -> ViewerContent {
        let published = match &site.source {
            Some(source) => source.published_for_viewers(site.built_for),
            // A site rendered straight from `Published` (tests) has no NDA-only controls.
            None => site.published.clone(),
        };
        ViewerContent {
            layout: Layout::new(&published, site.status.listed()).for_viewer(),
            published,
            search: OnceLock::new(),
        }
    }
}

/// Pages that list documents, and so show a viewer's downloads.
fn lists_documents(path: &str) -> bool {
    path == "/documents" || path == "/compliance" || path.starts_with("/s/")
}

impl Site {
    /// The content viewer pages are rendered from (made on first use).
    pub fn viewer_content(&self) -> &ViewerContent {
        self.viewers.get_or_init(|| ViewerContent::new(self))
    }

    /// The HTML page at `path` as a signed-in viewer with a live grant sees it; `may_download`
    /// says whether their grants cover an NDA document. `None` when `path` is not an HTML page
    /// of this site (assets, feeds, JSON: the same for everyone).
    pub fn viewer_page(&self, path: &str, may_download: impl Fn(&str) -> bool) -> Option<String> {
        let v = self.viewer_content();
        let layout = &v.layout;
        let owned;
        let p = if lists_documents(path) && v.published.documents.iter().any(|d| !d.public && may_download(&d.slug)) {
            let mut mine = v.published.clone();
            for d in &mut mine.documents {
                d.yours = !d.public && may_download(&d.slug);
            }
            owned = mine;
            &owned
        } else {
            &v.published
        };
        let today = self.built_for;
        let html = match path {
            "/" => pages::home(layout, p, today, status::Banner::of(&self.status).as_ref()),
            "/controls" if !p.sections.is_empty() => controls::page(layout, p),
            "/compliance" if !p.certifications.is_empty() => pages::compliance(layout, p, today),
            "/documents" if !p.documents.is_empty() => library::page(layout, p),
            "/subprocessors" => pages::subprocessors(layout, p),
            "/policies" => pages::policies(layout, p),
            "/faq" => pages::faq(layout, p),
            "/cookies" => pages::cookies(layout, p),
            _ => {
                if let Some(slug) = path.strip_prefix("/s/") {
                    let s = p.sections.iter().find(|s| s.section.slug == slug)?;
                    pages::section(layout, p, &pages::section_links(p), s, &self.status)
                } else if let Some(slug) = path.strip_prefix("/policies/") {
                    pages::policy(layout, p.policies.iter().find(|e| e.slug == slug)?)
                } else if let Some(slug) = path.strip_prefix("/p/") {
                    pages::free_page(layout, p.pages.iter().find(|e| e.slug == slug)?)
                } else if status::is_status_path(path) {
                    status::html_page(layout, &self.status, path)?
                } else {
                    return None;
                }
            }
        };
        Some(html)
    }

    /// The search page for a signed-in viewer with a live grant: NDA-only controls are found
    /// too, each result labelled "Confidential control".
    pub fn viewer_search(&self, query: &str) -> String {
        let v = self.viewer_content();
        let index = v.search.get_or_init(|| SearchIndex::new(&v.published));
        super::render_search(&v.layout, index, query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::Source;
    use candor_core::contentdir;
    use chrono::NaiveDate;

    const URL: &str = "https://trust.example";
    const NAV_ITEM: &str = "<li><a href=\"/viewer\">Your documents</a></li>";

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    /// The demo as published items, every control public but the one `nda` names.
    fn demo_source(nda: Option<&str>) -> Source {
        let bundle = contentdir::parse(&crate::bootstrap::demo_files()).expect("the demo parses");
        let items: Vec<candor_store::Item> = bundle
            .items
            .iter()
            .enumerate()
            .map(|(n, b)| {
                let mut body = b.body.clone();
                if b.kind == candor_core::Kind::Control {
                    let nda = Some(b.slug.as_str()) == nda;
                    body["visibility"] = if nda { "nda" } else { "public" }.into();
                }
                candor_store::Item {
                    id: n as i64 + 1,
                    kind: b.kind,
                    slug: b.slug.as_str().to_owned(),
                    position: b.position,
                    draft: body.clone(),
                    published: Some(body),
                    updated: b.updated.unwrap_or(day()),
                    draft_changed_at: 0,
                    published_at: Some(0),
                }
            })
            .collect();
        let documents = vec![library::ListedDocument {
            slug: "soc-2-report".into(),
            title: "SOC 2 report".into(),
            description: String::new(),
            kind: "Audit report",
            public: false,
            size: "1 KB".into(),
            updated: "2026-12-01".into(),
            links: vec!["section/encryption".into()],
            yours: false,
        }];
        Source::from_items(&items, documents)
    }

    /// Without NDA-only controls, every HTML page of the site has a viewer variant, and it is the
    /// public page with "Your documents" in the header and nothing else changed: the variant
    /// cannot drift from what the site renders.
    #[test]
    fn every_page_has_a_viewer_variant_that_differs_only_in_the_header() {
        let site = Site::render(demo_source(None), URL, day());
        let mut seen = 0;
        for (path, page) in &site.pages {
            if page.content_type != super::super::HTML {
                assert!(site.viewer_page(path, |_| false).is_none(), "{path}");
                continue;
            }
            let html = site
                .viewer_page(path, |_| false)
                .unwrap_or_else(|| panic!("{path} has no viewer variant"));
            assert!(html.contains(NAV_ITEM), "{path}");
            assert_eq!(
                html.replacen(NAV_ITEM, "", 1).as_bytes(),
                &page.body[..],
                "{path}: the viewer variant differs from the public page beyond the header"
            );
            seen += 1;
        }
        assert!(seen > 20, "only {seen} HTML pages");
        assert!(site.viewer_page("/nope", |_| true).is_none());
        assert!(site.viewer_page("/s/nope", |_| true).is_none());
    }

    #[test]
    fn an_nda_control_is_in_the_viewer_variant_only_and_labelled() {
        let slug = "encryption-at-rest";
        let site = Site::render(demo_source(Some(slug)), URL, day());
        let public = std::str::from_utf8(&site.pages["/s/encryption"].body)
            .unwrap()
            .to_owned();
        assert!(!public.contains(&format!("id=\"{slug}\"")));
        let html = site.viewer_page("/s/encryption", |_| false).unwrap();
        assert!(html.contains(&format!("id=\"{slug}\"")), "the control is shown");
        assert!(html.contains("<span class=\"pill confidential\">Confidential</span>"));
        let overview = site.viewer_page("/controls", |_| false).unwrap();
        assert!(overview.contains(&format!("/s/encryption#{slug}")));
        assert!(!std::str::from_utf8(&site.pages["/controls"].body)
            .unwrap()
            .contains(&format!("#{slug}\"")));
        assert!(site.viewer_search("encryption").contains("Confidential control"));
        assert!(!site
            .search
            .search("encryption", 50)
            .iter()
            .any(|r| r.href.ends_with(slug)));
    }

    /// A drill that passes (a status change) renders the business-continuity section again,
    /// as a full render with the same snapshot would show it.
    #[test]
    fn a_passing_drill_shows_in_the_continuity_section_as_a_full_render_does() {
        let source = demo_source(None);
        let before = Site::render(source.clone(), URL, day());
        let path = "/s/business-continuity";
        let mut snapshot = status::Snapshot::empty();
        snapshot.last_drill = Some(candor_store::DrDrill {
            id: 1,
            ran_at: 1_764_763_200,
            archive: "a".into(),
            backup_taken_at: 1_764_756_000,
            ok: true,
            rto_ms: 95_000,
            rpo_secs: 7_200,
            row_count: 1,
            blob_count: 0,
            audit_entries: 1,
            error: String::new(),
        });
        let snapshot = std::sync::Arc::new(snapshot);
        let after = Site::render(source.clone(), URL, day()).with_status(snapshot.clone());
        let full = Site::render_with(source, snapshot, URL, day());
        assert!(after.pages[path] == full.pages[path]);
        assert!(before.pages[path] != after.pages[path]);
        let html = std::str::from_utf8(&after.pages[path].body).unwrap();
        assert!(html.contains("Last disaster-recovery test"), "{html}");
        assert!(html.contains("1 minute 35 seconds (recovery time, RTO)"), "{html}");
        assert!(html.contains("2 hours old (recovery point, RPO)"), "{html}");
        assert!(!std::str::from_utf8(&after.pages["/s/encryption"].body)
            .unwrap()
            .contains("Last disaster-recovery test"));
    }

    #[test]
    fn a_covered_nda_document_is_downloaded_not_requested() {
        let site = Site::render(demo_source(None), URL, day());
        let mine = site.viewer_page("/documents", |s| s == "soc-2-report").unwrap();
        assert!(mine.contains("href=\"/viewer/documents/soc-2-report\""), "{mine}");
        assert!(!mine.contains("/documents/request?documents=soc-2-report"));
        let section = site.viewer_page("/s/encryption", |s| s == "soc-2-report").unwrap();
        assert!(section.contains("href=\"/viewer/documents/soc-2-report\""));
        let theirs = site.viewer_page("/documents", |_| false).unwrap();
        assert!(theirs.contains("/documents/request?documents=soc-2-report"));
        assert!(!theirs.contains("/viewer/documents/"));
    }
}
