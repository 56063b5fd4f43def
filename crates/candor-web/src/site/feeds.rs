//! Machine-readable views: the Atom feed, the sitemap, robots.txt and brand CSS (`trust.json` is
//! in [`super::trust_json`]).

use super::content::Published;
use candor_core::markdown::escape_into;
use candor_core::markdown::to_safe_html;
use chrono::NaiveDate;

/// The brand colour as a CSS custom property. A stylesheet, not an inline style, so the CSP can
/// forbid inline styles.
pub fn brand_css(color: &str) -> String {
    format!(":root {{ --brand: {color}; }}\n")
}

/// Text for an XML document: escaped, and with every character that XML 1.0 forbids (control
/// characters other than tab and line breaks, U+FFFE, U+FFFF) replaced by U+FFFD. Validation
/// refuses those characters on the way in; this holds even for data that got past it (stored
/// before the rule, or written to the database directly), so a feed reader never meets a
/// document that is not well-formed.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let cleaned: std::borrow::Cow<'_, str> = if s.chars().all(is_xml_char) {
        s.into()
    } else {
        s.chars()
            .map(|c| if is_xml_char(c) { c } else { '\u{fffd}' })
            .collect::<String>()
            .into()
    };
    escape_into(&mut out, &cleaned);
    out
}

/// XML 1.0's `Char` production (a Rust `char` is never a surrogate).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{fffd}' | '\u{10000}'..)
}

/// An entry's summary in the feed, before it is written.
enum Summary<'a> {
    Text(&'a str),
    Markdown(&'a str),
}

/// An Atom feed of content updates, newest first.
pub fn atom(p: &Published, base: &str) -> String {
    let base = esc(base);
    // Certification summaries are Markdown, turned into HTML only for the entries that make the cut.
    let mut entries: Vec<(NaiveDate, String, String, Summary)> = vec![];
    for s in &p.sections {
        let d = s
            .controls
            .iter()
            .map(|c| c.updated)
            .fold(s.section.updated, NaiveDate::max);
        entries.push((
            d,
            s.section.body.title.clone(),
            format!("/s/{}", s.section.slug),
            Summary::Text(&s.section.body.summary),
        ));
    }
    for c in &p.certifications {
        entries.push((
            c.updated,
            c.body.name.clone(),
            format!("/compliance#{}", c.slug),
            Summary::Markdown(&c.body.summary),
        ));
    }
    for x in &p.policies {
        entries.push((
            x.updated,
            x.body.title.clone(),
            format!("/policies/{}", x.slug),
            Summary::Text(&x.body.summary),
        ));
    }
    for s in &p.subprocessors {
        entries.push((
            s.updated,
            format!("Subprocessor: {}", s.body.name),
            format!("/subprocessors#{}", s.slug),
            Summary::Text(&s.body.purpose),
        ));
    }
    for x in &p.pages {
        entries.push((
            x.updated,
            x.body.title.clone(),
            format!("/p/{}", x.slug),
            Summary::Text(""),
        ));
    }
    entries.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)));
    entries.truncate(50);
    let updated = p.last_updated();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{} Trust Center</title>\n<id>{base}/</id>\n<link href=\"{base}/\"/>\n<link rel=\"self\" href=\"{base}/feed.atom\"/>\n<updated>{updated}T00:00:00Z</updated>\n<author><name>{}</name></author>\n",
        esc(&p.profile.body.name),
        esc(&p.profile.body.name)
    );
    for (date, title, path, summary) in entries {
        let summary = match summary {
            Summary::Text(t) => t.to_owned(),
            Summary::Markdown(m) => to_safe_html(m),
        };
        out.push_str(&format!(
            "<entry><title>{}</title><id>{base}{}</id><link href=\"{base}{}\"/><updated>{date}T00:00:00Z</updated><summary type=\"html\">{}</summary></entry>\n",
            esc(&title),
            esc(&path),
            esc(&path),
            esc(&summary)
        ));
    }
    out.push_str("</feed>\n");
    out
}

pub fn sitemap(paths: &[String], base: &str, lastmod: NaiveDate) -> String {
    let base = esc(base);
    let mut paths = paths.to_vec();
    paths.sort();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for p in paths {
        out.push_str(&format!(
            "<url><loc>{base}{}</loc><lastmod>{lastmod}</lastmod></url>\n",
            esc(&p)
        ));
    }
    out.push_str("</urlset>\n");
    out
}

pub fn robots(base: &str) -> String {
    format!("User-agent: *\nAllow: /\nDisallow: /admin\nDisallow: /api/\nSitemap: {base}/sitemap.xml\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::content::{Entry, SectionEntry};
    use candor_core::{CertStatus, Certification, Page, Policy, Section, Subprocessor};
    use proptest::prelude::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()
    }

    fn entry<T>(slug: &str, body: T) -> Entry<T> {
        Entry {
            slug: slug.to_owned(),
            updated: day(),
            body,
        }
    }

    /// Published content with `text` in every field that reaches the feed, as if it had been
    /// written to the database without passing validation.
    fn published_with(text: &str) -> Published {
        let mut p = Published::from_items(&[], day());
        p.profile.body.name = text.to_owned();
        p.sections.push(SectionEntry {
            section: entry(
                text,
                Section {
                    title: text.to_owned(),
                    summary: text.to_owned(),
                    body: text.to_owned(),
                },
            ),
            controls: vec![],
        });
        p.certifications.push(entry(
            text,
            Certification {
                name: text.to_owned(),
                status: CertStatus::Certified,
                issuer: None,
                issued: None,
                expires: None,
                summary: text.to_owned(),
                url: None,
            },
        ));
        p.policies.push(entry(
            text,
            Policy {
                title: text.to_owned(),
                summary: text.to_owned(),
                effective: day(),
                body: text.to_owned(),
            },
        ));
        p.subprocessors.push(entry(
            text,
            Subprocessor {
                name: text.to_owned(),
                purpose: text.to_owned(),
                data: vec![],
                locations: vec![],
                website: None,
                added: day(),
            },
        ));
        p.pages.push(entry(
            text,
            Page {
                title: text.to_owned(),
                body: text.to_owned(),
            },
        ));
        p
    }

    #[test]
    fn a_control_character_in_a_title_leaves_the_feed_well_formed() {
        let feed = atom(
            &published_with("Terms\u{0}\u{1b}\u{7f}\u{ffff} & <more>"),
            "https://trust.example",
        );
        let doc = roxmltree::Document::parse(&feed).unwrap_or_else(|e| panic!("{e}\n{feed}"));
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .unwrap_or_default();
        assert_eq!(title, "Terms\u{fffd}\u{fffd}\u{7f}\u{fffd} & <more> Trust Center");
    }

    /// Arbitrary text, with the characters that matter to XML (controls, non-characters, markup)
    /// far more often than in a uniform pick from all of Unicode.
    fn hostile_text() -> impl Strategy<Value = String> {
        let char = prop_oneof![
            3 => any::<char>(),
            2 => (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('?')),
            1 => prop::sample::select(vec!['\u{7f}', '\u{fffe}', '\u{ffff}', '\u{85}', '\u{2028}']),
            2 => prop::sample::select(vec!['<', '>', '&', '"', '\'', ']', '/', '*', '#', '[', '(', ')']),
            2 => Just(' '),
        ];
        prop::collection::vec(char, 0..60).prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever text is stored, the feed and the sitemap parse as XML and carry it back.
        #[test]
        fn feed_and_sitemap_are_well_formed_for_any_text(text in hostile_text()) {
            let feed = atom(&published_with(&text), "https://trust.example");
            let parsed = roxmltree::Document::parse(&feed);
            prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), feed);
            let map = sitemap(&[format!("/p/{text}"), "/".to_owned()], "https://trust.example", day());
            let parsed = roxmltree::Document::parse(&map);
            prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), map);
        }
    }
}
