//! Page views per day and page, and the rows the engagement report reads from access requests
//! and the access log.

use crate::{get, OrgId, Store, StoreError, StoreResult};
use candor_core::engagement::{DownloadRow, RequestRow, ViewRow};
use chrono::NaiveDate;

impl Store {
    /// Adds `counts` (page path, views) to `day`'s counts, in one transaction: each row is an
    /// additive upsert, so instances flushing their own counts into one database add up, and a
    /// failed flush adds nothing.
    pub async fn add_page_views(&self, org: OrgId, day: NaiveDate, counts: &[(String, u64)]) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let day = day.format("%Y-%m-%d").to_string();
        let mut tx = self.begin().await?;
        for (page, views) in counts {
            sqlx::query(
                "INSERT INTO page_views (org_id, day, page, views) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, day, page) DO UPDATE SET views = page_views.views + excluded.views",
            )
            .bind(org)
            .bind(&day)
            .bind(page)
            .bind(i64::try_from(*views).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Page views from `from` on.
    pub async fn page_views_since(&self, org: OrgId, from: NaiveDate) -> StoreResult<Vec<ViewRow>> {
        let rows = sqlx::query("SELECT day, page, views FROM page_views WHERE org_id = $1 AND day >= $2")
            .bind(org)
            .bind(from.format("%Y-%m-%d").to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let day: String = get(r, "day")?;
                let views: i64 = get(r, "views")?;
                Ok(ViewRow {
                    day: NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                        .map_err(|e| StoreError::Corrupt(format!("page view day {day:?}: {e}")))?,
                    page: get(r, "page")?,
                    views: u64::try_from(views).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Access requests made from `since` (Unix seconds) on.
    pub async fn access_requests_since(&self, org: OrgId, since: i64) -> StoreResult<Vec<RequestRow>> {
        let rows = sqlx::query(
            "SELECT created_at, email, company, documents FROM access_requests WHERE org_id = $1 AND created_at >= $2",
        )
        .bind(org)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let documents: String = get(r, "documents")?;
                Ok(RequestRow {
                    at: get(r, "created_at")?,
                    email: get(r, "email")?,
                    company: get(r, "company")?,
                    documents: serde_json::from_str(&documents)
                        .map_err(|e| StoreError::Corrupt(format!("documents list: {e}")))?,
                })
            })
            .collect()
    }

    /// Viewers' downloads of NDA documents from `since` (Unix seconds) on.
    pub async fn viewer_downloads_since(&self, org: OrgId, since: i64) -> StoreResult<Vec<DownloadRow>> {
        let rows = sqlx::query(
            "SELECT at, email, company, document FROM document_access_log \
             WHERE org_id = $1 AND action = 'download' AND at >= $2",
        )
        .bind(org)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DownloadRow {
                    at: get(r, "at")?,
                    email: get(r, "email")?,
                    company: get(r, "company")?,
                    document: get(r, "document")?,
                })
            })
            .collect()
    }
}
