//! Content: create, save, publish, unpublish, delete, reorder, restore, import and export.
//!
//! Every change names the item in its effects ([`SiteChange::Item`]), so the public pages that
//! show it are rendered again: a draft's revision also moves the content fingerprint that servers
//! watch, so rendering at once keeps this server in step without a second pass.
//!
//! Subprocessors, policies and certifications that become public, change while public or stop
//! being public are told to their subscribers in the change's transaction (`subscriptions`).

use crate::{subscriptions, Action, Actor, App, Done, Error, Result, SiteChange, Work};
use candor_core::content::FieldError;
use candor_core::contentdir::{Bundle, BundleItem};
use candor_core::items::{deletion_refused, reference, slug_error};
use candor_core::{Kind, Slug};
use candor_store::{ImportSummary, Item, Move};
use serde_json::{json, Value};

/// A body as a person or a client sent it, checked against its kind's rules: the normalized body,
/// or every field error at once. References to other items are checked by [`App::check_body`].
pub fn validate_fields(kind: Kind, raw: &Value) -> Result<Value, Vec<FieldError>> {
    let mut body = kind.validate(raw)?;
    if let Value::Object(m) = &mut body {
        m.retain(|_, v| !v.is_null());
    }
    Ok(body)
}

fn target(kind: Kind, slug: &str) -> String {
    format!("{kind}/{slug}")
}

impl App {
    /// Checks a body as every front end must before saving it (the use cases check again): its
    /// kind's rules, then the items it names (a control's section must exist).
    pub async fn check_body(&self, kind: Kind, raw: &Value) -> Result<Value> {
        let body = validate_fields(kind, raw).map_err(Error::Invalid)?;
        if let Some(r) = reference(kind, &body) {
            if self.store().item(self.org(), r.kind, r.slug).await?.is_none() {
                return Err(Error::Invalid(vec![r.missing()]));
            }
        }
        Ok(body)
    }

    /// Creates an item as a draft and, when `publish` is set, publishes it in the same
    /// transaction: both happen or neither does.
    pub async fn create(
        &self,
        actor: &Actor,
        kind: Kind,
        slug: &Slug,
        raw: &Value,
        publish: bool,
    ) -> Result<Done<Item>> {
        if let Some(e) = slug_error(kind, slug.as_str()) {
            return Err(Error::Invalid(vec![e]));
        }
        let slug = slug.as_str();
        let mut work = self.begin().await?;
        let org = work.org();
        let body = checked_in(&mut work, kind, raw).await?;
        let mut item = work.create_item(org, kind, slug, &body, &actor.author()).await?;
        if publish {
            item = work.publish(org, kind, slug, &actor.author()).await?;
        }
        subscriptions::content_changed(&mut work, kind, slug, None, item.published.as_ref()).await?;
        work.site_changed(SiteChange::Item {
            kind,
            slug: slug.to_owned(),
        });
        work.audit(actor, Action::ContentCreate, target(kind, slug), json!({}))
            .await?;
        if publish {
            work.audit(actor, Action::ContentPublish, target(kind, slug), json!({}))
                .await?;
        }
        work.finish(item).await
    }

    /// Replaces an item's draft and, when `publish` is set, publishes it in the same transaction
    /// ("save and publish" is all or nothing).
    pub async fn save(&self, actor: &Actor, kind: Kind, slug: &str, raw: &Value, publish: bool) -> Result<Done<Item>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let body = checked_in(&mut work, kind, raw).await?;
        let before = public_body(&mut work, kind, slug).await?;
        let mut item = work.save_draft(org, kind, slug, &body, &actor.author()).await?;
        if publish {
            item = work.publish(org, kind, slug, &actor.author()).await?;
        }
        subscriptions::content_changed(&mut work, kind, slug, before.as_ref(), item.published.as_ref()).await?;
        work.site_changed(SiteChange::Item {
            kind,
            slug: slug.to_owned(),
        });
        work.audit(actor, Action::ContentEdit, target(kind, slug), json!({}))
            .await?;
        if publish {
            work.audit(actor, Action::ContentPublish, target(kind, slug), json!({}))
                .await?;
        }
        work.finish(item).await
    }

    /// Makes an item's draft public.
    pub async fn publish(&self, actor: &Actor, kind: Kind, slug: &str) -> Result<Done<Item>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let before = public_body(&mut work, kind, slug).await?;
        let item = work.publish(org, kind, slug, &actor.author()).await?;
        subscriptions::content_changed(&mut work, kind, slug, before.as_ref(), item.published.as_ref()).await?;
        work.site_changed(SiteChange::Item {
            kind,
            slug: slug.to_owned(),
        });
        work.audit(actor, Action::ContentPublish, target(kind, slug), json!({}))
            .await?;
        work.finish(item).await
    }

    /// Takes an item off the public site; its draft stays.
    pub async fn unpublish(&self, actor: &Actor, kind: Kind, slug: &str) -> Result<Done<Item>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let before = public_body(&mut work, kind, slug).await?;
        let item = work.unpublish(org, kind, slug, &actor.author()).await?;
        subscriptions::content_changed(&mut work, kind, slug, before.as_ref(), None).await?;
        work.site_changed(SiteChange::Item {
            kind,
            slug: slug.to_owned(),
        });
        work.audit(actor, Action::ContentUnpublish, target(kind, slug), json!({}))
            .await?;
        work.finish(item).await
    }

    /// Deletes an item with its history. The organization profile is never deleted
    /// ([`Error::Conflict`]).
    pub async fn delete(&self, actor: &Actor, kind: Kind, slug: &str) -> Result<Done<()>> {
        if let Some(why) = deletion_refused(kind) {
            return Err(Error::Conflict(why.to_owned()));
        }
        let mut work = self.begin().await?;
        let org = work.org();
        let before = public_body(&mut work, kind, slug).await?;
        work.delete_item(org, kind, slug).await?;
        subscriptions::content_changed(&mut work, kind, slug, before.as_ref(), None).await?;
        work.site_changed(SiteChange::Item {
            kind,
            slug: slug.to_owned(),
        });
        work.audit(actor, Action::ContentDelete, target(kind, slug), json!({}))
            .await?;
        work.finish(()).await
    }

    /// Moves an item one place up or down among its kind (a control among its section's). The
    /// order is public at once for published items: positions have no draft.
    pub async fn move_item(&self, actor: &Actor, kind: Kind, slug: &str, dir: Move) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        work.move_item(org, kind, slug, dir).await?;
        // A move can renumber the whole group: the kind's order changed, not one item.
        work.site_changed(SiteChange::Order { kind });
        let direction = match dir {
            Move::Up => "up",
            Move::Down => "down",
        };
        work.audit(
            actor,
            Action::ContentMove,
            target(kind, slug),
            json!({"direction": direction}),
        )
        .await?;
        work.finish(()).await
    }

    /// Puts an old revision back as the draft (recorded as a new revision); publishing it is a
    /// separate step.
    pub async fn restore(&self, actor: &Actor, kind: Kind, slug: &str, number: i64) -> Result<Done<Item>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let item = work.restore_revision(org, kind, slug, number, &actor.author()).await?;
        work.site_changed(SiteChange::Item {
            kind,
            slug: slug.to_owned(),
        });
        work.audit(
            actor,
            Action::ContentRestore,
            target(kind, slug),
            json!({"revision": number}),
        )
        .await?;
        work.finish(item).await
    }

    /// Applies a whole content directory (already parsed and validated) in one transaction, with
    /// its audit entry. `dir` says where it came from, for the log.
    pub async fn import(&self, actor: &Actor, items: &[BundleItem], dir: &str) -> Result<Done<ImportSummary>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let summary = work.import(org, items, &actor.author()).await?;
        // An import may add, change, reorder and unpublish anything: render everything.
        if !summary.touched.is_empty() {
            work.site_changed(SiteChange::Everything);
        }
        work.audit(
            actor,
            Action::ContentImport,
            format!("directory/{dir}"),
            json!({"dir": dir, "created": summary.created, "changed": summary.changed, "unpublished": summary.unpublished}),
        )
        .await?;
        work.finish(summary).await
    }

    /// Hands the published content to `write` (which puts it on disk and says how many files it
    /// wrote) and records the export once that succeeded. `dir` says where it went, for the log.
    pub async fn export(
        &self,
        actor: &Actor,
        dir: &str,
        write: impl FnOnce(&Bundle) -> anyhow::Result<usize>,
    ) -> Result<Done<usize>> {
        let bundle = published_bundle(self.store().all_items(self.org()).await?);
        let files = write(&bundle)?;
        let mut work = self.begin().await?;
        work.audit(
            actor,
            Action::ContentExport,
            format!("directory/{dir}"),
            json!({"dir": dir, "files": files}),
        )
        .await?;
        work.finish(files).await
    }
}

/// What visitors see of an item now: the body a change's subscription notice compares with.
async fn public_body(work: &mut Work, kind: Kind, slug: &str) -> Result<Option<Value>> {
    let org = work.org();
    Ok(work.item(org, kind, slug).await?.and_then(|i| i.published))
}

/// [`App::check_body`] inside a use case's transaction.
async fn checked_in(work: &mut Work, kind: Kind, raw: &Value) -> Result<Value> {
    let body = validate_fields(kind, raw).map_err(Error::Invalid)?;
    if let Some(r) = reference(kind, &body) {
        let org = work.org();
        if work.item(org, r.kind, r.slug).await?.is_none() {
            return Err(Error::Invalid(vec![r.missing()]));
        }
    }
    Ok(body)
}

/// The published content of these items, as a content directory describes it.
fn published_bundle(items: Vec<Item>) -> Bundle {
    Bundle {
        items: items
            .into_iter()
            .filter_map(|i| {
                Some(BundleItem {
                    kind: i.kind,
                    slug: Slug::parse(&i.slug).ok()?,
                    position: i.position,
                    updated: Some(i.updated),
                    body: i.published?,
                })
            })
            .collect(),
    }
}
