//! Engagement: page views counted by the web layer and added here, and the report that joins
//! them with access requests and downloads.

use crate::{App, Result};
use candor_core::engagement::{report, Period, Report};
use chrono::NaiveDate;

impl App {
    /// Adds page views counted in memory to `day`'s counts. Not audited: counting readers is not
    /// an action of anyone's, and nothing in it names a person.
    pub async fn record_page_views(&self, day: NaiveDate, counts: &[(String, u64)]) -> Result<()> {
        Ok(self.store.add_page_views(self.org, day, counts).await?)
    }

    /// Page views, access requests and downloads in `period`, summed.
    pub async fn engagement_report(&self, period: Period) -> Result<Report> {
        let since = period.start_secs();
        let views = self.store.page_views_since(self.org, period.from).await?;
        let requests = self.store.access_requests_since(self.org, since).await?;
        let downloads = self.store.viewer_downloads_since(self.org, since).await?;
        Ok(report(period, &views, &requests, &downloads))
    }
}
