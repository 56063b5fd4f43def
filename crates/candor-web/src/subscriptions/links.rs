//! The links in subscription mail: confirm (a button), manage (the choice, saved by a button),
//! unsubscribe (a button, or RFC 8058's one-click POST from a mail provider).

use super::{button_page, choice_of, component_boxes, form_errors, message, topic_boxes, ComponentBox, TopicBox};
use crate::http::error::{WebError, WebResult};
use crate::http::form_errors::FormErrors;
use crate::http::session::{check_origin, PUBLIC_FORMS};
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::subscriptions::{Choice, Unsubscribed};
use candor_store::{LinkState, Subscriber};
use std::collections::HashMap;
use std::net::SocketAddr;

/// What the subscriber follows, in words.
fn followed(s: &Subscriber) -> String {
    let topics: Vec<&str> = s.topics.iter().map(|t| t.label()).collect();
    topics.join(", ")
}

/// A confirmation link, opened: what confirming does, and the button.
pub async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    match state.app().confirm_link(&token).await? {
        LinkState::Usable(s) => {
            let paragraphs = [
                format!("Confirm that {} should get email about: {}.", s.email, followed(&s)),
                "You can change this or unsubscribe from the link in every message.".to_owned(),
            ];
            let action = format!("/subscriptions/confirm/{token}");
            button_page(
                &state,
                "Confirm your subscription",
                &paragraphs,
                &action,
                "Confirm my subscription",
            )
            .await
        }
        other => unusable(&state, &other).await,
    }
}

/// Why a confirmation link does not work, and what to do.
async fn unusable(state: &AppState, link: &LinkState<Subscriber>) -> WebResult<Response> {
    let again = Some(("/subscribe", "Subscribe again"));
    match link {
        LinkState::Expired => message(
            state,
            StatusCode::GONE,
            "This link has expired",
            &["Links to confirm a subscription work for 48 hours. Subscribe again to get a new one."],
            again,
        )
        .await,
        LinkState::Unknown => message(
            state,
            StatusCode::NOT_FOUND,
            "This link does not work",
            &["It may have been copied incompletely, or replaced by a newer link: use the link in the latest message, or subscribe again."],
            again,
        )
        .await,
        LinkState::Used | LinkState::Usable(_) => message(
            state,
            StatusCode::GONE,
            "This subscription is confirmed already",
            &["There is nothing more to do. Every message you get has a link to change what you receive or to unsubscribe."],
            Some(("/", "Back to the trust center")),
        )
        .await,
    }
}

/// The button: confirms, then on to the subscription's page.
pub async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    PUBLIC_FORMS.check(&headers, &form)?;
    let done = state.app().confirm_subscription(&peer.ip().to_string(), &token).await?;
    state.apply(done.effects).await;
    match done.value {
        Some((_, link)) => {
            Ok(Redirect::to(&format!("/subscriptions/manage/{}?notice=confirmed", link.expose())).into_response())
        }
        None => unusable(&state, &state.app().confirm_link(&token).await?).await,
    }
}

#[derive(Template)]
#[template(path = "site/subscription_manage.html")]
struct ManagePage<'a> {
    layout: &'a crate::http::public_layout::Layout,
    current: &'a str,
    query: &'a str,
    csrf: &'a str,
    email: &'a str,
    token: &'a str,
    notice: Option<&'static str>,
    topics: Vec<TopicBox>,
    components: Vec<ComponentBox>,
    errors: FormErrors,
}

#[derive(serde::Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

/// Notices chosen by key, so nothing from the URL is echoed.
fn notice_text(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "confirmed" => {
            Some("You are subscribed. Change what you receive here at any time; the link is in every message.")
        }
        "saved" => Some("Saved. From now on you get what is ticked below."),
        _ => None,
    }
}

async fn render_manage(
    state: &AppState,
    status: StatusCode,
    s: &Subscriber,
    token: &str,
    choice: &Choice,
    notice: Option<&'static str>,
    errors: FormErrors,
) -> WebResult<Response> {
    let site = state.site().await;
    let (csrf, set) = PUBLIC_FORMS.issue(state);
    let html = ManagePage {
        layout: &site.layout,
        current: "/subscribe",
        query: "",
        csrf: csrf.expose(),
        email: &s.email,
        token,
        notice,
        topics: topic_boxes(&choice.topics),
        components: component_boxes(state, &choice.components).await?,
        errors,
    }
    .render()?;
    Ok((status, [(header::SET_COOKIE, set)], Html(html)).into_response())
}

async fn no_subscription(state: &AppState) -> WebResult<Response> {
    message(
        state,
        StatusCode::NOT_FOUND,
        "No subscription uses this link",
        &["If you unsubscribed, there is nothing more to do: you get no more mail. Otherwise the link may have been copied incompletely."],
        Some(("/subscribe", "Subscribe")),
    )
    .await
}

/// A subscription's page: what it follows, to change, and the way out.
pub async fn manage_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<Notice>,
) -> WebResult<Response> {
    let Some(s) = state.app().subscriber_by_link(&token).await? else {
        return no_subscription(&state).await;
    };
    let choice = Choice {
        topics: s.topics.clone(),
        components: s.components.clone(),
    };
    render_manage(
        &state,
        StatusCode::OK,
        &s,
        &token,
        &choice,
        notice_text(q.notice.as_deref()),
        FormErrors::none(),
    )
    .await
}

/// Saves a new choice.
pub async fn manage(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let csrf: HashMap<String, String> = pairs.iter().filter(|(k, _)| k == "_csrf").cloned().collect();
    PUBLIC_FORMS.check(&headers, &csrf)?;
    let choice = choice_of(&pairs);
    match state
        .app()
        .change_subscription(&peer.ip().to_string(), &token, &choice)
        .await
    {
        Ok(done) => {
            state.apply(done.effects).await;
            Ok(Redirect::to(&format!("/subscriptions/manage/{token}?notice=saved")).into_response())
        }
        Err(candor_app::Error::NotFound(_)) => no_subscription(&state).await,
        Err(e) => {
            let errors = form_errors(e)?;
            let Some(s) = state.app().subscriber_by_link(&token).await? else {
                return no_subscription(&state).await;
            };
            render_manage(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &s,
                &token,
                &choice,
                None,
                errors,
            )
            .await
        }
    }
}

/// An unsubscribe link, opened: nothing happens until the button is pressed (a GET never
/// unsubscribes: mail scanners open links).
pub async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    let Some(s) = state.app().subscriber_by_link(&token).await? else {
        return no_subscription(&state).await;
    };
    let paragraphs = [format!(
        "{} gets email about: {}. Press the button to stop all of it; what we keep about the subscription is deleted.",
        s.email,
        followed(&s)
    )];
    let action = format!("/subscriptions/unsubscribe/{token}");
    button_page(&state, "Unsubscribe", &paragraphs, &action, "Unsubscribe").await
}

/// Bodies larger than this are not an unsubscribe request.
const BODY_LIMIT: usize = 16 * 1024;

/// Unsubscribes. A POST whose form says `List-Unsubscribe=One-Click` (RFC 8058; URL-encoded or
/// multipart) needs nothing else: the token in the path is the proof. Any other POST is the
/// link page's button and must carry its form token and come from this site.
pub async fn unsubscribe(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    req: Request,
) -> WebResult<Response> {
    let headers = req.headers().clone();
    let form = read_form(req).await?;
    let one_click = form.get("List-Unsubscribe").is_some_and(|v| v == "One-Click");
    if !one_click {
        check_origin(&state, &headers)?;
        PUBLIC_FORMS.check(&headers, &form)?;
    }
    let how = if one_click { "one-click" } else { "page" };
    let done = state.app().unsubscribe(&peer.ip().to_string(), &token, how).await?;
    state.apply(done.effects).await;
    match done.value {
        Unsubscribed::Done { email } => {
            let first = format!("{email} will get no more email from this trust center.");
            message(
                &state,
                StatusCode::OK,
                "You are unsubscribed",
                &[
                    first.as_str(),
                    "Changed your mind? You can subscribe again at any time.",
                ],
                Some(("/subscribe", "Subscribe again")),
            )
            .await
        }
        Unsubscribed::Unknown => no_subscription(&state).await,
    }
}

/// The fields of a URL-encoded or multipart form body.
async fn read_form(req: Request) -> WebResult<HashMap<String, String>> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bad = |what: &str| WebError::BadRequest(format!("the form could not be read: {what}"));
    let mut form = HashMap::new();
    if multipart {
        let mut parts = Multipart::from_request(req, &())
            .await
            .map_err(|e| bad(&e.body_text()))?;
        let mut read = 0;
        while let Some(part) = parts.next_field().await.map_err(|e| bad(&e.body_text()))? {
            let name = part.name().unwrap_or("").to_owned();
            let value = part.text().await.map_err(|e| bad(&e.body_text()))?;
            read += name.len() + value.len();
            if read > BODY_LIMIT {
                return Err(bad("too large"));
            }
            form.insert(name, value);
        }
    } else {
        let body = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|_| bad("too large"))?;
        form.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    Ok(form)
}
