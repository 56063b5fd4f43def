//! `/trust.json`: every public fact, machine-readable (schema in docs/TRUST_JSON.md).
//!
//! At fifty times the demo's content the document is megabytes, and serialising it whole took
//! most of an incremental update. So each item's piece is serialised on its own and kept
//! ([`TrustParts`]); an update makes again only the pieces of changed items and joins them into
//! the document the whole would serialise to, byte for byte.

use super::content::{Entry, Published, SectionEntry};
use super::reuse::reuse;
use candor_core::{Certification, Cookie, Faq, Page, Policy, Subprocessor};
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::sync::Arc;

/// The status page the trust center points to: the owner's external one, or its own `/status`.
fn status_url(p: &Published, base: &str) -> String {
    p.profile
        .body
        .status_url
        .clone()
        .unwrap_or_else(|| format!("{base}/status"))
}

/// `trust.json` schema version; documented in docs/TRUST_JSON.md. Bump on breaking changes.
pub const TRUST_JSON_VERSION: u32 = 1;

fn section(s: &SectionEntry, base: &str) -> Value {
    json!({
        "slug": s.section.slug, "title": s.section.body.title, "summary": s.section.body.summary,
        "intro_markdown": s.section.body.body, "updated": s.section.updated.to_string(),
        "url": format!("{base}/s/{}", s.section.slug),
        "controls": s.controls.iter().map(|c| json!({
            "slug": c.slug, "title": c.body.title, "body_markdown": c.body.body,
            "updated": c.updated.to_string(), "url": format!("{base}/s/{}#{}", s.section.slug, c.slug),
        })).collect::<Vec<_>>(),
    })
}

fn certification(c: &Entry<Certification>, today: NaiveDate) -> Value {
    json!({
        "slug": c.slug, "name": c.body.name, "status": c.body.status,
        "shown_status": c.body.shown_status(today).token(), "issuer": c.body.issuer,
        "issued": c.body.issued, "expires": c.body.expires, "summary_markdown": c.body.summary,
        "url": c.body.url, "updated": c.updated.to_string(),
    })
}

fn subprocessor(s: &Entry<Subprocessor>) -> Value {
    json!({
        "slug": s.slug, "name": s.body.name, "purpose": s.body.purpose, "data": s.body.data,
        "locations": s.body.locations, "website": s.body.website, "added": s.body.added,
        "updated": s.updated.to_string(),
    })
}

fn policy(x: &Entry<Policy>, base: &str) -> Value {
    json!({
        "slug": x.slug, "title": x.body.title, "summary": x.body.summary, "effective": x.body.effective,
        "body_markdown": x.body.body, "updated": x.updated.to_string(), "url": format!("{base}/policies/{}", x.slug),
    })
}

fn faq(f: &Entry<Faq>) -> Value {
    json!({
        "slug": f.slug, "question": f.body.question, "answer_markdown": f.body.answer, "updated": f.updated.to_string(),
    })
}

fn cookie(c: &Entry<Cookie>) -> Value {
    json!({
        "slug": c.slug, "name": c.body.name, "provider": c.body.provider, "service": c.body.service,
        "category": c.body.category, "duration": c.body.duration, "purpose": c.body.purpose,
    })
}

fn page(x: &Entry<Page>, base: &str) -> Value {
    json!({
        "slug": x.slug, "title": x.body.title, "body_markdown": x.body.body,
        "updated": x.updated.to_string(), "url": format!("{base}/p/{}", x.slug),
    })
}

/// One array element as the pretty printer writes it inside a top-level array: every line after
/// the first indented by two levels. (A raw line break never occurs inside a JSON string, so only
/// the structure's lines move.)
fn piece(v: &Value) -> Arc<str> {
    let text = serde_json::to_string_pretty(v).expect("json serializes");
    text.replace('\n', "\n    ").into()
}

/// The serialised piece of every item, in the order of [`Published`]'s lists. Made for one
/// public URL and one day (a certification's shown status depends on it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrustParts {
    sections: Vec<Arc<str>>,
    certifications: Vec<Arc<str>>,
    subprocessors: Vec<Arc<str>>,
    policies: Vec<Arc<str>>,
    faq: Vec<Arc<str>>,
    cookies: Vec<Arc<str>>,
    pages: Vec<Arc<str>>,
}

impl TrustParts {
    pub fn new(p: &Published, base: &str, today: NaiveDate) -> TrustParts {
        TrustParts::default().updated(&Published::empty(), p, base, today)
    }

    /// The parts for `p`, given these parts made from `before`: only changed items are made again.
    pub fn updated(&self, before: &Published, p: &Published, base: &str, today: NaiveDate) -> TrustParts {
        TrustParts {
            sections: reuse(
                &before.sections,
                &self.sections,
                &p.sections,
                |s| &s.section.slug,
                |s| piece(&section(s, base)),
            ),
            certifications: reuse(
                &before.certifications,
                &self.certifications,
                &p.certifications,
                |e| &e.slug,
                |e| piece(&certification(e, today)),
            ),
            subprocessors: reuse(
                &before.subprocessors,
                &self.subprocessors,
                &p.subprocessors,
                |e| &e.slug,
                |e| piece(&subprocessor(e)),
            ),
            policies: reuse(
                &before.policies,
                &self.policies,
                &p.policies,
                |e| &e.slug,
                |e| piece(&policy(e, base)),
            ),
            faq: reuse(&before.faq, &self.faq, &p.faq, |e| &e.slug, |e| piece(&faq(e))),
            cookies: reuse(
                &before.cookies,
                &self.cookies,
                &p.cookies,
                |e| &e.slug,
                |e| piece(&cookie(e)),
            ),
            pages: reuse(
                &before.pages,
                &self.pages,
                &p.pages,
                |e| &e.slug,
                |e| piece(&page(e, base)),
            ),
        }
    }

    fn groups(&self) -> [(&'static str, &[Arc<str>]); 7] {
        [
            ("sections", &self.sections),
            ("certifications", &self.certifications),
            ("subprocessors", &self.subprocessors),
            ("policies", &self.policies),
            ("faq", &self.faq),
            ("cookies", &self.cookies),
            ("pages", &self.pages),
        ]
    }

    /// The document, with `p`'s organization; these parts must have been made from `p`.
    pub fn render(&self, p: &Published, base: &str, today: NaiveDate) -> String {
        let prof = &p.profile.body;
        let mut doc = json!({
            "schema_version": TRUST_JSON_VERSION,
            "generated_on": today.to_string(),
            "url": base,
            "organization": {
                "name": prof.name, "tagline": prof.tagline, "description_markdown": prof.description,
                "website": prof.website, "logo_url": prof.logo_url, "brand_color": prof.brand_color,
                "contacts": {"security": prof.security_email, "privacy": prof.privacy_email, "support": prof.support_email},
                "hosting_regions": prof.hosting_regions, "updated": p.profile.updated.to_string(),
                "status_url": status_url(p, base),
            },
        });
        // Each list is a placeholder in the small document, replaced by its pieces below.
        for (name, _) in self.groups() {
            doc[name] = Value::String(format!("\u{1}{name}\u{1}"));
        }
        let skeleton = serde_json::to_string_pretty(&doc).expect("json serializes");
        let size: usize = self
            .groups()
            .iter()
            .flat_map(|(_, parts)| parts.iter())
            .map(|x| x.len() + 6)
            .sum();
        let mut out = String::with_capacity(skeleton.len() + size);
        for (n, line) in skeleton.split('\n').enumerate() {
            if n > 0 {
                out.push('\n');
            }
            let list = self.groups().into_iter().find_map(|(name, parts)| {
                let head = format!("  \"{name}\": \"\\u0001{name}\\u0001\"");
                let tail = line.strip_prefix(head.as_str())?;
                (tail.is_empty() || tail == ",").then_some((name, parts, tail))
            });
            let Some((name, parts, tail)) = list else {
                out.push_str(line);
                continue;
            };
            out.push_str(&format!("  \"{name}\": "));
            if parts.is_empty() {
                out.push_str("[]");
            } else {
                out.push_str("[\n");
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",\n");
                    }
                    out.push_str("    ");
                    out.push_str(part);
                }
                out.push_str("\n  ]");
            }
            out.push_str(tail);
        }
        out
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The document serialised whole, as `trust.json` was made before it came in pieces.
    pub(in crate::site) fn whole(p: &Published, base: &str, today: NaiveDate) -> String {
        let prof = &p.profile.body;
        let doc = json!({
            "schema_version": TRUST_JSON_VERSION,
            "generated_on": today.to_string(),
            "url": base,
            "organization": {
                "name": prof.name, "tagline": prof.tagline, "description_markdown": prof.description,
                "website": prof.website, "logo_url": prof.logo_url, "brand_color": prof.brand_color,
                "contacts": {"security": prof.security_email, "privacy": prof.privacy_email, "support": prof.support_email},
                "hosting_regions": prof.hosting_regions, "updated": p.profile.updated.to_string(),
                "status_url": status_url(p, base),
            },
            "sections": p.sections.iter().map(|s| section(s, base)).collect::<Vec<_>>(),
            "certifications": p.certifications.iter().map(|c| certification(c, today)).collect::<Vec<_>>(),
            "subprocessors": p.subprocessors.iter().map(subprocessor).collect::<Vec<_>>(),
            "policies": p.policies.iter().map(|x| policy(x, base)).collect::<Vec<_>>(),
            "faq": p.faq.iter().map(faq).collect::<Vec<_>>(),
            "cookies": p.cookies.iter().map(cookie).collect::<Vec<_>>(),
            "pages": p.pages.iter().map(|x| page(x, base)).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&doc).expect("json serializes")
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    fn demo() -> Published {
        let bundle = candor_core::contentdir::parse(&crate::bootstrap::demo_files()).unwrap();
        let items: Vec<candor_store::Item> = bundle
            .items
            .iter()
            .map(|b| candor_store::Item {
                id: 0,
                kind: b.kind,
                slug: b.slug.as_str().to_owned(),
                position: b.position,
                draft: b.body.clone(),
                published: Some(b.body.clone()),
                updated: b.updated.unwrap_or(day()),
                draft_changed_at: 0,
                published_at: None,
            })
            .collect();
        Published::from_items(&items, day())
    }

    fn pieces(p: &Published, base: &str) -> String {
        TrustParts::new(p, base, day()).render(p, base, day())
    }

    #[test]
    fn the_pieces_join_into_the_whole_document() {
        let base = "https://trust.example";
        let demo = demo();
        assert_eq!(pieces(&demo, base), whole(&demo, base, day()));
        let empty = Published::empty();
        assert_eq!(pieces(&empty, base), whole(&empty, base, day()));
    }

    #[test]
    fn text_that_looks_like_a_placeholder_stays_text() {
        let mut p = demo();
        let sneaky = "\u{1}sections\u{1}";
        p.profile.body.name = sneaky.into();
        p.profile.body.hosting_regions = vec![sneaky.into(), "\n  \"faq\": \"\u{1}faq\u{1}\"".into()];
        p.sections.truncate(1);
        p.sections[0].section.body.title = format!("{sneaky}\n{sneaky}");
        p.faq.clear();
        let base = "https://trust.example/\u{1}pages\u{1}";
        assert_eq!(pieces(&p, base), whole(&p, base, day()));
    }
}
