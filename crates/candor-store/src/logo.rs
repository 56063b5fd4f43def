//! The organization's uploaded logo: its encrypted file is a row of `blobs` like any upload (so
//! backups, key rotation and the orphan sweep know it), and the organization setting `logo`
//! names it as `TYPE:BLOB_ID`.

use crate::documents::{blob_from_row, insert_blob};
use crate::{now, BlobRow, OrgId, Store, StoreResult, Tx};
use candor_core::contentdir::PROFILE_SLUG;
use serde_json::Value;

const SETTING: &str = "logo";

/// The stored logo: its type (`png`, `svg`) and its file.
#[derive(Clone, Debug)]
pub struct StoredLogo {
    pub kind: String,
    pub blob: BlobRow,
}

async fn blob_row(
    tx_or_pool: impl sqlx::Executor<'_, Database = sqlx::Any>,
    org: OrgId,
    id: &str,
) -> StoreResult<Option<BlobRow>> {
    let row = sqlx::query("SELECT id, key_id, wrapped_key, size, sha256 FROM blobs WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org)
        .fetch_optional(tx_or_pool)
        .await?;
    row.as_ref().map(blob_from_row).transpose()
}

impl Store {
    /// The uploaded logo, if there is one.
    pub async fn logo(&self, org: OrgId) -> StoreResult<Option<StoredLogo>> {
        let Some(value) = self.org_setting(org, SETTING).await? else {
            return Ok(None);
        };
        let Some((kind, id)) = value.split_once(':') else {
            return Ok(None);
        };
        Ok(blob_row(&self.pool, org, id).await?.map(|blob| StoredLogo {
            kind: kind.to_owned(),
            blob,
        }))
    }
}

impl Tx {
    /// Makes `blob` the logo; returns the previous logo's blob id, whose row is deleted here and
    /// whose file the caller removes once this transaction has committed.
    pub async fn set_logo(&mut self, org: OrgId, kind: &str, blob: &BlobRow) -> StoreResult<Option<String>> {
        let old = self.clear_logo(org).await?;
        insert_blob(&mut **self, org, blob).await?;
        self.set_org_setting(org, SETTING, &format!("{kind}:{}", blob.id))
            .await?;
        Ok(old)
    }

    /// Removes the logo's setting and blob row; returns the blob id whose file the caller removes.
    pub async fn clear_logo(&mut self, org: OrgId) -> StoreResult<Option<String>> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM org_settings WHERE org_id = $1 AND key = $2")
            .bind(org)
            .bind(SETTING)
            .fetch_optional(&mut **self)
            .await?;
        let Some(value) = value else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM org_settings WHERE org_id = $1 AND key = $2")
            .bind(org)
            .bind(SETTING)
            .execute(&mut **self)
            .await?;
        let id = value.split_once(':').map(|(_, id)| id.to_owned());
        if let Some(id) = &id {
            sqlx::query("DELETE FROM blobs WHERE id = $1 AND org_id = $2")
                .bind(id)
                .bind(org)
                .execute(&mut **self)
                .await?;
        }
        Ok(id)
    }

    /// Sets (or, with `None`, removes) the profile's `logo_url` in its draft and its published
    /// copy alike: the logo is not a draft change, it is public at once. Returns false when
    /// there is no profile. `only_if` limits the removal to a profile whose address is an
    /// uploaded logo's (a linked logo stays).
    pub async fn set_profile_logo_url(
        &mut self,
        org: OrgId,
        url: Option<&str>,
        only_if: impl Fn(&str) -> bool,
    ) -> StoreResult<bool> {
        let row =
            sqlx::query("SELECT id, draft, published FROM items WHERE org_id = $1 AND kind = 'profile' AND slug = $2")
                .bind(org)
                .bind(PROFILE_SLUG)
                .fetch_optional(&mut **self)
                .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let id: i64 = crate::get(&row, "id")?;
        let draft: String = crate::get(&row, "draft")?;
        let published: Option<String> = crate::get(&row, "published")?;
        let change = |text: &str| -> StoreResult<String> {
            let mut body: Value =
                serde_json::from_str(text).map_err(|e| crate::StoreError::Corrupt(format!("profile body: {e}")))?;
            if let Some(map) = body.as_object_mut() {
                let current = map.get("logo_url").and_then(Value::as_str).unwrap_or("");
                match url {
                    Some(u) => {
                        map.insert("logo_url".into(), Value::String(u.to_owned()));
                    }
                    None if only_if(current) => {
                        map.remove("logo_url");
                    }
                    None => {}
                }
            }
            Ok(body.to_string())
        };
        let draft = change(&draft)?;
        let published = published.as_deref().map(change).transpose()?;
        sqlx::query("UPDATE items SET draft = $1, published = $2, draft_changed_at = $3 WHERE id = $4")
            .bind(draft)
            .bind(published)
            .bind(now())
            .bind(id)
            .execute(&mut **self)
            .await?;
        Ok(true)
    }
}
