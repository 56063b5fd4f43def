//! Approved viewers: passwordless sign-in by emailed link (opening it shows a button; pressing it
//! signs in) into a viewer session (its own cookie,
//! separate from the back office), the documents their live grants cover, and downloads:
//! PDFs watermarked for them, other files as attachments. Every download is logged; a document
//! outside every live grant is simply not found (and the attempt audited).

use super::links::{confirm_page, unusable_page, LinkKind};
use super::{check_form_csrf, form_csrf, mail_context, message, org_name};
use crate::http::error::{WebError, WebResult};
use crate::http::form_errors::FormErrors;
use crate::http::ratelimit::{refused, too_quick};
use crate::http::session::{cookie, read_cookie};
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_core::documents::Access;
use candor_core::requests::{grant_covers, valid_email};
use candor_crypto::token_digest;
use candor_store::LinkState;
use std::collections::HashMap;
use std::net::SocketAddr;

pub(super) fn session_cookie(state: &AppState) -> &'static str {
    crate::http::viewer_session::session_cookie(state)
}

/// The signed-in viewer's email, if any (see [`crate::http::viewer_session::signed_in`]).
async fn viewer(state: &AppState, headers: &HeaderMap) -> WebResult<Option<String>> {
    crate::http::viewer_session::signed_in(state, headers).await
}

/// The access check of viewer routes (`Access::Viewer` in the route table): without a live
/// viewer session, the person is sent to sign in.
pub async fn enforce(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match viewer(&state, req.headers()).await {
        Ok(Some(_)) => next.run(req).await,
        Ok(None) => Redirect::to("/viewer/signin").into_response(),
        Err(e) => e.into_response(),
    }
}

/// The emailed sign-in link, opened: who it signs in, and the button that does it. Opening it
/// changes nothing (mail scanners open links before people do).
pub async fn login_page(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    let link = state.store().link_state(&token_digest(&token), "viewer").await?;
    let LinkState::Usable((_, email)) = &link else {
        return unusable_page(&state, LinkKind::ViewerSignIn, &link).await;
    };
    let org = org_name(&state).await;
    let paragraphs = [
        format!("This link signs {email} in to read {} security documents.", candor_core::grammar::possessive(&org)),
        "Press the button to sign in on this browser. The link works once: afterwards, ask for a new one whenever you need it.".to_owned(),
    ];
    let action = format!("/viewer/login/{token}");
    confirm_page(&state, "Sign in to your documents", &paragraphs, &action, "Sign in").await
}

/// The button on the sign-in link's page: uses the link and starts a viewer session.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    check_form_csrf(&headers, &form)?;
    let done = state.app().viewer_login(&token, &peer.ip().to_string()).await?;
    state.apply(done.effects).await;
    let Some(signed_in) = done.value else {
        let link = state.store().link_state(&token_digest(&token), "viewer").await?;
        return unusable_page(&state, LinkKind::ViewerSignIn, &link).await;
    };
    let id = signed_in.session_id;
    let set = cookie(&state, session_cookie(&state), id.expose(), "/", None);
    Ok((AppendHeaders([(header::SET_COOKIE, set)]), Redirect::to("/viewer")).into_response())
}

struct Row {
    slug: String,
    title: String,
    kind: &'static str,
    size: String,
    until: String,
}

#[derive(Template)]
#[template(path = "site/viewer.html")]
struct ViewerPage<'a> {
    layout: &'a crate::http::public_layout::Layout,
    current: &'a str,
    query: &'a str,
    email: &'a str,
    csrf: &'a str,
    rows: Vec<Row>,
    /// Arrived straight from signing the NDA, approved by a rule (`?welcome=approved`).
    welcome: bool,
}

pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let Some(email) = viewer(&state, &headers).await? else {
        return Ok(Redirect::to("/viewer/signin").into_response());
    };
    let grants = state.store().live_grants(state.org(), &email).await?;
    let mut rows = vec![];
    for d in state.store().documents(state.org()).await? {
        let Some(v) = &d.current else { continue };
        let covering = grants
            .iter()
            .filter(|g| grant_covers(&g.documents, &d.slug, d.access) && d.access == Access::Nda);
        if let Some(until) = covering.map(|g| g.expires_at).max() {
            rows.push(Row {
                size: crate::http::format::human_size(v.size),
                until: crate::http::format::display_time(Some(until)),
                kind: d.kind.label(),
                slug: d.slug,
                title: d.title,
            });
        }
    }
    let site = state.site().await;
    let (csrf, set) = form_csrf(&state);
    let html = ViewerPage {
        layout: &site.layout.for_viewer(),
        current: "/viewer",
        query: "",
        email: &email,
        csrf: &csrf,
        rows,
        welcome: q.get("welcome").is_some_and(|w| w == "approved"),
    }
    .render()?;
    Ok(([(header::SET_COOKIE, set)], Html(html)).into_response())
}

pub async fn download(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> WebResult<Response> {
    let Some(email) = viewer(&state, &headers).await? else {
        return Ok(Redirect::to("/viewer/signin").into_response());
    };
    let ip = peer.ip().to_string();
    let doc = state.store().document(state.org(), &slug).await?;
    let grants = state.store().live_grants(state.org(), &email).await?;
    let allowed = doc.as_ref().and_then(|d| {
        let v = d.current.as_ref()?;
        let g = grants
            .iter()
            .find(|g| d.access == Access::Nda && grant_covers(&g.documents, &d.slug, d.access))?;
        Some((d, v, g))
    });
    let actor = candor_app::Actor::Viewer {
        email: email.clone(),
        ip: ip.clone(),
    };
    let Some((doc, version, grant)) = allowed else {
        let done = state
            .app()
            .record(
                &actor,
                candor_app::Action::DocumentDenied,
                format!("document/{slug}"),
                serde_json::json!({}),
            )
            .await?;
        state.apply(done.effects).await;
        return Err(WebError::NotFound);
    };
    let entry = candor_store::AccessLogEntry {
        grant_id: grant.public_id.clone(),
        email: email.clone(),
        company: grant.company.clone(),
        document: doc.slug.clone(),
        version: version.number,
        action: "download".into(),
        at: candor_store::now(),
        ip: ip.clone(),
    };
    let done = state.app().record_viewer_download(&actor, &entry).await?;
    state.apply(done.effects).await;
    if version.content_type != "application/pdf" {
        return super::public::stream_version(&state, version, &ip).await;
    }
    // A PDF is watermarked for this viewer: read whole (decrypting), marked, sent.
    let blob = state.store().blob(&version.blob_id).await?.ok_or(WebError::NotFound)?;
    let ring = state.key_ring_for(&blob.key_id)?;
    let wrapped = candor_crypto::envelope::WrappedKey {
        key_id: blob.key_id.clone(),
        sealed: blob.wrapped_key.clone(),
    };
    let pdf = match state.blobs().read_all(&ring, &blob.id, &wrapped).await {
        Ok(pdf) => pdf,
        Err(e) => return Err(super::public::damaged(&state, &blob.id, &ip, e).await),
    };
    let date = chrono::Utc::now().date_naive().to_string();
    let (name, company, grant_id, viewer_email) = (
        grant.name.clone(),
        grant.company.clone(),
        grant.public_id.clone(),
        email.clone(),
    );
    let marked = crate::watermark::in_slot(state.watermark_slots(), move || {
        let mark = crate::watermark::Mark {
            name: &name,
            email: &viewer_email,
            company: &company,
            date: &date,
            grant: &grant_id,
        };
        let copy = crate::watermark::mark_copy(&pdf, &mark, &crate::watermark::Budget::standard());
        copy.map(|c| (pdf, c))
    })
    .await?;
    // Uploads are checked with this same code, so this is a file stored before that check, or one
    // that reads differently under a newer library version.
    let marked = match marked {
        Ok(m) => m,
        Err(e) => {
            let details = serde_json::json!({"error": e.to_string(), "version": version.number});
            let done = state
                .app()
                .record(
                    &actor,
                    candor_app::Action::DocumentWatermarkFailed,
                    format!("document/{slug}"),
                    details,
                )
                .await?;
            state.apply(done.effects).await;
            return Err(WebError::BadRequest(
                "This document cannot be prepared for you right now. The team has been told; please try again later or write to the security contact.".into(),
            ));
        }
    };
    // The original's bytes, then the appended update: sent as they are, not copied together.
    let (original, copy) = marked;
    let length = original.len() - copy.keep_from + copy.update.len();
    let original = bytes::Bytes::from(original).slice(copy.keep_from..);
    let parts = [original, bytes::Bytes::from(copy.update)].map(Ok::<_, std::convert::Infallible>);
    let mut res = axum::body::Body::from_stream(futures_util::stream::iter(parts)).into_response();
    let h = res.headers_mut();
    crate::http::format::set_download_headers(h, "application/pdf", &version.filename);
    h.insert(header::CONTENT_LENGTH, length.into());
    Ok(res)
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    check_form_csrf(&headers, &form)?;
    if let Some(id) = read_cookie(&headers, session_cookie(&state)) {
        let done = state.app().viewer_logout(&token_digest(id)).await?;
        state.apply(done.effects).await;
    }
    let clear = cookie(&state, session_cookie(&state), "", "/", Some(0));
    Ok((AppendHeaders([(header::SET_COOKIE, clear)]), Redirect::to("/documents")).into_response())
}

#[derive(Template)]
#[template(path = "site/viewer_signin.html")]
struct SigninPage<'a> {
    layout: &'a crate::http::public_layout::Layout,
    current: &'a str,
    query: &'a str,
    csrf: &'a str,
    email: &'a str,
    errors: FormErrors,
}

/// The sign-in form, with `email` as typed and what to fix.
async fn signin_page(state: &AppState, email: &str, errors: FormErrors) -> WebResult<Response> {
    let site = state.site().await;
    let (csrf, set) = form_csrf(state);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = SigninPage {
        layout: &site.layout,
        current: "/documents",
        query: "",
        csrf: &csrf,
        email,
        errors,
    }
    .render()?;
    Ok((status, [(header::SET_COOKIE, set)], Html(html)).into_response())
}

pub async fn signin_form(State(state): State<AppState>) -> WebResult<Response> {
    signin_page(&state, "", FormErrors::none()).await
}

/// Sends a sign-in link to an address with a live grant. The same answer either way, given
/// before the lookup (which runs in the background). A malformed address, or a sign-in asked
/// for too often, gets the form again as it was typed.
pub async fn signin(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    check_form_csrf(&headers, &form)?;
    let email = form.get("email").map(|e| e.trim().to_lowercase()).unwrap_or_default();
    let mut errors = FormErrors::new(vec![], [("email", "Email")], "v-");
    if !valid_email(&email) {
        errors.push("email", "enter an address like you@company.com.");
        return signin_page(&state, &email, errors).await;
    }
    let ip = peer.ip().to_string();
    if let Err(secs) = state.spend_mail_budgets(&ip, &email).await {
        errors.push("", too_quick(secs));
        return Ok(refused(signin_page(&state, &email, errors).await?, secs));
    }
    let task_state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send_link(&task_state, &email).await {
            tracing::error!(error = %e, "could not queue a viewer sign-in link");
        }
    });
    message(
        &state,
        StatusCode::OK,
        "Check your email",
        &["If that address has access to documents, a sign-in link is on its way. It works once, within 15 minutes."],
    )
    .await
}

async fn send_link(state: &AppState, email: &str) -> anyhow::Result<()> {
    let done = state.app().send_viewer_link(email, &mail_context(state).await).await?;
    state.apply(done.effects).await;
    Ok(())
}
