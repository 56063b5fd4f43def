//! Full-text search over published content, in memory: a trust center holds hundreds of
//! documents, not millions, so a scan of pre-lowercased text answers in microseconds and needs no
//! index to keep in sync.

use super::content::Published;
use super::pages::Layout;
use askama::Template;
use candor_core::markdown::to_plain_text;

struct Doc {
    href: String,
    title: String,
    kind: &'static str,
    text: String,
    /// Lowercased title and text, for matching.
    haystack: String,
}

pub struct SearchIndex {
    docs: Vec<Doc>,
}

pub struct SearchResult {
    pub href: String,
    pub title: String,
    pub kind: &'static str,
    pub snippet_html: String,
}

impl SearchIndex {
    pub fn new(p: &Published) -> SearchIndex {
        let mut docs = vec![];
        let mut add = |href: String, title: &str, kind: &'static str, text: String| {
            let haystack = format!("{} {}", title, text).to_lowercase();
            docs.push(Doc {
                href,
                title: title.to_owned(),
                kind,
                text,
                haystack,
            });
        };
        for s in &p.sections {
            let sec = &s.section;
            add(
                format!("/s/{}", sec.slug),
                &sec.body.title,
                "Section",
                format!("{} {}", sec.body.summary, to_plain_text(&sec.body.body)),
            );
            for c in &s.controls {
                add(
                    format!("/s/{}#{}", sec.slug, c.slug),
                    &c.body.title,
                    "Control",
                    to_plain_text(&c.body.body),
                );
            }
        }
        for c in &p.certifications {
            let text = format!(
                "{} {} {}",
                c.body.status.label(),
                c.body.issuer.as_deref().unwrap_or(""),
                to_plain_text(&c.body.summary)
            );
            add(format!("/compliance#{}", c.slug), &c.body.name, "Compliance", text);
        }
        for s in &p.subprocessors {
            let b = &s.body;
            add(
                format!("/subprocessors#{}", s.slug),
                &b.name,
                "Subprocessor",
                format!("{} {} {}", b.purpose, b.data.join(", "), b.locations.join(", ")),
            );
        }
        for x in &p.policies {
            add(
                format!("/policies/{}", x.slug),
                &x.body.title,
                "Policy",
                format!("{} {}", x.body.summary, to_plain_text(&x.body.body)),
            );
        }
        for f in &p.faq {
            add(
                format!("/faq#{}", f.slug),
                &f.body.question,
                "FAQ",
                to_plain_text(&f.body.answer),
            );
        }
        for c in &p.cookies {
            let b = &c.body;
            add(
                format!("/cookies#{}", c.slug),
                &b.name,
                "Cookie",
                format!("{} {} {}", b.service, b.provider, b.purpose),
            );
        }
        for x in &p.pages {
            add(
                format!("/p/{}", x.slug),
                &x.body.title,
                "Page",
                to_plain_text(&x.body.body),
            );
        }
        SearchIndex { docs }
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
