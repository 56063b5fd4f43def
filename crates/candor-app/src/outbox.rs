//! The outbox, seen from the back office: a message that waits or was refused can be sent again
//! now, or dropped. Delivery itself is the worker's (candor-notify).

use crate::{Action, Actor, App, Done, Error, Result};
use candor_store::{OutboxStatus, UndeliveredEmail};

/// What the audit entry says about a message: enough to know which one it was, never its text.
fn described(email: &UndeliveredEmail) -> serde_json::Value {
    serde_json::json!({
        "recipient": email.recipient,
        "subject": email.subject,
        "purpose": email.purpose,
        "attempts": email.attempts,
        "was": match email.status {
            OutboxStatus::Failed => "failed",
            _ => "pending",
        },
    })
}

impl App {
    /// Makes a waiting or failed message due now (its attempts are kept; a failed one is no
    /// longer failed). The worker is woken when the effects are applied.
    pub async fn retry_email(&self, actor: &Actor, id: i64) -> Result<Done<UndeliveredEmail>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let email = work.undelivered_email(org, id).await?;
        if !email.has_text {
            return Err(Error::Conflict(
                "This message's text was erased when it failed, so it cannot be sent again. Discard it and have it sent anew (ask for a new link)."
                    .into(),
            ));
        }
        work.make_email_due(org, id).await?;
        work.audit(actor, Action::OutboxRetry, format!("outbox/{id}"), described(&email))
            .await?;
        work.finish(email).await
    }

    /// Drops a message that has not been delivered, with its text.
    pub async fn discard_email(&self, actor: &Actor, id: i64) -> Result<Done<UndeliveredEmail>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let email = work.undelivered_email(org, id).await?;
        work.delete_email(org, id).await?;
        work.audit(actor, Action::OutboxDiscard, format!("outbox/{id}"), described(&email))
            .await?;
        work.finish(email).await
    }
}
