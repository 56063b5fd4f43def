//! Counting views of the public site's pages on the hot path, and adding the counts to the
//! database now and then.
//!
//! No cookie is set, no third party is involved, and no IP address or user agent is kept: a view
//! is one increment of an in-memory counter for a page path the site serves (a crawler of random
//! URLs gets the 404 page, which is not counted, so it cannot grow the table). Each instance adds
//! its counts to the database every [`FLUSH_EVERY`], just before midnight (UTC) so that a day's
//! views stay on that day, and when it stops ([`flush`]). The addition is an upsert per (org,
//! day, page), so instances sharing one PostgreSQL add up, and each count is taken out of memory
//! as it is written, so none is written twice.
//!
//! What counts: a `GET` of an HTML page answered `200`, or `304 Not Modified` (a returning
//! reader's browser showing its cached copy is still a person reading the page: pages may be
//! cached for a minute, so leaving out 304s would make counts depend on how caches behave).
//! `HEAD` does not count (link checkers and monitors use it; nobody reads a HEAD). Robots are left
//! out by user agent ([`candor_core::engagement::is_bot`]), headless browsers included.

use crate::AppState;
use axum::http::{header, HeaderMap, Method, StatusCode};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

/// How often an instance adds its counts to the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(60);

const HTML: &str = "text/html; charset=utf-8";

/// Views per page path since the last flush.
#[derive(Default)]
pub struct PageViews {
    counts: RwLock<HashMap<Box<str>, AtomicU64>>,
}

impl PageViews {
    /// Counts the answer to one request for the site's page at `path`, if it is a person's view
    /// of an HTML page (see the module's description).
    pub fn note(&self, method: &Method, path: &str, content_type: &str, status: StatusCode, req: &HeaderMap) {
        if method == Method::GET
            && (status == StatusCode::OK || status == StatusCode::NOT_MODIFIED)
            && content_type == HTML
            && !is_bot(req)
        {
            self.add(path, 1);
        }
    }

    /// Counts a person's download of a public document (`slug` names a public document).
    pub fn note_download(&self, method: &Method, slug: &str, req: &HeaderMap) {
        if method == Method::GET && !is_bot(req) {
            self.add(&format!("/documents/{slug}/download"), 1);
        }
    }

    fn add(&self, path: &str, n: u64) {
        // A poisoned lock still holds good counters: a panic elsewhere must not stop counting.
        if let Some(c) = self.counts.read().unwrap_or_else(|e| e.into_inner()).get(path) {
            c.fetch_add(n, Ordering::Relaxed);
            return;
        }
        // The first view of a page since the last flush.
        let mut counts = self.counts.write().unwrap_or_else(|e| e.into_inner());
        counts.entry(path.into()).or_default().fetch_add(n, Ordering::Relaxed);
    }

    /// Takes every count out, leaving none behind.
    pub fn take(&self) -> Vec<(String, u64)> {
        let taken = std::mem::take(&mut *self.counts.write().unwrap_or_else(|e| e.into_inner()));
        let mut out: Vec<(String, u64)> = taken
            .into_iter()
            .map(|(path, n)| (path.into_string(), n.into_inner()))
            .filter(|(_, n)| *n > 0)
            .collect();
        out.sort();
        out
    }

    /// Puts counts back after a flush that failed, to be written with the next one.
    fn put_back(&self, counts: &[(String, u64)]) {
        for (path, n) in counts {
            self.add(path, *n);
        }
    }
}

fn is_bot(req: &HeaderMap) -> bool {
    candor_core::engagement::is_bot(req.get(header::USER_AGENT).map(|v| v.as_bytes()))
}

/// Adds this instance's counts to today's (UTC) in the database. If the database cannot take
/// them they are kept in memory for the next flush; `false` then.
pub async fn flush(state: &AppState) -> bool {
    let counts = state.page_views().take();
    if counts.is_empty() {
        return true;
    }
    let day = chrono::Utc::now().date_naive();
    match state.app().record_page_views(day, &counts).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, pages = counts.len(), "could not add page views to the database; keeping them for the next try");
            state.page_views().put_back(&counts);
            false
        }
    }
}

/// Flushes every [`FLUSH_EVERY`], and a second before midnight (UTC), until the task is stopped.
/// Runs on every instance: each holds its own counts.
pub async fn flush_regularly(state: AppState) {
    loop {
        tokio::time::sleep(until_next_flush(chrono::Utc::now())).await;
        flush(&state).await;
    }
}

/// The wait before the next flush at `now`: [`FLUSH_EVERY`], or less to flush a second before
/// the day ends.
fn until_next_flush(now: chrono::DateTime<chrono::Utc>) -> Duration {
    let midnight = now
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let before_midnight = midnight
        .map(|m| m - chrono::Duration::seconds(1) - now)
        .and_then(|d| d.to_std().ok())
        .filter(|d| !d.is_zero());
    match before_midnight {
        Some(d) if d < FLUSH_EVERY => d,
        _ => FLUSH_EVERY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::USER_AGENT,
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
                .parse()
                .unwrap(),
        );
        h
    }

    #[test]
    fn counts_views_of_html_pages_by_people() {
        let v = PageViews::default();
        let ok = StatusCode::OK;
        v.note(&Method::GET, "/", HTML, ok, &browser());
        v.note(&Method::GET, "/", HTML, StatusCode::NOT_MODIFIED, &browser());
        v.note(&Method::GET, "/faq", HTML, ok, &browser());
        v.note(&Method::HEAD, "/", HTML, ok, &browser());
        v.note(&Method::GET, "/trust.json", "application/json", ok, &browser());
        v.note(&Method::GET, "/", HTML, ok, &HeaderMap::new());
        v.note_download(&Method::GET, "soc2", &browser());
        assert_eq!(
            v.take(),
            vec![
                ("/".into(), 2),
                ("/documents/soc2/download".into(), 1),
                ("/faq".into(), 1)
            ]
        );
        assert!(v.take().is_empty());
        v.put_back(&[("/".into(), 3)]);
        v.note(&Method::GET, "/", HTML, ok, &browser());
        assert_eq!(v.take(), vec![("/".into(), 4)]);
    }

    #[test]
    fn the_last_flush_of_a_day_comes_a_second_before_midnight() {
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        assert_eq!(until_next_flush(at("2026-03-01T12:00:00Z")), FLUSH_EVERY);
        assert_eq!(until_next_flush(at("2026-03-01T23:59:30Z")), Duration::from_secs(29));
        assert_eq!(until_next_flush(at("2026-03-01T23:59:59Z")), FLUSH_EVERY);
    }
}
