//! The visitor's path to NDA documents: request access, prove the email address, sign the NDA,
//! wait for approval (or a rule), then sign in by emailed link and download watermarked copies.
//!
//! Pages here are public. Opening an emailed link only shows a page with one button; the button
//! (a POST) uses the link, so mail scanners that open links first use nothing up. Forms carry a double-submit CSRF token (`candor_form` cookie, path `/`)
//! and pass the same Origin check as the back office; every form that sends mail is rate-limited
//! per address and per email; answers that could tell who asked for what are uniform.

mod links;
pub(crate) mod nda;
pub(crate) mod request;
pub(crate) mod viewer;

use crate::http::error::AppResult;
use crate::http::session::PUBLIC_FORMS;
use crate::AppState;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use candor_crypto::random_token;
use std::collections::HashMap;

/// How long an address-verification link works.
pub const VERIFY_LINK_SECS: i64 = 15 * 60;
/// How long a viewer sign-in link works when asked for on the sign-in page.
pub const VIEWER_LINK_SECS: i64 = 15 * 60;
/// How long the sign-in link in an approval mail works (people read mail later).
pub const APPROVAL_LINK_SECS: i64 = 7 * 24 * 3600;
/// How long a browser has, after verifying, to sign the NDA.
pub const STEP_SECS: i64 = 3600;
/// Default grant length.
pub const DEFAULT_GRANT_DAYS: i64 = 90;

const STEP_COOKIE: &str = "candor_request";

/// A fresh form token (for the page) and the cookie that pairs with it.
fn form_csrf(state: &AppState) -> (String, String) {
    let (token, set) = PUBLIC_FORMS.issue(state);
    (token.expose().to_owned(), set)
}

fn check_form_csrf(headers: &HeaderMap, form: &HashMap<String, String>) -> AppResult<()> {
    PUBLIC_FORMS.check(headers, form)
}

/// The trust center's layout for a public page.
async fn layout(state: &AppState) -> std::sync::Arc<crate::site::Site> {
    state.site().await
}

/// A message page in the trust center's look.
#[derive(askama::Template)]
#[template(path = "site/message.html")]
struct MessagePage<'a> {
    layout: &'a crate::site::pages::Layout,
    current: &'a str,
    query: &'a str,
    title: &'a str,
    paragraphs: Vec<String>,
}

async fn message(
    state: &AppState,
    status: axum::http::StatusCode,
    title: &str,
    paragraphs: &[&str],
) -> AppResult<Response> {
    use askama::Template;
    let site = layout(state).await;
    let html = MessagePage {
        layout: &site.layout,
        current: "/documents",
        query: "",
        title,
        paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
    }
    .render()
    .map_err(anyhow::Error::from)?;
    Ok((status, Html(html)).into_response())
}

/// One part of a mail's body.
pub(crate) enum Part {
    /// Words, ours or typed by someone else (a visitor's name, a note, the NDA): always escaped
    /// and never made into a link, however much of it looks like an address.
    Text(String),
    /// A link that Candor made to one of its own pages; the only thing that becomes `<a href>`.
    Link(String),
}

/// A plain-text message and its HTML twin, built from the same parts. Paragraphs are separated by
/// blank lines in both; only [`Part::Link`]s become links, so text that someone typed (say a name
/// like "Eve\n\nhttps://evil.example") cannot put a link into mail sent from our address.
pub(crate) fn mail(to: &str, subject: String, parts: &[Part], purpose: &str) -> candor_store::NewEmail {
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
    }
}

/// The organization's name for mail.
async fn org_name(state: &AppState) -> String {
    state.site().await.layout.org_name.clone()
}

/// Approves a request: a grant for `days`, a sign-in link, and the mail that carries it.
/// `false` when the request was no longer waiting.
pub(crate) async fn approve(
    state: &AppState,
    req: &candor_store::AccessRequest,
    by: &str,
    message_text: &str,
    days: i64,
) -> AppResult<bool> {
    let grant = candor_store::NewGrant {
        public_id: format!("g-{}", &random_token().expose()[..12]),
        expires_at: candor_store::now() + days * 24 * 3600,
    };
    let token = random_token();
    let link = candor_store::NewLink {
        token_hash: candor_crypto::token_digest(token.expose()),
        purpose: "viewer",
        email: req.email.clone(),
        expires_at: candor_store::now() + APPROVAL_LINK_SECS,
    };
    let org = org_name(state).await;
    let url = format!("{}/viewer/login/{}", state.config().public_url, token.expose());
    let note = if message_text.is_empty() {
        String::new()
    } else {
        format!("A note from {org}: {message_text}\n\n")
    };
    let parts = [
        Part::Text(format!(
            "Hello {},\n\nYour request for documents from {org} was approved. {note}To read them, open this link and press Sign in (it works once, within 7 days; later, ask for a new link at {}/viewer/signin):",
            req.name,
            state.config().public_url
        )),
        Part::Link(url),
        Part::Text(format!(
            "Your access lasts {days} days. The documents are watermarked with your name and email address."
        )),
    ];
    let mail = mail(
        &req.email,
        format!("Your access to {org}'s documents"),
        &parts,
        "access-approved",
    );
    let done = state
        .store()
        .decide_request(state.org(), req.id, by, message_text, Some((&grant, &link)), &mail)
        .await?;
    if done {
        state.wake_outbox();
        let details =
            serde_json::json!({"grant": grant.public_id, "days": days, "email": req.email, "documents": req.documents});
        state
            .audit(by, "access.approve", &format!("access-request/{}", req.id), "", details)
            .await;
    }
    Ok(done)
}

/// The approval rules from the organization's settings.
pub(crate) struct Rules {
    pub approve: Vec<String>,
    pub deny: Vec<String>,
    pub deny_free_mail: bool,
    pub grant_days: i64,
}

pub(crate) async fn rules(state: &AppState) -> AppResult<Rules> {
    let get = |key: &'static str| async move { state.store().org_setting(state.org(), key).await };
    Ok(Rules {
        approve: candor_core::requests::parse_domains(&get("access.auto_approve").await?.unwrap_or_default()),
        deny: candor_core::requests::parse_domains(&get("access.deny").await?.unwrap_or_default()),
        deny_free_mail: get("access.deny_free_mail").await?.as_deref() == Some("true"),
        grant_days: get("access.grant_days")
            .await?
            .and_then(|d| d.parse().ok())
            .filter(|d| (1..=3650).contains(d))
            .unwrap_or(DEFAULT_GRANT_DAYS),
    })
}

/// The NDA in force; the built-in one is published as version 1 the first time it is needed.
pub(crate) async fn current_nda(state: &AppState) -> AppResult<candor_store::Nda> {
    if let Some(nda) = state.store().current_nda(state.org()).await? {
        return Ok(nda);
    }
    let org = org_name(state).await;
    let body = default_nda(&org);
    let sha = hex_sha256(&body);
    state.store().publish_nda(state.org(), &body, &sha, "system").await?;
    Ok(state.store().current_nda(state.org()).await?.expect("just published"))
}

/// The hex SHA-256 of a text (an NDA version's fingerprint).
pub(crate) fn hex_sha256(text: &str) -> String {
    candor_crypto::token_digest(text)
}

/// Candor's starting NDA text (an owner replaces it in the back office).
fn default_nda(org: &str) -> String {
    format!(
        "# Confidentiality agreement\n\n\
         {org} shares security documents (audit reports, test summaries and similar) with you so that you can assess {org} as a supplier. In return you agree that:\n\n\
         1. You keep the documents and what they say confidential, and use them only to assess {org}.\n\
         2. You share them only with colleagues and advisers who need them for that purpose and who are bound to keep them confidential too.\n\
         3. You do not publish them, post them anywhere public, or pass them to anyone else.\n\
         4. You delete them when you no longer need them for that purpose, or when {org} asks.\n\
         5. Each copy is marked with your name and email address, so it can be traced to you.\n\n\
         This agreement lasts for three years from the day you sign it. Typing your name and ticking the box is your signature."
    )
}
