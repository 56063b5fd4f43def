//! The engagement page of the back office: page views, access requests and downloads over a
//! period, per page, per company and per document, with charts drawn on the server (no script)
//! and a CSV export (audited, as every export of who asked for what).

use crate::http::error::WebResult;
use crate::http::format::csv_field;
use crate::http::layout::{html, AdminLayout};
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use candor_core::engagement::{daily_bars_svg, CompanyRow, DocumentRow, Period, Report};

/// The periods offered, in days; anything else asked for is the first.
const PERIODS: [u32; 3] = [30, 90, 365];

/// Rows shown in the top-pages and top-companies tables (the CSV has them all).
const TOP: usize = 20;

#[derive(serde::Deserialize, Default)]
pub struct EngagementQuery {
    #[serde(default)]
    days: String,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "admin/engagement.html")]
struct EngagementPage {
    layout: AdminLayout,
    days: u32,
    periods: [u32; 3],
    report: Report,
    pages: Vec<(String, u64)>,
    companies: Vec<CompanyRow>,
    views_chart: String,
    downloads_chart: String,
}

impl EngagementPage {
    fn document_downloads(&self, d: &DocumentRow) -> u64 {
        d.viewer_downloads + d.public_downloads
    }
}

/// `GET /admin/engagement?days=30|90|365[&format=csv]`.
pub async fn page(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<EngagementQuery>,
) -> WebResult<Response> {
    let days = q
        .days
        .parse()
        .ok()
        .filter(|d| PERIODS.contains(d))
        .unwrap_or(PERIODS[0]);
    let period = Period::last(days, crate::state::today());
    let report = state.app().engagement_report(period).await?;
    if q.format == "csv" {
        let details = serde_json::json!({"format": "csv", "days": days});
        let done = state
            .app()
            .record(
                &admin.who(),
                candor_app::Action::EngagementExport,
                "engagement",
                details,
            )
            .await?;
        state.apply(done.effects).await;
        let name = format!(
            "attachment; filename=\"engagement-{}-{}.csv\"",
            period.from, period.until
        );
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, name),
            ],
            to_csv(&report),
        )
            .into_response());
    }
    let series = |f: fn(&candor_core::engagement::DayCount) -> u64| -> Vec<_> {
        report.days.iter().filter_map(|d| Some((d.day?, f(d)))).collect()
    };
    let views_chart = daily_bars_svg("views-chart", "Page views per day", &series(|d| d.views));
    let downloads_chart = daily_bars_svg("downloads-chart", "Downloads per day", &series(|d| d.downloads));
    html(EngagementPage {
        layout: AdminLayout::new(&admin, None),
        days,
        periods: PERIODS,
        pages: report.pages.iter().take(TOP).cloned().collect(),
        companies: report.companies.iter().take(TOP).cloned().collect(),
        report,
        views_chart,
        downloads_chart,
    })
}

/// One table for spreadsheets: a row per day, page, company and document, told apart by the
/// first column. Every cell is quoted and formula-neutralised ([`csv_field`]): page paths are
/// ours, but company names are typed by visitors.
fn to_csv(r: &Report) -> String {
    let mut out = String::from("section,name,views,requests,downloads,public_downloads\n");
    let mut row = |cells: [&str; 6]| {
        out.push_str(&cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    };
    let n = |v: u64| v.to_string();
    for d in &r.days {
        let day = d.day.map(|d| d.to_string()).unwrap_or_default();
        row(["day", &day, &n(d.views), &n(d.requests), &n(d.downloads), ""]);
    }
    for (page, views) in &r.pages {
        row(["page", page, &n(*views), "", "", ""]);
    }
    for c in &r.companies {
        row(["company", &c.company, "", &n(c.requests), &n(c.downloads), ""]);
    }
    for d in &r.documents {
        row([
            "document",
            &d.document,
            "",
            &n(d.requests),
            &n(d.viewer_downloads),
            &n(d.public_downloads),
        ]);
    }
    out
}
