//! Which characters a text field may hold. One rule for every front end (back-office forms, the
//! API, `candor import`, the public forms), so a title that the API refuses cannot arrive through
//! a form or a content file instead.
//!
//! Control characters (U+0000–U+001F, U+007F) are invisible, cannot appear in XML 1.0 (the Atom
//! feed and the sitemap would stop being well-formed) and, as line breaks, let one field pretend
//! to be several lines of a mail or a heading. A single-line field refuses all of them; a
//! multi-line field (Markdown, descriptions, messages) allows tab, line feed and carriage return
//! only. The two non-characters U+FFFE and U+FFFF, also forbidden in XML, are refused everywhere.

use crate::content::FieldError;

/// How much layout a field may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A name, title or address: one line, no control characters at all.
    Line,
    /// Markdown, a description or a message: tab and line breaks allowed.
    MultiLine,
}

/// The first character of `text` that a field of this shape may not hold.
pub fn forbidden_char(text: &str, shape: Shape) -> Option<char> {
    text.chars().find(|&c| !allowed(c, shape))
}

fn allowed(c: char, shape: Shape) -> bool {
    match c {
        '\t' | '\n' | '\r' => shape == Shape::MultiLine,
        '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{fffe}' | '\u{ffff}' => false,
        _ => true,
    }
}

/// Checks one field; the error names the offending character so the person can find it.
pub fn check(field: &str, text: &str, shape: Shape) -> Result<(), FieldError> {
    match forbidden_char(text, shape) {
        None => Ok(()),
        Some('\n' | '\r') => Err(FieldError::new(
            field,
            "must be a single line; remove the line breaks",
        )),
        Some(c) => Err(FieldError::new(
            field,
            format!(
                "contains the invisible control character U+{:04X}{}; remove it (it often comes from copying text out of another program)",
                u32::from(c),
                if c == '\t' { " (a tab)" } else { "" }
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_refuse_every_control_character() {
        for c in (0u32..0x20).chain([0x7f, 0xfffe, 0xffff]).filter_map(char::from_u32) {
            let text = format!("Acme{c}Corp");
            assert_eq!(forbidden_char(&text, Shape::Line), Some(c), "U+{:04X}", u32::from(c));
        }
        assert_eq!(forbidden_char("Acme Corp — Zürich ✓", Shape::Line), None);
        assert_eq!(
            check("name", "Eve\nhttp://evil.example", Shape::Line)
                .unwrap_err()
                .message,
            "must be a single line; remove the line breaks"
        );
        assert!(check("title", "a\u{7}b", Shape::Line)
            .unwrap_err()
            .message
            .contains("U+0007"));
    }

    #[test]
    fn multi_line_text_keeps_tabs_and_line_breaks_only() {
        assert_eq!(forbidden_char("a\tb\r\nc\nd", Shape::MultiLine), None);
        assert_eq!(forbidden_char("a\u{0}b", Shape::MultiLine), Some('\u{0}'));
        assert_eq!(forbidden_char("a\u{1b}[31mb", Shape::MultiLine), Some('\u{1b}'));
        assert_eq!(forbidden_char("a\u{c}b", Shape::MultiLine), Some('\u{c}'));
    }

    proptest! {
        /// Whatever passes the rule is text that XML 1.0 can carry.
        #[test]
        fn accepted_text_is_xml_text(s in any::<String>(), multi in any::<bool>()) {
            let shape = if multi { Shape::MultiLine } else { Shape::Line };
            if forbidden_char(&s, shape).is_none() {
                let xml_char = |c: char| {
                    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
                };
                prop_assert!(s.chars().all(xml_char), "{:?}", s);
            }
        }
    }
}
