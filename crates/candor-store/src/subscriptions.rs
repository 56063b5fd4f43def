//! Email subscribers: double opt-in sign-ups, their topics and components, the link token that
//! manages and ends a subscription, and the sealed secrets of subscriptions and webhooks that a
//! key rotation re-wraps.

use crate::{get, now, LinkState, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::events::Topic;
use sqlx::any::AnyRow;

/// Someone who asked to be told of events by email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub topics: Vec<Topic>,
    /// Status components chosen; empty means all of them.
    pub components: Vec<i64>,
    /// When the address was proven by its confirmation link; `None` while pending.
    pub confirmed_at: Option<i64>,
    /// The link token sealed under the master key (opened to put the links into mail).
    pub unsubscribe_sealed: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Subscriber {
    /// Whether an event of `topic` about `components` concerns this subscriber: the topic is
    /// theirs and, for status events, they follow all components, or one the event names, or the
    /// event names none.
    pub fn wants(&self, topic: Topic, components: &[i64]) -> bool {
        wants(&self.topics, &self.components, topic, components)
    }
}

/// The matching rule shared by subscribers and webhook endpoints.
pub(crate) fn wants(topics: &[Topic], chosen: &[i64], topic: Topic, components: &[i64]) -> bool {
    topics.contains(&topic)
        && (topic != Topic::Status
            || chosen.is_empty()
            || components.is_empty()
            || components.iter().any(|c| chosen.contains(c)))
}

/// A sign-up to store, with its tokens already digested and sealed.
#[derive(Clone, Debug)]
pub struct NewSubscriber {
    pub email: String,
    pub topics: Vec<Topic>,
    pub components: Vec<i64>,
    pub confirm_digest: String,
    pub confirm_expires_at: i64,
    pub unsubscribe_digest: String,
    pub unsubscribe_sealed: String,
}

/// A secret sealed under the master key in a subscription table, for key rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedSecret {
    pub table: SealedTable,
    pub id: i64,
    pub stored: String,
}

/// Where a [`SealedSecret`] lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealedTable {
    /// A subscriber's link token.
    Subscriber,
    /// A webhook endpoint's signing secret.
    WebhookEndpoint,
}

pub(crate) fn topics_json(topics: &[Topic]) -> String {
    let names: Vec<&str> = topics.iter().map(|t| t.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn components_json(components: &[i64]) -> String {
    serde_json::to_string(components).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn topics_from(text: &str) -> StoreResult<Vec<Topic>> {
    let names: Vec<String> = serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("topics: {e}")))?;
    // A topic a later version dropped is ignored rather than breaking every read.
    Ok(names.iter().filter_map(|n| Topic::parse(n)).collect())
}

pub(crate) fn components_from(text: &str) -> StoreResult<Vec<i64>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("components: {e}")))
}

const COLUMNS: &str = "id, email, topics, components, confirmed_at, unsubscribe_sealed, created_at, updated_at";

fn subscriber_from_row(row: &AnyRow) -> StoreResult<Subscriber> {
    Ok(Subscriber {
        id: get(row, "id")?,
        email: get(row, "email")?,
        topics: topics_from(&get::<String>(row, "topics")?)?,
        components: components_from(&get::<String>(row, "components")?)?,
        confirmed_at: get(row, "confirmed_at")?,
        unsubscribe_sealed: get(row, "unsubscribe_sealed")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// How long a pending sign-up is kept after its confirmation link expired.
const FORGET_PENDING_AFTER_SECS: i64 = 7 * 24 * 3600;

impl Store {
    /// Subscribers, newest first, at most `limit`.
    pub async fn subscribers(&self, org: OrgId, limit: i64) -> StoreResult<Vec<Subscriber>> {
        let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE org_id = $1 ORDER BY id DESC LIMIT $2");
        let rows = sqlx::query(&sql).bind(org).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(subscriber_from_row).collect()
    }

    /// How many subscribers are confirmed and how many wait for confirmation.
    pub async fn subscriber_counts(&self, org: OrgId) -> StoreResult<(i64, i64)> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN confirmed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS confirmed, \
                    CAST(COALESCE(SUM(CASE WHEN confirmed_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending \
             FROM subscribers WHERE org_id = $1",
        )
        .bind(org)
        .fetch_one(&self.pool)
        .await?;
        Ok((get(&row, "confirmed")?, get(&row, "pending")?))
    }

    /// The confirmed subscriber whose link token has this digest.
    pub async fn subscriber_by_token(&self, digest: &str) -> StoreResult<Option<Subscriber>> {
        let sql =
            format!("SELECT {COLUMNS} FROM subscribers WHERE unsubscribe_digest = $1 AND confirmed_at IS NOT NULL");
        let row = sqlx::query(&sql).bind(digest).fetch_optional(&self.pool).await?;
        row.as_ref().map(subscriber_from_row).transpose()
    }

    /// What a confirmation link is, without using it: usable (for a pending sign-up), used (the
    /// address is confirmed), expired, or unknown.
    pub async fn confirm_link_state(&self, digest: &str) -> StoreResult<LinkState<Subscriber>> {
        let sql = format!("SELECT {COLUMNS}, confirm_expires_at FROM subscribers WHERE confirm_digest = $1");
        let Some(row) = sqlx::query(&sql).bind(digest).fetch_optional(&self.pool).await? else {
            return Ok(LinkState::Unknown);
        };
        let subscriber = subscriber_from_row(&row)?;
        let expires: Option<i64> = get(&row, "confirm_expires_at")?;
        Ok(LinkState::of(subscriber.confirmed_at, expires.unwrap_or(0), subscriber))
    }

    /// Sealed secrets of subscribers and webhook endpoints whose stored form does not start with
    /// `prefix` (not under the current master key), at most `limit` of each kind.
    pub async fn subscription_secrets_outside(&self, prefix: &str, limit: i64) -> StoreResult<Vec<SealedSecret>> {
        let pattern = format!("{prefix}%");
        let mut out = vec![];
        let rows = sqlx::query(
            "SELECT id, unsubscribe_sealed AS stored FROM subscribers WHERE unsubscribe_sealed NOT LIKE $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(&pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            out.push(SealedSecret {
                table: SealedTable::Subscriber,
                id: get(row, "id")?,
                stored: get(row, "stored")?,
            });
        }
        let rows = sqlx::query(
            "SELECT id, secret_sealed AS stored FROM webhook_endpoints WHERE secret_sealed NOT LIKE $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(&pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            out.push(SealedSecret {
                table: SealedTable::WebhookEndpoint,
                id: get(row, "id")?,
                stored: get(row, "stored")?,
            });
        }
        Ok(out)
    }
}

impl Tx {
    /// The subscriber with this address, confirmed or not.
    pub async fn subscriber_by_email(&mut self, org: OrgId, email: &str) -> StoreResult<Option<Subscriber>> {
        let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE org_id = $1 AND email = $2");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(email)
            .fetch_optional(&mut **self)
            .await?;
        row.as_ref().map(subscriber_from_row).transpose()
    }

    /// The confirmed subscriber whose link token has this digest, read in this transaction.
    pub async fn subscriber_by_token_now(&mut self, digest: &str) -> StoreResult<Option<Subscriber>> {
        let sql =
            format!("SELECT {COLUMNS} FROM subscribers WHERE unsubscribe_digest = $1 AND confirmed_at IS NOT NULL");
        let row = sqlx::query(&sql).bind(digest).fetch_optional(&mut **self).await?;
        row.as_ref().map(subscriber_from_row).transpose()
    }

    /// Stores a pending sign-up. Sign-ups never confirmed are forgotten a week after their
    /// link expired, here, so they do not pile up.
    pub async fn insert_subscriber(&mut self, org: OrgId, new: &NewSubscriber) -> StoreResult<i64> {
        let t = now();
        sqlx::query("DELETE FROM subscribers WHERE org_id = $1 AND confirmed_at IS NULL AND confirm_expires_at < $2")
            .bind(org)
            .bind(t - FORGET_PENDING_AFTER_SECS)
            .execute(&mut **self)
            .await?;
        let row = sqlx::query(
            "INSERT INTO subscribers (org_id, email, topics, components, confirm_digest, confirm_expires_at, \
             unsubscribe_digest, unsubscribe_sealed, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(org)
        .bind(&new.email)
        .bind(topics_json(&new.topics))
        .bind(components_json(&new.components))
        .bind(&new.confirm_digest)
        .bind(new.confirm_expires_at)
        .bind(&new.unsubscribe_digest)
        .bind(&new.unsubscribe_sealed)
        .bind(t)
        .fetch_one(&mut **self)
        .await?;
        get(&row, "id")
    }

    /// A pending sign-up asked for again: its choice is replaced and a new confirmation link
    /// replaces the old one. Nothing happens to a confirmed subscriber.
    pub async fn renew_pending_subscriber(
        &mut self,
        id: i64,
        topics: &[Topic],
        components: &[i64],
        confirm_digest: &str,
        confirm_expires_at: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE subscribers SET topics = $1, components = $2, confirm_digest = $3, confirm_expires_at = $4, updated_at = $5 \
             WHERE id = $6 AND confirmed_at IS NULL",
        )
        .bind(topics_json(topics))
        .bind(components_json(components))
        .bind(confirm_digest)
        .bind(confirm_expires_at)
        .bind(now())
        .bind(id)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Uses a confirmation link: the pending sign-up it belongs to is confirmed, unless the link
    /// expired or was used. The link's digest stays, so a second use reads as "used".
    pub async fn confirm_subscriber(&mut self, confirm_digest: &str) -> StoreResult<Option<Subscriber>> {
        let t = now();
        let done = sqlx::query(
            "UPDATE subscribers SET confirmed_at = $1, updated_at = $1 \
             WHERE confirm_digest = $2 AND confirmed_at IS NULL AND confirm_expires_at > $1",
        )
        .bind(t)
        .bind(confirm_digest)
        .execute(&mut **self)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE confirm_digest = $1");
        let row = sqlx::query(&sql).bind(confirm_digest).fetch_one(&mut **self).await?;
        subscriber_from_row(&row).map(Some)
    }

    /// Replaces what a subscriber follows.
    pub async fn set_subscriber_topics(
        &mut self,
        org: OrgId,
        id: i64,
        topics: &[Topic],
        components: &[i64],
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE subscribers SET topics = $1, components = $2, updated_at = $3 WHERE org_id = $4 AND id = $5",
        )
        .bind(topics_json(topics))
        .bind(components_json(components))
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("subscriber {id}")));
        }
        Ok(())
    }

    /// Removes a subscriber and everything kept about them; `None` if there was none.
    pub async fn delete_subscriber(&mut self, org: OrgId, id: i64) -> StoreResult<Option<Subscriber>> {
        let sql = format!("DELETE FROM subscribers WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}");
        let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&mut **self).await?;
        row.as_ref().map(subscriber_from_row).transpose()
    }

    /// Confirmed subscribers who follow `topic` (components are matched by the caller with
    /// [`Subscriber::wants`]).
    pub async fn confirmed_subscribers(&mut self, org: OrgId, topic: Topic) -> StoreResult<Vec<Subscriber>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM subscribers WHERE org_id = $1 AND confirmed_at IS NOT NULL AND topics LIKE $2 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(format!("%\"{}\"%", topic.as_str()))
            .fetch_all(&mut **self)
            .await?;
        rows.iter().map(subscriber_from_row).collect()
    }

    /// Replaces a sealed secret with its re-wrapped form, only if it is still what was read.
    pub async fn replace_sealed_secret(&mut self, secret: &SealedSecret, new: &str) -> StoreResult<bool> {
        let sql = match secret.table {
            SealedTable::Subscriber => {
                "UPDATE subscribers SET unsubscribe_sealed = $1 WHERE id = $2 AND unsubscribe_sealed = $3"
            }
            SealedTable::WebhookEndpoint => {
                "UPDATE webhook_endpoints SET secret_sealed = $1 WHERE id = $2 AND secret_sealed = $3"
            }
        };
        let done = sqlx::query(sql)
            .bind(new)
            .bind(secret.id)
            .bind(&secret.stored)
            .execute(&mut **self)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::wants;
    use candor_core::events::Topic;

    #[test]
    fn status_events_reach_subscribers_of_their_components_or_of_all() {
        let status = [Topic::Status];
        assert!(wants(&status, &[], Topic::Status, &[1]), "all components");
        assert!(wants(&status, &[1, 2], Topic::Status, &[2, 3]), "one in common");
        assert!(!wants(&status, &[1, 2], Topic::Status, &[3]), "none in common");
        assert!(
            wants(&status, &[1], Topic::Status, &[]),
            "an event about no component reaches all"
        );
        assert!(!wants(&status, &[], Topic::Policies, &[]), "another topic");
        assert!(
            wants(&[Topic::Policies], &[5], Topic::Policies, &[]),
            "components matter for status only"
        );
    }
}
