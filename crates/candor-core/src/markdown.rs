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

/// Renders Markdown and sanitizes the result. The output is safe to embed unescaped.
pub fn to_safe_html(markdown: &str) -> String {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, opts));
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
        !l.contains("<script")
            && !l.contains("javascript:")
            && !l.contains(" onerror")
            && !l.contains(" onload")
            && !l.contains("<iframe")
            && !l.contains("style=")
            && !l.contains("data:text")
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
    fn plain_text_drops_markup() {
        assert_eq!(
            to_plain_text("# Title\n\nSome **bold** text.\n\n- a\n- b"),
            "Title Some bold text. a b"
        );
    }
}
