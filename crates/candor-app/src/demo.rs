//! Removing the demo trust center in one step: at first start ("start blank") or later from the
//! back office. Every demo item (the profile among them), every demo document and the demo's
//! status page (groups, components with their history, incidents, notices, maintenance) go in
//! one transaction with one audit entry, so the trust center is never half demo, half not.
//!
//! One entry rather than one per item: the owner made one decision, and one entry that names
//! the counts per kind and the documents says what it removed without burying the log under a
//! hundred lines nobody chose one by one.

use crate::{Action, Actor, App, Done, Result, SiteChange};
use candor_store::DemoContent;
use serde_json::json;
use std::collections::BTreeMap;

impl App {
    /// The demo items, documents and status page parts still present (nothing when the demo
    /// was never loaded or is gone already).
    pub async fn demo_content(&self) -> Result<DemoContent> {
        Ok(self.store.demo_content(self.org).await?)
    }

    /// Removes every demo item, demo document and demo status page part. Subscribers are not
    /// told: the demo was never the organization's own content. Nothing left is not an error
    /// (removing twice is harmless) and writes no entry. The encrypted files are removed once
    /// the rows are gone.
    pub async fn remove_demo(&self, actor: &Actor) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let demo = work.demo_content(org).await?;
        if demo.is_empty() {
            return work.finish(()).await;
        }
        let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for (kind, slug) in &demo.items {
            work.delete_item(org, *kind, slug).await?;
            *per_kind.entry(kind.as_str()).or_default() += 1;
        }
        let mut blobs = vec![];
        for slug in &demo.documents {
            blobs.extend(work.delete_document(org, slug).await?);
        }
        // Incidents and maintenance first: their updates and component links go with them, and
        // a component's uptime history goes with the component.
        let status = &demo.status;
        for &id in &status.incidents {
            work.delete_incident(org, id).await?;
        }
        for &id in &status.maintenances {
            work.delete_maintenance(org, id).await?;
        }
        for &id in &status.components {
            work.delete_status_component(org, id).await?;
        }
        for &id in &status.groups {
            work.delete_status_group(org, id).await?;
        }
        work.site_changed(SiteChange::Everything);
        let details = json!({
            "items": demo.items.len(),
            "documents": demo.documents.len(),
            "kinds": per_kind,
            "document_slugs": demo.documents,
            "status": {
                "groups": status.groups.len(),
                "components": status.components.len(),
                "incidents": status.incidents.len(),
                "maintenance": status.maintenances.len(),
            },
        });
        work.audit(actor, Action::ContentDemoRemove, "demo", details).await?;
        let done = work.finish(()).await?;
        for id in &blobs {
            self.remove_blob(id).await;
        }
        Ok(done)
    }
}
