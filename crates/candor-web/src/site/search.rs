//! Full-text search over published content, in memory: a trust center holds hundreds of
//! documents, not millions, so a scan of pre-lowercased text answers in microseconds and needs no
//! index to keep in sync.

use super::content::{Entry, Published};
use super::pages::Layout;
use askama::Template;
use candor_core::markdown::to_plain_text;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, PartialEq)]
struct Doc {
    href: String,
    title: String,
    kind: &'static str,
    text: String,
    /// Lowercased title and text, for matching.
    haystack: String,
}

impl Doc {
    fn new(href: String, title: &str, kind: &'static str, text: String) -> Doc {
        let haystack = format!("{} {}", title, text).to_lowercase();
        Doc {
            href,
            title: title.to_owned(),
            kind,
            text,
            haystack,
        }
    }
}

/// Equal indexes hold the same documents in the same order.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchIndex {
    docs: Vec<Arc<Doc>>,
}

pub struct SearchResult {
    pub href: String,
    pub title: String,
    pub kind: &'static str,
    pub snippet_html: String,
}

/// Collects the documents of an index, taking a document over from the previous index when the
/// item it was made from is unchanged (turning Markdown into text is the costly part).
struct Collector<'a> {
    docs: Vec<Arc<Doc>>,
    /// The previous index's documents by link.
    previous: HashMap<&'a str, &'a Arc<Doc>>,
}

impl<'a> Collector<'a> {
    /// Adds the document for `now`, reusing the previous one when `before` (the same item in the
    /// content the previous index was made from) is equal and had the same link.
    fn add<T: PartialEq>(
        &mut self,
        before: Option<&Entry<T>>,
        now: &Entry<T>,
        href: String,
        make: impl FnOnce(String) -> Doc,
    ) {
        if before == Some(now) {
            if let Some(doc) = self.previous.get(href.as_str()) {
                self.docs.push(Arc::clone(doc));
                return;
            }
        }
        self.docs.push(Arc::new(make(href)));
    }
}

/// Entries by slug, for finding an item's previous state.
fn by_slug<T>(entries: &[Entry<T>]) -> HashMap<&str, &Entry<T>> {
    entries.iter().map(|e| (e.slug.as_str(), e)).collect()
}

impl SearchIndex {
    pub fn new(p: &Published) -> SearchIndex {
        SearchIndex::collect(p, None)
    }

    /// The index for `p`, given this index made from `before`: only the documents of changed
    /// items are made again.
    pub fn updated(&self, before: &Published, p: &Published) -> SearchIndex {
        SearchIndex::collect(p, Some((self, before)))
    }

    fn collect(p: &Published, prior: Option<(&SearchIndex, &Published)>) -> SearchIndex {
        let empty = Published::from_items(&[], chrono::NaiveDate::MIN);
        let (previous, before) = match prior {
            Some((index, before)) => (index.docs.iter().map(|d| (d.href.as_str(), d)).collect(), before),
            None => (HashMap::new(), &empty),
        };
        let mut c = Collector { docs: vec![], previous };
        let sections_before: HashMap<&str, &Entry<candor_core::Section>> = before
            .sections
            .iter()
            .map(|s| (s.section.slug.as_str(), &s.section))
            .collect();
        let controls_before: HashMap<&str, &Entry<candor_core::Control>> = before
            .sections
            .iter()
            .flat_map(|s| &s.controls)
            .map(|e| (e.slug.as_str(), e))
            .collect();
        for s in &p.sections {
            let sec = &s.section;
            c.add(
                sections_before.get(sec.slug.as_str()).copied(),
                sec,
                format!("/s/{}", sec.slug),
                |href| {
                    Doc::new(
                        href,
                        &sec.body.title,
                        "Section",
                        format!("{} {}", sec.body.summary, to_plain_text(&sec.body.body)),
                    )
                },
            );
            for ctl in &s.controls {
                c.add(
                    controls_before.get(ctl.slug.as_str()).copied(),
                    ctl,
                    format!("/s/{}#{}", sec.slug, ctl.slug),
                    |href| Doc::new(href, &ctl.body.title, "Control", to_plain_text(&ctl.body.body)),
                );
            }
        }
        let before_certs = by_slug(&before.certifications);
        for e in &p.certifications {
            c.add(
                before_certs.get(e.slug.as_str()).copied(),
                e,
                format!("/compliance#{}", e.slug),
                |href| {
                    let text = format!(
                        "{} {} {}",
                        e.body.status.label(),
                        e.body.issuer.as_deref().unwrap_or(""),
                        to_plain_text(&e.body.summary)
                    );
                    Doc::new(href, &e.body.name, "Compliance", text)
                },
            );
        }
        let before_subs = by_slug(&before.subprocessors);
        for e in &p.subprocessors {
            c.add(
                before_subs.get(e.slug.as_str()).copied(),
                e,
                format!("/subprocessors#{}", e.slug),
                |href| {
                    let b = &e.body;
                    Doc::new(
                        href,
                        &b.name,
                        "Subprocessor",
                        format!("{} {} {}", b.purpose, b.data.join(", "), b.locations.join(", ")),
                    )
                },
            );
        }
        let before_policies = by_slug(&before.policies);
        for e in &p.policies {
            c.add(
                before_policies.get(e.slug.as_str()).copied(),
                e,
                format!("/policies/{}", e.slug),
                |href| {
                    Doc::new(
                        href,
                        &e.body.title,
                        "Policy",
                        format!("{} {}", e.body.summary, to_plain_text(&e.body.body)),
                    )
                },
            );
        }
        let before_faq = by_slug(&before.faq);
        for e in &p.faq {
            c.add(
                before_faq.get(e.slug.as_str()).copied(),
                e,
                format!("/faq#{}", e.slug),
                |href| Doc::new(href, &e.body.question, "FAQ", to_plain_text(&e.body.answer)),
            );
        }
        let before_cookies = by_slug(&before.cookies);
        for e in &p.cookies {
            c.add(
                before_cookies.get(e.slug.as_str()).copied(),
                e,
                format!("/cookies#{}", e.slug),
                |href| {
                    let b = &e.body;
                    Doc::new(
                        href,
                        &b.name,
                        "Cookie",
                        format!("{} {} {}", b.service, b.provider, b.purpose),
                    )
                },
            );
        }
        let before_pages = by_slug(&before.pages);
        for e in &p.pages {
            c.add(
                before_pages.get(e.slug.as_str()).copied(),
                e,
                format!("/p/{}", e.slug),
                |href| Doc::new(href, &e.body.title, "Page", to_plain_text(&e.body.body)),
            );
        }
        SearchIndex { docs: c.docs }
    }

    /// Documents containing every term, best first: title matches weigh more than text matches.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchResult> {
        let terms: Vec<String> = query
            .split_whitespace()
            .map(str::to_lowercase)
            .filter(|t| !t.is_empty())
            .take(8)
            .collect();
        if terms.is_empty() {
            return vec![];
        }
        let mut hits: Vec<(usize, &Arc<Doc>)> = self
            .docs
            .iter()
            .filter(|d| terms.iter().all(|t| d.haystack.contains(t.as_str())))
            .map(|d| {
                let title = d.title.to_lowercase();
                let score = terms
                    .iter()
                    .map(|t| 10 * usize::from(title.contains(t.as_str())) + d.haystack.matches(t.as_str()).count())
                    .sum();
                (score, d)
            })
            .collect();
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.title.cmp(&b.1.title)));
        hits.into_iter()
            .take(limit)
            .map(|(_, d)| SearchResult {
                href: d.href.clone(),
                title: d.title.clone(),
                kind: d.kind,
                snippet_html: snippet(&d.text, &terms),
            })
            .collect()
    }
}

/// About 200 characters of `text` around the first match, HTML-escaped, with matches in `<mark>`.
fn snippet(text: &str, terms: &[String]) -> String {
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; fall back to the start then.
    let first = if lower.len() == text.len() {
        terms.iter().filter_map(|t| lower.find(t.as_str())).min().unwrap_or(0)
    } else {
        0
    };
    let mut start = first.saturating_sub(80);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + 200).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let window = &text[start..end];
    let window_lower = lower.get(start..end).unwrap_or("");
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut i = 0;
    while i < window.len() {
        let hit = if lower.len() == text.len() {
            terms
                .iter()
                .filter(|t| window_lower.get(i..).is_some_and(|w| w.starts_with(t.as_str())))
                .map(|t| t.len())
                .max()
        } else {
            None
        };
        match hit {
            Some(n) if window.is_char_boundary(i + n) => {
                out.push_str("<mark>");
                candor_core::markdown::escape_into(&mut out, &window[i..i + n]);
                out.push_str("</mark>");
                i += n;
            }
            _ => {
                let ch = window[i..].chars().next().expect("in bounds");
                candor_core::markdown::escape_into(&mut out, &window[i..i + ch.len_utf8()]);
                i += ch.len_utf8();
            }
        }
    }
    if end < text.len() {
        out.push('…');
    }
    out
}

#[derive(Template)]
#[template(path = "site/search.html")]
struct SearchPage<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    results: Vec<SearchResult>,
}

/// The search page for a query.
pub fn render(layout: &Layout, index: &SearchIndex, query: &str) -> String {
    let query: String = query.chars().take(200).collect();
    let results = index.search(&query, 50);
    SearchPage {
        layout,
        current: "/search",
        query: &query,
        results,
    }
    .render()
    .expect("renders")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_marks_and_escapes() {
        let s = snippet("Keys <rotate> yearly & on demand; rotate often", &["rotate".into()]);
        assert_eq!(
            s,
            "Keys &lt;<mark>rotate</mark>&gt; yearly &amp; on demand; <mark>rotate</mark> often"
        );
    }

    #[test]
    fn snippet_handles_unicode() {
        let text = "é".repeat(300);
        let s = snippet(&text, &["é".into()]);
        assert!(s.starts_with("<mark>é</mark>") || s.starts_with('é'));
    }
}
