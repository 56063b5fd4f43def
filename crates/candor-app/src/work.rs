//! One use case's unit of work: its transaction, with the audit entry and mail that go with it,
//! and the effects the caller applies once it has committed.

use crate::{Action, Actor, App, Result};
use candor_core::audit::AuditEntry;
use candor_store::{NewAuditEvent, NewEmail, OrgId, Tx};

pub use candor_core::SiteChange;

/// What a committed use case asks of the world outside the database. One place in each front
/// end applies them (the web server re-renders the site and wakes the outbox; the CLI prints the
/// audit lines).
#[derive(Clone, Debug, Default)]
#[must_use = "effects must be applied: hand them to the one place that does"]
pub struct Effects {
    /// Public pages to render again.
    pub site: Vec<SiteChange>,
    /// Messages queued for delivery (the outbox worker is woken when this is not zero).
    pub mail_queued: usize,
    /// Webhook deliveries queued or made due (the webhook worker is woken when this is not zero).
    pub webhooks_queued: usize,
    /// The audit entries written, in order (for the JSON audit line on stdout).
    pub audit: Vec<AuditEntry>,
}

impl Effects {
    /// Adds another use case's effects to these.
    pub fn merge(&mut self, other: Effects) {
        self.site.extend(other.site);
        self.mail_queued += other.mail_queued;
        self.webhooks_queued += other.webhooks_queued;
        self.audit.extend(other.audit);
    }
}

/// The result of a use case: the value it produced and the effects to apply.
#[derive(Debug)]
#[must_use = "a use case's effects must be applied"]
pub struct Done<T> {
    pub value: T,
    pub effects: Effects,
}

/// A use case in progress. Dereferences to the store's transaction for its writes; the audit
/// entry and mail are added with [`Work::audit`] and [`Work::mail`] and commit with them.
pub struct Work {
    tx: Tx,
    org: OrgId,
    site: Vec<SiteChange>,
    /// The use cases this work belongs to: for the master key ring and the public address
    /// (sealing and opening secrets, links in mail), never for writes outside this transaction.
    app: App,
}

impl Work {
    pub(crate) fn new(tx: Tx, app: App) -> Work {
        Work {
            tx,
            org: app.org(),
            site: vec![],
            app,
        }
    }

    /// See the `app` field: keys and the public address, not the store.
    pub(crate) fn app(&self) -> &App {
        &self.app
    }

    pub fn org(&self) -> OrgId {
        self.org
    }

    /// Records the action in the audit log, in this transaction. Write it last: on PostgreSQL
    /// it takes the chain's lock, held until commit.
    pub async fn audit(
        &mut self,
        actor: &Actor,
        action: Action,
        target: impl Into<String>,
        details: serde_json::Value,
    ) -> Result<AuditEntry> {
        let event = NewAuditEvent {
            actor: actor.to_string(),
            action: action.name().to_owned(),
            target: target.into(),
            ip: actor.ip().to_owned(),
            details,
        };
        Ok(self.tx.append_audit(self.org, event).await?)
    }

    /// Queues a message, sent once this transaction has committed.
    pub async fn mail(&mut self, email: &NewEmail) -> Result<()> {
        Ok(self.tx.enqueue_email(self.org, email).await?)
    }

    /// Notes that public pages showing this must be rendered again.
    pub fn site_changed(&mut self, change: SiteChange) {
        if !self.site.contains(&change) {
            self.site.push(change);
        }
    }

    /// Commits a write that records nothing and sends nothing (upkeep such as re-sealing a
    /// secret or rotating a session id), so there are no effects to hand on.
    pub async fn commit(self) -> Result<()> {
        debug_assert!(self.site.is_empty(), "a write that changes the site must use finish");
        let committed = self.tx.commit().await?;
        debug_assert!(
            committed.audit.is_empty() && committed.mail_queued == 0 && committed.webhooks_queued == 0,
            "a write with an audit entry or mail must use finish, so its effects are applied"
        );
        Ok(())
    }

    /// Commits the action, its audit entries and its mail together, and returns `value` with
    /// the effects to apply.
    pub async fn finish<T>(self, value: T) -> Result<Done<T>> {
        let committed = self.tx.commit().await?;
        Ok(Done {
            value,
            effects: Effects {
                site: self.site,
                mail_queued: committed.mail_queued,
                webhooks_queued: committed.webhooks_queued,
                audit: committed.audit,
            },
        })
    }
}

impl std::ops::Deref for Work {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl std::ops::DerefMut for Work {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}
