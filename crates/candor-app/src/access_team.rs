//! Telling the team about document access requests: a mail to every person whose role decides
//! them (unless they turned it off on their profile) when a request waits for a decision, and a
//! signed webhook event (topic `access_requests`) when one waits, is approved or is denied. Both
//! are queued in the transaction of the change they report, so they go out exactly when it
//! commits. Each person's choice is theirs to change ([`App::set_access_request_mail`]).

use crate::access::MailContext;
use crate::mail::{compose, Part};
use crate::subscriptions::queue_webhooks;
use crate::{Action, Actor, App, Done, Result, Work};
use candor_core::access::{allows, Permission};
use candor_core::events::Topic;
use candor_store::{AccessRequest, ACCESS_REQUESTS_MAIL};
use serde_json::{json, Value};

/// Webhook event types (`type` in the payload) for access requests.
pub const EVENT_WAITING: &str = "access_request.waiting";
pub const EVENT_APPROVED: &str = "access_request.approved";
pub const EVENT_DENIED: &str = "access_request.denied";

/// The request as the webhook payload's `data` carries it, plus `extra` fields.
fn payload(req: &AccessRequest, public_url: &str, extra: Value) -> Value {
    let mut data = json!({
        "request": {
            "id": req.id,
            "name": req.name,
            "email": req.email,
            "company": req.company,
            "reason": req.reason,
            "documents": req.documents,
        },
        "url": format!("{public_url}/admin/access-requests"),
    });
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    data
}

/// Request `req` now waits for a person: mail to each access manager who wants it, and the
/// `access_request.waiting` event. Called inside the transaction that made it wait.
pub(crate) async fn tell_waiting(work: &mut Work, req: &AccessRequest, ctx: &MailContext) -> Result<()> {
    let org = work.org();
    let documents = if req.documents.is_empty() {
        "all NDA documents".to_owned()
    } else {
        req.documents.join(", ")
    };
    let reason = if req.reason.is_empty() {
        String::new()
    } else {
        format!("\n\nTheir reason: {}", req.reason)
    };
    let queue = format!("{}/admin/access-requests", ctx.public_url);
    let profile = format!("{}/admin/profile", ctx.public_url);
    let managers: Vec<String> = work
        .team_wanting_mail(org, ACCESS_REQUESTS_MAIL)
        .await?
        .into_iter()
        .filter(|(_, role)| allows(*role, Permission::ManageAccessRequests))
        .map(|(email, _)| email)
        .collect();
    for to in managers {
        let parts = [
            Part::Text(format!(
                "A request for {}'s documents waits for a decision.\n\nFrom: {} <{}>, {}\nDocuments: {documents}\nThe address is confirmed and the NDA is signed; no rule approves this address, so a person decides.{reason}\n\nApprove or deny it in the back office:",
                ctx.org_name, req.name, req.email, req.company
            )),
            Part::Link(queue.clone()),
            Part::Text(
                "You receive this because your role decides access requests. To stop these emails, untick \"Email me when an access request waits\" on your profile:"
                    .to_owned(),
            ),
            Part::Link(profile.clone()),
        ];
        work.mail(&compose(
            &to,
            format!("Access request waiting: {}", req.company),
            &parts,
            "access-request-waiting",
        ))
        .await?;
    }
    let data = payload(req, &ctx.public_url, json!({}));
    queue_webhooks(work, Topic::AccessRequests, &[], EVENT_WAITING, &data).await
}

/// Request `req` was decided by `actor`: the `access_request.approved` (with the grant's length)
/// or `access_request.denied` event. Called inside the deciding transaction.
pub(crate) async fn tell_decided(
    work: &mut Work,
    req: &AccessRequest,
    actor: &Actor,
    approved_days: Option<i64>,
    public_url: &str,
) -> Result<()> {
    let by = json!({"decided_by": actor.to_string()});
    let (kind, extra) = match approved_days {
        Some(days) => (EVENT_APPROVED, json!({"decided_by": actor.to_string(), "days": days})),
        None => (EVENT_DENIED, by),
    };
    let data = payload(req, public_url, extra);
    queue_webhooks(work, Topic::AccessRequests, &[], kind, &data).await
}

impl App {
    /// Whether `user` gets mail when an access request waits.
    pub async fn access_request_mail(&self, user: i64) -> Result<bool> {
        Ok(!self.store.mail_turned_off(user, ACCESS_REQUESTS_MAIL).await?)
    }

    /// A person turns their own mail about waiting access requests on or off.
    pub async fn set_access_request_mail(&self, actor: &Actor, user: i64, wanted: bool) -> Result<Done<bool>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let changed = work
            .set_mail_turned_off(org, user, ACCESS_REQUESTS_MAIL, !wanted)
            .await?;
        if changed {
            work.audit(
                actor,
                Action::UserNotifications,
                format!("user/{user}"),
                json!({"access_request_mail": wanted}),
            )
            .await?;
        }
        work.finish(changed).await
    }
}
