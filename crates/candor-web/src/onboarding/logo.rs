//! The logo page of the back office (upload a PNG or SVG, or remove it) and the logo's public
//! address. The file is checked by `candor_core::logo` before anything is stored, stored
//! encrypted, and served with its own type, `nosniff`, and for SVG a CSP sandbox with no sources
//! at all: opened on its own, an SVG can neither run script nor fetch anything.

use crate::http::error::{WebError, WebResult};
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_core::logo::{check_logo, is_logo_path, LogoType, MAX_LOGO_BYTES};
use candor_core::Kind;
use candor_store::BlobRow;
use std::collections::HashMap;

/// Room in the upload's body for the form around the file.
pub const LOGO_BODY_LIMIT: usize = MAX_LOGO_BYTES + 64 * 1024;

#[derive(Template)]
#[template(path = "admin/logo.html")]
struct LogoPage {
    layout: AdminLayout,
    /// The uploaded logo's public address.
    uploaded: Option<String>,
    /// A logo linked on the profile instead (an https address).
    linked: Option<String>,
    has_profile: bool,
    error: Option<String>,
    max_kib: usize,
}

async fn page(state: &AppState, admin: &Admin, notice: Option<&str>, error: Option<String>) -> WebResult<LogoPage> {
    let profile = state
        .store()
        .item(state.org(), Kind::Profile, candor_core::contentdir::PROFILE_SLUG)
        .await?;
    let logo_url = profile
        .as_ref()
        .and_then(|p| p.draft.get("logo_url"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let (uploaded, linked) = match logo_url {
        Some(u) if is_logo_path(&u) => (Some(u), None),
        other => (None, other),
    };
    Ok(LogoPage {
        layout: AdminLayout::new(admin, notice),
        uploaded,
        linked,
        has_profile: profile.is_some(),
        error,
        max_kib: MAX_LOGO_BYTES / 1024,
    })
}

pub async fn form(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    let html = page(&state, &admin, q.notice.as_deref(), None).await?.render()?;
    Ok(Html(html).into_response())
}

/// The logo page again with what was wrong with the file.
async fn refused(state: &AppState, admin: &Admin, status: StatusCode, why: String) -> WebResult<Response> {
    let html = page(state, admin, None, Some(why)).await?.render()?;
    Ok((status, Html(html)).into_response())
}

/// Reads the form: the CSRF token first, then the file, held in memory (a logo is small) and cut
/// off one byte past the limit.
async fn read_upload(admin: &Admin, mut form: Multipart) -> WebResult<Option<Vec<u8>>> {
    let too_large = || WebError::TooLarge(format!("A logo may be at most {} KiB.", MAX_LOGO_BYTES / 1024));
    let mut csrf_ok = false;
    let mut file = None;
    while let Some(mut field) = form.next_field().await.map_err(|_| too_large())? {
        match field.name().unwrap_or("") {
            "_csrf" => {
                let value = field.text().await.map_err(|_| WebError::Csrf)?;
                admin.check_csrf(&HashMap::from([("_csrf".to_owned(), value)]))?;
                csrf_ok = true;
            }
            "file" if csrf_ok && file.is_none() => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| too_large())? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_LOGO_BYTES {
                        break;
                    }
                }
                file = Some(bytes);
            }
            "file" if !csrf_ok => return Err(WebError::Csrf),
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(WebError::Csrf);
    }
    Ok(file)
}

/// Checks, stores (encrypted) and publishes an uploaded logo.
pub async fn upload(State(state): State<AppState>, admin: Admin, form: Multipart) -> WebResult<Response> {
    let bytes = match read_upload(&admin, form).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            let why = "Choose a PNG or SVG file to upload.".to_owned();
            return refused(&state, &admin, StatusCode::UNPROCESSABLE_ENTITY, why).await;
        }
        Err(WebError::TooLarge(why)) => return refused(&state, &admin, StatusCode::PAYLOAD_TOO_LARGE, why).await,
        Err(e) => return Err(e),
    };
    let checked = match check_logo(&bytes) {
        Ok(c) => c,
        Err(why) if bytes.len() > MAX_LOGO_BYTES => {
            return refused(&state, &admin, StatusCode::PAYLOAD_TOO_LARGE, why).await
        }
        Err(why) => return refused(&state, &admin, StatusCode::UNPROCESSABLE_ENTITY, why).await,
    };
    let stored = state
        .blobs()
        .put_bytes(&state.key_ring(), &bytes)
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    let blob = BlobRow {
        id: stored.id,
        key_id: stored.wrapped.key_id,
        wrapped_key: stored.wrapped.sealed,
        size: stored.size as i64,
        sha256: stored.sha256,
    };
    let done = state.app().set_logo(&admin.who(), &blob, checked).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/logo?notice=logo-saved").into_response())
}

pub async fn remove(State(state): State<AppState>, admin: Admin, Form(form): Form<FormMap>) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().remove_logo(&admin.who()).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/logo?notice=logo-removed").into_response())
}

async fn serve(state: &AppState, wanted: LogoType) -> WebResult<Response> {
    let Some((kind, bytes)) = state.app().logo_file().await? else {
        return Err(WebError::NotFound);
    };
    if kind != wanted {
        return Err(WebError::NotFound);
    }
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.content_type()));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The address is stable and the page asks for it with `?v=` of the file's hash; a short
    // lifetime lets a replaced logo show soon even where the old address is remembered.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    if kind == LogoType::Svg {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
        );
    }
    Ok(res)
}

pub async fn png(State(state): State<AppState>) -> WebResult<Response> {
    serve(&state, LogoType::Png).await
}

pub async fn svg(State(state): State<AppState>) -> WebResult<Response> {
    serve(&state, LogoType::Svg).await
}
