//! Content items: drafts, publishing, ordering, revisions and whole-directory imports.

use crate::{get, now, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::contentdir::BundleItem;
use candor_core::items::ItemState;
use candor_core::Kind;
use chrono::NaiveDate;
use serde_json::Value;
use sqlx::any::AnyRow;

/// One piece of content with its draft and published states.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub id: i64,
    pub kind: Kind,
    pub slug: String,
    pub position: i64,
    pub draft: Value,
    pub published: Option<Value>,
    /// The date shown publicly as "updated".
    pub updated: NaiveDate,
    pub draft_changed_at: i64,
    pub published_at: Option<i64>,
}

impl Item {
    /// The draft differs from what visitors see.
    pub fn has_unpublished_changes(&self) -> bool {
        self.published.as_ref() != Some(&self.draft)
    }
    pub fn title(&self) -> String {
        self.kind.title_of(&self.draft)
    }
    /// Draft only, published, or published with unpublished changes.
    pub fn state(&self) -> ItemState {
        ItemState::of(&self.draft, self.published.as_ref())
    }
}

/// One entry in an item's history.
#[derive(Clone, Debug, PartialEq)]
pub struct Revision {
    pub number: i64,
    pub action: String,
    pub actor: String,
    pub at: i64,
    pub body: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Published items absent from the directory, now unpublished (kept as drafts).
    pub unpublished: usize,
    /// The items created, changed or unpublished, as kind and slug.
    pub touched: Vec<(Kind, String)>,
}

impl ImportSummary {
    pub fn is_noop(&self) -> bool {
        self.created == 0 && self.changed == 0 && self.unpublished == 0
    }
}

const COLUMNS: &str = "id, kind, slug, position, draft, published, updated, draft_changed_at, published_at";

fn item_from_row(row: &AnyRow) -> StoreResult<Item> {
    let kind: String = get(row, "kind")?;
    let parse_json = |s: String| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string()));
    let updated: String = get(row, "updated")?;
    Ok(Item {
        id: get(row, "id")?,
        kind: Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown kind {kind}")))?,
        slug: get(row, "slug")?,
        position: get(row, "position")?,
        draft: parse_json(get(row, "draft")?)?,
        published: get::<Option<String>>(row, "published")?.map(parse_json).transpose()?,
        updated: NaiveDate::parse_from_str(&updated, "%Y-%m-%d").map_err(|e| StoreError::Corrupt(e.to_string()))?,
        draft_changed_at: get(row, "draft_changed_at")?,
        published_at: get(row, "published_at")?,
    })
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// See [`Store::content_fingerprint`]; equal fingerprints mean the public site needs no rebuild.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContentFingerprint([i64; 6]);

impl Store {
    /// A value that changes whenever public content does (an item is added, deleted, moved,
    /// edited or published; a document is added, edited or gains a version), so a server can
    /// notice changes made by another process: a CLI import or a second instance on the same
    /// PostgreSQL.
    pub async fn content_fingerprint(&self, org: OrgId) -> StoreResult<ContentFingerprint> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM items WHERE org_id = $1) AS n, \
                    (SELECT COALESCE(MAX(id), 0) FROM revisions WHERE org_id = $1) AS r, \
                    (SELECT CAST(COALESCE(SUM(position), 0) AS BIGINT) FROM items WHERE org_id = $1) AS p, \
                    (SELECT COUNT(*) FROM documents WHERE org_id = $1) AS d, \
                    (SELECT CAST(COALESCE(SUM(updated_at), 0) AS BIGINT) FROM documents WHERE org_id = $1) AS du, \
                    (SELECT COALESCE(MAX(v.id), 0) FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE d.org_id = $1) AS v",
        )
        .bind(org)
        .fetch_one(&self.pool)
        .await?;
        Ok(ContentFingerprint([
            get(&row, "n")?,
            get(&row, "r")?,
            get(&row, "p")?,
            get(&row, "d")?,
            get(&row, "du")?,
            get(&row, "v")?,
        ]))
    }

    /// Items of one kind in display order.
    pub async fn items(&self, org: OrgId, kind: Kind) -> StoreResult<Vec<Item>> {
        let sql = format!("SELECT {COLUMNS} FROM items WHERE org_id = $1 AND kind = $2 ORDER BY position, slug");
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(kind.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(item_from_row).collect()
    }

    /// Every item of the organization, in kind then display order.
    pub async fn all_items(&self, org: OrgId) -> StoreResult<Vec<Item>> {
        let sql = format!("SELECT {COLUMNS} FROM items WHERE org_id = $1 ORDER BY kind, position, slug");
        let rows = sqlx::query(&sql).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(item_from_row).collect()
    }

    pub async fn item(&self, org: OrgId, kind: Kind, slug: &str) -> StoreResult<Option<Item>> {
        let sql = format!("SELECT {COLUMNS} FROM items WHERE org_id = $1 AND kind = $2 AND slug = $3");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(kind.as_str())
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(item_from_row).transpose()
    }

    /// An item's history, newest first.
    pub async fn revisions(&self, item_id: i64) -> StoreResult<Vec<Revision>> {
        let rows = sqlx::query(
            "SELECT number, action, actor, at, body FROM revisions WHERE item_id = $1 ORDER BY number DESC",
        )
        .bind(item_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Revision {
                    number: get(r, "number")?,
                    action: get(r, "action")?,
                    actor: get(r, "actor")?,
                    at: get(r, "at")?,
                    body: serde_json::from_str(&get::<String>(r, "body")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// Replaces the draft, in a transaction of its own. (Use cases call [`Tx::save_draft`].)
    pub async fn save_draft(&self, org: OrgId, kind: Kind, slug: &str, body: &Value, actor: &str) -> StoreResult<Item> {
        let mut tx = self.begin().await?;
        let item = tx.save_draft(org, kind, slug, body, actor).await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Makes the draft public, in a transaction of its own. (Use cases call [`Tx::publish`].)
    pub async fn publish(&self, org: OrgId, kind: Kind, slug: &str, actor: &str) -> StoreResult<Item> {
        let mut tx = self.begin().await?;
        let item = tx.publish(org, kind, slug, actor).await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Applies a content directory in a transaction of its own (the demo at first start; use
    /// cases call [`Tx::import`]).
    pub async fn import(&self, org: OrgId, items: &[BundleItem], actor: &str) -> StoreResult<ImportSummary> {
        let mut tx = self.begin().await?;
        let summary = tx.import(org, items, actor).await?;
        tx.commit().await?;
        Ok(summary)
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_item(
    tx: &mut crate::Tx,
    org: OrgId,
    kind: Kind,
    slug: &str,
    position: i64,
    draft: &Value,
    published: Option<&Value>,
    updated: NaiveDate,
) -> StoreResult<()> {
    let t = now();
    sqlx::query(
        "INSERT INTO items (org_id, kind, slug, position, draft, published, updated, draft_changed_at, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(org)
    .bind(kind.as_str())
    .bind(slug)
    .bind(position)
    .bind(draft.to_string())
    .bind(published.map(Value::to_string))
    .bind(updated.to_string())
    .bind(t)
    .bind(published.map(|_| t))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_draft(tx: &mut crate::Tx, id: i64, body: &Value) -> StoreResult<()> {
    sqlx::query("UPDATE items SET draft = $1, draft_changed_at = $2 WHERE id = $3")
        .bind(body.to_string())
        .bind(now())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn add_revision(
    tx: &mut crate::Tx,
    org: OrgId,
    item_id: i64,
    action: &str,
    actor: &str,
    body: &Value,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO revisions (org_id, item_id, number, action, actor, at, body) \
         SELECT $1, $2, COALESCE(MAX(number), 0) + 1, $3, $4, $5, $6 FROM revisions WHERE item_id = $2",
    )
    .bind(org)
    .bind(item_id)
    .bind(action)
    .bind(actor)
    .bind(now())
    .bind(body.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Tx {
    /// An item, read inside this transaction.
    pub async fn item(&mut self, org: OrgId, kind: Kind, slug: &str) -> StoreResult<Option<Item>> {
        let sql = format!("SELECT {COLUMNS} FROM items WHERE org_id = $1 AND kind = $2 AND slug = $3");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(kind.as_str())
            .bind(slug)
            .fetch_optional(&mut **self)
            .await?;
        row.as_ref().map(item_from_row).transpose()
    }

    /// The item, or [`StoreError::NotFound`].
    async fn existing_item(&mut self, org: OrgId, kind: Kind, slug: &str) -> StoreResult<Item> {
        self.item(org, kind, slug)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("{kind} {slug}")))
    }

    /// Creates an unpublished item at the end of its kind's order. `body` must be validated.
    pub async fn create_item(
        &mut self,
        org: OrgId,
        kind: Kind,
        slug: &str,
        body: &Value,
        actor: &str,
    ) -> StoreResult<Item> {
        if self.item(org, kind, slug).await?.is_some() {
            return Err(StoreError::Conflict(format!("{kind} {slug}")));
        }
        let row = sqlx::query("SELECT COALESCE(MAX(position), 0) + 10 AS p FROM items WHERE org_id = $1 AND kind = $2")
            .bind(org)
            .bind(kind.as_str())
            .fetch_one(&mut **self)
            .await?;
        let position: i64 = get(&row, "p")?;
        insert_item(self, org, kind, slug, position, body, None, today()).await?;
        let item = self.existing_item(org, kind, slug).await?;
        add_revision(self, org, item.id, "create", actor, body).await?;
        Ok(item)
    }

    /// Replaces the draft (validated body); records a revision when it changed.
    pub async fn save_draft(
        &mut self,
        org: OrgId,
        kind: Kind,
        slug: &str,
        body: &Value,
        actor: &str,
    ) -> StoreResult<Item> {
        let item = self.existing_item(org, kind, slug).await?;
        if &item.draft == body {
            return Ok(item);
        }
        set_draft(self, item.id, body).await?;
        add_revision(self, org, item.id, "edit", actor, body).await?;
        self.existing_item(org, kind, slug).await
    }

    /// Deletes an item and its history.
    pub async fn delete_item(&mut self, org: OrgId, kind: Kind, slug: &str) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM items WHERE org_id = $1 AND kind = $2 AND slug = $3")
            .bind(org)
            .bind(kind.as_str())
            .bind(slug)
            .execute(&mut **self)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("{kind} {slug}")));
        }
        Ok(())
    }

    /// Swaps an item with its neighbour. Controls move only among the controls of their section.
    /// Returns whether anything moved (the first item cannot move up).
    pub async fn move_item(&mut self, org: OrgId, kind: Kind, slug: &str, dir: Move) -> StoreResult<bool> {
        let sql = format!("SELECT {COLUMNS} FROM items WHERE org_id = $1 AND kind = $2 ORDER BY position, slug");
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(kind.as_str())
            .fetch_all(&mut **self)
            .await?;
        let mut items = rows.iter().map(item_from_row).collect::<StoreResult<Vec<_>>>()?;
        if let Some(me) = items.iter().find(|i| i.slug == slug) {
            let group = me.draft.get("section").cloned();
            items.retain(|i| i.draft.get("section").cloned() == group);
        }
        let Some(idx) = items.iter().position(|i| i.slug == slug) else {
            return Err(StoreError::NotFound(format!("{kind} {slug}")));
        };
        let other = match dir {
            Move::Up if idx > 0 => idx - 1,
            Move::Down if idx + 1 < items.len() => idx + 1,
            _ => return Ok(false),
        };
        // Renumber the group in steps of 10 with the two swapped, so equal positions cannot stick.
        items.swap(idx, other);
        let base = items.iter().map(|i| i.position).min().unwrap_or(0);
        for (n, item) in items.iter().enumerate() {
            sqlx::query("UPDATE items SET position = $1 WHERE id = $2")
                .bind(base + 10 * n as i64)
                .bind(item.id)
                .execute(&mut **self)
                .await?;
        }
        Ok(true)
    }

    /// Puts an old revision's content back as the draft (recorded as a new revision).
    pub async fn restore_revision(
        &mut self,
        org: OrgId,
        kind: Kind,
        slug: &str,
        number: i64,
        actor: &str,
    ) -> StoreResult<Item> {
        let item = self.existing_item(org, kind, slug).await?;
        let row = sqlx::query("SELECT body FROM revisions WHERE item_id = $1 AND number = $2")
            .bind(item.id)
            .bind(number)
            .fetch_optional(&mut **self)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("revision {number} of {kind} {slug}")))?;
        let body: Value =
            serde_json::from_str(&get::<String>(&row, "body")?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        set_draft(self, item.id, &body).await?;
        let action = format!("restore of revision {number}");
        add_revision(self, org, item.id, &action, actor, &body).await?;
        self.existing_item(org, kind, slug).await
    }

    /// Applies a whole content directory: items are created or updated and published; published
    /// items the directory no longer has are unpublished. Items that are already exactly as
    /// described are not touched, so re-importing changes nothing.
    pub async fn import(&mut self, org: OrgId, items: &[BundleItem], actor: &str) -> StoreResult<ImportSummary> {
        let sql = format!("SELECT {COLUMNS} FROM items WHERE org_id = $1");
        let rows = sqlx::query(&sql).bind(org).fetch_all(&mut **self).await?;
        let existing = rows.iter().map(item_from_row).collect::<StoreResult<Vec<_>>>()?;
        let mut summary = ImportSummary::default();
        for b in items {
            let slug = b.slug.as_str();
            match existing.iter().find(|e| e.kind == b.kind && e.slug == slug) {
                None => {
                    let updated = b.updated.unwrap_or_else(today);
                    insert_item(self, org, b.kind, slug, b.position, &b.body, Some(&b.body), updated).await?;
                    let item = self.existing_item(org, b.kind, slug).await?;
                    add_revision(self, org, item.id, "import", actor, &b.body).await?;
                    summary.created += 1;
                }
                Some(e) => {
                    let same = e.draft == b.body
                        && e.published.as_ref() == Some(&b.body)
                        && e.position == b.position
                        && b.updated.is_none_or(|u| u == e.updated);
                    if same {
                        summary.unchanged += 1;
                        continue;
                    }
                    let content_changed = e.published.as_ref() != Some(&b.body);
                    let updated = b.updated.unwrap_or(if content_changed { today() } else { e.updated });
                    sqlx::query(
                        "UPDATE items SET draft = $1, published = $1, position = $2, updated = $3, \
                         draft_changed_at = $4, published_at = $4 WHERE id = $5",
                    )
                    .bind(b.body.to_string())
                    .bind(b.position)
                    .bind(updated.to_string())
                    .bind(now())
                    .bind(e.id)
                    .execute(&mut **self)
                    .await?;
                    if content_changed || e.draft != b.body {
                        add_revision(self, org, e.id, "import", actor, &b.body).await?;
                    }
                    summary.changed += 1;
                }
            }
            summary.touched.push((b.kind, slug.to_owned()));
        }
        for e in &existing {
            let kept = items.iter().any(|b| b.kind == e.kind && b.slug.as_str() == e.slug);
            if !kept && e.published.is_some() {
                sqlx::query("UPDATE items SET published = NULL, published_at = NULL WHERE id = $1")
                    .bind(e.id)
                    .execute(&mut **self)
                    .await?;
                add_revision(self, org, e.id, "unpublish (absent from import)", actor, &e.draft).await?;
                summary.unpublished += 1;
                summary.touched.push((e.kind, e.slug.clone()));
            }
        }
        Ok(summary)
    }

    /// Makes the draft public. The public "updated" date moves to today when the content changed.
    pub async fn publish(&mut self, org: OrgId, kind: Kind, slug: &str, actor: &str) -> StoreResult<Item> {
        let item = self.existing_item(org, kind, slug).await?;
        if item.published.as_ref() != Some(&item.draft) {
            let updated = if item.published.is_some() {
                today()
            } else {
                item.updated.max(today())
            };
            sqlx::query("UPDATE items SET published = draft, published_at = $1, updated = $2 WHERE id = $3")
                .bind(now())
                .bind(updated.to_string())
                .bind(item.id)
                .execute(&mut **self)
                .await?;
            add_revision(self, org, item.id, "publish", actor, &item.draft).await?;
        }
        self.existing_item(org, kind, slug).await
    }

    /// Takes an item off the public site; the draft stays.
    pub async fn unpublish(&mut self, org: OrgId, kind: Kind, slug: &str, actor: &str) -> StoreResult<Item> {
        let item = self.existing_item(org, kind, slug).await?;
        if item.published.is_some() {
            sqlx::query("UPDATE items SET published = NULL, published_at = NULL WHERE id = $1")
                .bind(item.id)
                .execute(&mut **self)
                .await?;
            add_revision(self, org, item.id, "unpublish", actor, &item.draft).await?;
        }
        self.existing_item(org, kind, slug).await
    }
}
