//! `/llms.txt`: the trust center summed up in Markdown for language-model agents, which customers
//! now send to assess vendors (the format proposed at llmstxt.org: a title, a one-line summary,
//! then lists of links). Made from the same public content as the pages, with absolute
//! addresses: what is published, where, how to ask for NDA documents, and where the
//! machine-readable `trust.json` is. NDA-only controls never appear (they are not in
//! [`Published`]'s public model).

use super::content::Published;
use std::fmt::Write;

/// Served as Markdown, UTF-8.
pub const CONTENT_TYPE: &str = "text/markdown; charset=utf-8";

/// `text` on one line with the characters Markdown gives meaning to escaped, so a title cannot
/// make a link or a heading of its own.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' => {
                out.push('\\');
                out.push(ch);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

/// The document for `p`, with addresses under `base` (the public URL, no trailing slash);
/// `status_href` is where the pages' Status link goes, if they have one.
pub fn render(p: &Published, base: &str, status_href: Option<&str>) -> String {
    let prof = &p.profile.body;
    let name = md(&prof.name);
    let status = status_href.map(|href| match href.starts_with('/') {
        true => format!("{base}{href}"),
        false => href.to_owned(),
    });
    let mut o = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(o, "# {name} Trust Center\n");
    let _ = writeln!(o, "> {}\n", md(&prof.tagline));
    let _ = writeln!(
        o,
        "This is {name}'s security trust center: how {name} protects customer data, what it is certified for and who processes data on its behalf. Every page listed here is public. The same facts are machine-readable in [trust.json]({base}/trust.json) (JSON, schema documented there by `schema_version`).\n"
    );

    let _ = writeln!(o, "## Where to find what\n");
    let _ = writeln!(
        o,
        "- [Overview]({base}/): who {name} is and a summary of its security program"
    );
    let controls: usize = p.sections.iter().map(|s| s.controls.len()).sum();
    if !p.sections.is_empty() {
        let _ = writeln!(
            o,
            "- [Security controls]({base}/controls): {controls} controls in {} sections",
            p.sections.len()
        );
    }
    if !p.certifications.is_empty() {
        let list: Vec<String> = p.certifications.iter().map(|c| md(&c.body.name)).collect();
        let _ = writeln!(o, "- [Compliance]({base}/compliance): {}", list.join(", "));
    }
    if !p.subprocessors.is_empty() {
        let _ = writeln!(
            o,
            "- [Subprocessors]({base}/subprocessors): {} companies that process data for {name}",
            p.subprocessors.len()
        );
    }
    if !p.policies.is_empty() {
        let list: Vec<String> = p.policies.iter().map(|x| md(&x.body.title)).collect();
        let _ = writeln!(o, "- [Policies]({base}/policies): {}", list.join(", "));
    }
    if !p.documents.is_empty() {
        let _ = writeln!(
            o,
            "- [Documents]({base}/documents): reports, certificates and other evidence"
        );
    }
    if !p.faq.is_empty() {
        let _ = writeln!(o, "- [FAQ]({base}/faq): {} questions and answers", p.faq.len());
    }
    if let Some(status) = status {
        let _ = writeln!(o, "- [System status]({status}): current availability and incidents");
    }
    let _ = writeln!(o, "- [trust.json]({base}/trust.json): every public fact above, as JSON");
    let _ = writeln!(
        o,
        "- [Updates feed]({base}/feed.atom): changes to this trust center (Atom)"
    );

    if !p.sections.is_empty() {
        let _ = writeln!(o, "\n## Security controls\n");
        for s in &p.sections {
            let _ = writeln!(
                o,
                "- [{}]({base}/s/{}): {}",
                md(&s.section.body.title),
                s.section.slug,
                md(&s.section.body.summary)
            );
        }
    }

    if !p.documents.is_empty() {
        let _ = writeln!(o, "\n## Documents\n");
        for d in &p.documents {
            if d.public {
                let _ = writeln!(
                    o,
                    "- [{}]({base}/documents/{}/download): {}, public",
                    md(&d.title),
                    d.slug,
                    md(d.kind)
                );
            } else {
                let _ = writeln!(o, "- {}: {}, under NDA", md(&d.title), md(d.kind));
            }
        }
        if p.documents.iter().any(|d| !d.public) {
            let _ = writeln!(o, "\n### Getting documents shared under NDA\n");
            let _ = writeln!(
                o,
                "A person, not an agent, asks for them, for themselves and their company:\n"
            );
            let _ = writeln!(
                o,
                "1. Request access at {base}/documents/request, naming the documents and the reason."
            );
            let _ = writeln!(
                o,
                "2. Confirm the email address by the link sent to it, and sign {name}'s NDA online."
            );
            let _ = writeln!(
                o,
                "3. Once the request is approved, sign in by the emailed link ({base}/viewer/signin) and download the documents; each PDF is marked with the reader's name and email address."
            );
        }
    }

    let _ = writeln!(o, "\n## Contacts\n");
    let _ = writeln!(o, "- Security: {}", md(&prof.security_email));
    let _ = writeln!(o, "- Privacy: {}", md(&prof.privacy_email));
    let _ = writeln!(o, "- Support: {}", md(&prof.support_email));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_in_names_is_escaped_and_lines_stay_whole() {
        assert_eq!(md("A [link](x) *b*\n# h"), "A \\[link\\](x) \\*b\\* \\# h");
    }

    #[test]
    fn an_empty_trust_center_still_says_where_things_are() {
        let text = render(&Published::empty(), "https://trust.example", Some("/status"));
        assert!(text.starts_with("# Candor Trust Center\n"));
        assert!(text.contains("(https://trust.example/trust.json)"));
        assert!(text.contains("[System status](https://trust.example/status)"));
        let text = render(&Published::empty(), "https://trust.example", None);
        assert!(!text.contains("System status"), "no status page to point to");
        assert!(!text.contains("## Documents"));
    }
}
