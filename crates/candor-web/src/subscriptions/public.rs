//! `/subscribe`: the form, and the same answer for every address.

use super::{choice_of, component_boxes, field, form_errors, message, topic_boxes, ComponentBox, TopicBox};
use crate::http::error::WebResult;
use crate::http::form_errors::FormErrors;
use crate::http::ratelimit::{refused, too_quick};
use crate::http::session::PUBLIC_FORMS;
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use candor_app::subscriptions::Choice;
use candor_core::events::Topic;
use std::collections::HashMap;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "site/subscribe.html")]
struct SubscribePage<'a> {
    layout: &'a crate::http::public_layout::Layout,
    current: &'a str,
    query: &'a str,
    csrf: &'a str,
    email: &'a str,
    topics: Vec<TopicBox>,
    components: Vec<ComponentBox>,
    errors: FormErrors,
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    choice: &Choice,
    errors: FormErrors,
) -> WebResult<Response> {
    let layout = state.visitor_layout(headers).await?;
    let (csrf, set) = PUBLIC_FORMS.issue(state);
    let html = SubscribePage {
        layout: &layout,
        current: "/subscribe",
        query: "",
        csrf: csrf.expose(),
        email,
        topics: topic_boxes(&choice.topics),
        components: component_boxes(state, &choice.components).await?,
        errors,
    }
    .render()?;
    Ok((status, [(header::SET_COOKIE, set)], Html(html)).into_response())
}

/// The form, with every topic ticked.
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    let all = Choice {
        topics: Topic::ALL.to_vec(),
        components: vec![],
    };
    render(&state, &headers, StatusCode::OK, "", &all, FormErrors::none()).await
}

/// A sign-up. Rate-limited per client and per address like every form that sends mail; the
/// answer is the same whether the address is new, waiting for confirmation or subscribed.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let csrf: HashMap<String, String> = pairs.iter().filter(|(k, _)| k == "_csrf").cloned().collect();
    PUBLIC_FORMS.check(&headers, &csrf)?;
    let ip = peer.ip().to_string();
    let email = field(&pairs, "email").trim().to_lowercase();
    let choice = choice_of(&pairs);
    // Asked first, spent once the sign-up is accepted: a form sent back to fix (no topic
    // ticked) mails nobody, so it costs nothing.
    if let Err(secs) = state.mail_budgets_wait(&ip, &email).await {
        let mut errors = FormErrors::none();
        errors.push("", too_quick(secs));
        let res = render(&state, &headers, StatusCode::OK, &email, &choice, errors).await?;
        return Ok(refused(res, secs));
    }
    let done = match state.app().subscribe(&ip, &email, &choice).await {
        Ok(done) => done,
        Err(e) => {
            let errors = form_errors(e)?;
            return render(
                &state,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                &email,
                &choice,
                errors,
            )
            .await;
        }
    };
    // Spent by a sign-up that raced this one in: the mail is queued already, so let it go.
    let _ = state.take_mail_budgets(&ip, &email).await;
    state.apply(done.effects).await;
    message(
        &state,
        StatusCode::OK,
        "Check your email",
        &[
            "If the address can receive mail, a message about your subscription is on its way.",
            "To start receiving notices, open the link in it and confirm. If you are subscribed already, it has a link to change what you receive.",
        ],
        Some(("/", "Back to the trust center")),
    )
    .await
}
