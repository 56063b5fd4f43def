//! Markdown to safe HTML: rendered by pulldown-cmark, then cleaned by ammonia's allow-list, so
//! script, event handlers, `javascript:` URLs and raw HTML tricks never reach a page.

use pulldown_cmark::{html, Options, Parser};
use std::sync::OnceLock;

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.url_schemes(["http", "https", "mailto"].into_iter().collect())
            .link_rel(Some("noopener noreferrer nofollow"))
            .add_tag_attributes("th", ["align"])
            .add_tag_attributes("td", ["align"]);
        b
    })
}

/// Renders Markdown that sits under a level-2 heading (a control, an answer) and sanitizes the
/// result. The output is safe to embed unescaped.
pub fn to_safe_html(markdown: &str) -> String {
    to_safe_html_with_top(markdown, 3)
}

/// Like [`to_safe_html`], with the document's headings shifted so that the shallowest one becomes
/// level `top`: authors may start at any level and the page's outline still has no gaps.
pub fn to_safe_html_with_top(markdown: &str, top: u8) -> String {
    use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let level_num = |l: HeadingLevel| l as i32;
    let shallowest = Parser::new_ext(markdown, opts)
        .filter_map(|e| match e {
            Event::Start(Tag::Heading { level, .. }) => Some(level_num(level)),
            _ => None,
        })
        .min();
    let shift = shallowest.map(|m| i32::from(top) - m).unwrap_or(0);
    let moved = |l: HeadingLevel| HeadingLevel::try_from((level_num(l) + shift).clamp(1, 6) as usize).unwrap_or(l);
    let events = Parser::new_ext(markdown, opts).map(|e| match e {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: moved(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(moved(level))),
        other => other,
    });
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, events);
    cleaner().clean(&raw).to_string()
}

/// Plain text of a Markdown document, for search and feeds.
pub fn to_plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, TagEnd};
    let mut out = String::with_capacity(markdown.len());
    for ev in Parser::new(markdown) {
        match ev {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PAYLOADS: &[&str] = &[
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<svg onload=alert(1)>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "![x](javascript:alert(1))",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ];

    fn is_inert(html: &str) -> bool {
        let l = html.to_ascii_lowercase();
        // Dangerous as markup, not as words: "javascript:" may appear as visible text, but never
        // as an attribute value.
        !l.contains("<script")
            && !l.contains("=\"javascript:")
            && !l.contains("='javascript:")
            && !l.contains(" onerror")
            && !l.contains(" onload")
            && !l.contains("<iframe")
            && !l.contains(" style=")
            && !l.contains("=\"data:")
    }

    #[test]
    fn known_payloads_are_inert() {
        for p in PAYLOADS {
            let out = to_safe_html(p);
            assert!(is_inert(&out), "{p} -> {out}");
        }
    }

    #[test]
    fn ordinary_markdown_survives() {
        let out = to_safe_html("**Bold** and [a link](https://example.com) and `code`");
        assert!(out.contains("<strong>Bold</strong>"));
        assert!(out.contains("href=\"https://example.com\""));
        assert!(out.contains("<code>code</code>"));
    }

    proptest! {
        #[test]
        fn any_mix_with_payloads_is_inert(prefix in "[a-z *_\\[\\]()<>\"'=/\n]{0,40}", i in 0..PAYLOADS.len()) {
            let out = to_safe_html(&format!("{prefix}{}", PAYLOADS[i]));
            prop_assert!(is_inert(&out), "{}", out);
        }
    }

    #[test]
    fn headings_are_shifted_to_the_requested_top_level() {
        assert_eq!(to_safe_html_with_top("### A\n\n#### B", 2), "<h2>A</h2>\n<h3>B</h3>\n");
        assert_eq!(to_safe_html("# A\n\n## B"), "<h3>A</h3>\n<h4>B</h4>\n");
        assert_eq!(to_safe_html("no headings"), "<p>no headings</p>\n");
    }

    #[test]
    fn plain_text_drops_markup() {
        assert_eq!(
            to_plain_text("# Title\n\nSome **bold** text.\n\n- a\n- b"),
            "Title Some bold text. a b"
        );
    }
}
