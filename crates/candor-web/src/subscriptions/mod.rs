//! Subscriptions: the public sign-up (`/subscribe`), the links its mail carries (confirm,
//! manage, unsubscribe), the back office's subscribers and webhook endpoints with their
//! delivery log, and the webhook worker.
//!
//! Every change goes through a use case of `candor_app` (`subscriptions`, `webhooks`). Opening
//! an emailed link only shows a page; its button (a POST with a form token) acts, so mail
//! scanners that open links change nothing. The exception is RFC 8058's one-click unsubscribe:
//! a POST of `List-Unsubscribe=One-Click` to the unsubscribe link needs no form token and no
//! Origin (mail providers send it from their servers; see `http::session::ONE_CLICK_UNSUBSCRIBE`).

pub(crate) mod admin;
pub(crate) mod links;
pub(crate) mod public;
pub(crate) mod worker;

use crate::http::error::WebResult;
use crate::http::public_layout::Layout;
use crate::http::session::PUBLIC_FORMS;
use crate::AppState;
use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use candor_app::subscriptions::Choice;
use candor_core::events::Topic;

/// A topic as a form shows it: spelling, label, ticked.
pub(crate) struct TopicBox {
    pub value: &'static str,
    pub label: &'static str,
    pub on: bool,
}

/// A status component as a form shows it: id, name, ticked.
pub(crate) struct ComponentBox {
    pub id: i64,
    pub name: String,
    pub on: bool,
}

/// Every public topic, ticked as in `chosen`.
pub(crate) fn topic_boxes(chosen: &[Topic]) -> Vec<TopicBox> {
    boxes(&Topic::ALL, chosen)
}

/// Every topic a webhook endpoint may take (the public ones and the team's own access
/// requests), ticked as in `chosen`.
pub(crate) fn webhook_topic_boxes(chosen: &[Topic]) -> Vec<TopicBox> {
    boxes(&Topic::WEBHOOK, chosen)
}

fn boxes(topics: &[Topic], chosen: &[Topic]) -> Vec<TopicBox> {
    topics
        .iter()
        .copied()
        .map(|t| TopicBox {
            value: t.as_str(),
            label: t.label(),
            on: chosen.contains(&t),
        })
        .collect()
}

/// Every status component, ticked as in `chosen`.
pub(crate) async fn component_boxes(state: &AppState, chosen: &[i64]) -> WebResult<Vec<ComponentBox>> {
    Ok(state
        .store()
        .status_components(state.org())
        .await?
        .into_iter()
        .map(|c| ComponentBox {
            on: chosen.contains(&c.id),
            id: c.id,
            name: c.name,
        })
        .collect())
}

/// The topics and components of a submitted form (`topics` and `components`, each repeated).
/// Unknown topics and components that are not numbers are dropped here and reported by the use
/// case as "choose at least one" or "choose from the list".
pub(crate) fn choice_of(pairs: &[(String, String)]) -> Choice {
    let mut choice = Choice::default();
    for (k, v) in pairs {
        match k.as_str() {
            "topics" => choice.topics.extend(Topic::parse(v)),
            "components" => match v.parse() {
                Ok(id) => choice.components.push(id),
                Err(_) => choice.components.push(-1),
            },
            _ => {}
        }
    }
    choice
}

/// The value of field `key` in a form's pairs.
pub(crate) fn field<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The one button of a link's page.
pub(crate) struct ButtonForm<'a> {
    pub action: &'a str,
    pub csrf: &'a str,
    pub button: &'a str,
}

/// A message or a link's page, in the trust center's look (the template the documents' links
/// use too).
#[derive(Template)]
#[template(path = "site/link.html")]
struct LinkPage<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    title: &'a str,
    paragraphs: &'a [String],
    form: Option<ButtonForm<'a>>,
    next: Option<(&'a str, &'a str)>,
}

/// A page of paragraphs, with a link onwards.
pub(crate) async fn message(
    state: &AppState,
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    next: Option<(&str, &str)>,
) -> WebResult<Response> {
    let site = state.site().await;
    let paragraphs: Vec<String> = paragraphs.iter().map(|p| (*p).to_owned()).collect();
    let html = LinkPage {
        layout: &site.layout,
        current: "/subscribe",
        query: "",
        title,
        paragraphs: &paragraphs,
        form: None,
        next,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// A link's page with the one button that acts, posting back to `action` with a fresh form token.
pub(crate) async fn button_page(
    state: &AppState,
    title: &str,
    paragraphs: &[String],
    action: &str,
    button: &str,
) -> WebResult<Response> {
    let site = state.site().await;
    let (csrf, set) = PUBLIC_FORMS.issue(state);
    let html = LinkPage {
        layout: &site.layout,
        current: "/subscribe",
        query: "",
        title,
        paragraphs,
        form: Some(ButtonForm {
            action,
            csrf: csrf.expose(),
            button,
        }),
        next: None,
    }
    .render()?;
    Ok(([(header::SET_COOKIE, set)], Html(html)).into_response())
}

/// The field errors of a use case's refusal, as lines for a form; other errors pass through.
pub(crate) fn field_errors(e: candor_app::Error) -> Result<Vec<String>, candor_app::Error> {
    match e {
        candor_app::Error::Invalid(errors) => Ok(errors
            .into_iter()
            .map(|e| format!("{}: {}.", label(&e.field), e.message))
            .collect()),
        other => Err(other),
    }
}

/// The field errors of a use case's refusal, each at its field of the public subscribe form
/// (ids `s-email`, `s-topics`, `s-components`); other errors pass through.
pub(crate) fn form_errors(e: candor_app::Error) -> Result<crate::http::form_errors::FormErrors, candor_app::Error> {
    match e {
        candor_app::Error::Invalid(errors) => Ok(crate::http::form_errors::FormErrors::new(
            errors,
            ["email", "topics", "components"].map(|f| (f, label(f))),
            "s-",
        )),
        other => Err(other),
    }
}

fn label(field: &str) -> &str {
    match field {
        "email" => "Email",
        "topics" => "Topics",
        "components" => "Components",
        "url" => "URL",
        "description" => "Description",
        other => other,
    }
}
