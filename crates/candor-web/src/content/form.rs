//! The back office's edit page for one item: its fields, their errors, and a preview of its
//! Markdown.

use crate::http::error::WebResult;
use crate::http::form_errors::FormErrors;
use crate::http::layout::{html, AdminLayout};
use crate::http::session::Admin;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use candor_core::content::FieldError;
use candor_core::fields::{fields, form_value, FieldType};
use candor_core::markdown::to_safe_html;
use candor_core::Kind;
use candor_store::Item;
use serde_json::Value;

/// Where visitors see an item, if it has a page of its own or an anchor.
fn public_href(item: &Item) -> Option<String> {
    item.published.as_ref()?;
    let slug = &item.slug;
    Some(match item.kind {
        Kind::Profile => "/".into(),
        Kind::Section => format!("/s/{slug}"),
        Kind::Control => format!("/s/{}#{slug}", item.draft.get("section")?.as_str()?),
        Kind::Certification => format!("/compliance#{slug}"),
        Kind::Subprocessor => format!("/subprocessors#{slug}"),
        Kind::Policy => format!("/policies/{slug}"),
        Kind::Faq => format!("/faq#{slug}"),
        Kind::Cookie => format!("/cookies#{slug}"),
        Kind::Page => format!("/p/{slug}"),
    })
}

struct FieldView {
    name: &'static str,
    label: &'static str,
    help: &'static str,
    required: bool,
    /// An `<input type>`, or "textarea" or "select".
    control: &'static str,
    markdown: bool,
    rows: usize,
    value: String,
    /// (value, label, selected).
    options: Vec<(String, String, bool)>,
    error: Option<String>,
    /// Said under the help: what Candor does with the value (a brand colour it darkens).
    note: Option<String>,
}

impl FieldView {
    /// The ids of what describes the control: its help, its note, its error.
    fn described_by(&self) -> String {
        let mut ids = vec![];
        if !self.help.is_empty() {
            ids.push(format!("h-{}", self.name));
        }
        if self.note.is_some() {
            ids.push(format!("n-{}", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("f-{}-error", self.name));
        }
        ids.join(" ")
    }
}

#[derive(Template)]
#[template(path = "admin/edit.html")]
pub(super) struct EditPage {
    layout: AdminLayout,
    kind: &'static str,
    kind_label: &'static str,
    heading: String,
    slug: String,
    is_new: bool,
    show_slug: bool,
    action: String,
    state: Option<&'static str>,
    state_class: &'static str,
    public_href: Option<String>,
    published: bool,
    has_changes: bool,
    deletable: bool,
    fields: Vec<FieldView>,
    errors: FormErrors,
    preview: Vec<(&'static str, String)>,
}

/// A control's section as a choice among the sections that exist, by title, so nobody has to
/// know or type a slug. A control whose section is gone keeps it as an option, marked, so that
/// saving changes nothing the editor did not choose; a new control starts on "Choose".
fn section_options(value: &str, sections: &[(String, String)]) -> Vec<(String, String, bool)> {
    let mut options = vec![];
    if value.is_empty() {
        options.push((String::new(), "Choose a section".to_owned(), true));
    } else if !sections.iter().any(|(slug, _)| slug == value) {
        options.push((value.to_owned(), format!("{value} (no such section)"), true));
    }
    options.extend(
        sections
            .iter()
            .map(|(slug, title)| (slug.clone(), title.clone(), slug == value)),
    );
    options
}

fn field_views(kind: Kind, body: &Value, errors: &[FieldError], sections: &[(String, String)]) -> Vec<FieldView> {
    fields(kind)
        .iter()
        .map(|f| {
            let value = form_value(f, body);
            let (control, rows, options) = match f.ty {
                _ if kind == Kind::Control && f.name == "section" => ("select", 0, section_options(&value, sections)),
                FieldType::Markdown => ("textarea", 14, vec![]),
                FieldType::List => ("textarea", 4, vec![]),
                FieldType::Choice(opts) => (
                    "select",
                    0,
                    opts.iter()
                        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned(), *v == value))
                        .collect(),
                ),
                FieldType::Date => ("date", 0, vec![]),
                FieldType::Email => ("email", 0, vec![]),
                // An uploaded logo's address is relative: a url input would refuse it.
                FieldType::Url if candor_core::logo::is_logo_path(&value) => ("text", 0, vec![]),
                FieldType::Url => ("url", 0, vec![]),
                FieldType::Line | FieldType::Color => ("text", 0, vec![]),
            };
            FieldView {
                note: brand_note(f, &value),
                name: f.name,
                label: f.label,
                help: f.help,
                required: f.required,
                control,
                markdown: f.ty == FieldType::Markdown,
                rows,
                value,
                options,
                error: errors.iter().find(|e| e.field == f.name).map(|e| e.message.clone()),
            }
        })
        .collect()
}

/// Under the brand colour: the colour Candor will use when the one chosen is too light for
/// white text (the stylesheet darkens it; the owner should not find out by surprise).
fn brand_note(f: &candor_core::fields::Field, value: &str) -> Option<String> {
    if f.ty != FieldType::Color {
        return None;
    }
    candor_core::color::darkened_accent(value.trim()).map(|used| {
        format!("{value} is too light for white text: buttons, links and the header use the darker {used} instead. Choose a darker colour to use your own as it is.")
    })
}

fn preview_of(kind: Kind, body: &Value) -> Vec<(&'static str, String)> {
    fields(kind)
        .iter()
        .filter(|f| f.ty == FieldType::Markdown)
        .map(|f| {
            (
                f.label,
                to_safe_html(body.get(f.name).and_then(Value::as_str).unwrap_or("")),
            )
        })
        .collect()
}

pub(super) struct EditArgs<'a> {
    pub kind: Kind,
    pub item: Option<&'a Item>,
    pub slug: &'a str,
    pub body: &'a Value,
    pub errors: Vec<FieldError>,
    pub preview: bool,
    pub notice: Option<&'a str>,
    /// The sections a control may belong to, (slug, title) in display order; empty for other
    /// kinds.
    pub sections: &'a [(String, String)],
}

/// The sections to choose from on a control's form (nothing to read for other kinds).
pub(super) async fn section_choices(state: &crate::AppState, kind: Kind) -> WebResult<Vec<(String, String)>> {
    if kind != Kind::Control {
        return Ok(vec![]);
    }
    let sections = state.store().items(state.org(), Kind::Section).await?;
    Ok(sections
        .iter()
        .map(|s| (s.slug.clone(), Kind::Section.title_of(&s.draft)))
        .collect())
}

pub(super) fn edit_page(admin: &Admin, a: EditArgs) -> EditPage {
    let is_new = a.item.is_none();
    let state = a.item.map(Item::state);
    let title = a.kind.title_of(a.body);
    EditPage {
        layout: AdminLayout::new(admin, a.notice),
        kind: a.kind.as_str(),
        kind_label: a.kind.label(),
        heading: if is_new {
            format!("New {}", a.kind.as_str())
        } else {
            format!("Edit “{title}”")
        },
        slug: a.slug.to_owned(),
        is_new,
        // The profile's slug is fixed.
        show_slug: is_new && a.kind != Kind::Profile,
        action: if is_new {
            format!("/admin/content/{}", a.kind.as_str())
        } else {
            format!("/admin/content/{}/{}", a.kind.as_str(), a.slug)
        },
        state: state.map(|s| s.label()),
        state_class: state.map_or("", |s| s.as_str()),
        public_href: a.item.and_then(public_href),
        published: a.item.is_some_and(|i| i.published.is_some()),
        has_changes: a.item.is_some_and(Item::has_unpublished_changes),
        deletable: candor_core::items::deletion_refused(a.kind).is_none(),
        fields: field_views(a.kind, a.body, &a.errors, a.sections),
        errors: FormErrors::new(
            a.errors,
            std::iter::once(("slug", "Slug")).chain(fields(a.kind).iter().map(|f| (f.name, f.label))),
            "f-",
        ),
        preview: if a.preview { preview_of(a.kind, a.body) } else { vec![] },
    }
}

/// The edit page again, answered 422: the input broke a rule.
pub(super) fn unprocessable(page: EditPage) -> WebResult<Response> {
    let mut res = html(page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}
