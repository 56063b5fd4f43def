//! Access managers: the queue of document access requests (approve or deny, one by one or in
//! bulk, with an optional message), the grants (revoke), the rules and NDA text, and the access
//! report (per document or per company, as a page or CSV).

use super::{current_nda, mail_context, org_name};
use crate::http::error::{WebError, WebResult};
use crate::http::form_errors::FormErrors;
use crate::http::format::{csv_field, display_time};
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use candor_app::access::{AccessSettings, Decision};
use candor_core::content::FieldError;
use candor_core::requests::{parse_domains, parse_grant_days, AccessRules, GRANT_DAYS_HELP};
use std::collections::HashMap;

struct RequestRow {
    id: i64,
    name: String,
    email: String,
    company: String,
    reason: String,
    documents: String,
    status: &'static str,
    signed: bool,
    created: String,
    decided_by: String,
}

/// A request as a row; `titles` names documents by their titles (`(slug, title)`), so people
/// read "SOC 2 Type II report", not its slug.
fn row(r: candor_store::AccessRequest, titles: &HashMap<String, String>) -> RequestRow {
    RequestRow {
        id: r.id,
        documents: if r.documents.is_empty() {
            "All NDA documents".into()
        } else {
            r.documents
                .iter()
                .map(|slug| titles.get(slug).map_or(slug.as_str(), String::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        },
        status: r.status.as_str(),
        signed: r.signed_at.is_some(),
        created: display_time(Some(r.created_at)),
        decided_by: r.decided_by.unwrap_or_default(),
        name: r.name,
        email: r.email,
        company: r.company,
        reason: r.reason,
    }
}

#[derive(Template)]
#[template(path = "admin/requests.html")]
struct QueuePage {
    layout: AdminLayout,
    waiting: Vec<RequestRow>,
    recent: Vec<RequestRow>,
    grant_days: String,
    /// What was typed before the form came back with an error.
    message: String,
    /// Why the decision form came back (nothing ticked, days out of range).
    errors: FormErrors,
}

/// The decision form as it was sent, to show it again with its error.
struct Typed<'a> {
    message: &'a str,
    days: &'a str,
    /// `(field, message)`.
    error: (&'static str, &'static str),
}

pub async fn queue(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    queue_page(&state, &admin, q.notice.as_deref(), None).await
}

async fn queue_page(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    typed: Option<Typed<'_>>,
) -> WebResult<Response> {
    let titles: HashMap<String, String> = state
        .store()
        .documents(state.org())
        .await?
        .into_iter()
        .map(|d| (d.slug, d.title))
        .collect();
    let waiting = state
        .store()
        .access_requests(state.org(), true)
        .await?
        .into_iter()
        .map(|r| row(r, &titles))
        .collect();
    let recent = state
        .store()
        .access_requests(state.org(), false)
        .await?
        .into_iter()
        .filter(|r| !r.status.decidable())
        .take(50)
        .map(|r| row(r, &titles))
        .collect();
    let grant_days = state.app().access_rules().await?.grant_days.to_string();
    let status = if typed.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let html = QueuePage {
        layout: AdminLayout::new(admin, notice),
        waiting,
        recent,
        grant_days: typed.as_ref().map_or(grant_days, |t| t.days.to_owned()),
        message: typed.as_ref().map(|t| t.message.to_owned()).unwrap_or_default(),
        errors: match typed {
            Some(Typed {
                error: (field, message),
                ..
            }) => FormErrors::new(
                vec![FieldError::new(field, message)],
                [("ids", "Requests"), ("days", "Days of access")],
                "d-",
            ),
            None => FormErrors::none(),
        },
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

fn days_of(form: &HashMap<String, Vec<String>>, default: i64) -> WebResult<i64> {
    match form
        .get("days")
        .and_then(|v| v.first())
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        None => Ok(default),
        Some(d) => parse_grant_days(d).ok_or_else(|| WebError::BadRequest(GRANT_DAYS_HELP.into())),
    }
}

fn multi(pairs: Vec<(String, String)>) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs {
        m.entry(k).or_default().push(v);
    }
    m
}

fn first<'a>(m: &'a HashMap<String, Vec<String>>, k: &str) -> &'a str {
    m.get(k).and_then(|v| v.first()).map(|s| s.trim()).unwrap_or("")
}

/// One request, or several (`ids`), approved or denied with one message.
pub async fn decide(
    State(state): State<AppState>,
    admin: Admin,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let form = multi(pairs);
    admin.check_csrf(&HashMap::from([("_csrf".to_owned(), first(&form, "_csrf").to_owned())]))?;
    let message: String = first(&form, "message").chars().take(1000).collect();
    // A mistake in the form shows it again, with what was typed and the error next to it.
    let again = |field: &'static str, error: &'static str| Typed {
        message: first(&form, "message"),
        days: first(&form, "days"),
        error: (field, error),
    };
    let decision = match first(&form, "action") {
        "approve" => match days_of(&form, state.app().access_rules().await?.grant_days) {
            Ok(days) => Decision::Approve { days },
            Err(_) => {
                return queue_page(
                    &state,
                    &admin,
                    None,
                    Some(again("days", "enter a whole number from 1 to 3650.")),
                )
                .await
            }
        },
        "deny" => Decision::Deny,
        _ => return Err(WebError::BadRequest("Choose approve or deny.".into())),
    };
    let ids: Vec<i64> = form
        .get("ids")
        .into_iter()
        .flatten()
        .filter_map(|i| i.parse().ok())
        .collect();
    if ids.is_empty() {
        let error = "tick at least one request in the Choose column, then approve or deny again.";
        return queue_page(&state, &admin, None, Some(again("ids", error))).await;
    }
    let (who, ctx) = (admin.who(), mail_context(&state).await);
    let mut decided = 0;
    // Each request is decided in its own transaction, with its mail and audit entry.
    for id in ids {
        let done = state.app().decide_request(&who, id, decision, &message, &ctx).await?;
        state.apply(done.effects).await;
        if done.value {
            decided += 1;
        }
    }
    let notice = if decided == 0 {
        "nothing-decided"
    } else if decision != Decision::Deny {
        "approved"
    } else {
        "denied"
    };
    Ok(Redirect::to(&format!("/admin/access-requests?notice={notice}")).into_response())
}

struct GrantRow {
    public_id: String,
    name: String,
    email: String,
    company: String,
    documents: String,
    created: String,
    expires: String,
    state: &'static str,
    live: bool,
}

#[derive(Template)]
#[template(path = "admin/grants.html")]
struct GrantsPage {
    layout: AdminLayout,
    grants: Vec<GrantRow>,
}

pub async fn grants(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    let now = candor_store::now();
    let grants = state
        .store()
        .grants(state.org())
        .await?
        .into_iter()
        .map(|g| {
            let live = candor_core::requests::grant_live(now, g.expires_at, g.revoked_at);
            GrantRow {
                state: if g.revoked_at.is_some() {
                    "revoked"
                } else if live {
                    "active"
                } else {
                    "expired"
                },
                live,
                documents: if g.documents.is_empty() {
                    "All NDA documents".into()
                } else {
                    g.documents.join(", ")
                },
                created: display_time(Some(g.created_at)),
                expires: display_time(Some(g.expires_at)),
                public_id: g.public_id,
                name: g.name,
                email: g.email,
                company: g.company,
            }
        })
        .collect();
    let html = GrantsPage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        grants,
    }
    .render()?;
    Ok(Html(html).into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(public_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state.app().revoke_grant(&admin.who(), &public_id).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/grants?notice=grant-revoked").into_response())
}

#[derive(Template)]
#[template(path = "admin/access_settings.html")]
struct SettingsPage {
    layout: AdminLayout,
    approve: String,
    deny: String,
    deny_free_mail: bool,
    grant_days: i64,
    nda: String,
    nda_number: i64,
    nda_sha256: String,
}

pub async fn settings(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let r = state.app().access_rules().await?;
    let nda = current_nda(&state).await?;
    let html = SettingsPage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        approve: r.approve.join("\n"),
        deny: r.deny.join("\n"),
        deny_free_mail: r.deny_free_mail,
        grant_days: r.grant_days,
        nda: nda.body,
        nda_number: nda.number,
        nda_sha256: nda.sha256,
    }
    .render()?;
    Ok(Html(html).into_response())
}

pub async fn save_settings(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    let grant_days =
        parse_grant_days(field("grant_days")).ok_or_else(|| WebError::BadRequest(GRANT_DAYS_HELP.into()))?;
    let settings = AccessSettings {
        rules: AccessRules {
            approve: parse_domains(field("approve")),
            deny: parse_domains(field("deny")),
            deny_free_mail: field("deny_free_mail") == "on",
            grant_days,
        },
        nda: form.get("nda").cloned().unwrap_or_default(),
    };
    let done = state
        .app()
        .save_access_settings(&admin.who(), settings, &org_name(&state).await)
        .await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/access-settings?notice=access-settings-saved").into_response())
}

#[derive(Template)]
#[template(path = "admin/access_log.html")]
struct LogPage {
    layout: AdminLayout,
    rows: Vec<candor_store::AccessLogEntry>,
    document: String,
    company: String,
}

impl LogPage {
    fn when(&self, at: &i64) -> String {
        display_time(Some(*at))
    }
}

#[derive(serde::Deserialize, Default)]
pub struct LogQuery {
    #[serde(default)]
    document: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    format: String,
}

/// Who downloaded what: per document (`?document=`) or per company (`?company=`), as a page or
/// as CSV (`?format=csv`, audited as an export).
pub async fn access_log(State(state): State<AppState>, admin: Admin, Query(q): Query<LogQuery>) -> WebResult<Response> {
    let some = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let (document, company) = (some(&q.document), some(&q.company));
    let rows = state
        .store()
        .document_access_log(state.org(), document.as_deref(), company.as_deref())
        .await?;
    if q.format == "csv" {
        let mut out = String::from("at,document,version,action,email,company,grant,ip\n");
        for r in &rows {
            let at = display_time(Some(r.at));
            let fields = [
                at.as_str(),
                &r.document,
                &r.version.to_string(),
                &r.action,
                &r.email,
                &r.company,
                &r.grant_id,
                &r.ip,
            ];
            out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        let details =
            serde_json::json!({"format": "csv", "rows": rows.len(), "document": document, "company": company});
        let done = state
            .app()
            .record(&admin.who(), candor_app::Action::AccessLogExport, "access-log", details)
            .await?;
        state.apply(done.effects).await;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"document-access.csv\"",
                ),
            ],
            out,
        )
            .into_response());
    }
    let html = LogPage {
        layout: AdminLayout::new(&admin, None),
        rows,
        document: document.unwrap_or_default(),
        company: company.unwrap_or_default(),
    }
    .render()?;
    Ok(Html(html).into_response())
}
