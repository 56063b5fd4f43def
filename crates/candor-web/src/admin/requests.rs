//! Access managers: the queue of document access requests (approve or deny, one by one or in
//! bulk, with an optional message), the grants (revoke), the rules and NDA text, and the access
//! report (per document or per company, as a page or CSV).

use super::{display_time, AdminLayout, NoticeQuery};
use crate::gated::{approve, current_nda, hex_sha256, rules};
use crate::http::error::{AppError, AppResult};
use crate::http::format::csv_field;
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
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

fn row(r: candor_store::AccessRequest) -> RequestRow {
    RequestRow {
        id: r.id,
        documents: if r.documents.is_empty() {
            "All NDA documents".into()
        } else {
            r.documents.join(", ")
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
    grant_days: i64,
}

pub async fn queue(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> AppResult<Response> {
    let waiting = state
        .store()
        .access_requests(state.org(), true)
        .await?
        .into_iter()
        .map(row)
        .collect();
    let recent = state
        .store()
        .access_requests(state.org(), false)
        .await?
        .into_iter()
        .filter(|r| !r.status.decidable())
        .take(50)
        .map(row)
        .collect();
    let html = QueuePage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        waiting,
        recent,
        grant_days: rules(&state).await?.grant_days,
    }
    .render()
    .map_err(anyhow::Error::from)?;
    Ok(Html(html).into_response())
}

/// Approves or denies one request; `false` if it was not waiting.
async fn decide_one(
    state: &AppState,
    admin: &Admin,
    id: i64,
    approve_it: bool,
    message: &str,
    days: i64,
) -> AppResult<bool> {
    let Some(req) = state.store().access_request(state.org(), id).await? else {
        return Err(AppError::NotFound);
    };
    let by = format!("user:{}", admin.actor());
    if approve_it {
        return approve(state, &req, &by, message, days).await;
    }
    let org = state.site().await.layout.org_name.clone();
    let note = if message.is_empty() {
        String::new()
    } else {
        format!("\n\nA note from {org}: {message}")
    };
    let text = format!(
        "Hello {},\n\nYour request for documents from {org} was not approved.{note}\n\nIf you think this is a mistake, reply to {}.",
        req.name,
        state.site().await.layout.security_email
    );
    let mail = crate::gated::mail(
        &req.email,
        format!("Your request for {org}'s documents"),
        &[crate::gated::Part::Text(text)],
        "access-denied",
    );
    let done = state
        .store()
        .decide_request(state.org(), id, &by, message, None, &mail)
        .await?;
    if done {
        state.wake_outbox();
        admin
            .audit(
                state,
                "access.deny",
                &format!("access-request/{id}"),
                serde_json::json!({"email": req.email, "message": message}),
            )
            .await;
    }
    Ok(done)
}

fn days_of(form: &HashMap<String, Vec<String>>, default: i64) -> AppResult<i64> {
    match form
        .get("days")
        .and_then(|v| v.first())
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        None => Ok(default),
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| AppError::BadRequest("Days of access: enter a whole number from 1 to 3650.".into())),
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
) -> AppResult<Response> {
    let form = multi(pairs);
    admin.check_csrf(&HashMap::from([("_csrf".to_owned(), first(&form, "_csrf").to_owned())]))?;
    let approve_it = match first(&form, "action") {
        "approve" => true,
        "deny" => false,
        _ => return Err(AppError::BadRequest("Choose approve or deny.".into())),
    };
    let days = days_of(&form, rules(&state).await?.grant_days)?;
    let message: String = first(&form, "message").chars().take(1000).collect();
    let ids: Vec<i64> = form
        .get("ids")
        .into_iter()
        .flatten()
        .filter_map(|i| i.parse().ok())
        .collect();
    if ids.is_empty() {
        return Err(AppError::BadRequest("Tick at least one request.".into()));
    }
    let mut decided = 0;
    for id in ids {
        if decide_one(&state, &admin, id, approve_it, &message, days).await? {
            decided += 1;
        }
    }
    let notice = if decided == 0 {
        "nothing-decided"
    } else if approve_it {
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

pub async fn grants(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> AppResult<Response> {
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
    .render()
    .map_err(anyhow::Error::from)?;
    Ok(Html(html).into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(public_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    if !state
        .store()
        .revoke_grant(state.org(), &public_id, admin.actor())
        .await?
    {
        return Err(AppError::NotFound);
    }
    admin
        .audit(
            &state,
            "access.revoke",
            &format!("grant/{public_id}"),
            serde_json::json!({}),
        )
        .await;
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
) -> AppResult<Response> {
    let r = rules(&state).await?;
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
    .render()
    .map_err(anyhow::Error::from)?;
    Ok(Html(html).into_response())
}

pub async fn save_settings(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    admin.check_csrf(&form)?;
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    let days = field("grant_days")
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=3650).contains(d))
        .ok_or_else(|| AppError::BadRequest("Days of access: enter a whole number from 1 to 3650.".into()))?;
    let approve_list = candor_core::requests::parse_domains(field("approve")).join("\n");
    let deny_list = candor_core::requests::parse_domains(field("deny")).join("\n");
    let org = state.org();
    let store = state.store();
    store.set_org_setting(org, "access.auto_approve", &approve_list).await?;
    store.set_org_setting(org, "access.deny", &deny_list).await?;
    store
        .set_org_setting(
            org,
            "access.deny_free_mail",
            if field("deny_free_mail") == "on" {
                "true"
            } else {
                "false"
            },
        )
        .await?;
    store
        .set_org_setting(org, "access.grant_days", &days.to_string())
        .await?;
    let details = serde_json::json!({"auto_approve": approve_list, "deny": deny_list, "deny_free_mail": field("deny_free_mail") == "on", "grant_days": days});
    admin
        .audit(&state, "settings.access_rules", "settings/access", details)
        .await;
    // A changed NDA text is a new version; signatures stay tied to the version they signed.
    let body = form.get("nda").map(|b| b.replace("\r\n", "\n")).unwrap_or_default();
    let body = body.trim();
    if body.len() < 20 || body.len() > 50_000 {
        return Err(AppError::BadRequest(
            "NDA text: write the agreement (20 to 50,000 characters).".into(),
        ));
    }
    if body != current_nda(&state).await?.body {
        let sha = hex_sha256(body);
        let number = store.publish_nda(org, body, &sha, admin.actor()).await?;
        admin
            .audit(
                &state,
                "settings.nda",
                &format!("nda/{number}"),
                serde_json::json!({"sha256": sha}),
            )
            .await;
    }
    Ok(Redirect::to("/admin/access-settings?notice=saved").into_response())
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
pub async fn access_log(State(state): State<AppState>, admin: Admin, Query(q): Query<LogQuery>) -> AppResult<Response> {
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
        admin.audit(&state, "access_log.export", "access-log", details).await;
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
    .render()
    .map_err(anyhow::Error::from)?;
    Ok(Html(html).into_response())
}
