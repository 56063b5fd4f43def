//! Documents and access to them: the back office's library (upload, describe, version, delete,
//! download as uploaded) and access management (requests, grants, rules and NDA, access log);
//! the public download of public documents; and the visitor's path to NDA documents: request
//! access, prove the email address, sign the NDA, wait for approval (or a rule), then sign in by
//! emailed link and download watermarked copies. Also the demo's sample documents and the sweep
//! of stored files that no row names.
//!
//! Every change goes through a use case of `candor_app` (`documents`, `access`), which writes its
//! audit entry and mail in the change's own transaction.
//!
//! Pages here are public. Opening an emailed link only shows a page with one button; the button
//! (a POST) uses the link, so mail scanners that open links first use nothing up. Forms carry a double-submit CSRF token (`candor_form` cookie, path `/`)
//! and pass the same Origin check as the back office; every form that sends mail is rate-limited
//! per address and per email; answers that could tell who asked for what are uniform.

pub mod blob_sweep;
pub(crate) mod decide_row;
pub mod demo;
pub(crate) mod library;
mod links;
pub(crate) mod nda;
pub(crate) mod public;
pub(crate) mod request;
pub(crate) mod requests;
mod upload_form;
pub(crate) mod viewer;

use crate::http::error::WebResult;
use crate::http::session::PUBLIC_FORMS;
use crate::AppState;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;

const STEP_COOKIE: &str = "candor_request";

/// A fresh form token (for the page) and the cookie that pairs with it.
fn form_csrf(state: &AppState) -> (String, String) {
    let (token, set) = PUBLIC_FORMS.issue(state);
    (token.expose().to_owned(), set)
}

fn check_form_csrf(headers: &HeaderMap, form: &HashMap<String, String>) -> WebResult<()> {
    PUBLIC_FORMS.check(headers, form)
}

/// A message page in the trust center's look.
#[derive(askama::Template)]
#[template(path = "site/message.html")]
struct MessagePage<'a> {
    layout: &'a crate::http::public_layout::Layout,
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
) -> WebResult<Response> {
    use askama::Template;
    let site = state.site().await;
    let html = MessagePage {
        layout: &site.layout,
        current: "/documents",
        query: "",
        title,
        paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// What mail about access needs of the trust center (its name, address, security contact).
async fn mail_context(state: &AppState) -> candor_app::access::MailContext {
    let site = state.site().await;
    candor_app::access::MailContext {
        org_name: site.layout.org_name.clone(),
        public_url: state.config().public_url.clone(),
        security_email: site.layout.security_email.clone(),
    }
}

/// The organization's name, for pages.
async fn org_name(state: &AppState) -> String {
    state.site().await.layout.org_name.clone()
}

/// The NDA in force (the built-in one is published the first time it is needed).
async fn current_nda(state: &AppState) -> WebResult<candor_store::Nda> {
    Ok(state.app().current_nda(&org_name(state).await).await?)
}
