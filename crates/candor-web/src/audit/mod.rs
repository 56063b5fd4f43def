//! The audit log in the back office: filter, read, verify, export as JSON Lines or CSV. Reading
//! changes nothing; an export is recorded by its use case (`audit.export`).

use crate::http::error::WebResult;
use crate::http::format::csv_field;
use crate::http::layout::AdminLayout;
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use candor_app::audit_log::ExportFormat;
use candor_core::audit::{verify, AuditEntry};
use candor_store::AuditFilter;
use chrono::NaiveDate;

#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    /// YYYY-MM-DD, inclusive.
    #[serde(default)]
    from: String,
    /// YYYY-MM-DD, inclusive.
    #[serde(default)]
    until: String,
    #[serde(default)]
    format: String,
}

impl AuditQuery {
    /// The store filter; a date that does not parse is reported back rather than ignored.
    fn filter(&self, limit: Option<i64>) -> Result<AuditFilter, String> {
        let day = |s: &str, end: bool| -> Result<Option<i64>, String> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| format!("{s:?} is not a date; use YYYY-MM-DD"))?;
            let t = if end {
                d.and_hms_opt(23, 59, 59)
            } else {
                d.and_hms_opt(0, 0, 0)
            };
            Ok(t.map(|t| t.and_utc().timestamp()))
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(AuditFilter {
            actor: text(&self.actor),
            action: text(&self.action),
            from: day(&self.from, false)?,
            until: day(&self.until, true)?,
            limit,
        })
    }
}

struct Row {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    ip: String,
    details: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: AdminLayout,
    actor: String,
    action: String,
    from: String,
    until: String,
    error: Option<String>,
    chain: String,
    chain_ok: bool,
    rows: Vec<Row>,
    export_query: String,
}

/// Audit entries keep seconds: several can happen in the same minute.
fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

pub async fn list(State(state): State<AppState>, admin: Admin, Query(q): Query<AuditQuery>) -> WebResult<Response> {
    let (rows, error) = match q.filter(Some(500)) {
        Ok(f) => (state.store().audit_entries(state.org(), &f).await?, None),
        Err(e) => (vec![], Some(e)),
    };
    let chain = state.store().audit_chain(state.org()).await?;
    let (chain, chain_ok) = match verify(&chain) {
        Ok(n) => (
            format!(
                "Hash chain verified: {} intact.",
                candor_core::grammar::plural(n as u64, "entry", "entries")
            ),
            true,
        ),
        Err(e) => (format!("Hash chain BROKEN: {e}."), false),
    };
    let export_query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("actor", &q.actor)
        .append_pair("action", &q.action)
        .append_pair("from", &q.from)
        .append_pair("until", &q.until)
        .finish();
    let rows = rows
        .into_iter()
        .map(|e| Row {
            seq: e.record.seq,
            at: when(e.record.at),
            actor: e.record.actor,
            action: e.record.action,
            target: e.record.target,
            ip: e.record.ip,
            details: if e.record.details.as_object().is_some_and(|m| m.is_empty()) {
                String::new()
            } else {
                e.record.details.to_string()
            },
        })
        .collect();
    let page = AuditPage {
        layout: AdminLayout::new(&admin, None),
        actor: q.actor,
        action: q.action,
        from: q.from,
        until: q.until,
        error,
        chain,
        chain_ok,
        rows,
        export_query,
    };
    Ok(Html(page.render()?).into_response())
}

fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out = String::from("seq,at,actor,action,target,ip,details,prev_hash,hash\n");
    for e in entries {
        let r = &e.record;
        let fields = [
            r.seq.to_string(),
            when(r.at),
            r.actor.clone(),
            r.action.clone(),
            r.target.clone(),
            r.ip.clone(),
            r.details.to_string(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

pub async fn export(State(state): State<AppState>, admin: Admin, Query(q): Query<AuditQuery>) -> WebResult<Response> {
    let filter = q.filter(None).map_err(crate::http::error::WebError::BadRequest)?;
    let format = if q.format == "csv" {
        ExportFormat::Csv
    } else {
        ExportFormat::JsonLines
    };
    let done = state.app().export_audit_log(&admin.who(), &filter, format).await?;
    state.apply(done.effects).await;
    let entries = done.value;
    let (body, content_type, name) = match format {
        ExportFormat::Csv => (to_csv(&entries), "text/csv; charset=utf-8", "candor-audit.csv"),
        ExportFormat::JsonLines => {
            let mut out = String::new();
            for e in &entries {
                out.push_str(&serde_json::to_string(e).map_err(anyhow::Error::from)?);
                out.push('\n');
            }
            (out, "application/x-ndjson", "candor-audit.jsonl")
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response())
}
