//! Webhook endpoints in the back office (create with a secret shown once, edit, delete, enable,
//! disable, re-send a delivery) and the delivery rounds of the webhook worker, whose decisions
//! to disable an endpoint are use cases too: audited, and mailed to the owners.

use crate::mail::{compose, Part};
use crate::subscriptions::{org_name, Choice};
use crate::{Action, Actor, App, Done, Effects, Error, Result};
use candor_core::content::FieldError;
use candor_core::text::{self, Shape};
use candor_crypto::Secret;
use candor_notify::webhook::{self, WebhookHost, WebhookPolicy, WebhookRound, WebhookSender};
use candor_store::{DueDelivery, EndpointFields, WebhookDelivery};
use serde_json::json;

/// What binds an endpoint's sealed secret to its row.
fn secret_context(endpoint: i64) -> String {
    format!("webhook:{endpoint}")
}

/// An endpoint's URL as the audit log and mail show it: scheme, host and port only. The path
/// and query stay out: some receivers (chat services' incoming webhooks) put their credential
/// there, and the audit log is read by more people than manage webhooks.
fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.len() < rest.len() {
        format!("{scheme}://{host}/…")
    } else {
        format!("{scheme}://{host}")
    }
}

fn described(fields: &EndpointFields) -> serde_json::Value {
    json!({
        "url": shown_url(&fields.url),
        "description": fields.description,
        "topics": fields.topics.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "components": fields.components,
    })
}

/// The fields checked: a URL Candor may call (`allow_private` admits loopback and private
/// addresses), a one-line description, at least one topic, known components.
async fn checked(work: &mut crate::Work, fields: &EndpointFields, allow_private: bool) -> Result<EndpointFields> {
    let url = fields.url.trim().to_owned();
    let description = fields.description.trim().to_owned();
    let mut errors = vec![];
    if url.len() > 2000 {
        errors.push(FieldError::new("url", "keep the URL under 2000 characters"));
    } else if let Some(problem) = webhook::url_problem(&url, allow_private) {
        errors.push(FieldError::new("url", problem));
    }
    if let Err(e) = text::check("description", &description, Shape::Line) {
        errors.push(e);
    }
    if description.chars().count() > 200 {
        errors.push(FieldError::new("description", "keep it under 200 characters"));
    }
    let choice = Choice {
        topics: fields.topics.clone(),
        components: fields.components.clone(),
    };
    let choice = match crate::subscriptions::checked(work, &choice).await {
        Ok(c) => Some(c),
        Err(Error::Invalid(mut e)) => {
            errors.append(&mut e);
            None
        }
        Err(other) => return Err(other),
    };
    match choice {
        Some(choice) if errors.is_empty() => Ok(EndpointFields {
            url,
            description,
            topics: choice.topics,
            components: choice.components,
        }),
        _ => Err(Error::Invalid(errors)),
    }
}

impl App {
    /// A new endpoint, enabled, with a new signing secret: shown to the creator once, stored
    /// sealed under the master key.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        fields: &EndpointFields,
        allow_private: bool,
    ) -> Result<Done<(i64, Secret)>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let fields = checked(&mut work, fields, allow_private).await?;
        let id = work.insert_webhook_endpoint(org, &fields, &actor.to_string()).await?;
        let secret = Secret::new(webhook::new_secret());
        work.set_webhook_secret(id, &self.seal(&secret_context(id), secret.expose()))
            .await?;
        work.audit(
            actor,
            Action::WebhookCreate,
            format!("webhook/{id}"),
            described(&fields),
        )
        .await?;
        work.finish((id, secret)).await
    }

    /// Changes an endpoint's URL, description, topics and components (its secret stays).
    pub async fn edit_webhook(
        &self,
        actor: &Actor,
        id: i64,
        fields: &EndpointFields,
        allow_private: bool,
    ) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let before = work.webhook_endpoint_now(org, id).await?;
        let fields = checked(&mut work, fields, allow_private).await?;
        work.update_webhook_endpoint(org, id, &fields).await?;
        let details = json!({"from": {"url": shown_url(&before.url), "description": before.description}, "to": described(&fields)});
        work.audit(actor, Action::WebhookEdit, format!("webhook/{id}"), details)
            .await?;
        work.finish(()).await
    }

    /// Deletes an endpoint with its deliveries and their log.
    pub async fn delete_webhook(&self, actor: &Actor, id: i64) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let endpoint = work.webhook_endpoint_now(org, id).await?;
        work.delete_webhook_endpoint(org, id).await?;
        work.audit(
            actor,
            Action::WebhookDelete,
            format!("webhook/{id}"),
            json!({"url": shown_url(&endpoint.url), "description": endpoint.description}),
        )
        .await?;
        work.finish(()).await
    }

    /// Delivers to a disabled endpoint again; what waited for it is due now. `false` when it
    /// was enabled already (nothing recorded).
    pub async fn enable_webhook(&self, actor: &Actor, id: i64) -> Result<Done<bool>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let endpoint = work.webhook_endpoint_now(org, id).await?;
        if !work.enable_webhook_endpoint(org, id).await? {
            return work.finish(false).await;
        }
        let details =
            json!({"enabled": true, "url": shown_url(&endpoint.url), "was_disabled_because": endpoint.disabled_reason});
        work.audit(actor, Action::WebhookEdit, format!("webhook/{id}"), details)
            .await?;
        work.finish(true).await
    }

    /// Stops deliveries to an endpoint: by hand (a person), or by the webhook worker
    /// (`Actor::System`) when the receiver answered 410 Gone or kept failing, in which case the
    /// owners are mailed. Deliveries wait until it is enabled again. `false` when it was
    /// disabled already (nothing recorded, nobody mailed).
    pub async fn disable_webhook(&self, actor: &Actor, id: i64, reason: &str) -> Result<Done<bool>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let endpoint = work.webhook_endpoint_now(org, id).await?;
        if !work.disable_webhook_endpoint(org, id, reason).await? {
            return work.finish(false).await;
        }
        if *actor == Actor::System {
            let org_name = org_name(&mut work).await?;
            let page = format!("{}/admin/webhooks/{id}", self.public_url());
            let what = if endpoint.description.is_empty() {
                shown_url(&endpoint.url)
            } else {
                format!("{} ({})", endpoint.description, shown_url(&endpoint.url))
            };
            for owner in work.owner_emails(org).await? {
                let parts = [
                    Part::Text(format!(
                        "Candor stopped sending events of {} trust center to the webhook endpoint {what}.\n\nWhy: {reason}\n\nWhile it is disabled, new events are not queued for it. Deliveries that were still waiting are sent once you enable it again on its page, and any delivery in its log can be sent again from there:",
                        candor_core::grammar::possessive(&org_name)
                    )),
                    Part::Link(page.clone()),
                ];
                work.mail(&compose(
                    &owner,
                    "A webhook endpoint was disabled".into(),
                    &parts,
                    "webhook-disabled",
                ))
                .await?;
            }
        }
        work.audit(
            actor,
            Action::WebhookDisable,
            format!("webhook/{id}"),
            json!({"url": shown_url(&endpoint.url), "reason": reason}),
        )
        .await?;
        work.finish(true).await
    }

    /// Sends a delivery again now, with the same message id. The endpoint must be enabled.
    pub async fn resend_webhook(&self, actor: &Actor, endpoint: i64, delivery: i64) -> Result<Done<WebhookDelivery>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let e = work.webhook_endpoint_now(org, endpoint).await?;
        if !e.enabled {
            return Err(Error::Conflict(
                "This endpoint is disabled: enable it first, then send the delivery again.".into(),
            ));
        }
        let was = work.resend_webhook(org, endpoint, delivery).await?;
        work.audit(
            actor,
            Action::WebhookResend,
            format!("webhook/{endpoint}"),
            json!({"delivery": delivery, "message_id": was.message_id, "event": was.event_type, "attempts_before": was.attempts}),
        )
        .await?;
        work.finish(was).await
    }

    /// One round of the webhook worker: every due delivery of an enabled endpoint is attempted.
    /// The effects are those of the endpoints it disabled (their audit entries and mail).
    pub async fn deliver_webhooks(&self, sender: &WebhookSender, policy: &WebhookPolicy) -> Result<Done<WebhookRound>> {
        let host = Host {
            app: self,
            effects: std::sync::Mutex::new(Effects::default()),
        };
        let round = webhook::deliver_due(self.store(), sender, policy, &host).await?;
        let effects = host.effects.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok(Done { value: round, effects })
    }
}

/// The use cases, as the webhook worker sees them.
struct Host<'a> {
    app: &'a App,
    effects: std::sync::Mutex<Effects>,
}

impl WebhookHost for Host<'_> {
    fn secret(&self, delivery: &DueDelivery) -> std::result::Result<String, String> {
        self.app
            .open(&secret_context(delivery.endpoint_id), &delivery.secret_sealed)
            .map(|s| s.expose().to_owned())
            .map_err(|e| e.to_string())
    }

    async fn disable(&self, _org: i64, endpoint: i64, reason: String) -> std::result::Result<(), String> {
        let done = self
            .app
            .disable_webhook(&Actor::System, endpoint, &reason)
            .await
            .map_err(|e| e.to_string())?;
        match self.effects.lock() {
            Ok(mut effects) => effects.merge(done.effects),
            Err(poisoned) => poisoned.into_inner().merge(done.effects),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_shown_without_path_or_query() {
        assert_eq!(
            super::shown_url("https://hooks.example.com/services/T0/B0/secret?x=1"),
            "https://hooks.example.com/…"
        );
        assert_eq!(super::shown_url("http://10.0.0.2:8080"), "http://10.0.0.2:8080");
    }
}
