//! The outbox in the back office: mail that has not gone out, with its error, never its text;
//! "retry now" and "discard", audited; failures shown on the dashboard; only owners and admins.
//! Against a real SMTP server process that refuses, is down, then accepts.

use crate::access::user_with_role;
use crate::harness::{csrf_of, OWNER_EMAIL};
use crate::services::{fast_retry, link_in, MailSink};
use crate::{both_dbs, both_dbs_fn, Db, TestApp};
use candor_core::access::Role;
use candor_store::OutboxStatus;
use std::time::Duration;

const SUBJECT: &str = "Reset your Corvellan back-office password";

/// An app that sends mail to `port` with the given retry waits.
async fn app_with_mail(db: Db, port: u16, retry: candor_notify::RetryPolicy) -> Option<TestApp> {
    TestApp::start_configured(db, true, |c| {
        c.smtp = Some(MailSink::settings(port));
        c.mail_retry = retry;
    })
    .await
}

/// Retries far in the future: only "retry now" sends a message again within a test.
fn patient() -> candor_notify::RetryPolicy {
    candor_notify::RetryPolicy {
        first_retry: Duration::from_secs(3600),
        max_retry: Duration::from_secs(3600),
        poll: Duration::from_millis(200),
    }
}

/// Asks for a password reset for the owner from a fresh browser: one message queued.
async fn queue_reset_mail(app: &TestApp) {
    let b = app.new_browser();
    let (_, form) = b.get_text("/admin/forgot").await;
    let r = b
        .post_form("/admin/forgot", &[("_csrf", &csrf_of(&form)), ("email", OWNER_EMAIL)])
        .await;
    assert_eq!(r.status(), 200);
}

/// Waits until `ready` holds for the outbox (newest message first), up to 20 s.
async fn wait_until(app: &TestApp, what: &str, ready: impl Fn(&[candor_store::OutboxEmail]) -> bool) {
    for _ in 0..200 {
        let outbox = app.store.outbox(app.state.org(), 50).await.unwrap();
        if ready(&outbox) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: {:?}", app.store.outbox(app.state.org(), 50).await.unwrap());
}

/// The outbox entries of the audit log, oldest first: (actor, action, target, details).
async fn outbox_events(app: &TestApp) -> Vec<(String, String, String, serde_json::Value)> {
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    entries
        .into_iter()
        .rev()
        .filter(|e| e.record.action.starts_with("outbox."))
        .map(|e| (e.record.actor, e.record.action, e.record.target, e.record.details))
        .collect()
}

/// The mail server refuses the address for good: the message shows as failed with the server's
/// words, on the outbox page and the dashboard; "retry now" sends it once the server accepts.
async fn refused_then_retried(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    sink.refuse(true);
    let Some(app) = app_with_mail(db, sink.port, fast_retry()).await else {
        return;
    };
    app.sign_in_owner().await;
    queue_reset_mail(&app).await;
    wait_until(&app, "the refusal is recorded", |o| {
        o.first().is_some_and(|m| m.status == OutboxStatus::Failed)
    })
    .await;
    let failed = app.store.outbox(app.state.org(), 10).await.unwrap()[0].clone();
    assert_eq!(failed.attempts, 1);
    assert!(failed.last_error.as_deref().unwrap().contains("550"), "{failed:?}");

    let (status, page) = app.get_text("/admin/outbox").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("1 failed, 0 waiting"), "{page}");
    assert!(page.contains(OWNER_EMAIL) && page.contains(SUBJECT), "{page}");
    assert!(page.contains("password-reset") && page.contains("Failed"), "{page}");
    assert!(
        page.contains("no such mailbox here"),
        "the server's words are shown: {page}"
    );
    assert!(
        !page.contains("/admin/reset/") && !page.contains("within 30 minutes"),
        "a message's text (its link is a credential) is never shown: {page}"
    );
    let (_, dashboard) = app.get_text("/admin").await;
    assert!(
        dashboard.contains("Mail is not getting through: 1 refused for good") && dashboard.contains("/admin/outbox"),
        "{dashboard}"
    );

    // Without the form token nothing happens.
    let path = format!("/admin/outbox/{}/retry", failed.id);
    assert_eq!(app.post_form(&path, &[]).await.status(), 403);
    assert_eq!(
        app.store.outbox(app.state.org(), 10).await.unwrap()[0].status,
        OutboxStatus::Failed
    );

    // The address is fixed at the server; retry now.
    sink.refuse(false);
    let r = app.post_form(&path, &[("_csrf", &csrf_of(&page))]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/outbox?notice=mail-retried");
    let mails = sink.wait_for(1).await;
    assert!(
        mails[0].contains(&format!("X-Envelope-To: {OWNER_EMAIL}")),
        "{}",
        mails[0]
    );
    let link = link_in(&mails[0], &format!("{}/admin/reset/", app.base));
    assert!(link.len() > app.base.len() + 20, "the message went out with its text");
    wait_until(&app, "recorded as sent", |o| o[0].status == OutboxStatus::Sent).await;
    let sent = app.store.outbox(app.state.org(), 10).await.unwrap()[0].clone();
    assert_eq!(sent.attempts, 2, "attempts are kept across a retry");
    assert!(sent.body_text.is_empty(), "once sent, its text is erased");

    let (_, page) = app.get_text("/admin/outbox?notice=mail-retried").await;
    assert!(page.contains("Nothing is waiting"), "{page}");
    assert!(page.contains("the outbox tries to send it at once"), "{page}");
    let (_, dashboard) = app.get_text("/admin").await;
    assert!(!dashboard.contains("Mail is not getting through"), "{dashboard}");

    // A message that was sent is no longer the outbox's to retry or discard.
    let r = app.post_form(&path, &[("_csrf", &csrf_of(&page))]).await;
    assert_eq!(r.status(), 404);
    assert_eq!(sink.messages().len(), 1);

    let events = outbox_events(&app).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let (actor, action, target, details) = &events[0];
    assert_eq!(actor, &format!("user:{OWNER_EMAIL}"));
    assert_eq!(action, "outbox.retry");
    assert_eq!(target, &format!("outbox/{}", failed.id));
    assert_eq!(details["was"], "failed");
    assert_eq!(details["recipient"], OWNER_EMAIL);
}
both_dbs_fn!(
    refused_mail_shows_its_error_and_is_delivered_on_retry,
    refused_then_retried
);

/// The mail server is down: messages wait with their error. One is discarded and never sent;
/// the other goes out at once on "retry now", long before its next scheduled attempt.
async fn down_then_discarded_or_retried(db: Db) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(app) = app_with_mail(db, port, patient()).await else {
        return;
    };
    app.sign_in_owner().await;
    queue_reset_mail(&app).await;
    queue_reset_mail(&app).await;
    wait_until(&app, "both tried once and waiting", |o| {
        o.len() == 2
            && o.iter()
                .all(|m| m.attempts == 1 && m.status == OutboxStatus::Pending && m.last_error.is_some())
    })
    .await;
    let outbox = app.store.outbox(app.state.org(), 10).await.unwrap();
    let (newer, older) = (outbox[0].id, outbox[1].id);

    let (status, page) = app.get_text("/admin/outbox").await;
    assert_eq!(status, 200);
    assert!(page.contains("0 failed, 2 waiting"), "{page}");
    assert!(
        page.contains("Waiting") && page.contains("UTC"),
        "next attempt shown: {page}"
    );
    assert!(!page.contains("/admin/reset/"), "{page}");
    let (_, dashboard) = app.get_text("/admin").await;
    assert!(
        dashboard.contains("2 waiting to be tried again after an error"),
        "{dashboard}"
    );

    // Discard the older one.
    let csrf = csrf_of(&page);
    let r = app
        .post_form(&format!("/admin/outbox/{older}/discard"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/outbox?notice=mail-discarded");
    let left = app.store.outbox(app.state.org(), 10).await.unwrap();
    assert_eq!(left.iter().map(|m| m.id).collect::<Vec<_>>(), [newer]);
    let (_, page) = app.get_text("/admin/outbox?notice=mail-discarded").await;
    assert!(
        page.contains("Message discarded") && page.contains("0 failed, 1 waiting"),
        "{page}"
    );

    // The server comes up; the waiting message is not due for an hour, so nothing is sent...
    let Some(sink) = MailSink::start_on(port).await else {
        return;
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(sink.messages().is_empty());
    // ...until someone asks.
    let r = app
        .post_form(&format!("/admin/outbox/{newer}/retry"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    sink.wait_for(1).await;
    wait_until(&app, "recorded as sent", |o| o[0].status == OutboxStatus::Sent).await;
    let sent = app.store.outbox(app.state.org(), 10).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].attempts, 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 1, "the discarded message was never sent");

    let events: Vec<(String, String)> = outbox_events(&app)
        .await
        .into_iter()
        .map(|(_, action, target, _)| (action, target))
        .collect();
    assert_eq!(
        events,
        [
            ("outbox.discard".to_owned(), format!("outbox/{older}")),
            ("outbox.retry".to_owned(), format!("outbox/{newer}")),
        ]
    );
}
both_dbs_fn!(
    waiting_mail_is_discarded_or_sent_at_once_on_retry,
    down_then_discarded_or_retried
);

both_dbs!(
    only_owners_and_admins_see_and_act_on_the_outbox,
    |app: TestApp| async move {
        let owner_csrf = app.sign_in_owner().await;
        // A message the mail server refused (none is configured here, so it is put in place).
        let org = app.state.org();
        app.store
            .enqueue_email(
                org,
                &candor_store::NewEmail {
                    recipient: "someone@corvellan.example".into(),
                    subject: SUBJECT.into(),
                    body_text: "a link".into(),
                    body_html: None,
                    purpose: "password-reset".into(),
                    headers: vec![],
                },
            )
            .await
            .unwrap();
        let id = app.store.outbox(org, 10).await.unwrap()[0].id;
        app.store.mark_email_failed(id, "550 refused").await.unwrap();

        for role in [Role::Editor, Role::Auditor, Role::AccessManager, Role::Triager] {
            let b = user_with_role(&app, &owner_csrf, role).await;
            let (status, page) = b.get_text("/admin/outbox").await;
            assert_eq!(status, 403, "{role:?}: {page}");
            let (_, dashboard) = b.get_text("/admin").await;
            assert!(
                !dashboard.contains("/admin/outbox"),
                "{role:?} is not shown the outbox: {dashboard}"
            );
            let csrf = csrf_of(&dashboard);
            for action in ["retry", "discard"] {
                let r = b
                    .post_form(&format!("/admin/outbox/{id}/{action}"), &[("_csrf", &csrf)])
                    .await;
                assert_eq!(r.status(), 403, "{role:?} {action}");
            }
        }
        let admin = user_with_role(&app, &owner_csrf, Role::Admin).await;
        let (status, page) = admin.get_text("/admin/outbox").await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Mail is not configured") && page.contains("1 failed"),
            "{page}"
        );
        let (_, dashboard) = admin.get_text("/admin").await;
        assert!(dashboard.contains("href=\"/admin/outbox\">Outbox</a>"), "{dashboard}");
        assert!(dashboard.contains("1 refused for good"), "{dashboard}");

        // Nothing the refused roles tried changed anything or was recorded as done.
        let still = app.store.outbox(app.state.org(), 10).await.unwrap();
        assert_eq!(still.len(), 1);
        assert_eq!(still[0].status, OutboxStatus::Failed);
        assert!(outbox_events(&app).await.is_empty());
        let denied = app
            .store
            .audit_entries(
                app.state.org(),
                &candor_store::AuditFilter {
                    action: Some("auth.permission.denied".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(denied.len() >= 12, "every refusal is audited: {}", denied.len());
    }
);
