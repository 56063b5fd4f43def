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

/// How deeply Markdown elements may sit inside one another (a quote in a list item in a quote…,
/// emphasis and links count too). Real documents stay far below; the HTML sanitizer's work grows
/// much faster than linearly with depth, so text a thousand quotes deep takes seconds to render
/// and fifty thousand takes minutes.
pub const MAX_NESTING: usize = 40;

/// The deepest nesting of elements in `markdown`, counted up to `MAX_NESTING + 1` (the parse stops
/// there, so a hostile text costs one linear pass at most).
pub fn nesting_depth(markdown: &str) -> usize {
    use pulldown_cmark::Event;
    let (mut depth, mut deepest) = (0usize, 0usize);
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(_) => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_NESTING {
                    break;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Whether `markdown` nests within [`MAX_NESTING`]; the field error to show when it does not.
pub fn check_nesting(field: &str, markdown: &str) -> Result<(), crate::content::FieldError> {
    if nesting_depth(markdown) > MAX_NESTING {
        Err(crate::content::FieldError::new(
            field,
            format!(
                "nests quotes, lists or emphasis more than {MAX_NESTING} levels deep; flatten it (fewer > or list levels inside one another)"
            ),
        ))
    } else {
        Ok(())
    }
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
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
    if nesting_depth(markdown) > MAX_NESTING {
        // Stored before the limit existed, or written past validation: shown as it was typed,
        // escaped, rather than rendered slowly.
        return format!("<pre>{}</pre>\n", escape_html(markdown));
    }
    let opts = options();
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

/// Text as HTML text or attribute content: `& < > " '` escaped. The one HTML escape that pages,
/// feeds, search snippets and mail share.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// [`escape_html`] appending to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
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
    fn deep_nesting_is_measured_and_refused() {
        assert_eq!(nesting_depth("plain"), 1);
        assert_eq!(nesting_depth("> quoted"), 2);
        assert_eq!(nesting_depth("- a\n  - b"), 4);
        assert!(check_nesting("body", "> > - a\n\n**b** and [c](https://x.example)").is_ok());
        for hostile in [
            ">".repeat(1000) + " x",
            "- ".repeat(1000) + "x",
            (1..=100).map(|i| ">".repeat(i) + " x\n").collect(),
            "*a ".repeat(500) + &"b* ".repeat(500),
        ] {
            let e = check_nesting("body", &hostile).unwrap_err();
            assert_eq!(e.field, "body");
            assert!(e.message.contains("40 levels"), "{}", e.message);
        }
    }

    #[test]
    fn too_deep_text_already_stored_renders_escaped_and_fast() {
        let hostile = ">".repeat(50_000) + " <b>x</b>";
        let start = std::time::Instant::now();
        let out = to_safe_html(&hostile);
        assert!(out.starts_with("<pre>&gt;&gt;&gt;"), "{}", &out[..40]);
        assert!(out.contains("&lt;b&gt;x&lt;/b&gt;") && !out.contains("<b>"));
        // Before the limit this took minutes; a generous bound that an unoptimized build meets.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    proptest! {
        /// Any stack of quote and list markers deeper than the limit is refused, and one within it
        /// is accepted; the check never renders, so it stays cheap.
        #[test]
        fn nesting_limit_holds_for_any_marker_mix(
            markers in proptest::collection::vec(prop_oneof![Just("> "), Just("- "), Just("1. "), Just("* ")], 0..120),
        ) {
            let text = format!("{}word", markers.concat());
            let depth = nesting_depth(&text);
            prop_assert_eq!(check_nesting("body", &text).is_ok(), depth <= MAX_NESTING);
            if markers.len() * 2 < MAX_NESTING {
                prop_assert!(check_nesting("body", &text).is_ok(), "{} markers: depth {}", markers.len(), depth);
            }
            if markers.len() > MAX_NESTING {
                prop_assert!(check_nesting("body", &text).is_err(), "{} markers: depth {}", markers.len(), depth);
            }
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
