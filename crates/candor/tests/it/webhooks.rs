//! Webhooks against a real receiver (`scripts/lib/webhook_receiver.py`) that checks every
//! signature with the PyPI package `standardwebhooks`, an implementation of the Standard Webhooks
//! specification that is not Candor's. Events come from the content use cases (a subprocessor
//! published), as in production.

use crate::harness::{csrf_of, shown_once};
use crate::services::{fast_retry, start, unavailable, MailSink, Service};
use crate::{both_dbs_fn, Db, TestApp};
use candor_store::DeliveryStatus;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// A webhook receiver that verifies signatures independently and answers as told.
pub struct Receiver {
    pub url: String,
    dir: tempfile::TempDir,
    _service: Service,
}

/// One request the receiver got.
#[derive(Debug)]
pub struct Received {
    pub status: u16,
    pub verified: bool,
    pub error: Option<String>,
    pub id: String,
    pub body: serde_json::Value,
}

impl Receiver {
    /// `None` (skipped, or a failure under CI) when Python's `standardwebhooks` is missing.
    pub async fn start() -> Option<Receiver> {
        let has_library = std::process::Command::new("python3")
            .args(["-c", "import standardwebhooks"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_library {
            return unavailable(
                "Python's standardwebhooks (the independent signature check)",
                "pip install standardwebhooks (scripts/test does)",
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap().to_owned();
        let service = start("python3", &["scripts/lib/webhook_receiver.py", &path], &[]).await;
        Some(Receiver {
            url: format!("http://127.0.0.1:{}/hooks/candor", service.ready),
            dir,
            _service: service,
        })
    }

    /// The secret the receiver verifies with.
    pub fn set_secret(&self, secret: &str) {
        std::fs::write(self.dir.path().join("secret"), secret).unwrap();
    }

    /// The statuses of the next answers (then 204).
    pub fn plan(&self, statuses: &[u16]) {
        let text: Vec<String> = statuses.iter().map(u16::to_string).collect();
        std::fs::write(self.dir.path().join("plan"), text.join(" ")).unwrap();
    }

    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                Received {
                    status: v["status"].as_u64().unwrap() as u16,
                    verified: v["verified"].as_bool().unwrap(),
                    error: v["error"].as_str().map(str::to_owned),
                    id: v["headers"]["webhook-id"].as_str().unwrap_or("").to_owned(),
                    body: serde_json::from_str(v["body"].as_str().unwrap()).unwrap(),
                }
            })
            .collect()
    }

    /// Waits up to 20 s until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} webhook request(s), got {}", self.received().len());
    }
}

/// An app whose webhooks may go to loopback, with quick retries, and mail to `smtp` if given.
async fn app_for_webhooks(db: Db, allow_private: bool, max_attempts: i64, smtp: Option<u16>) -> Option<TestApp> {
    TestApp::start_configured(db, true, |c| {
        c.webhooks.allow_private = allow_private;
        c.webhooks.max_attempts = max_attempts;
        c.webhooks.retry = fast_retry();
        c.webhooks.retry.max_retry = Duration::from_secs(1);
        c.smtp = smtp.map(MailSink::settings);
        c.mail_retry = fast_retry();
    })
    .await
}

/// Adds an endpoint in the back office; returns its id and the secret shown once.
async fn add_endpoint(app: &TestApp, url: &str, topics: &[&str]) -> (i64, String) {
    let (status, page) = app.get_text("/admin/webhooks").await;
    assert_eq!(status, 200, "{page}");
    let csrf = csrf_of(&page);
    let mut form = vec![("_csrf", csrf.as_str()), ("url", url), ("description", "Test receiver")];
    form.extend(topics.iter().map(|t| ("topics", *t)));
    let r = app.post_form("/admin/webhooks", &form).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let secret = shown_once(&page);
    assert!(secret.starts_with("whsec_"), "{secret}");
    let id = app
        .store
        .webhook_endpoints(app.state.org())
        .await
        .unwrap()
        .last()
        .unwrap()
        .id;
    (id, secret)
}

/// Publishes a new subprocessor through the content use case, as an editor would.
pub async fn publish_subprocessor(app: &TestApp, slug: &str, name: &str) {
    let body = serde_json::json!({
        "name": name,
        "purpose": "Sends transactional email.",
        "data": ["Email addresses"],
        "locations": ["European Union"],
        "added": "2026-01-15",
    });
    let actor = candor_app::Actor::System;
    let slug = candor_core::Slug::parse(slug).unwrap();
    let done = app
        .state
        .app()
        .create(&actor, candor_core::Kind::Subprocessor, &slug, &body, true)
        .await
        .unwrap();
    app.state.apply(done.effects).await;
}

/// Waits up to 20 s until the endpoint's newest delivery is no longer pending.
async fn settled(app: &TestApp, endpoint: i64) -> Vec<candor_store::WebhookDelivery> {
    for _ in 0..200 {
        let d = app
            .store
            .webhook_deliveries(app.state.org(), endpoint, 10)
            .await
            .unwrap();
        if d.first().is_some_and(|d| d.status != DeliveryStatus::Pending) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the delivery did not settle");
}

async fn signed_and_verified(db: Db) {
    let Some(receiver) = Receiver::start().await else {
        return;
    };
    let Some(app) = app_for_webhooks(db, true, 14, None).await else {
        return;
    };
    app.sign_in_owner().await;
    let (id, secret) = add_endpoint(&app, &receiver.url, &["subprocessors"]).await;
    receiver.set_secret(&secret);
    // An endpoint of another topic gets nothing.
    let (other, _) = add_endpoint(&app, &receiver.url, &["policies"]).await;

    publish_subprocessor(&app, "mailfast", "Mailfast Ltd").await;
    let got = receiver.wait_for(1).await;
    let first = &got[0];
    assert!(
        first.verified,
        "standardwebhooks refused the signature: {:?}",
        first.error
    );
    assert!(first.id.starts_with("msg_"), "{}", first.id);
    assert_eq!(first.body["type"], "subprocessor.added");
    assert_eq!(first.body["data"]["subprocessor"]["name"], "Mailfast Ltd");
    assert!(chrono::DateTime::parse_from_rfc3339(first.body["timestamp"].as_str().unwrap()).is_ok());
    let deliveries = settled(&app, id).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].status, DeliveryStatus::Delivered);
    assert!(app
        .store
        .webhook_deliveries(app.state.org(), other, 10)
        .await
        .unwrap()
        .is_empty());

    // The secret is never shown again, and is not stored as it is.
    let (_, page) = app.get_text(&format!("/admin/webhooks/{id}")).await;
    assert!(!page.contains(&secret) && page.contains("Delivered"), "{page}");
    let key = secret.trim_start_matches("whsec_");
    let dump = format!("{:?}", app.store.webhook_endpoints(app.state.org()).await.unwrap());
    assert!(!dump.contains(key));

    // Sent again by hand: the same message id, signed afresh, verified again.
    let csrf = csrf_of(&page);
    let r = app
        .post_form(
            &format!("/admin/webhooks/{id}/deliveries/{}/resend", deliveries[0].id),
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let got = receiver.wait_for(2).await;
    assert!(got[1].verified, "{:?}", got[1].error);
    assert_eq!(got[1].id, first.id);
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    for action in ["webhook.create", "webhook.resend"] {
        assert!(entries.iter().any(|e| e.record.action == action), "{action}");
    }

    // A master key rotation re-wraps the sealed secrets: signing goes on with the same secret.
    let actor = candor_app::Actor::Cli { os_user: "test".into() };
    let rotation = app.state.app().rotate_keys(&actor, None).await.unwrap().value;
    assert_eq!(rotation.secrets, 2, "both endpoints' secrets: {rotation:?}");
    assert_eq!(rotation.retired.len(), 1);
    publish_subprocessor(&app, "after-rotation", "After Rotation Ltd").await;
    let got = receiver.wait_for(3).await;
    assert!(got[2].verified, "{:?}", got[2].error);
}
both_dbs_fn!(webhooks_are_signed_per_the_specification, signed_and_verified);

async fn fails_twice(db: Db) {
    let Some(receiver) = Receiver::start().await else {
        return;
    };
    let Some(app) = app_for_webhooks(db, true, 14, None).await else {
        return;
    };
    app.sign_in_owner().await;
    let (id, secret) = add_endpoint(&app, &receiver.url, &["subprocessors"]).await;
    receiver.set_secret(&secret);
    receiver.plan(&[500, 503]);
    publish_subprocessor(&app, "mailfast", "Mailfast Ltd").await;
    let deliveries = settled(&app, id).await;
    assert_eq!(deliveries.len(), 1, "one event, one delivery");
    let d = &deliveries[0];
    assert_eq!(d.status, DeliveryStatus::Delivered);
    assert_eq!(d.attempts, 3);
    let statuses: Vec<Option<i64>> = d.log.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(204)]);
    let got = receiver.received();
    assert_eq!(got.len(), 3, "exactly three requests: {got:?}");
    assert!(got.iter().all(|r| r.verified && r.id == d.message_id), "{got:?}");
    let answered: Vec<u16> = got.iter().map(|r| r.status).collect();
    assert_eq!(answered, [500, 503, 204]);
    let endpoint = app.store.webhook_endpoint(app.state.org(), id).await.unwrap().unwrap();
    assert!(endpoint.enabled);
    assert_eq!(endpoint.consecutive_failures, 0, "a delivery clears the count");
}
both_dbs_fn!(a_receiver_that_fails_twice_gets_one_delivery, fails_twice);

async fn gone(db: Db) {
    let Some(receiver) = Receiver::start().await else {
        return;
    };
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_for_webhooks(db, true, 14, Some(sink.port)).await else {
        return;
    };
    app.sign_in_owner().await;
    let (id, secret) = add_endpoint(&app, &receiver.url, &["subprocessors"]).await;
    receiver.set_secret(&secret);
    receiver.plan(&[410]);
    publish_subprocessor(&app, "mailfast", "Mailfast Ltd").await;
    let deliveries = settled(&app, id).await;
    assert_eq!(deliveries[0].status, DeliveryStatus::Failed);
    assert_eq!(deliveries[0].attempts, 1, "410 is not retried");
    let endpoint = app.store.webhook_endpoint(app.state.org(), id).await.unwrap().unwrap();
    assert!(!endpoint.enabled);
    assert!(endpoint.disabled_reason.unwrap().contains("410"));

    // The owner is told, and the log says the system did it.
    let mails = sink.wait_for(1).await;
    assert!(
        mails[0].contains(&format!("X-Envelope-To: {}", crate::harness::OWNER_EMAIL)),
        "{}",
        mails[0]
    );
    assert!(
        mails[0].contains("Subject: A webhook endpoint was disabled"),
        "{}",
        mails[0]
    );
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    let disabled = entries
        .iter()
        .find(|e| e.record.action == "webhook.disable")
        .expect("audited");
    assert_eq!(disabled.record.actor, "system");

    // While it is disabled nothing is queued for it; enabled again, it takes new events.
    publish_subprocessor(&app, "second", "Second Ltd").await;
    assert_eq!(
        app.store
            .webhook_deliveries(app.state.org(), id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let (_, page) = app.get_text(&format!("/admin/webhooks/{id}")).await;
    let r = app
        .post_form(&format!("/admin/webhooks/{id}/enable"), &[("_csrf", &csrf_of(&page))])
        .await;
    assert_eq!(r.status(), 303);
    publish_subprocessor(&app, "third", "Third Ltd").await;
    let got = receiver.wait_for(2).await;
    assert!(got[1].verified);
    assert_eq!(got[1].body["data"]["subprocessor"]["name"], "Third Ltd");
}
both_dbs_fn!(gone_disables_the_endpoint_and_mails_the_owner, gone);

async fn private_refused(db: Db) {
    let Some(receiver) = Receiver::start().await else {
        return;
    };
    let Some(app) = app_for_webhooks(db, false, 2, None).await else {
        return;
    };
    app.sign_in_owner().await;
    // An address written as such is refused when the endpoint is saved.
    let (_, page) = app.get_text("/admin/webhooks").await;
    let r = app
        .post_form(
            "/admin/webhooks",
            &[
                ("_csrf", &csrf_of(&page)),
                ("url", &receiver.url),
                ("topics", "subprocessors"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("loopback"), "{page}");
    assert!(app.store.webhook_endpoints(app.state.org()).await.unwrap().is_empty());

    // A name is checked when sending: `localhost` resolves to loopback, so nothing is sent,
    // and after the allowed attempts the endpoint is disabled.
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let (id, _) = add_endpoint(&app, &by_name, &["subprocessors"]).await;
    publish_subprocessor(&app, "mailfast", "Mailfast Ltd").await;
    let deliveries = settled(&app, id).await;
    assert_eq!(deliveries[0].status, DeliveryStatus::Failed);
    assert_eq!(deliveries[0].log.len(), 2);
    for attempt in &deliveries[0].log {
        assert_eq!(attempt.status, None);
        assert!(attempt.error.as_deref().unwrap().starts_with("refused"), "{attempt:?}");
    }
    assert!(receiver.received().is_empty(), "the receiver was never called");
    let endpoint = app.store.webhook_endpoint(app.state.org(), id).await.unwrap().unwrap();
    assert!(!endpoint.enabled, "disabled after persistent failure");
    assert!(endpoint.disabled_reason.unwrap().contains("2 attempts"));
}
both_dbs_fn!(private_and_loopback_receivers_are_refused, private_refused);
