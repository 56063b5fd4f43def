//! An incrementally updated site is byte-for-byte the site a full render gives for the same
//! content, after any sequence of changes; and it renders only what a change touches.

use super::library::ListedDocument;
use super::source::{Reader, Source};
use super::Site;
use candor_core::contentdir::{self, PROFILE_SLUG};
use candor_core::{Kind, SiteChange, SiteReads};
use candor_store::{Item, StoreResult};
use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

const URL: &str = "https://trust.example";

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
}

/// A model of the database: every item, published or not, and the listed documents.
#[derive(Clone, Debug)]
struct Db {
    items: Vec<Item>,
    documents: Vec<ListedDocument>,
    next_id: i64,
}

impl Db {
    /// A slice of the demo trust center (the profile, three items of each kind, up to three
    /// controls in each of the three sections: small enough that random changes empty a kind now
    /// and then), with two documents linked to a section and a certification.
    fn demo() -> Db {
        let bundle = contentdir::parse(&crate::bootstrap::demo_files()).expect("the demo parses");
        let mut kept: Vec<&contentdir::BundleItem> = vec![];
        for b in &bundle.items {
            let same_kind = kept.iter().filter(|k| k.kind == b.kind).count();
            let keep = match b.kind {
                Kind::Control => {
                    let section = b.body["section"].as_str().unwrap_or_default();
                    let in_section = kept
                        .iter()
                        .filter(|k| k.kind == Kind::Control && k.body["section"] == section)
                        .count();
                    in_section < 3
                        && kept
                            .iter()
                            .any(|k| k.kind == Kind::Section && k.slug.as_str() == section)
                }
                _ => same_kind < 3,
            };
            if keep {
                kept.push(b);
            }
        }
        let items: Vec<Item> = kept
            .iter()
            .enumerate()
            .map(|(n, b)| Item {
                id: n as i64 + 1,
                kind: b.kind,
                slug: b.slug.as_str().to_owned(),
                position: b.position,
                draft: b.body.clone(),
                published: Some(b.body.clone()),
                updated: b.updated.unwrap_or(day()),
                draft_changed_at: 0,
                published_at: Some(0),
            })
            .collect();
        let section = items.iter().find(|i| i.kind == Kind::Section).unwrap().slug.clone();
        let cert = items
            .iter()
            .find(|i| i.kind == Kind::Certification)
            .unwrap()
            .slug
            .clone();
        Db {
            next_id: items.len() as i64 + 1,
            items,
            documents: vec![
                document("overview", &[&format!("section/{section}")]),
                document("report", &[&format!("certification/{cert}")]),
            ],
        }
    }

    /// The items of `kind` in the store's order (position, then slug).
    fn items_of(&self, kind: Kind) -> Vec<Item> {
        let mut out: Vec<Item> = self.items.iter().filter(|i| i.kind == kind).cloned().collect();
        out.sort_by(|a, b| (a.position, &a.slug).cmp(&(b.position, &b.slug)));
        out
    }

    fn all(&self) -> Vec<Item> {
        Kind::ALL.iter().flat_map(|k| self.items_of(*k)).collect()
    }

    fn source(&self) -> Source {
        Source::from_items(&self.all(), self.documents.clone())
    }
}

impl Reader for Db {
    async fn item(&self, kind: Kind, slug: &str) -> StoreResult<Option<Item>> {
        Ok(self.items.iter().find(|i| i.kind == kind && i.slug == slug).cloned())
    }
    async fn items(&self, kind: Kind) -> StoreResult<Vec<Item>> {
        Ok(self.items_of(kind))
    }
    async fn documents(&self) -> StoreResult<Vec<ListedDocument>> {
        Ok(self.documents.clone())
    }
}

fn document(slug: &str, links: &[&str]) -> ListedDocument {
    ListedDocument {
        slug: slug.into(),
        title: format!("Document {slug}"),
        description: String::new(),
        kind: "Report",
        public: slug != "report",
        size: "12 KB".into(),
        updated: "2026-12-01".into(),
        links: links.iter().map(|l| (*l).to_owned()).collect(),
        yours: false,
    }
}

/// One change to the content, as an editor or an import would make it.
#[derive(Clone, Debug)]
enum Op {
    /// Sets a text field of an item's published body (never a date, an enumeration or a link).
    Edit(Index, Index, String),
    /// Sets the profile's brand colour.
    Brand(Index),
    /// Moves a control to another section.
    Resection(Index, Index),
    /// Turns a control between public and NDA.
    Visibility(Index),
    Date(Index, u8),
    Unpublish(Index),
    Republish(Index),
    Delete(Index),
    /// A new item like an existing one, at the end of its kind or at another item's position.
    Add(Index, Option<Index>),
    /// Moves an item up or down among its kind (controls: within their section).
    Move(Index, bool),
    /// Adds, removes or renames a document, or links it elsewhere.
    Document(Index, Index, u8),
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("Zulu".to_owned()),
        Just("*bold* and [a link](https://example.com) & <b>".to_owned()),
        "[a-zA-Z #*&<>]{1,16}",
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<Index>(), any::<Index>(), text()).prop_map(|(i, f, t)| Op::Edit(i, f, t)),
        1 => any::<Index>().prop_map(Op::Brand),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(c, s)| Op::Resection(c, s)),
        1 => any::<Index>().prop_map(Op::Visibility),
        2 => (any::<Index>(), 0u8..40).prop_map(|(i, d)| Op::Date(i, d)),
        2 => any::<Index>().prop_map(Op::Unpublish),
        2 => any::<Index>().prop_map(Op::Republish),
        2 => any::<Index>().prop_map(Op::Delete),
        2 => (any::<Index>(), proptest::option::of(any::<Index>())).prop_map(|(i, at)| Op::Add(i, at)),
        2 => (any::<Index>(), any::<bool>()).prop_map(|(i, up)| Op::Move(i, up)),
        2 => (any::<Index>(), any::<Index>(), 0u8..4).prop_map(|(d, l, w)| Op::Document(d, l, w)),
    ]
}

/// Fields an edit may set to any text without making the body invalid.
const TEXT_FIELDS: [&str; 11] = [
    "title",
    "summary",
    "body",
    "name",
    "tagline",
    "description",
    "purpose",
    "question",
    "answer",
    "provider",
    "service",
];

fn published_body(item: &mut Item) -> Option<&mut serde_json::Map<String, Value>> {
    item.published.as_mut()?.as_object_mut()
}

/// Applies `op` to `db` and returns what the use case would report.
fn perform(db: &mut Db, op: &Op) -> Vec<SiteChange> {
    let n = db.items.len();
    let touched = |item: &Item| vec![SiteChange::item(item.kind, item.slug.clone())];
    match op {
        Op::Edit(i, f, t) => {
            let item = &mut db.items[i.index(n)];
            if let Some(body) = published_body(item) {
                let fields: Vec<String> = body
                    .keys()
                    .filter(|k| TEXT_FIELDS.contains(&k.as_str()))
                    .cloned()
                    .collect();
                if !fields.is_empty() {
                    body.insert(fields[f.index(fields.len())].clone(), Value::String(t.clone()));
                }
            }
            touched(item)
        }
        Op::Brand(c) => {
            let colors = ["#1d4ed8", "#aa3300", "not a colour", "#00ff00"];
            let Some(item) = db.items.iter_mut().find(|i| i.kind == Kind::Profile) else {
                return vec![];
            };
            if let Some(body) = published_body(item) {
                body.insert(
                    "brand_color".into(),
                    Value::String(colors[c.index(colors.len())].into()),
                );
            }
            touched(item)
        }
        Op::Resection(c, s) => {
            let sections: Vec<String> = db.items_of(Kind::Section).into_iter().map(|i| i.slug).collect();
            let controls: Vec<usize> = (0..n).filter(|&i| db.items[i].kind == Kind::Control).collect();
            if sections.is_empty() || controls.is_empty() {
                return vec![];
            }
            let item = &mut db.items[controls[c.index(controls.len())]];
            if let Some(body) = published_body(item) {
                body.insert(
                    "section".into(),
                    Value::String(sections[s.index(sections.len())].clone()),
                );
            }
            touched(item)
        }
        Op::Visibility(c) => {
            let controls: Vec<usize> = (0..n).filter(|&i| db.items[i].kind == Kind::Control).collect();
            if controls.is_empty() {
                return vec![];
            }
            let item = &mut db.items[controls[c.index(controls.len())]];
            if let Some(body) = published_body(item) {
                let now = body.get("visibility").and_then(Value::as_str).unwrap_or("public");
                let next = if now == "public" { "nda" } else { "public" };
                body.insert("visibility".into(), Value::String(next.into()));
            }
            touched(item)
        }
        Op::Date(i, d) => {
            let item = &mut db.items[i.index(n)];
            item.updated = day() - chrono::Days::new(u64::from(*d));
            touched(item)
        }
        Op::Unpublish(i) => {
            let item = &mut db.items[i.index(n)];
            item.published = None;
            touched(item)
        }
        Op::Republish(i) => {
            let item = &mut db.items[i.index(n)];
            item.published = Some(item.draft.clone());
            touched(item)
        }
        Op::Delete(i) => {
            let item = db.items.remove(i.index(n));
            touched(&item)
        }
        Op::Add(like, at) => {
            let mut item = db.items[like.index(n)].clone();
            if item.kind == Kind::Profile {
                return vec![];
            }
            item.id = db.next_id;
            item.slug = format!("{}-n{}", item.slug, db.next_id);
            db.next_id += 1;
            let same: Vec<i64> = db.items_of(item.kind).iter().map(|i| i.position).collect();
            item.position = match at {
                Some(at) if !same.is_empty() => same[at.index(same.len())],
                _ => same.iter().max().map_or(0, |m| m + 10),
            };
            if let Some(Value::Object(body)) = &mut item.published {
                if let Some(Value::String(t)) = body.get_mut("title") {
                    t.push_str(" (new)");
                }
            }
            let change = touched(&item);
            db.items.push(item);
            change
        }
        Op::Move(i, up) => {
            // As the store does it: swap with the neighbour in the group, renumber it by tens.
            let me = db.items[i.index(n)].clone();
            let group_of = |item: &Item| item.draft.get("section").cloned();
            let group: Vec<Item> = db
                .items_of(me.kind)
                .into_iter()
                .filter(|x| group_of(x) == group_of(&me))
                .collect();
            let idx = group.iter().position(|x| x.id == me.id).expect("in its group");
            let other = match up {
                true if idx > 0 => idx - 1,
                false if idx + 1 < group.len() => idx + 1,
                _ => return vec![],
            };
            let mut ids: Vec<i64> = group.iter().map(|x| x.id).collect();
            ids.swap(idx, other);
            let base = group.iter().map(|x| x.position).min().unwrap_or(0);
            for (k, id) in ids.iter().enumerate() {
                if let Some(x) = db.items.iter_mut().find(|x| x.id == *id) {
                    x.position = base + 10 * k as i64;
                }
            }
            vec![SiteChange::Order { kind: me.kind }]
        }
        Op::Document(d, l, what) => {
            let links: Vec<String> = db
                .items
                .iter()
                .filter(|i| matches!(i.kind, Kind::Section | Kind::Certification))
                .map(|i| format!("{}/{}", i.kind.as_str(), i.slug))
                .collect();
            let link = links[l.index(links.len())].clone();
            let count = db.documents.len();
            match what {
                0 => db.documents.push(document(&format!("doc-{}", db.next_id), &[&link])),
                1 if count > 0 => {
                    db.documents.remove(d.index(count));
                }
                2 if count > 0 => db.documents[d.index(count)].title.push_str(" (2027)"),
                3 if count > 0 => db.documents[d.index(count)].links = vec![link],
                _ => return vec![],
            }
            db.next_id += 1;
            vec![SiteChange::Documents]
        }
    }
}

/// The site after `changes`, updated as [`Site::apply`] does but reading from the model.
fn updated(site: &Site, db: &Db, changes: &[SiteChange]) -> Site {
    let reads = SiteReads::of(changes);
    let source = site.source.as_ref().expect("rendered from a source");
    let next = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(source.patched(&reads, db))
        .unwrap();
    site.with_source(next, URL, day())
}

/// Every part of two sites that visitors or the server see, compared; the first differing page
/// is named.
fn assert_same(updated: &Site, full: &Site) -> Result<(), TestCaseError> {
    let mut paths: Vec<&String> = full.pages.keys().chain(updated.pages.keys()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        let (a, b) = (updated.pages.get(path), full.pages.get(path));
        prop_assert!(
            a == b,
            "{path} differs: updated {:?}, full {:?}",
            a.map(|p| p.body.len()),
            b.map(|p| p.body.len())
        );
    }
    let whole = super::trust_json::tests::whole(&full.published, URL, day());
    prop_assert!(
        full.pages["/trust.json"].body == whole.as_bytes(),
        "trust.json joined from pieces differs from the document serialised whole"
    );
    prop_assert!(updated.not_found == full.not_found, "the 404 page differs");
    prop_assert!(updated.search == full.search, "the search index differs");
    prop_assert!(updated.layout == full.layout, "the layout differs");
    prop_assert!(updated.published == full.published, "the published model differs");
    prop_assert!(updated.source == full.source, "the source differs");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// After each of a random sequence of changes, the updated site equals a full render of
    /// the same content.
    #[test]
    fn apply_renders_what_build_renders(ops in prop::collection::vec(op(), 1..12)) {
        let mut db = Db::demo();
        let mut site = Site::render(db.source(), URL, day());
        for op in &ops {
            let changes = perform(&mut db, op);
            site = updated(&site, &db, &changes);
            assert_same(&site, &Site::render(db.source(), URL, day()))?;
        }
    }
}

/// Which pages got new bytes between two sites.
fn rerendered(before: &Site, after: &Site) -> Vec<String> {
    let mut out: Vec<String> = after
        .pages
        .iter()
        .filter(|(path, page)| {
            before
                .pages
                .get(*path)
                .is_none_or(|b| b.body.as_ptr() != page.body.as_ptr())
        })
        .map(|(path, _)| path.clone())
        .collect();
    out.sort();
    out
}

fn sorted(paths: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
    out.sort();
    out
}

#[test]
fn a_control_renders_its_section_and_what_lists_every_section() {
    let mut db = Db::demo();
    let site = Site::render(db.source(), URL, day());
    let i = db.items.iter().position(|i| i.kind == Kind::Control).unwrap();
    let section = db.items[i].draft["section"].as_str().unwrap().to_owned();
    db.items[i].published.as_mut().unwrap()["title"] = "Keys rotate yearly".into();
    let after = updated(&site, &db, &[SiteChange::item(Kind::Control, db.items[i].slug.clone())]);
    let section_page = format!("/s/{section}");
    assert_eq!(
        rerendered(&site, &after),
        sorted(&[
            "/",
            &section_page,
            "/controls",
            "/feed.atom",
            "/sitemap.xml",
            "/trust.json"
        ])
    );
    assert!(after.search != site.search);
}

#[test]
fn a_faq_entry_renders_the_faq_page_and_trust_json() {
    let mut db = Db::demo();
    let site = Site::render(db.source(), URL, day());
    let i = db.items.iter().position(|i| i.kind == Kind::Faq).unwrap();
    db.items[i].published.as_mut().unwrap()["answer"] = "Yes.".into();
    let after = updated(&site, &db, &[SiteChange::item(Kind::Faq, db.items[i].slug.clone())]);
    assert_eq!(
        rerendered(&site, &after),
        sorted(&["/faq", "/sitemap.xml", "/trust.json"])
    );
}

#[test]
fn a_new_brand_colour_renders_every_page() {
    let mut db = Db::demo();
    let site = Site::render(db.source(), URL, day());
    let profile = db.items.iter_mut().find(|i| i.kind == Kind::Profile).unwrap();
    profile.published.as_mut().unwrap()["brand_color"] = "#aa3300".into();
    let after = updated(&site, &db, &[SiteChange::item(Kind::Profile, PROFILE_SLUG)]);
    // The stylesheet link every page carries names the colour (to bust caches).
    let mut all: Vec<String> = after
        .pages
        .keys()
        // The stylesheet and robots.txt do not depend on it; status outputs that do not show the
        // layout (the JSON, the status feed) are re-rendered but keep their pages when the bytes
        // are the same.
        .filter(|p| {
            !p.starts_with("/assets/site.")
                && *p != "/robots.txt"
                && *p != "/llms.txt"
                && !p.starts_with("/api/v2/")
                && *p != "/status/feed.atom"
        })
        .cloned()
        .collect();
    all.sort();
    assert_eq!(rerendered(&site, &after), all);
    assert!(after.not_found != site.not_found);
}

#[test]
fn a_document_renders_the_library_and_the_pages_it_is_linked_from() {
    let mut db = Db::demo();
    let site = Site::render(db.source(), URL, day());
    let section = db.documents[0].links[0].trim_start_matches("section/").to_owned();
    db.documents[0].title.push_str(" (2027)");
    let after = updated(&site, &db, &[SiteChange::Documents]);
    let section_page = format!("/s/{section}");
    assert_eq!(
        rerendered(&site, &after),
        sorted(&["/documents", &section_page, "/llms.txt", "/sitemap.xml"])
    );
    // An NDA document's title is also on the home page, which offers to request it.
    db.documents[1].title.push_str(" (2027)");
    let again = updated(&after, &db, &[SiteChange::Documents]);
    assert_eq!(
        rerendered(&after, &again),
        sorted(&["/", "/compliance", "/documents", "/llms.txt", "/sitemap.xml"])
    );
}

#[test]
fn no_change_renders_nothing_but_the_sitemap() {
    let db = Db::demo();
    let site = Site::render(db.source(), URL, day());
    let after = updated(&site, &db, &[SiteChange::Documents]);
    assert_eq!(rerendered(&site, &after), ["/sitemap.xml"]);
}
