//! The trust-center directory format ("content as code"), documented in `docs/CONTENT.md`.
//!
//! ```text
//! trust.toml              organization profile
//! sections/<slug>.md      front matter + intro; each `## Title {#slug}` starts a control
//! policies/<slug>.md      front matter + body
//! pages/<slug>.md         front matter + body
//! certifications.toml     [[certification]] tables
//! subprocessors.toml      [[subprocessor]] tables
//! faq.toml                [[faq]] tables
//! cookies.toml            [[cookie]] tables
//! ```
//!
//! [`parse`] takes file contents (the caller reads the disk) and reports every problem with its
//! file and line; [`render`] writes the canonical form, so `render(parse(render(b))) == render(b)`.

use crate::content::Kind;
use crate::slug::Slug;
use chrono::NaiveDate;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One content item as the directory describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleItem {
    pub kind: Kind,
    pub slug: Slug,
    pub position: i64,
    /// The public "updated" date, when the file gives one.
    pub updated: Option<NaiveDate>,
    /// The validated JSON body of the kind.
    pub body: Value,
}

/// A whole trust center's content.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bundle {
    pub items: Vec<BundleItem>,
}

/// A problem in a content directory, located as precisely as we can.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The profile's slug: there is exactly one profile.
pub const PROFILE_SLUG: &str = "profile";

/// The keys of the item metadata that live in files beside the body.
const META_KEYS: [&str; 2] = ["slug", "updated"];

struct TableFile {
    file: &'static str,
    table: &'static str,
    kind: Kind,
}

const TABLE_FILES: [TableFile; 4] = [
    TableFile {
        file: "certifications.toml",
        table: "certification",
        kind: Kind::Certification,
    },
    TableFile {
        file: "subprocessors.toml",
        table: "subprocessor",
        kind: Kind::Subprocessor,
    },
    TableFile {
        file: "faq.toml",
        table: "faq",
        kind: Kind::Faq,
    },
    TableFile {
        file: "cookies.toml",
        table: "cookie",
        kind: Kind::Cookie,
    },
];

/// Parses a content directory given as `relative path -> contents`.
pub fn parse(files: &BTreeMap<String, String>) -> Result<Bundle, Vec<Problem>> {
    let mut p = Parser {
        problems: vec![],
        seen: HashMap::new(),
        items: vec![],
    };
    match files.get("trust.toml") {
        Some(text) => p.profile(text),
        None => p.problem(
            "trust.toml",
            None,
            "is missing; every trust center needs a profile (name, contacts, brand colour)",
        ),
    }
    for (path, text) in files {
        let name = path.rsplit('/').next().unwrap_or(path);
        if name.starts_with('.') || path == "trust.toml" {
            continue;
        }
        if let Some(tf) = TABLE_FILES.iter().find(|t| t.file == path) {
            p.table_file(tf, text);
        } else if let Some(rest) = path.strip_prefix("sections/") {
            p.markdown_file(path, rest, text, Kind::Section);
        } else if let Some(rest) = path.strip_prefix("policies/") {
            p.markdown_file(path, rest, text, Kind::Policy);
        } else if let Some(rest) = path.strip_prefix("pages/") {
            p.markdown_file(path, rest, text, Kind::Page);
        } else {
            p.problem(path, None, "is not part of the format; expected trust.toml, sections/*.md, policies/*.md, pages/*.md, certifications.toml, subprocessors.toml, faq.toml or cookies.toml");
        }
    }
    if p.problems.is_empty() {
        Ok(Bundle { items: p.items })
    } else {
        Err(p.problems)
    }
}

struct Parser {
    problems: Vec<Problem>,
    /// Where each (kind, slug) was first seen, to reject duplicates.
    seen: HashMap<(Kind, Slug), (String, usize)>,
    items: Vec<BundleItem>,
}

impl Parser {
    fn problem(&mut self, file: &str, line: Option<usize>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_owned(),
            line,
            message: message.into(),
        });
    }

    fn profile(&mut self, text: &str) {
        let Some(table) = self.toml_table("trust.toml", text, 0) else {
            return;
        };
        self.item(
            "trust.toml",
            text,
            0,
            1,
            Kind::Profile,
            Some(PROFILE_SLUG.to_owned()),
            0,
            table,
        );
    }

    fn table_file(&mut self, tf: &TableFile, text: &str) {
        let Some(mut table) = self.toml_table(tf.file, text, 0) else {
            return;
        };
        let entries = match table.remove(tf.table) {
            Some(toml::Value::Array(a)) => a,
            Some(_) => {
                return self.problem(
                    tf.file,
                    Some(1),
                    format!("`{}` must be written as [[{}]] tables", tf.table, tf.table),
                )
            }
            None => vec![],
        };
        if let Some(other) = table.keys().next() {
            let line = line_of_key(text, other, 0);
            self.problem(
                tf.file,
                line,
                format!("unexpected key `{other}`; this file holds only [[{}]] tables", tf.table),
            );
        }
        let headers = header_lines(text, tf.table);
        for (i, entry) in entries.into_iter().enumerate() {
            let header_line = headers.get(i).copied().unwrap_or(1);
            let toml::Value::Table(t) = entry else {
                continue;
            };
            let slug = t.get("slug").and_then(|v| v.as_str()).map(str::to_owned);
            if slug.is_none() {
                self.problem(
                    tf.file,
                    Some(header_line),
                    format!(
                        "[[{}]] number {} has no `slug`; add slug = \"a-short-id\"",
                        tf.table,
                        i + 1
                    ),
                );
                continue;
            }
            self.item(tf.file, text, header_line - 1, header_line, tf.kind, slug, i as i64, t);
        }
    }

    fn markdown_file(&mut self, path: &str, name: &str, text: &str, kind: Kind) {
        let Some(stem) = name.strip_suffix(".md").filter(|s| !s.contains('/')) else {
            return self.problem(
                path,
                None,
                "is not a Markdown file directly in its folder; name it <slug>.md",
            );
        };
        let Some((front, body, body_line)) = split_front_matter(text) else {
            return self.problem(
                path,
                Some(1),
                "has no front matter; start the file with a +++ line, TOML keys, then another +++ line",
            );
        };
        let Some(mut fm) = self.toml_table(path, front, 1) else {
            return;
        };
        if fm.contains_key("slug") {
            let line = line_of_key(text, "slug", 0);
            return self.problem(
                path,
                line,
                "`slug` comes from the file name here; remove the key or rename the file",
            );
        }
        let position = if kind == Kind::Section {
            match fm.remove("order") {
                Some(toml::Value::Integer(n)) => n,
                Some(_) => {
                    return self.problem(
                        path,
                        line_of_key(text, "order", 0),
                        "`order` must be a whole number, e.g. order = 30",
                    )
                }
                None => {
                    return self.problem(
                        path,
                        Some(1),
                        "front matter needs `order`, a whole number that sorts sections on the home page",
                    )
                }
            }
        } else {
            0
        };
        if kind != Kind::Section {
            fm.insert("body".to_owned(), toml::Value::String(body.trim().to_owned()));
            self.item(path, text, 0, 1, kind, Some(stem.to_owned()), position, fm);
            return;
        }
        // A control without its own `updated` carries its section's date.
        let section_updated = fm.get("updated").and_then(toml_date);
        let (intro, controls) = split_controls(body, body_line);
        fm.insert("body".to_owned(), toml::Value::String(intro.trim().to_owned()));
        self.item(path, text, 0, 1, kind, Some(stem.to_owned()), position, fm);
        for (i, c) in controls.into_iter().enumerate() {
            let mut t = toml::Table::new();
            let attrs = match parse_heading(c.heading) {
                Ok(a) => a,
                Err(msg) => {
                    self.problem(path, Some(c.line), msg);
                    continue;
                }
            };
            t.insert("section".into(), toml::Value::String(stem.to_owned()));
            t.insert("title".into(), toml::Value::String(attrs.title.to_owned()));
            t.insert("body".into(), toml::Value::String(c.body.trim().to_owned()));
            if attrs.nda {
                t.insert("visibility".into(), toml::Value::String("nda".into()));
            }
            match (attrs.updated, section_updated) {
                (Some(u), _) => {
                    t.insert("updated".into(), toml::Value::String(u.to_owned()));
                }
                (None, Some(d)) => {
                    t.insert("updated".into(), toml::Value::String(d.to_string()));
                }
                (None, None) => {}
            }
            let slug = Some(attrs.slug.to_owned());
            self.item_at(path, c.line, Kind::Control, slug, i as i64, t);
        }
    }

    /// Parses TOML, reporting a syntax error at its line (`line_offset` = lines before `text`).
    fn toml_table(&mut self, file: &str, text: &str, line_offset: usize) -> Option<toml::Table> {
        match text.parse::<toml::Table>() {
            Ok(t) => Some(t),
            Err(e) => {
                let line = e.span().map(|s| line_at(text, s.start) + line_offset);
                self.problem(file, line, e.message().to_owned());
                None
            }
        }
    }

    /// Converts one TOML table into an item, locating field errors by key within the block that
    /// starts after `block_start_line` (0-based line index) in `text`.
    #[allow(clippy::too_many_arguments)]
    fn item(
        &mut self,
        file: &str,
        text: &str,
        block_start: usize,
        item_line: usize,
        kind: Kind,
        slug: Option<String>,
        position: i64,
        table: toml::Table,
    ) {
        let locate = |key: &str| line_of_key(text, key, block_start).or(Some(item_line));
        self.item_with(file, item_line, kind, slug, position, table, &locate);
    }

    fn item_at(
        &mut self,
        file: &str,
        line: usize,
        kind: Kind,
        slug: Option<String>,
        position: i64,
        table: toml::Table,
    ) {
        self.item_with(file, line, kind, slug, position, table, &|_| Some(line));
    }

    #[allow(clippy::too_many_arguments)]
    fn item_with(
        &mut self,
        file: &str,
        item_line: usize,
        kind: Kind,
        slug: Option<String>,
        position: i64,
        mut table: toml::Table,
        locate: &dyn Fn(&str) -> Option<usize>,
    ) {
        table.remove("slug");
        let slug = match Slug::parse(slug.as_deref().unwrap_or_default()) {
            Ok(s) => s,
            Err(e) => return self.problem(file, Some(item_line), e.to_string()),
        };
        if let Some((first_file, first_line)) = self.seen.get(&(kind, slug.clone())) {
            let msg = format!(
                "{kind} slug `{slug}` is used twice (first at {first_file}:{first_line}); slugs must be unique"
            );
            return self.problem(file, Some(item_line), msg);
        }
        self.seen.insert((kind, slug.clone()), (file.to_owned(), item_line));
        let updated = match table.remove("updated") {
            None => None,
            Some(v) => match toml_date(&v) {
                Some(d) => Some(d),
                None => return self.problem(file, locate("updated"), "`updated` must be a date like 2026-03-31"),
            },
        };
        let body = toml_to_json(toml::Value::Table(table));
        match kind.validate(&body) {
            Ok(body) => self.items.push(BundleItem {
                kind,
                slug,
                position,
                updated,
                body,
            }),
            Err(errors) => {
                for e in errors {
                    let line = if e.field.is_empty() {
                        Some(item_line)
                    } else {
                        locate(&e.field)
                    };
                    self.problem(file, line, format!("{kind} {slug}: {e}"));
                }
            }
        }
    }
}

/// Splits `+++\n<toml>+++\n<body>`; returns (toml, body, 1-based line where the body starts).
fn split_front_matter(text: &str) -> Option<(&str, &str, usize)> {
    let rest = text.strip_prefix("+++\n").or_else(|| text.strip_prefix("+++\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            let body_line = 2 + front.lines().count() + 1;
            return Some((front, body, body_line));
        }
        offset += line.len();
    }
    None
}

struct RawControl<'a> {
    heading: &'a str,
    line: usize,
    body: String,
}

/// Splits a section body at each `## ` line: the intro, then each control's heading and body.
fn split_controls(body: &str, first_line: usize) -> (String, Vec<RawControl<'_>>) {
    let mut intro = String::new();
    let mut controls: Vec<RawControl> = vec![];
    for (i, line) in body.lines().enumerate() {
        if let Some(h) = line.strip_prefix("## ") {
            controls.push(RawControl {
                heading: h,
                line: first_line + i,
                body: String::new(),
            });
        } else {
            let target = controls.last_mut().map(|c| &mut c.body).unwrap_or(&mut intro);
            target.push_str(line);
            target.push('\n');
        }
    }
    (intro, controls)
}

struct HeadingAttrs<'a> {
    title: &'a str,
    slug: &'a str,
    nda: bool,
    updated: Option<&'a str>,
}

/// Parses `Title {#slug .nda updated=2026-01-31}`.
fn parse_heading(h: &str) -> Result<HeadingAttrs<'_>, String> {
    let fix = "write control headings as `## Title {#control-slug}` (optionally with .nda and updated=YYYY-MM-DD inside the braces)";
    let h = h.trim_end();
    let Some(open) = h.rfind(" {#") else {
        return Err(format!("control heading has no {{#slug}}; {fix}"));
    };
    let Some(inner) = h[open + 2..].strip_suffix('}') else {
        return Err(format!("control heading's {{...}} is not closed; {fix}"));
    };
    let mut attrs = HeadingAttrs {
        title: h[..open].trim(),
        slug: "",
        nda: false,
        updated: None,
    };
    for token in inner.split_whitespace() {
        if let Some(s) = token.strip_prefix('#') {
            attrs.slug = s;
        } else if token == ".nda" {
            attrs.nda = true;
        } else if let Some(d) = token.strip_prefix("updated=") {
            attrs.updated = Some(d);
        } else {
            return Err(format!("unknown heading attribute `{token}`; {fix}"));
        }
    }
    Ok(attrs)
}

/// 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// 1-based line of the first `key =` at or after 0-based line `from`, stopping at the next table
/// header so that a key is found in its own `[[table]]`.
fn line_of_key(text: &str, key: &str, from: usize) -> Option<usize> {
    for (i, line) in text.lines().enumerate().skip(from) {
        let t = line.trim_start();
        if i > from && t.starts_with('[') {
            return None;
        }
        if let Some(rest) = t.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(i + 1);
            }
        }
    }
    None
}

/// 1-based lines of each `[[name]]` header.
fn header_lines(text: &str, name: &str) -> Vec<usize> {
    let header = format!("[[{name}]]");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .map(|(i, _)| i + 1)
        .collect()
}

fn toml_date(v: &toml::Value) -> Option<NaiveDate> {
    match v {
        toml::Value::Datetime(d) if d.time.is_none() => NaiveDate::parse_from_str(&d.to_string(), "%Y-%m-%d").ok(),
        toml::Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
        _ => None,
    }
}

/// TOML to JSON; dates become `YYYY-MM-DD` strings, as the content types expect.
fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering (export)

/// Keys whose string values are dates and are written as TOML dates.
const DATE_KEYS: [&str; 5] = ["issued", "expires", "added", "effective", "updated"];

/// Writes a bundle in the canonical directory form: `relative path -> contents`.
pub fn render(bundle: &Bundle) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut by_kind: BTreeMap<Kind, Vec<&BundleItem>> = BTreeMap::new();
    for item in &bundle.items {
        by_kind.entry(item.kind).or_default().push(item);
    }
    for items in by_kind.values_mut() {
        items.sort_by(|a, b| (a.position, &a.slug).cmp(&(b.position, &b.slug)));
    }
    let get = |k: Kind| by_kind.get(&k).cloned().unwrap_or_default();

    if let Some(profile) = get(Kind::Profile).first() {
        out.insert("trust.toml".into(), toml_doc(&item_table(profile, &[])));
    }
    for tf in &TABLE_FILES {
        let items = get(tf.kind);
        if items.is_empty() {
            continue;
        }
        let mut doc = String::new();
        for item in items {
            let mut t = toml::Table::new();
            t.insert("slug".into(), toml::Value::String(item.slug.to_string()));
            t.extend(item_table(item, &[]));
            doc.push_str(&format!("[[{}]]\n", tf.table));
            doc.push_str(&toml_doc(&t));
            doc.push('\n');
        }
        out.insert(tf.file.into(), doc.trim_end().to_owned() + "\n");
    }
    let controls = get(Kind::Control);
    for section in get(Kind::Section) {
        let mut t = item_table(section, &["body"]);
        // `order` goes after the title and summary, before `updated`.
        let updated = t.remove("updated");
        t.insert("order".into(), toml::Value::Integer(section.position));
        if let Some(u) = updated {
            t.insert("updated".into(), u);
        }
        let mut doc = front_matter(&t, str_of(&section.body, "body"));
        for c in controls
            .iter()
            .filter(|c| str_of(&c.body, "section") == section.slug.as_str())
        {
            let mut attrs = format!("#{}", c.slug);
            if str_of(&c.body, "visibility") == "nda" {
                attrs.push_str(" .nda");
            }
            if let Some(u) = c.updated.filter(|u| Some(*u) != section.updated) {
                attrs.push_str(&format!(" updated={u}"));
            }
            doc.push_str(&format!("\n## {} {{{attrs}}}\n", str_of(&c.body, "title")));
            let body = str_of(&c.body, "body");
            if !body.is_empty() {
                doc.push_str(body);
                doc.push('\n');
            }
        }
        out.insert(format!("sections/{}.md", section.slug), doc);
    }
    for (kind, dir) in [(Kind::Policy, "policies"), (Kind::Page, "pages")] {
        for item in get(kind) {
            let t = item_table(item, &["body"]);
            out.insert(
                format!("{dir}/{}.md", item.slug),
                front_matter(&t, str_of(&item.body, "body")),
            );
        }
    }
    out
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn front_matter(t: &toml::Table, body: &str) -> String {
    let mut doc = format!("+++\n{}+++\n", toml_doc(t));
    if !body.is_empty() {
        doc.push_str(body);
        doc.push('\n');
    }
    doc
}

/// The body as a TOML table (minus `skip` keys), with `updated` last.
fn item_table(item: &BundleItem, skip: &[&str]) -> toml::Table {
    let mut t = toml::Table::new();
    // Keys in the order of the kind's form fields, so files read like the back office.
    for field in crate::fields::fields(item.kind) {
        let (k, Some(v)) = (field.name, item.body.get(field.name)) else {
            continue;
        };
        if skip.contains(&k) || META_KEYS.contains(&k) || (k == "visibility" && v == "public") || v.is_null() {
            continue;
        }
        t.insert(k.to_owned(), json_to_toml(k, v));
    }
    if let Some(u) = item.updated {
        t.insert("updated".into(), date_value(&u.to_string()));
    }
    t
}

fn date_value(s: &str) -> toml::Value {
    s.parse::<toml::value::Datetime>()
        .map(toml::Value::Datetime)
        .unwrap_or_else(|_| toml::Value::String(s.to_owned()))
}

fn json_to_toml(key: &str, v: &Value) -> toml::Value {
    match v {
        Value::String(s) if DATE_KEYS.contains(&key) => date_value(s),
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Number(n) => n
            .as_i64()
            .map(toml::Value::Integer)
            .unwrap_or_else(|| toml::Value::Float(n.as_f64().unwrap_or(0.0))),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Array(a) => toml::Value::Array(a.iter().map(|x| json_to_toml("", x)).collect()),
        Value::Object(o) => toml::Value::Table(o.iter().map(|(k, v)| (k.clone(), json_to_toml(k, v))).collect()),
        Value::Null => toml::Value::String(String::new()),
    }
}

fn toml_doc(t: &toml::Table) -> String {
    toml::to_string(t).expect("a table of plain values serializes")
}

#[cfg(test)]
mod tests;
