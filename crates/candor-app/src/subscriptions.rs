//! Subscriptions: one system for every kind of event ([`TrustEvent`]), by email and by webhook.
//!
//! [`fan_out`] runs inside the use case whose change is the event: it queues one mail per
//! confirmed subscriber who follows the event's topic (and, for status events, one of its
//! components) and one webhook delivery per enabled endpoint that takes it, in that same
//! transaction. Nothing is sent if the change does not commit, and nothing is lost if a mail
//! server or receiver is down: the outboxes retry.
//!
//! Email subscriptions are double opt-in. Asking to subscribe gives the same answer, and sends
//! one mail, whether the address is new (a confirmation link), waiting for confirmation (a new
//! link) or confirmed already (a link to manage the subscription instead). Every notice carries
//! RFC 8058 one-click unsubscribe headers with the subscriber's link.

use crate::mail::{compose, Part};
use crate::{Action, Actor, App, Done, Error, Result, Work};
use candor_core::content::FieldError;
use candor_core::events::{Topic, TrustEvent};
use candor_core::Kind;
use candor_crypto::{random_token, token_digest, Secret};
use candor_store::{LinkState, NewEmail, NewSubscriber, Subscriber};
use serde_json::{json, Value};

mod content_events;
pub(crate) use content_events::content_changed;

/// How long a confirmation link works.
pub const CONFIRM_LINK_SECS: i64 = 48 * 3600;

/// What a person chose to follow.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    pub topics: Vec<Topic>,
    /// Status components; empty means all. Kept only when the status topic is chosen.
    pub components: Vec<i64>,
}

/// What the unsubscribe link's page says happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unsubscribed {
    /// This address will get no more mail.
    Done { email: String },
    /// No subscription uses this link (any more).
    Unknown,
}

/// What binds a subscriber's sealed link token to its row.
fn token_context(org: i64, email: &str) -> String {
    format!("subscriber:{org}:{email}")
}

/// Queues mail and webhook deliveries for `event` inside the caller's transaction.
pub(crate) async fn fan_out(work: &mut Work, event: &TrustEvent) -> Result<()> {
    let org = work.org();
    let subscribers: Vec<Subscriber> = work
        .confirmed_subscribers(org, event.topic)
        .await?
        .into_iter()
        .filter(|s| s.wants(event.topic, &event.components))
        .collect();
    if !subscribers.is_empty() {
        let org_name = org_name(work).await?;
        for s in &subscribers {
            let token = work.app().open(&token_context(org, &s.email), &s.unsubscribe_sealed)?;
            let mail = notice_mail(work.app().public_url(), &org_name, s, event, &token);
            work.mail(&mail).await?;
        }
    }
    queue_webhooks(work, event.topic, &event.components, &event.kind, &event.data).await
}

/// Queues one delivery of event `kind` (with `data` as the payload's `data`) per enabled
/// endpoint that takes `topic` (and, for status events, one of `components`), inside the
/// caller's transaction.
pub(crate) async fn queue_webhooks(
    work: &mut Work,
    topic: Topic,
    components: &[i64],
    kind: &str,
    data: &Value,
) -> Result<()> {
    let org = work.org();
    let endpoints: Vec<_> = work
        .enabled_webhook_endpoints(org, topic)
        .await?
        .into_iter()
        .filter(|e| e.wants(topic, components))
        .collect();
    if !endpoints.is_empty() {
        let payload = json!({
            "type": kind,
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        })
        .to_string();
        // One id per event, the same for every endpoint and every attempt: the receiver's
        // idempotency key.
        let message_id = format!("msg_{}", &random_token().expose()[..26]);
        for e in endpoints {
            work.queue_webhook(org, e.id, &message_id, kind, &payload).await?;
        }
    }
    Ok(())
}

/// The organization's name as published, for mail.
pub(crate) async fn org_name(work: &mut Work) -> Result<String> {
    let org = work.org();
    let profile = work
        .item(org, Kind::Profile, candor_core::contentdir::PROFILE_SLUG)
        .await?;
    Ok(profile
        .and_then(|p| p.published)
        .and_then(|b| b.get("name").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "the trust center".to_owned()))
}

fn links(public_url: &str, token: &Secret) -> (String, String) {
    (
        format!("{public_url}/subscriptions/manage/{}", token.expose()),
        format!("{public_url}/subscriptions/unsubscribe/{}", token.expose()),
    )
}

/// One notice: the event's words, where to read more, and how to change or end the
/// subscription, with the one-click unsubscribe headers (RFC 8058).
fn notice_mail(public_url: &str, org_name: &str, s: &Subscriber, event: &TrustEvent, token: &Secret) -> NewEmail {
    let (manage, unsubscribe) = links(public_url, token);
    let mut parts = vec![Part::Text(event.text.clone())];
    if !event.path.is_empty() {
        parts.push(Part::Link(format!("{public_url}{}", event.path)));
    }
    parts.push(Part::Text(format!(
        "You receive this because you subscribed to \"{}\" on {} trust center. To choose what you receive:",
        event.topic.label(),
        candor_core::grammar::possessive(org_name)
    )));
    parts.push(Part::Link(manage));
    parts.push(Part::Text("To unsubscribe:".into()));
    parts.push(Part::Link(unsubscribe.clone()));
    let mut mail = compose(&s.email, event.title.clone(), &parts, "subscription-notice");
    mail.headers = vec![
        ("List-Unsubscribe".into(), format!("<{unsubscribe}>")),
        ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
    ];
    mail
}

fn confirm_mail(public_url: &str, org_name: &str, email: &str, token: &Secret) -> NewEmail {
    let parts = [
        Part::Text(format!(
            "Someone, probably you, asked to be told by email of changes on {} trust center. To confirm, open this link and press the button (it works once, within 48 hours):",
            candor_core::grammar::possessive(org_name)
        )),
        Part::Link(format!("{public_url}/subscriptions/confirm/{}", token.expose())),
        Part::Text("If you did not ask, ignore this message: nothing will be sent to you.".into()),
    ];
    compose(
        email,
        format!("Confirm your subscription to {org_name}"),
        &parts,
        "subscription-confirm",
    )
}

fn manage_mail(public_url: &str, org_name: &str, email: &str, token: &Secret) -> NewEmail {
    let (manage, _) = links(public_url, token);
    let parts = [
        Part::Text(format!(
            "Someone, probably you, asked to subscribe this address to {} trust center. It is subscribed already. To change what you receive, or to unsubscribe, open:",
            candor_core::grammar::possessive(org_name)
        )),
        Part::Link(manage),
        Part::Text("If you did not ask, ignore this message: nothing has changed.".into()),
    ];
    compose(
        email,
        format!("Your subscription to {org_name}"),
        &parts,
        "subscription-manage",
    )
}

/// The choice checked against the rules: at least one topic, known components (only with the
/// status topic), no repeats.
pub(crate) async fn checked(work: &mut Work, choice: &Choice) -> Result<Choice> {
    checked_among(work, choice, &Topic::WEBHOOK).await
}

/// [`checked`], with the topics limited to `allowed` (email subscribers may follow only the
/// public ones).
async fn checked_among(work: &mut Work, choice: &Choice, allowed: &[Topic]) -> Result<Choice> {
    if choice.topics.iter().any(|t| !allowed.contains(t)) {
        return Err(Error::Invalid(vec![FieldError::new(
            "topics",
            "choose from the topics listed",
        )]));
    }
    let mut topics = choice.topics.clone();
    topics.sort();
    topics.dedup();
    if topics.is_empty() {
        return Err(Error::Invalid(vec![FieldError::new(
            "topics",
            "choose at least one topic",
        )]));
    }
    let mut components = if topics.contains(&Topic::Status) {
        choice.components.clone()
    } else {
        vec![]
    };
    components.sort_unstable();
    components.dedup();
    if !components.is_empty() {
        let org = work.org();
        let known = work.status_components_now(org).await?;
        if components.iter().any(|c| !known.iter().any(|k| k.id == *c)) {
            return Err(Error::Invalid(vec![FieldError::new(
                "components",
                "choose from the components listed",
            )]));
        }
    }
    Ok(Choice { topics, components })
}

fn topic_names(topics: &[Topic]) -> Vec<&'static str> {
    topics.iter().map(|t| t.as_str()).collect()
}

impl App {
    /// Someone asks to be told. One mail goes out whatever the address's state, and the caller
    /// shows the same answer: a confirmation link for a new or pending address (a pending one
    /// gets its choice replaced), a link to manage the subscription for a confirmed one (whose
    /// choice does not change here).
    pub async fn subscribe(&self, ip: &str, email: &str, choice: &Choice) -> Result<Done<()>> {
        let email = email.trim().to_lowercase();
        if !candor_core::requests::valid_email(&email) {
            return Err(Error::Invalid(vec![FieldError::new(
                "email",
                "enter an address like you@company.com",
            )]));
        }
        let mut work = self.begin().await?;
        let org = work.org();
        let choice = checked_among(&mut work, choice, &Topic::ALL).await?;
        let org_name = org_name(&mut work).await?;
        let confirm = random_token();
        let expires = candor_store::now() + CONFIRM_LINK_SECS;
        let (id, was, mail) = match work.subscriber_by_email(org, &email).await? {
            Some(s) if s.confirmed_at.is_some() => {
                let token = self.open(&token_context(org, &email), &s.unsubscribe_sealed)?;
                (
                    s.id,
                    "confirmed",
                    manage_mail(self.public_url(), &org_name, &email, &token),
                )
            }
            Some(s) => {
                work.renew_pending_subscriber(
                    s.id,
                    &choice.topics,
                    &choice.components,
                    &token_digest(confirm.expose()),
                    expires,
                )
                .await?;
                (
                    s.id,
                    "pending",
                    confirm_mail(self.public_url(), &org_name, &email, &confirm),
                )
            }
            None => {
                let link = random_token();
                let new = NewSubscriber {
                    email: email.clone(),
                    topics: choice.topics.clone(),
                    components: choice.components.clone(),
                    confirm_digest: token_digest(confirm.expose()),
                    confirm_expires_at: expires,
                    unsubscribe_digest: token_digest(link.expose()),
                    unsubscribe_sealed: self.seal(&token_context(org, &email), link.expose()),
                };
                let id = work.insert_subscriber(org, &new).await?;
                (id, "new", confirm_mail(self.public_url(), &org_name, &email, &confirm))
            }
        };
        work.mail(&mail).await?;
        let actor = Actor::Visitor {
            email: email.clone(),
            ip: ip.to_owned(),
        };
        let details =
            json!({"email": email, "was": was, "topics": topic_names(&choice.topics), "components": choice.components});
        work.audit(&actor, Action::SubscriptionRequest, format!("subscriber/{id}"), details)
            .await?;
        work.finish(()).await
    }

    /// The button on a confirmation link's page. `None` when the link cannot be used (the
    /// caller shows why, from [`candor_store::Store::confirm_link_state`]); otherwise the
    /// subscriber and their link token, for the manage page.
    pub async fn confirm_subscription(&self, ip: &str, token: &str) -> Result<Done<Option<(Subscriber, Secret)>>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let Some(s) = work.confirm_subscriber(&token_digest(token)).await? else {
            return work.finish(None).await;
        };
        let link = self.open(&token_context(org, &s.email), &s.unsubscribe_sealed)?;
        let actor = Actor::Visitor {
            email: s.email.clone(),
            ip: ip.to_owned(),
        };
        let details = json!({"email": s.email, "topics": topic_names(&s.topics), "components": s.components});
        work.audit(
            &actor,
            Action::SubscriptionConfirm,
            format!("subscriber/{}", s.id),
            details,
        )
        .await?;
        work.finish(Some((s, link))).await
    }

    /// A subscriber changes what they follow, from the link in their mail.
    pub async fn change_subscription(&self, ip: &str, token: &str, choice: &Choice) -> Result<Done<Subscriber>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let s = work
            .subscriber_by_token_now(&token_digest(token))
            .await?
            .ok_or_else(|| Error::NotFound("subscription".into()))?;
        let choice = checked_among(&mut work, choice, &Topic::ALL).await?;
        work.set_subscriber_topics(org, s.id, &choice.topics, &choice.components)
            .await?;
        let actor = Actor::Visitor {
            email: s.email.clone(),
            ip: ip.to_owned(),
        };
        let details = json!({
            "from": {"topics": topic_names(&s.topics), "components": s.components},
            "to": {"topics": topic_names(&choice.topics), "components": choice.components},
        });
        work.audit(
            &actor,
            Action::SubscriptionChange,
            format!("subscriber/{}", s.id),
            details,
        )
        .await?;
        let changed = Subscriber {
            topics: choice.topics,
            components: choice.components,
            ..s
        };
        work.finish(changed).await
    }

    /// Ends a subscription from its link: the subscriber and all kept about them are deleted.
    /// `how` says which way (`one-click` from a mail client, `page` from the link's page).
    pub async fn unsubscribe(&self, ip: &str, token: &str, how: &str) -> Result<Done<Unsubscribed>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let Some(s) = work.subscriber_by_token_now(&token_digest(token)).await? else {
            return work.finish(Unsubscribed::Unknown).await;
        };
        work.delete_subscriber(org, s.id).await?;
        let actor = Actor::Visitor {
            email: s.email.clone(),
            ip: ip.to_owned(),
        };
        work.audit(
            &actor,
            Action::SubscriptionUnsubscribe,
            format!("subscriber/{}", s.id),
            json!({"email": s.email, "how": how}),
        )
        .await?;
        work.finish(Unsubscribed::Done { email: s.email }).await
    }

    /// Removes a subscriber from the back office.
    pub async fn remove_subscriber(&self, actor: &Actor, id: i64) -> Result<Done<Subscriber>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let s = work
            .delete_subscriber(org, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("subscriber {id}")))?;
        work.audit(
            actor,
            Action::SubscriptionRemove,
            format!("subscriber/{id}"),
            json!({"email": s.email, "confirmed": s.confirmed_at.is_some()}),
        )
        .await?;
        work.finish(s).await
    }

    /// What a confirmation link is, without using it.
    pub async fn confirm_link(&self, token: &str) -> Result<LinkState<Subscriber>> {
        Ok(self.store().confirm_link_state(&token_digest(token)).await?)
    }

    /// The confirmed subscriber a manage or unsubscribe link belongs to.
    pub async fn subscriber_by_link(&self, token: &str) -> Result<Option<Subscriber>> {
        Ok(self.store().subscriber_by_token(&token_digest(token)).await?)
    }
}

#[cfg(test)]
mod fan_out_tests;
