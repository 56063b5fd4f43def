//! Mail composed from parts, as plain text with an HTML twin.

/// One part of a mail's body.
pub enum Part {
    /// Words, ours or typed by someone else (a visitor's name, a note, the NDA): always escaped
    /// and never made into a link, however much of it looks like an address.
    Text(String),
    /// A link that Candor made to one of its own pages; the only thing that becomes `<a href>`.
    Link(String),
}

/// A plain-text message and its HTML twin, built from the same parts. Paragraphs are separated by
/// blank lines in both; only [`Part::Link`]s become links, so text that someone typed (say a name
/// like "Eve\n\nhttps://evil.example") cannot put a link into mail sent from our address.
pub fn compose(to: &str, subject: String, parts: &[Part], purpose: &str) -> candor_store::NewEmail {
    let mut text = vec![];
    let mut html = vec![];
    for part in parts {
        match part {
            Part::Text(words) => {
                text.push(words.clone());
                html.extend(
                    words
                        .split("\n\n")
                        .map(|p| format!("<p>{}</p>", candor_core::markdown::escape_html(p).replace('\n', "<br>"))),
                );
            }
            Part::Link(url) => {
                text.push(url.clone());
                let url = candor_core::markdown::escape_html(url);
                html.push(format!("<p><a href=\"{url}\">{url}</a></p>"));
            }
        }
    }
    candor_store::NewEmail {
        recipient: to.to_owned(),
        subject,
        body_text: text.join("\n\n"),
        body_html: Some(format!("<!doctype html><html><body>{}</body></html>", html.join("\n"))),
        purpose: purpose.to_owned(),
        headers: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::{compose, Part};

    #[test]
    fn only_links_become_links() {
        let m = compose(
            "a@x.example",
            "s".into(),
            &[
                Part::Text("Eve\n\nhttps://evil.example <b>".into()),
                Part::Link("https://trust.example/x".into()),
            ],
            "test",
        );
        let html = m.body_html.unwrap();
        assert_eq!(html.matches("<a href").count(), 1);
        assert!(html.contains("&lt;b&gt;") && html.contains("href=\"https://trust.example/x\""));
        assert_eq!(
            m.body_text,
            "Eve\n\nhttps://evil.example <b>\n\nhttps://trust.example/x"
        );
    }
}
