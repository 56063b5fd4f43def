//! The page an emailed link opens. Corporate mail scanners (Safe Links, Proofpoint, Mimecast)
//! open every link before the person does, so opening a link (GET or HEAD) changes nothing: it
//! shows what the link is for and one button, and pressing the button (a POST carrying the form
//! token) uses the link. A link that cannot be used gets a page saying why and what to do next.

use super::form_csrf;
use crate::http::error::WebResult;
use crate::AppState;
use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use candor_store::LinkState;

/// The one button of a usable link's page.
struct ButtonForm<'a> {
    action: &'a str,
    csrf: &'a str,
    button: &'a str,
}

#[derive(Template)]
#[template(path = "site/link.html")]
struct LinkPage<'a> {
    layout: &'a crate::http::public_layout::Layout,
    current: &'a str,
    query: &'a str,
    title: &'a str,
    paragraphs: &'a [String],
    form: Option<ButtonForm<'a>>,
    next: Option<(&'a str, &'a str)>,
}

/// What a link is for: the words of its pages and where to go when it cannot be used.
#[derive(Clone, Copy)]
pub(super) enum LinkKind {
    /// Proves the address of an access request.
    Verify,
    /// Signs an approved viewer in.
    ViewerSignIn,
}

/// A usable link's page: what pressing the button will do, and the button, which posts back to
/// `action` (the link itself) with a fresh form token.
pub(super) async fn confirm_page(
    state: &AppState,
    title: &str,
    paragraphs: &[String],
    action: &str,
    button: &str,
) -> WebResult<Response> {
    let (csrf, set) = form_csrf(state);
    let form = ButtonForm {
        action,
        csrf: &csrf,
        button,
    };
    let html = render(state, title, paragraphs, Some(form), None).await?;
    Ok(([(header::SET_COOKIE, set)], Html(html)).into_response())
}

/// The page of a link that cannot be used (the state is never `Usable` here; if it is, the link
/// was used up between two looks, which reads as used).
pub(super) async fn unusable_page<T>(state: &AppState, kind: LinkKind, link: &LinkState<T>) -> WebResult<Response> {
    use LinkKind::*;
    let (status, title, paragraphs, next): (StatusCode, &str, &[&str], (&str, &str)) = match (kind, link) {
        (Verify, LinkState::Expired) => (
            StatusCode::GONE,
            "This link has expired",
            &["Links to confirm an email address work for 15 minutes. Ask for access again to get a new one; it arrives within a minute or two."],
            ("/documents/request", "Ask for access again"),
        ),
        (Verify, LinkState::Unknown) => (
            StatusCode::NOT_FOUND,
            "This link does not work",
            &["It may have been copied incompletely: check that the whole link from the email is in the address bar. Otherwise, ask for access again to get a new one."],
            ("/documents/request", "Ask for access again"),
        ),
        (Verify, _) => (
            StatusCode::GONE,
            "This link was used already",
            &[
                "Each link to confirm an email address works once, and this one has been used.",
                "If you confirmed your address and signed the agreement, there is nothing more to do: we will email you when your request is decided. Otherwise, ask for access again to get a new link.",
            ],
            ("/documents/request", "Ask for access again"),
        ),
        (ViewerSignIn, LinkState::Expired) => (
            StatusCode::GONE,
            "This sign-in link has expired",
            &["Sign-in links work for 15 minutes (7 days in an approval email), and asking for a new link ends the older ones. Ask for a new link; it arrives within a minute or two."],
            ("/viewer/signin", "Ask for a new sign-in link"),
        ),
        (ViewerSignIn, LinkState::Unknown) => (
            StatusCode::NOT_FOUND,
            "This sign-in link does not work",
            &["It may have been copied incompletely: check that the whole link from the email is in the address bar. Otherwise, ask for a new sign-in link."],
            ("/viewer/signin", "Ask for a new sign-in link"),
        ),
        (ViewerSignIn, _) => (
            StatusCode::GONE,
            "This sign-in link was used already",
            &[
                "Each sign-in link works once, and this one has been used.",
                "If you signed in with it in this browser, your documents are waiting. If not, ask for a new sign-in link.",
            ],
            ("/viewer", "Go to your documents"),
        ),
    };
    let paragraphs: Vec<String> = paragraphs.iter().map(|p| (*p).to_owned()).collect();
    let html = render(state, title, &paragraphs, None, Some(next)).await?;
    Ok((status, Html(html)).into_response())
}

async fn render(
    state: &AppState,
    title: &str,
    paragraphs: &[String],
    form: Option<ButtonForm<'_>>,
    next: Option<(&str, &str)>,
) -> WebResult<String> {
    let site = state.site().await;
    Ok(LinkPage {
        layout: &site.layout,
        current: "/documents",
        query: "",
        title,
        paragraphs,
        form,
        next,
    }
    .render()?)
}
