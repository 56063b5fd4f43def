//! "Request access": the form, and the emailed link that proves the address (opening it shows a
//! button; pressing the button proves it).

use super::links::{confirm_page, unusable_page, LinkKind};
use super::{check_form_csrf, form_csrf, mail_context, message, org_name, STEP_COOKIE};
use crate::http::error::WebResult;
use crate::http::form_errors::FormErrors;
use crate::http::ratelimit::{refused, too_quick};
use crate::http::session::cookie;
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::access::STEP_SECS;
use candor_core::documents::Access;
use candor_core::requests::{valid_email, RequestNotice, RequestStatus};
use candor_core::text::{self, Shape};
use candor_crypto::token_digest;
use candor_store::LinkState;
use std::collections::HashMap;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "site/request.html")]
struct RequestPage<'a> {
    layout: &'a crate::http::public_layout::Layout,
    current: &'a str,
    query: &'a str,
    csrf: &'a str,
    documents: Vec<(String, String, bool)>,
    all: bool,
    name: &'a str,
    email: &'a str,
    company: &'a str,
    reason: &'a str,
    errors: FormErrors,
}

/// How the form labels its fields, for the error summary.
const LABELS: [(&str, &str); 5] = [
    ("name", "Full name"),
    ("email", "Work email"),
    ("company", "Company"),
    ("reason", "Reason"),
    ("documents", "Documents"),
];

/// NDA documents that have a file: `(slug, title)`.
async fn nda_documents(state: &AppState) -> WebResult<Vec<(String, String)>> {
    Ok(state
        .store()
        .documents(state.org())
        .await?
        .into_iter()
        .filter(|d| d.access == Access::Nda && d.current.is_some())
        .map(|d| (d.slug, d.title))
        .collect())
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    fields: &HashMap<String, String>,
    chosen: &[String],
    errors: FormErrors,
) -> WebResult<Response> {
    let layout = state.visitor_layout(headers).await?;
    let (csrf, set) = form_csrf(state);
    let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or("");
    let documents = nda_documents(state)
        .await?
        .into_iter()
        .map(|(slug, title)| {
            let on = chosen.contains(&slug);
            (slug, title, on)
        })
        .collect();
    let html = RequestPage {
        layout: &layout,
        current: "/documents",
        query: "",
        csrf: &csrf,
        documents,
        all: chosen.is_empty() || get("all") == "on",
        name: get("name"),
        email: get("email"),
        company: get("company"),
        reason: get("reason"),
        errors,
    }
    .render()?;
    Ok((status, [(header::SET_COOKIE, set)], Html(html)).into_response())
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult<Response> {
    let chosen: Vec<String> = q
        .get("documents")
        .map(|d| d.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    render(
        &state,
        &headers,
        StatusCode::OK,
        &HashMap::new(),
        &chosen,
        FormErrors::none(),
    )
    .await
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let mut fields = HashMap::new();
    let mut chosen = vec![];
    for (k, v) in pairs {
        if k == "documents" {
            chosen.push(v);
        } else {
            fields.insert(k, v.trim().to_owned());
        }
    }
    check_form_csrf(&headers, &fields)?;
    let ip = peer.ip().to_string();
    let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or("");
    let email = get("email").to_lowercase();
    let all = get("all") == "on";
    let available = nda_documents(&state).await?;
    let mut errors = FormErrors::new(vec![], LABELS, "r-");
    // What a visitor types here goes into mail sent from our address and onto back-office pages:
    // the same character rule as every other text field.
    for (key, shape) in [
        ("name", Shape::Line),
        ("email", Shape::Line),
        ("company", Shape::Line),
        ("reason", Shape::MultiLine),
    ] {
        if let Err(e) = text::check(key, get(key), shape) {
            errors.push(key, format!("{}.", e.message));
        }
    }
    if get("name").is_empty() || get("name").chars().count() > 100 {
        errors.push("name", "enter your full name (up to 100 characters).");
    }
    if !valid_email(&email) {
        errors.push("email", "enter an address like you@company.com.");
    }
    if get("company").is_empty() || get("company").chars().count() > 150 {
        errors.push("company", "enter your company's name.");
    }
    if get("reason").chars().count() > 1000 {
        errors.push("reason", "keep it under 1000 characters.");
    }
    if !all && chosen.is_empty() {
        errors.push("documents", "choose at least one, or all NDA documents.");
    }
    if chosen.iter().any(|c| !available.iter().any(|(slug, _)| slug == c)) {
        errors.push("documents", "choose from the list.");
    }
    if !errors.is_empty() {
        return render(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            &fields,
            &chosen,
            errors,
        )
        .await;
    }
    // The mail budgets: generous per client address, small per email address. A refusal shows
    // the form again as it was typed, with the wait.
    if let Err(secs) = state.spend_mail_budgets(&ip, &email).await {
        errors.push("", too_quick(secs));
        let res = render(&state, &headers, StatusCode::OK, &fields, &chosen, errors).await?;
        return Ok(refused(res, secs));
    }
    let request = candor_store::NewRequest {
        name: get("name").to_owned(),
        email: email.clone(),
        company: get("company").to_owned(),
        reason: get("reason").to_owned(),
        documents: if all { vec![] } else { chosen },
        // The use case sets it from the rules.
        status: RequestStatus::Unverified,
        ip: ip.clone(),
        user_agent: crate::http::session::user_agent(&headers),
    };
    // What the page says depends only on the typed address's domain and the rules (see
    // `RequestNotice`): a refused domain is told so (no mail is coming), free mail that a person
    // must review is told so, and everyone else reads the same words, approved by a rule or not.
    let ctx = mail_context(&state).await;
    let done = state
        .app()
        .request_access(&candor_app::Actor::Anonymous { ip }, request, &ctx)
        .await?;
    state.apply(done.effects).await;
    let (_, notice) = done.value;
    let domain = candor_core::requests::email_domain(&email).unwrap_or_default();
    let org = org_name(&state).await;
    match notice {
        RequestNotice::Refused => {
            let why = format!("{org} does not accept requests for its documents from addresses at {domain}. No email was sent.");
            let next = format!(
                "If you have a work address at your company, ask again with that address, or write to {}.",
                ctx.security_email
            );
            message(
                &state,
                StatusCode::OK,
                "This request cannot be accepted",
                &[&why, &next],
            )
            .await
        }
        RequestNotice::FreeMailReview => {
            let why = format!("{domain} is a free email service, so your request cannot be approved automatically: after you confirm your address and sign our non-disclosure agreement, our team will review it and email you once it is decided.");
            message(
                &state,
                StatusCode::OK,
                "Check your email",
                &[
                    "If the address can receive mail, a link to confirm it is on its way. It works once, within 15 minutes.",
                    &why,
                    "A work address at your company may be approved sooner.",
                ],
            )
            .await
        }
        RequestNotice::Standard => {
            message(
                &state,
                StatusCode::OK,
                "Check your email",
                &[
                    "If the address can receive mail, a link to confirm it is on its way. It works once, within 15 minutes.",
                    "After confirming, you will read and sign our non-disclosure agreement, and we will email you once your request is decided.",
                ],
            )
            .await
        }
    }
}

/// Spends one request of the client address's budget and one of the email address's; `Err`
/// with the seconds to wait when either has none left (then nothing is spent, unless two
/// requests raced).
/// The emailed link, opened: what confirming does, and the button that does it. Opening it
/// changes nothing (mail scanners open links before people do).
pub async fn verify_page(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    let link = state.store().link_state(&token_digest(&token), "verify").await?;
    let LinkState::Usable((_, email)) = &link else {
        return unusable_page(&state, LinkKind::Verify, &link).await;
    };
    let org = org_name(&state).await;
    let paragraphs = [
        format!("You asked for access to {} security documents as {email}.", candor_core::grammar::possessive(&org)),
        "Press the button to confirm that this address is yours. Next, in this browser, you will read and sign our non-disclosure agreement.".to_owned(),
    ];
    let action = format!("/documents/verify/{token}");
    confirm_page(
        &state,
        "Confirm your email address",
        &paragraphs,
        &action,
        "Confirm my email address",
    )
    .await
}

/// The button on the link's page: proves the address, then on to the NDA (or straight past it
/// when a signature of the current NDA by this address is on file).
pub async fn verify(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    check_form_csrf(&headers, &form)?;
    let done = state.app().verify_email(&token, "").await?;
    state.apply(done.effects).await;
    let Some(verified) = done.value else {
        let link = state.store().link_state(&token_digest(&token), "verify").await?;
        return unusable_page(&state, LinkKind::Verify, &link).await;
    };
    let step = verified.step_token;
    let set = cookie(&state, STEP_COOKIE, step.expose(), "/documents", Some(STEP_SECS));
    Ok((
        AppendHeaders([(header::SET_COOKIE, set)]),
        Redirect::to("/documents/nda"),
    )
        .into_response())
}
