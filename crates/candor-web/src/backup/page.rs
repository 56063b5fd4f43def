//! `/admin/operations`: the recorded backup runs and disaster-recovery drills, the evidence an
//! auditor asks for ("when was the last backup, when was restoring last tested, how long did it
//! take").

use crate::http::error::WebResult;
use crate::http::format::display_time;
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use candor_store::{BackupRun, DrDrill};

/// Runs and drills listed.
const SHOWN: i64 = 30;

struct Run {
    ok: bool,
    started: String,
    started_by: String,
    archive: String,
    destination: String,
    size: String,
    rows: i64,
    files: i64,
    error: String,
}

struct Drill {
    ok: bool,
    ran: String,
    archive: String,
    rto: String,
    rpo: String,
    error: String,
}

#[derive(Template)]
#[template(path = "admin/operations.html")]
struct OperationsPage {
    layout: AdminLayout,
    schedule: String,
    last_good: String,
    runs: Vec<Run>,
    drills: Vec<Drill>,
}

fn run(r: BackupRun) -> Run {
    Run {
        ok: r.ok,
        started: display_time(Some(r.started_at)),
        started_by: r.started_by,
        archive: r.archive,
        destination: r.destination,
        size: format!("{:.1} MB", r.bytes as f64 / 1_000_000.0),
        rows: r.row_count,
        files: r.blob_count,
        error: r.error,
    }
}

fn drill(d: DrDrill) -> Drill {
    Drill {
        ok: d.ok,
        ran: display_time(Some(d.ran_at)),
        archive: d.archive,
        rto: format!("{:.1} s", d.rto_ms as f64 / 1000.0),
        rpo: human_age(d.rpo_secs),
        error: d.error,
    }
}

/// An age in the largest unit that keeps it readable.
pub fn human_age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

pub async fn show(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    let org = state.org();
    let runs = state.store().backup_runs(org, SHOWN).await?;
    let drills = state.store().dr_drills(org, SHOWN).await?;
    let last_good = state.store().last_good_backup(org).await?;
    let settings = &state.config().backup;
    let page = OperationsPage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        schedule: match settings.interval {
            Some(every) => format!(
                "every {} to {}, keeping the newest {}",
                human_age(every.as_secs() as i64),
                settings.destination,
                settings.keep
            ),
            None => "off (backup_interval_minutes = 0): take backups with `candor backup` from cron or a timer".into(),
        },
        last_good: match last_good {
            Some(r) => format!(
                "{} ({} ago)",
                display_time(Some(r.started_at)),
                human_age(candor_store::now() - r.started_at)
            ),
            None => "none recorded".into(),
        },
        runs: runs.into_iter().map(run).collect(),
        drills: drills.into_iter().map(drill).collect(),
    };
    Ok(Html(page.render()?).into_response())
}
