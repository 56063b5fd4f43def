//! The back office's content pages: the dashboard, lists, creating, editing, previewing,
//! publishing, deleting and ordering items.

use super::form::{edit_page, section_choices, unprocessable, EditArgs};
use crate::http::error::{WebError, WebResult};
use crate::http::layout::{html, AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::Error;
use candor_core::access::Permission;
use candor_core::content::FieldError;
use candor_core::contentdir::PROFILE_SLUG;
use candor_core::fields::form_to_json;
use candor_core::items::ItemState;
use candor_core::{Kind, Slug};
use candor_store::{Item, Move};
use serde_json::Value;

pub(super) fn parse_kind(s: &str) -> WebResult<Kind> {
    Kind::parse(s).ok_or(WebError::NotFound)
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
    /// Access requests waiting for a decision, shown to those who decide them.
    waiting_requests: Option<usize>,
    /// Demo items and documents still present (offers "Remove the demo").
    demo_left: usize,
}

pub async fn dashboard(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
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
                changed: of.iter().filter(|i| i.state() == ItemState::Changed).count(),
            }
        })
        .collect();
    let layout = AdminLayout::new(&admin, q.notice.as_deref());
    let mail = match layout.can_manage_outbox {
        true => state.store().mail_trouble(state.org()).await?,
        false => Default::default(),
    };
    let waiting_requests = match layout.can_manage_access {
        true => Some(state.store().access_requests(state.org(), true).await?.len()),
        false => None,
    };
    let demo = state.store().demo_content(state.org()).await?;
    let demo_left = demo.items.len() + demo.documents.len();
    html(DashboardPage {
        layout,
        rows,
        mail,
        waiting_requests,
        demo_left,
    })
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
) -> WebResult<Response> {
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
        .map(|i| ListRow {
            slug: i.slug.clone(),
            title: i.title(),
            section: i.draft.get("section").and_then(Value::as_str).unwrap_or("").to_owned(),
            state: i.state().label(),
            state_class: i.state().as_str(),
            updated: i.updated.to_string(),
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

pub async fn new_form(State(state): State<AppState>, admin: Admin, Path(kind): Path<String>) -> WebResult<Response> {
    let kind = parse_kind(&kind)?;
    // There is one profile: on a blank start it is created here, afterwards it is edited.
    if kind == Kind::Profile && state.store().item(state.org(), kind, PROFILE_SLUG).await?.is_some() {
        return Ok(Redirect::to(&format!("/admin/content/profile/{PROFILE_SLUG}")).into_response());
    }
    let body = serde_json::json!({});
    let sections = section_choices(&state, kind).await?;
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
            sections: &sections,
        },
    ))
}

pub async fn edit_form(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let kind = parse_kind(&kind)?;
    let Some(item) = state.store().item(state.org(), kind, &slug).await? else {
        if kind == Kind::Profile {
            return Ok(Redirect::to("/admin/content/profile/new").into_response());
        }
        return Err(WebError::NotFound);
    };
    let sections = section_choices(&state, kind).await?;
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
            sections: &sections,
        },
    ))
}

/// Which button sent the edit form, and whether its permission is held. Checked before anything
/// is written: "save and publish" is all or nothing.
fn form_action<'a>(admin: &Admin, form: &'a FormMap) -> WebResult<&'a str> {
    let action = form.get("action").map(String::as_str).unwrap_or("save");
    if action == "publish" {
        admin.require(Permission::PublishContent)?;
    }
    Ok(action)
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(kind): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let kind = parse_kind(&kind)?;
    let action = form_action(&admin, &form)?;
    let slug_text = if kind == Kind::Profile {
        PROFILE_SLUG.to_owned()
    } else {
        form.get("slug").map(|s| s.trim().to_owned()).unwrap_or_default()
    };
    let raw = form_to_json(kind, |k| form.get(k).cloned());
    let (shown, mut errors) = match state.app().check_body(kind, &raw).await {
        Ok(body) => (body, vec![]),
        Err(Error::Invalid(errors)) => (raw.clone(), errors),
        Err(e) => return Err(e.into()),
    };
    let body_ok = errors.is_empty();
    let slug = if slug_text.is_empty() {
        Slug::from_title(&kind.title_of(&shown))
    } else {
        Slug::parse(&slug_text).ok()
    };
    let sections = section_choices(&state, kind).await?;
    let page = |slug: &str, body: &Value, errors: Vec<FieldError>, preview: bool| {
        edit_page(
            &admin,
            EditArgs {
                kind,
                item: None,
                slug,
                body,
                errors,
                preview,
                notice: None,
                sections: &sections,
            },
        )
    };
    let slug = match slug {
        Some(slug) if errors.is_empty() && action != "preview" => slug,
        slug => {
            if slug.is_none() {
                errors.insert(
                    0,
                    FieldError::new(
                        "slug",
                        "use lowercase letters, digits and single hyphens, e.g. encryption-at-rest",
                    ),
                );
            }
            let page = page(&slug_text, &shown, errors, action == "preview");
            return if action == "preview" && body_ok {
                html(page)
            } else {
                unprocessable(page)
            };
        }
    };
    let publish = action == "publish";
    match state.app().create(&admin.who(), kind, &slug, &raw, publish).await {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Conflict(_)) => {
            let errors = vec![FieldError::new(
                "slug",
                format!("{slug} is already used by another {kind}; choose another slug"),
            )];
            return unprocessable(page(slug.as_str(), &shown, errors, false));
        }
        Err(Error::Invalid(errors)) => return unprocessable(page(slug.as_str(), &raw, errors, false)),
        Err(e) => return Err(e.into()),
    }
    let notice = if publish { "published" } else { "created" };
    Ok(Redirect::to(&format!("/admin/content/{kind}/{slug}?notice={notice}")).into_response())
}

pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let kind = parse_kind(&kind)?;
    let item = state
        .store()
        .item(state.org(), kind, &slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let action = form_action(&admin, &form)?;
    let raw = form_to_json(kind, |k| form.get(k).cloned());
    let sections = section_choices(&state, kind).await?;
    let page = |body: &Value, errors: Vec<FieldError>, preview: bool| {
        edit_page(
            &admin,
            EditArgs {
                kind,
                item: Some(&item),
                slug: &slug,
                body,
                errors,
                preview,
                notice: None,
                sections: &sections,
            },
        )
    };
    let body = match state.app().check_body(kind, &raw).await {
        Ok(body) => body,
        Err(Error::Invalid(errors)) => return unprocessable(page(&raw, errors, action == "preview")),
        Err(e) => return Err(e.into()),
    };
    if action == "preview" {
        return html(page(&body, vec![], true));
    }
    let publish = action == "publish";
    match state.app().save(&admin.who(), kind, &slug, &raw, publish).await {
        Ok(done) => state.apply(done.effects).await,
        Err(Error::Invalid(errors)) => return unprocessable(page(&raw, errors, false)),
        Err(e) => return Err(e.into()),
    }
    let notice = if publish { "published" } else { "saved" };
    Ok(Redirect::to(&format!("/admin/content/{kind}/{slug}?notice={notice}")).into_response())
}

/// The common shape of the one-button actions: CSRF, then the change (the Origin check runs as
/// middleware over the whole back office, the permission check from the route table).
pub(super) fn item_action(admin: &Admin, form: &FormMap, kind: &str) -> WebResult<Kind> {
    admin.check_csrf(form)?;
    parse_kind(kind)
}

pub async fn publish(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
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
) -> WebResult<Response> {
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
) -> WebResult<Response> {
    let kind = item_action(&admin, &form, &kind)?;
    let done = match state.app().delete(&admin.who(), kind, &slug).await {
        Ok(done) => done,
        // The page offers no delete button for what may not be deleted: a hand-made request.
        Err(Error::Conflict(why)) => return Err(WebError::BadRequest(why)),
        Err(e) => return Err(e.into()),
    };
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/content/{kind}?notice=deleted")).into_response())
}

pub async fn move_item(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    let kind = item_action(&admin, &form, &kind)?;
    let dir = match form.get("dir").map(String::as_str) {
        Some("up") => Move::Up,
        Some("down") => Move::Down,
        _ => return Err(WebError::BadRequest("dir must be up or down".into())),
    };
    let done = state.app().move_item(&admin.who(), kind, &slug, dir).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/content/{kind}?notice=moved")).into_response())
}
