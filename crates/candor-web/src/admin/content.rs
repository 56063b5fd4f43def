//! Creating, editing, previewing, publishing, ordering and restoring content.

use super::{AdminLayout, NoticeQuery};
use crate::http::error::{AppError, AppResult};
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_core::access::Permission;
use candor_core::content::FieldError;
use candor_core::contentdir::PROFILE_SLUG;
use candor_core::fields::{fields, form_to_json, form_value, FieldType};
use candor_core::markdown::to_safe_html;
use candor_core::{Kind, Slug};
use candor_store::{Item, Move, StoreError};
use serde_json::Value;
use std::collections::HashMap;

pub(super) type FormMap = HashMap<String, String>;

pub(super) fn parse_kind(s: &str) -> AppResult<Kind> {
    Kind::parse(s).ok_or(AppError::NotFound)
}

fn state_of(item: &Item) -> (&'static str, &'static str) {
    match (&item.published, item.has_unpublished_changes()) {
        (None, _) => ("Draft", "draft"),
        (Some(_), true) => ("Published, with unpublished changes", "changed"),
        (Some(_), false) => ("Published", "published"),
    }
}

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

struct DashRow {
    kind: &'static str,
    label: &'static str,
    total: usize,
    published: usize,
    changed: usize,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    layout: AdminLayout,
    rows: Vec<DashRow>,
    /// Mail that met an error, shown to those who may act on the outbox.
    mail: candor_store::MailTrouble,
}

pub async fn dashboard(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let items = state.store().all_items(state.org()).await?;
    let rows = Kind::ALL
        .iter()
        .map(|&k| {
            let of: Vec<_> = items.iter().filter(|i| i.kind == k).collect();
            DashRow {
                kind: k.as_str(),
                label: k.label(),
                total: of.len(),
                published: of.iter().filter(|i| i.published.is_some()).count(),
                changed: of
                    .iter()
                    .filter(|i| i.published.is_some() && i.has_unpublished_changes())
                    .count(),
            }
        })
        .collect();
    let layout = AdminLayout::new(&admin, q.notice.as_deref());
    let mail = match layout.can_manage_outbox {
        true => state.store().mail_trouble(state.org()).await?,
        false => Default::default(),
    };
    html(DashboardPage { layout, rows, mail })
}

pub(super) fn html<T: Template>(t: T) -> AppResult<Response> {
    Ok(Html(t.render().map_err(anyhow::Error::from)?).into_response())
}

struct ListRow {
    slug: String,
    title: String,
    section: String,
    state: &'static str,
    state_class: &'static str,
    updated: String,
}

#[derive(Template)]
#[template(path = "admin/list.html")]
struct ListPage {
    layout: AdminLayout,
    kind: &'static str,
    label: &'static str,
    singular: &'static str,
    ordered: bool,
    show_section: bool,
    items: Vec<ListRow>,
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(kind): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let kind = parse_kind(&kind)?;
    if kind == Kind::Profile {
        return Ok(Redirect::to(&format!("/admin/content/profile/{PROFILE_SLUG}")).into_response());
    }
    let mut items = state.store().items(state.org(), kind).await?;
    if kind == Kind::Control {
        // Controls read best grouped by section, in the sections' order.
        let sections = state.store().items(state.org(), Kind::Section).await?;
        let rank = |i: &Item| {
            sections
                .iter()
                .position(|s| Some(s.slug.as_str()) == i.draft.get("section").and_then(Value::as_str))
                .unwrap_or(usize::MAX)
        };
        items.sort_by_key(|i| (rank(i), i.position));
    }
    let rows = items
        .iter()
        .map(|i| {
            let (state, state_class) = state_of(i);
            ListRow {
                slug: i.slug.clone(),
                title: i.title(),
                section: i.draft.get("section").and_then(Value::as_str).unwrap_or("").to_owned(),
                state,
                state_class,
                updated: i.updated.to_string(),
            }
        })
        .collect();
    html(ListPage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        kind: kind.as_str(),
        label: kind.label(),
        singular: kind.as_str(),
        ordered: kind.is_ordered(),
        show_section: kind == Kind::Control,
        items: rows,
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
    options: Vec<(&'static str, &'static str, bool)>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/edit.html")]
struct EditPage {
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
    errors: Vec<(String, String)>,
    preview: Vec<(&'static str, String)>,
}

fn field_views(kind: Kind, body: &Value, errors: &[FieldError]) -> Vec<FieldView> {
    fields(kind)
        .iter()
        .map(|f| {
            let value = form_value(f, body);
            let (control, rows, options) = match f.ty {
                FieldType::Markdown => ("textarea", 14, vec![]),
                FieldType::List => ("textarea", 4, vec![]),
                FieldType::Choice(opts) => ("select", 0, opts.iter().map(|(v, l)| (*v, *l, *v == value)).collect()),
                FieldType::Date => ("date", 0, vec![]),
                FieldType::Email => ("email", 0, vec![]),
                FieldType::Url => ("url", 0, vec![]),
                FieldType::Line | FieldType::Color => ("text", 0, vec![]),
            };
            FieldView {
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

struct EditArgs<'a> {
    kind: Kind,
    item: Option<&'a Item>,
    slug: &'a str,
    body: &'a Value,
    errors: Vec<FieldError>,
    preview: bool,
    notice: Option<&'a str>,
}

fn edit_page(admin: &Admin, a: EditArgs) -> EditPage {
    let is_new = a.item.is_none();
    let (state, state_class) = a.item.map(state_of).map(|(s, c)| (Some(s), c)).unwrap_or((None, ""));
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
        state,
        state_class,
        public_href: a.item.and_then(public_href),
        published: a.item.is_some_and(|i| i.published.is_some()),
        has_changes: a.item.is_some_and(Item::has_unpublished_changes),
        deletable: a.kind != Kind::Profile,
        fields: field_views(a.kind, a.body, &a.errors),
        errors: a.errors.iter().map(|e| (e.field.clone(), e.to_string())).collect(),
        preview: if a.preview { preview_of(a.kind, a.body) } else { vec![] },
    }
}

pub async fn new_form(State(state): State<AppState>, admin: Admin, Path(kind): Path<String>) -> AppResult<Response> {
    let kind = parse_kind(&kind)?;
    // There is one profile: on a blank start it is created here, afterwards it is edited.
    if kind == Kind::Profile && state.store().item(state.org(), kind, PROFILE_SLUG).await?.is_some() {
        return Ok(Redirect::to(&format!("/admin/content/profile/{PROFILE_SLUG}")).into_response());
    }
    let body = serde_json::json!({});
    html(edit_page(
        &admin,
        EditArgs {
            kind,
            item: None,
            slug: "",
            body: &body,
            errors: vec![],
            preview: false,
            notice: None,
        },
    ))
}

pub async fn edit_form(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let kind = parse_kind(&kind)?;
    let Some(item) = state.store().item(state.org(), kind, &slug).await? else {
        if kind == Kind::Profile {
            return Ok(Redirect::to("/admin/content/profile/new").into_response());
        }
        return Err(AppError::NotFound);
    };
    html(edit_page(
        &admin,
        EditArgs {
            kind,
            item: Some(&item),
            slug: &slug,
            body: &item.draft,
            errors: vec![],
            preview: false,
            notice: q.notice.as_deref(),
        },
    ))
}

/// Validates a submitted form into a kind's body, including references to other items.
async fn body_from_form(state: &AppState, kind: Kind, form: &FormMap) -> Result<Value, (Value, Vec<FieldError>)> {
    let raw = form_to_json(kind, |k| form.get(k).cloned());
    let mut body = match kind.validate(&raw) {
        Ok(b) => b,
        Err(errors) => return Err((raw, errors)),
    };
    if kind == Kind::Control {
        let section = body.get("section").and_then(Value::as_str).unwrap_or("").to_owned();
        let exists = state
            .store()
            .item(state.org(), Kind::Section, &section)
            .await
            .ok()
            .flatten()
            .is_some();
        if !exists {
            return Err((
                raw,
                vec![FieldError::new(
                    "section",
                    format!("there is no section with slug {section:?}; use the slug of an existing section"),
                )],
            ));
        }
    }
    if let Value::Object(m) = &mut body {
        m.retain(|_, v| !v.is_null());
    }
    Ok(body)
}

fn unprocessable(page: EditPage) -> AppResult<Response> {
    let mut res = html(page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(kind): Path<String>,
    Form(form): Form<FormMap>,
) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    let kind = parse_kind(&kind)?;
    let action = form.get("action").map(String::as_str).unwrap_or("save");
    if action == "publish" {
        // Checked before anything is written: "save and publish" is all or nothing.
        admin.require(Permission::PublishContent)?;
    }
    let slug_text = if kind == Kind::Profile {
        PROFILE_SLUG.to_owned()
    } else {
        form.get("slug").map(|s| s.trim().to_owned()).unwrap_or_default()
    };
    let body = body_from_form(&state, kind, &form).await;
    let (raw, mut errors) = match &body {
        Ok(b) => (b.clone(), vec![]),
        Err((raw, e)) => (raw.clone(), e.clone()),
    };
    let slug = if slug_text.is_empty() {
        Slug::from_title(&kind.title_of(&raw))
    } else {
        Slug::parse(&slug_text).ok()
    };
    if slug.is_none() {
        errors.insert(
            0,
            FieldError::new(
                "slug",
                "use lowercase letters, digits and single hyphens, e.g. encryption-at-rest",
            ),
        );
    }
    if !errors.is_empty() || action == "preview" {
        let page = edit_page(
            &admin,
            EditArgs {
                kind,
                item: None,
                slug: &slug_text,
                body: &raw,
                preview: action == "preview",
                errors,
                notice: None,
            },
        );
        return if action == "preview" && body.is_ok() {
            html(page)
        } else {
            unprocessable(page)
        };
    }
    let (slug, body) = (slug.expect("checked"), body.expect("checked"));
    match state
        .store()
        .create_item(state.org(), kind, slug.as_str(), &body, admin.actor())
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            let errors = vec![FieldError::new(
                "slug",
                format!("{slug} is already used by another {kind}; choose another slug"),
            )];
            return unprocessable(edit_page(
                &admin,
                EditArgs {
                    kind,
                    item: None,
                    slug: slug.as_str(),
                    body: &body,
                    errors,
                    preview: false,
                    notice: None,
                },
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let target = format!("{kind}/{slug}");
    admin
        .audit(&state, "content.create", &target, serde_json::json!({}))
        .await;
    let notice = if action == "publish" {
        state
            .store()
            .publish(state.org(), kind, slug.as_str(), admin.actor())
            .await?;
        public_change(&state, &admin, "content.publish", &target, serde_json::json!({})).await?;
        "published"
    } else {
        "created"
    };
    Ok(Redirect::to(&format!("/admin/content/{kind}/{slug}?notice={notice}")).into_response())
}

pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Form(form): Form<FormMap>,
) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    let kind = parse_kind(&kind)?;
    let item = state
        .store()
        .item(state.org(), kind, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let action = form.get("action").map(String::as_str).unwrap_or("save");
    if action == "publish" {
        // Checked before anything is written: "save and publish" is all or nothing.
        admin.require(Permission::PublishContent)?;
    }
    let body = match body_from_form(&state, kind, &form).await {
        Ok(b) => b,
        Err((raw, errors)) => {
            return unprocessable(edit_page(
                &admin,
                EditArgs {
                    kind,
                    item: Some(&item),
                    slug: &slug,
                    body: &raw,
                    errors,
                    preview: action == "preview",
                    notice: None,
                },
            ));
        }
    };
    if action == "preview" {
        return html(edit_page(
            &admin,
            EditArgs {
                kind,
                item: Some(&item),
                slug: &slug,
                body: &body,
                errors: vec![],
                preview: true,
                notice: None,
            },
        ));
    }
    state
        .store()
        .save_draft(state.org(), kind, &slug, &body, admin.actor())
        .await?;
    let target = format!("{kind}/{slug}");
    admin
        .audit(&state, "content.edit", &target, serde_json::json!({}))
        .await;
    let notice = if action == "publish" {
        state.store().publish(state.org(), kind, &slug, admin.actor()).await?;
        public_change(&state, &admin, "content.publish", &target, serde_json::json!({})).await?;
        "published"
    } else {
        "saved"
    };
    Ok(Redirect::to(&format!("/admin/content/{kind}/{slug}?notice={notice}")).into_response())
}

/// After a change visitors can see (publish, unpublish, delete, reorder): render the public site
/// again at once, then record the change in the audit log.
async fn public_change(
    state: &AppState,
    admin: &Admin,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> AppResult<()> {
    state.refresh_site().await?;
    admin.audit(state, action, target, details).await;
    Ok(())
}

/// The common shape of the one-button actions: CSRF, permission, then the change (the Origin
/// check runs as middleware over the whole back office).
pub(super) fn item_action(admin: &Admin, form: &FormMap, kind: &str) -> AppResult<Kind> {
    admin.check_csrf(form)?;
    parse_kind(kind)
}

pub async fn publish(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Form(form): Form<FormMap>,
) -> AppResult<Response> {
    let kind = item_action(&admin, &form, &kind)?;
    let done = state.app().publish(&admin.who(), kind, &slug).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/content/{kind}/{slug}?notice=published")).into_response())
}

pub async fn unpublish(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Form(form): Form<FormMap>,
) -> AppResult<Response> {
    let kind = item_action(&admin, &form, &kind)?;
    let done = state.app().unpublish(&admin.who(), kind, &slug).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/content/{kind}/{slug}?notice=unpublished")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Form(form): Form<FormMap>,
) -> AppResult<Response> {
    let kind = item_action(&admin, &form, &kind)?;
    if kind == Kind::Profile {
        return Err(AppError::BadRequest(
            "The organization profile cannot be deleted; edit it instead.".into(),
        ));
    }
    state.store().delete_item(state.org(), kind, &slug).await?;
    public_change(
        &state,
        &admin,
        "content.delete",
        &format!("{kind}/{slug}"),
        serde_json::json!({}),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/content/{kind}?notice=deleted")).into_response())
}

pub async fn move_item(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Form(form): Form<FormMap>,
) -> AppResult<Response> {
    let kind = item_action(&admin, &form, &kind)?;
    let dir = match form.get("dir").map(String::as_str) {
        Some("up") => Move::Up,
        Some("down") => Move::Down,
        _ => return Err(AppError::BadRequest("dir must be up or down".into())),
    };
    state.store().move_item(state.org(), kind, &slug, dir).await?;
    // Order is public immediately for published items: positions are not drafted.
    public_change(
        &state,
        &admin,
        "content.move",
        &format!("{kind}/{slug}"),
        serde_json::json!({"direction": form.get("dir")}),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/content/{kind}?notice=moved")).into_response())
}
