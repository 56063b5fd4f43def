//! The document library in the back office: upload (a new document, or a new version of one),
//! describe, set who may read it, download any version, and delete (after a confirmation page).

use super::upload_form::{read_form, Fields};
use crate::http::error::{WebError, WebResult};
use crate::http::format::human_size;
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::http::upload::{self, Received};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_core::access::Permission;
use candor_core::documents::{Access, DocumentKind};
use candor_core::text::{self, Shape};
use candor_core::{Kind, Slug};
use candor_store::{DocumentFields, NewVersion};
use std::collections::HashMap;

fn one<'a>(f: &'a Fields, key: &str) -> &'a str {
    f.get(key).and_then(|v| v.first()).map(|s| s.trim()).unwrap_or("")
}

/// Checks the editable fields; every problem is named.
fn parse_fields(f: &Fields, slug: Option<&str>) -> Result<DocumentFields, Vec<String>> {
    let mut errors = vec![];
    for (key, label, shape) in [
        ("title", "Title", Shape::Line),
        ("description", "Description", Shape::MultiLine),
    ] {
        if let Err(e) = text::check(key, one(f, key), shape) {
            errors.push(format!("{label}: {}.", e.message));
        }
    }
    let title = one(f, "title");
    if title.is_empty() || title.chars().count() > 150 {
        errors.push("Title: enter a title of up to 150 characters.".to_owned());
    }
    let description = one(f, "description");
    if description.chars().count() > 2000 {
        errors.push("Description: keep it under 2000 characters.".to_owned());
    }
    let kind = DocumentKind::parse(one(f, "kind"));
    if kind.is_none() {
        errors.push("Kind: choose one from the list.".to_owned());
    }
    let access = Access::parse(one(f, "access"));
    if access.is_none() {
        errors.push("Who may read it: choose public, NDA or private.".to_owned());
    }
    let slug = match slug {
        Some(s) => Some(s.to_owned()),
        None => {
            let typed = one(f, "slug");
            let parsed = if typed.is_empty() {
                Slug::from_title(title)
            } else {
                Slug::parse(typed).ok()
            };
            if parsed.is_none() {
                errors.push("Slug: use lowercase letters, digits and hyphens, like soc-2-report.".to_owned());
            }
            parsed.map(|s| s.as_str().to_owned())
        }
    };
    let links: Vec<String> = f.get("links").cloned().unwrap_or_default();
    if links
        .iter()
        .any(|l| !(l.starts_with("certification/") || l.starts_with("section/")))
    {
        errors.push("Links: choose certifications and sections from the list.".to_owned());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(DocumentFields {
        slug: slug.expect("checked"),
        title: title.to_owned(),
        description: description.to_owned(),
        kind: kind.expect("checked"),
        access: access.expect("checked"),
        links,
    })
}

struct Row {
    slug: String,
    title: String,
    kind: &'static str,
    access: &'static str,
    version: i64,
    updated: String,
}

#[derive(Template)]
#[template(path = "admin/documents.html")]
struct ListPage {
    layout: AdminLayout,
    rows: Vec<Row>,
    can_edit: bool,
}

pub async fn list(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    let rows = state
        .store()
        .documents(state.org())
        .await?
        .into_iter()
        .map(|d| Row {
            kind: d.kind.label(),
            access: d.access.as_str(),
            version: d.current.as_ref().map(|v| v.number).unwrap_or(0),
            updated: crate::http::format::display_time(Some(d.updated_at)),
            slug: d.slug,
            title: d.title,
        })
        .collect();
    let html = ListPage {
        can_edit: admin.require(Permission::EditContent).is_ok(),
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        rows,
    }
    .render()?;
    Ok(Html(html).into_response())
}

struct VersionRow {
    number: i64,
    filename: String,
    size: String,
    uploaded_by: String,
    created: String,
}

#[derive(Template)]
#[template(path = "admin/document.html")]
struct EditPage {
    layout: AdminLayout,
    is_new: bool,
    slug: String,
    title: String,
    description: String,
    kind: String,
    access: String,
    links: Vec<String>,
    kinds: Vec<(&'static str, &'static str)>,
    accesses: Vec<(&'static str, &'static str)>,
    link_options: Vec<(String, String)>,
    versions: Vec<VersionRow>,
    errors: Vec<String>,
    limit_mb: u64,
    /// Whether versions are links to their raw files.
    can_download: bool,
    /// Whether the page offers to delete the document.
    can_delete: bool,
}

impl EditPage {
    async fn build(state: &AppState, admin: &Admin, notice: Option<&str>) -> WebResult<EditPage> {
        let mut link_options = vec![];
        for (kind, prefix) in [(Kind::Certification, "certification"), (Kind::Section, "section")] {
            for item in state.store().items(state.org(), kind).await? {
                link_options.push((
                    format!("{prefix}/{}", item.slug),
                    format!("{}: {}", kind.label(), item.title()),
                ));
            }
        }
        Ok(EditPage {
            layout: AdminLayout::new(admin, notice),
            is_new: true,
            slug: String::new(),
            title: String::new(),
            description: String::new(),
            kind: "audit-report".into(),
            access: "nda".into(),
            links: vec![],
            kinds: DocumentKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
            accesses: Access::ALL.iter().map(|a| (a.as_str(), a.label())).collect(),
            link_options,
            versions: vec![],
            errors: vec![],
            limit_mb: state.config().storage.upload_limit / (1024 * 1024),
            can_download: admin.require(Permission::DownloadRawDocuments).is_ok(),
            can_delete: admin.require(Permission::PublishContent).is_ok(),
        })
    }

    fn with_fields(mut self, f: &Fields) -> EditPage {
        self.title = one(f, "title").to_owned();
        self.description = one(f, "description").to_owned();
        self.kind = one(f, "kind").to_owned();
        self.access = one(f, "access").to_owned();
        self.links = f.get("links").cloned().unwrap_or_default();
        if self.is_new {
            self.slug = one(f, "slug").to_owned();
        }
        self
    }

    fn render_with(self, status: StatusCode) -> WebResult<Response> {
        let html = self.render()?;
        Ok((status, Html(html)).into_response())
    }
}

pub async fn new_form(State(state): State<AppState>, admin: Admin) -> WebResult<Response> {
    EditPage::build(&state, &admin, None).await?.render_with(StatusCode::OK)
}

pub async fn create(State(state): State<AppState>, admin: Admin, form: Multipart) -> WebResult<Response> {
    let (fields, file) = read_form(&state, &admin, form).await?;
    let mut errors = match parse_fields(&fields, None) {
        Ok(_) => vec![],
        Err(e) => e,
    };
    if file.is_none() {
        errors.push("File: choose the file to upload.".to_owned());
    }
    let (Ok(doc), Some(file)) = (parse_fields(&fields, None), file.as_ref()) else {
        if let Some(f) = &file {
            state.app().discard_upload(&f.blob.id).await;
        }
        let mut page = EditPage::build(&state, &admin, None).await?.with_fields(&fields);
        page.errors = errors;
        return page.render_with(StatusCode::UNPROCESSABLE_ENTITY);
    };
    let version = new_version(&admin, file);
    // The use case deletes the stored file when the document is not created.
    let done = match state.app().create_document(&admin.who(), &doc, &version).await {
        Err(candor_app::Error::Conflict(_)) => {
            let mut page = EditPage::build(&state, &admin, None).await?.with_fields(&fields);
            page.errors = vec![format!(
                "Slug: a document called {} exists already; choose another.",
                doc.slug
            )];
            return page.render_with(StatusCode::UNPROCESSABLE_ENTITY);
        }
        other => other?,
    };
    state.apply(done.effects).await;
    let notice = format!("document-created-{}", doc.access.as_str());
    Ok(Redirect::to(&format!("/admin/documents/{}?notice={notice}", doc.slug)).into_response())
}

fn new_version(admin: &Admin, file: &Received) -> NewVersion {
    NewVersion {
        blob: file.blob.clone(),
        filename: upload::download_name(&file.filename, file.file_type.extension()),
        content_type: file.file_type.content_type().to_owned(),
        uploaded_by: admin.actor().to_owned(),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let doc = state
        .store()
        .document(state.org(), &slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let versions = state.store().document_versions(doc.id).await?;
    let mut page = EditPage::build(&state, &admin, q.notice.as_deref()).await?;
    page.is_new = false;
    page.slug = doc.slug;
    page.title = doc.title;
    page.description = doc.description;
    page.kind = doc.kind.as_str().into();
    page.access = doc.access.as_str().into();
    page.links = doc.links;
    page.versions = versions
        .into_iter()
        .map(|v| VersionRow {
            number: v.number,
            filename: v.filename,
            size: human_size(v.size),
            uploaded_by: v.uploaded_by,
            created: crate::http::format::display_time(Some(v.created_at)),
        })
        .collect();
    page.render_with(StatusCode::OK)
}

pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let mut fields: Fields = HashMap::new();
    for (k, v) in form {
        fields.entry(k).or_default().push(v);
    }
    admin.check_csrf(&HashMap::from([("_csrf".to_owned(), one(&fields, "_csrf").to_owned())]))?;
    state
        .store()
        .document(state.org(), &slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let doc = match parse_fields(&fields, Some(&slug)) {
        Ok(d) => d,
        Err(errors) => {
            let mut page = EditPage::build(&state, &admin, None).await?.with_fields(&fields);
            page.is_new = false;
            page.slug = slug;
            page.errors = errors;
            return page.render_with(StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let done = state.app().update_document(&admin.who(), &slug, &doc).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/documents/{slug}?notice=document-saved")).into_response())
}

pub async fn upload_version(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    form: Multipart,
) -> WebResult<Response> {
    state
        .store()
        .document(state.org(), &slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let (_, file) = read_form(&state, &admin, form).await?;
    let Some(file) = file else {
        return Err(WebError::BadRequest(
            "Choose the file to upload as the new version.".into(),
        ));
    };
    // The use case deletes the stored file when the version is not added.
    let done = state
        .app()
        .add_document_version(&admin.who(), &slug, &new_version(&admin, &file))
        .await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/documents/{slug}?notice=version-added")).into_response())
}

/// Any version's file as uploaded (not watermarked), as an attachment; audited. Only for roles
/// with `DownloadRawDocuments` (the route table says so).
pub async fn download(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, number)): Path<(String, i64)>,
) -> WebResult<Response> {
    let doc = state
        .store()
        .document(state.org(), &slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let version = state
        .store()
        .document_versions(doc.id)
        .await?
        .into_iter()
        .find(|v| v.number == number)
        .ok_or(WebError::NotFound)?;
    let done = state
        .app()
        .record(
            &admin.who(),
            candor_app::Action::DocumentDownload,
            format!("document/{slug}"),
            serde_json::json!({"version": number}),
        )
        .await?;
    state.apply(done.effects).await;
    super::public::stream_version(&state, &version, &admin.1).await
}

#[derive(Template)]
#[template(path = "admin/document_delete.html")]
struct DeletePage {
    layout: AdminLayout,
    slug: String,
    title: String,
    versions: usize,
    access: &'static str,
}

/// Asks before deleting: what goes (every version and its file) and that it cannot be undone.
pub async fn delete_form(State(state): State<AppState>, admin: Admin, Path(slug): Path<String>) -> WebResult<Response> {
    let doc = state
        .store()
        .document(state.org(), &slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let versions = state.store().document_versions(doc.id).await?.len();
    let html = DeletePage {
        layout: AdminLayout::new(&admin, None),
        access: doc.access.label(),
        slug: doc.slug,
        title: doc.title,
        versions,
    }
    .render()?;
    Ok(Html(html).into_response())
}

/// Deletes a document with every version and its stored files; the public library and viewers
/// lose it at once.
pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().delete_document(&admin.who(), &slug).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/documents?notice=document-deleted").into_response())
}
