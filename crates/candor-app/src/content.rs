//! Content: create, save, publish, unpublish, delete, reorder, restore, import.

use crate::{Action, Actor, App, Done, Result, SiteChange};
use candor_core::Kind;
use candor_store::Item;

impl App {
    /// Makes an item's draft public.
    pub async fn publish(&self, actor: &Actor, kind: Kind, slug: &str) -> Result<Done<Item>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let item = work.publish(org, kind, slug, &actor.author()).await?;
        work.site_changed(SiteChange::Item {
            kind,
            slug: slug.to_owned(),
        });
        work.audit(
            actor,
            Action::ContentPublish,
            format!("{kind}/{slug}"),
            serde_json::json!({}),
        )
        .await?;
        work.finish(item).await
    }

    /// Takes an item off the public site; its draft stays.
    pub async fn unpublish(&self, actor: &Actor, kind: Kind, slug: &str) -> Result<Done<Item>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let item = work.unpublish(org, kind, slug, &actor.author()).await?;
        work.site_changed(SiteChange::Item {
            kind,
            slug: slug.to_owned(),
        });
        work.audit(
            actor,
            Action::ContentUnpublish,
            format!("{kind}/{slug}"),
            serde_json::json!({}),
        )
        .await?;
        work.finish(item).await
    }
}
