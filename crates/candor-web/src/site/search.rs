//! Full-text search over published content, in memory: a trust center holds hundreds of
//! documents, not millions, so a scan of pre-lowercased text answers in microseconds and needs no
//! index to keep in sync.

use super::content::{Entry, Published, SectionEntry};
use super::pages::Layout;
use super::reuse::reuse;
use askama::Template;
use candor_core::markdown::to_plain_text;
use candor_core::{Certification, Cookie, Faq, Page, Policy, Subprocessor};
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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchIndex {
    /// Per section: its document, then its controls'.
    sections: Vec<Arc<Vec<Doc>>>,
    certifications: Vec<Arc<Doc>>,
    subprocessors: Vec<Arc<Doc>>,
    policies: Vec<Arc<Doc>>,
    faq: Vec<Arc<Doc>>,
    cookies: Vec<Arc<Doc>>,
    pages: Vec<Arc<Doc>>,
}

pub struct SearchResult {
    pub href: String,
    pub title: String,
    pub kind: &'static str,
    pub snippet_html: String,
}

fn section_docs(s: &SectionEntry) -> Arc<Vec<Doc>> {
    let sec = &s.section;
    let mut docs = vec![Doc::new(
        format!("/s/{}", sec.slug),
        &sec.body.title,
        "Section",
        format!("{} {}", sec.body.summary, to_plain_text(&sec.body.body)),
    )];
    for c in &s.controls {
        // NDA-only controls are only in a signed-in viewer's index; the result says so in words.
        let kind = if super::pages::is_confidential(c) {
            "Confidential control"
        } else {
            "Control"
        };
        docs.push(Doc::new(
            format!("/s/{}#{}", sec.slug, c.slug),
            &c.body.title,
            kind,
            to_plain_text(&c.body.body),
        ));
    }
    Arc::new(docs)
}

fn certification(e: &Entry<Certification>) -> Arc<Doc> {
    let text = format!(
        "{} {} {}",
        e.body.status.label(),
        e.body.issuer.as_deref().unwrap_or(""),
        to_plain_text(&e.body.summary)
    );
    Arc::new(Doc::new(
        format!("/compliance#{}", e.slug),
        &e.body.name,
        "Compliance",
        text,
    ))
}

fn subprocessor(e: &Entry<Subprocessor>) -> Arc<Doc> {
    let b = &e.body;
    Arc::new(Doc::new(
        format!("/subprocessors#{}", e.slug),
        &b.name,
        "Subprocessor",
        format!("{} {} {}", b.purpose, b.data.join(", "), b.locations.join(", ")),
    ))
}

fn policy(e: &Entry<Policy>) -> Arc<Doc> {
    Arc::new(Doc::new(
        format!("/policies/{}", e.slug),
        &e.body.title,
        "Policy",
        format!("{} {}", e.body.summary, to_plain_text(&e.body.body)),
    ))
}

fn faq(e: &Entry<Faq>) -> Arc<Doc> {
    Arc::new(Doc::new(
        format!("/faq#{}", e.slug),
        &e.body.question,
        "FAQ",
        to_plain_text(&e.body.answer),
    ))
}

fn cookie(e: &Entry<Cookie>) -> Arc<Doc> {
    let b = &e.body;
    Arc::new(Doc::new(
        format!("/cookies#{}", e.slug),
        &b.name,
        "Cookie",
        format!("{} {} {}", b.service, b.provider, b.purpose),
    ))
}

fn page(e: &Entry<Page>) -> Arc<Doc> {
    Arc::new(Doc::new(
        format!("/p/{}", e.slug),
        &e.body.title,
        "Page",
        to_plain_text(&e.body.body),
    ))
}

impl SearchIndex {
    pub fn new(p: &Published) -> SearchIndex {
        SearchIndex::default().updated(&Published::empty(), p)
    }

    /// The index for `p`, given this index made from `before`: only the documents of changed
    /// items are made again (turning Markdown into text is the costly part).
    pub fn updated(&self, before: &Published, p: &Published) -> SearchIndex {
        SearchIndex {
            sections: reuse(
                &before.sections,
                &self.sections,
                &p.sections,
                |s| &s.section.slug,
                section_docs,
            ),
            certifications: reuse(
                &before.certifications,
                &self.certifications,
                &p.certifications,
                |e| &e.slug,
                certification,
            ),
            subprocessors: reuse(
                &before.subprocessors,
                &self.subprocessors,
                &p.subprocessors,
                |e| &e.slug,
                subprocessor,
            ),
            policies: reuse(&before.policies, &self.policies, &p.policies, |e| &e.slug, policy),
            faq: reuse(&before.faq, &self.faq, &p.faq, |e| &e.slug, faq),
            cookies: reuse(&before.cookies, &self.cookies, &p.cookies, |e| &e.slug, cookie),
            pages: reuse(&before.pages, &self.pages, &p.pages, |e| &e.slug, page),
        }
    }

    /// Every document, in the order results with equal scores are listed.
    fn docs(&self) -> impl Iterator<Item = &Doc> {
        self.sections.iter().flat_map(|s| s.iter()).chain(
            [
                &self.certifications,
                &self.subprocessors,
                &self.policies,
                &self.faq,
                &self.cookies,
                &self.pages,
            ]
            .into_iter()
            .flat_map(|group| group.iter().map(|d| &**d)),
        )
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
        let mut hits: Vec<(usize, &Doc)> = self
            .docs()
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
