//! `fan_out` for status events, the lead's use cases' path, on a real SQLite database: who hears
//! of an event about some components, of one about none, and which webhook endpoints get it.

use super::{fan_out, Choice};
use crate::{Actor, App};
use candor_core::events::{Topic, TrustEvent};
use candor_store::{ComponentFields, EndpointFields, Store};

async fn app(dir: &std::path::Path) -> App {
    let store = Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
        .await
        .unwrap();
    let org = store.ensure_org("default").await.unwrap();
    let blobs = candor_blob::BlobStore::open(&candor_blob::Backend::Local(dir.join("blobs"))).unwrap();
    let ring = candor_crypto::envelope::KeyRing::generate();
    App::new(store, org, blobs, ring, dir.to_path_buf(), None).with_public_url("https://trust.example")
}

async fn component(app: &App, name: &str) -> i64 {
    let mut work = app.begin().await.unwrap();
    let org = work.org();
    let fields = ComponentFields {
        group_id: None,
        name: name.into(),
        description: String::new(),
        showcase: true,
        only_show_if_degraded: false,
    };
    let id = work.create_status_component(org, &fields).await.unwrap();
    work.commit().await.unwrap();
    id
}

/// Subscribes and confirms with the link from the confirmation mail.
async fn subscriber(app: &App, email: &str, components: Vec<i64>) {
    let choice = Choice {
        topics: vec![Topic::Status],
        components,
    };
    let _ = app.subscribe("192.0.2.1", email, &choice).await.unwrap();
    let mail = app
        .store()
        .outbox(app.org(), 50)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.recipient == email && m.purpose == "subscription-confirm")
        .unwrap();
    let token = mail.body_text.split("/subscriptions/confirm/").nth(1).unwrap();
    let token: String = token.chars().take_while(|c| !c.is_whitespace()).collect();
    let done = app.confirm_subscription("192.0.2.1", &token).await.unwrap();
    assert!(done.value.is_some(), "confirmed");
}

fn event(components: Vec<i64>) -> TrustEvent {
    TrustEvent {
        kind: "incident.created".into(),
        topic: Topic::Status,
        components,
        title: "Investigating: slow API".into(),
        text: "We are looking into it.".into(),
        path: "/status/incidents/1".into(),
        data: serde_json::json!({"incident": {"id": 1}}),
    }
}

/// Runs `fan_out` in a use case's transaction; returns the notices' recipients (sorted) and how
/// many webhook deliveries it queued.
async fn notify(app: &App, e: &TrustEvent) -> (Vec<String>, usize) {
    let before = app.store().outbox(app.org(), 500).await.unwrap().len();
    let mut work = app.begin().await.unwrap();
    fan_out(&mut work, e).await.unwrap();
    let done = work.finish(()).await.unwrap();
    let mail = app.store().outbox(app.org(), 500).await.unwrap();
    let mut to: Vec<String> =
        mail[..mail.len() - before]
            .iter()
            .inspect(|m| {
                assert_eq!(m.purpose, "subscription-notice");
                assert!(m.headers.iter().any(|(n, v)| n == "List-Unsubscribe"
                    && v.starts_with("<https://trust.example/subscriptions/unsubscribe/")));
            })
            .map(|m| m.recipient.clone())
            .collect();
    to.sort();
    assert_eq!(done.effects.mail_queued, to.len());
    (to, done.effects.webhooks_queued)
}

#[tokio::test]
async fn status_events_reach_the_subscribers_and_endpoints_of_their_components() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (api, web) = (component(&app, "API").await, component(&app, "Website").await);
    subscriber(&app, "all@x.example", vec![]).await;
    subscriber(&app, "api@x.example", vec![api]).await;
    subscriber(&app, "web@x.example", vec![web]).await;
    let _ = app
        .subscribe(
            "192.0.2.1",
            "pending@x.example",
            &Choice {
                topics: vec![Topic::Status],
                components: vec![],
            },
        )
        .await
        .unwrap();
    let endpoint = |components| EndpointFields {
        url: "https://hooks.example.com/in".into(),
        description: String::new(),
        topics: vec![Topic::Status],
        components,
    };
    let admin = Actor::System;
    let _ = app.create_webhook(&admin, &endpoint(vec![web]), false).await.unwrap();
    let (off, _) = app
        .create_webhook(&admin, &endpoint(vec![]), false)
        .await
        .unwrap()
        .value;
    let _ = app
        .disable_webhook(&Actor::Cli { os_user: "t".into() }, off, "test")
        .await
        .unwrap();

    assert_eq!(
        notify(&app, &event(vec![api])).await,
        (vec!["all@x.example".to_owned(), "api@x.example".to_owned()], 0),
        "the API's incident: not the website's subscriber nor its endpoint, nor anyone unconfirmed"
    );
    assert_eq!(
        notify(&app, &event(vec![web, api])).await,
        (
            vec!["all@x.example".into(), "api@x.example".into(), "web@x.example".into()],
            1
        )
    );
    assert_eq!(
        notify(&app, &event(vec![])).await,
        (
            vec!["all@x.example".into(), "api@x.example".into(), "web@x.example".into()],
            1
        ),
        "an event about no component reaches every status subscriber"
    );
    let mut policies = event(vec![]);
    policies.topic = Topic::Policies;
    assert_eq!(notify(&app, &policies).await, (vec![], 0), "another topic");
}
