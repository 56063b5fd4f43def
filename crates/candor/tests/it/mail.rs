//! Password reset by email through the outbox, against a real SMTP server process.

use crate::harness::{csrf_of, Browser, OWNER_EMAIL, OWNER_PASSWORD};
use crate::services::{fast_retry, link_in, MailSink};
use crate::{both_dbs_fn, Db, TestApp};
use candor_store::OutboxStatus;

/// An app that sends mail to `port`, with quick retries.
async fn app_with_mail(db: Db, port: u16) -> Option<TestApp> {
    TestApp::start_configured(db, true, |c| {
        c.smtp = Some(MailSink::settings(port));
        c.mail_retry = fast_retry();
    })
    .await
}

/// Asks for a reset link from a fresh browser; returns the status and page.
async fn ask_for_reset(browser: &Browser, email: &str) -> (u16, String) {
    let (_, form) = browser.get_text("/admin/forgot").await;
    let r = browser
        .post_form("/admin/forgot", &[("_csrf", &csrf_of(&form)), ("email", email)])
        .await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn reset_by_email(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with_mail(db, sink.port).await else {
        return;
    };
    app.sign_in_owner().await;

    // The same answer for an unknown address and a known one.
    let (status, unknown) = ask_for_reset(&app.new_browser(), "nobody@corvellan.example").await;
    assert_eq!(status, 200, "{unknown}");
    let (status, known) = ask_for_reset(&app.new_browser(), &OWNER_EMAIL.to_uppercase()).await;
    assert_eq!(status, 200);
    assert_eq!(unknown, known, "the answer must not tell who has an account");
    assert!(known.contains("If that address belongs to an active back-office account"));

    let mails = sink.wait_for(1).await;
    let mail = &mails[0];
    assert!(mail.contains(&format!("X-Envelope-To: {OWNER_EMAIL}")), "{mail}");
    assert!(
        mail.contains("Subject: Reset your Corvellan back-office password"),
        "{mail}"
    );
    assert!(
        mail.contains("Content-Type: multipart/alternative"),
        "plain text and HTML: {mail}"
    );
    let link = link_in(mail, &format!("{}/admin/reset/", app.base));
    let path = link.strip_prefix(&app.base).unwrap().to_owned();

    // The owner is signed in elsewhere; the reset ends that session.
    let elsewhere = app.new_browser();
    elsewhere.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;

    let visitor = app.new_browser();
    let (status, form) = visitor.get_text(&path).await;
    assert_eq!(status, 200, "{form}");
    let new_password = "a brand new passphrase 42";
    let r = visitor
        .post_form(
            &path,
            &[
                ("_csrf", &csrf_of(&form)),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(
        elsewhere.get("/admin").await.status(),
        303,
        "old sessions end with a reset"
    );

    // The link works once; the new password works; the old one does not.
    let (status, page) = app.new_browser().get_text(&path).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("This link was used already"), "{page}");
    app.new_browser().sign_in(OWNER_EMAIL, new_password).await;
    let b = app.new_browser();
    let (_, login) = b.get_text("/admin/login").await;
    let r = b
        .post_form(
            "/admin/login",
            &[
                ("_csrf", &csrf_of(&login)),
                ("email", OWNER_EMAIL),
                ("password", OWNER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 401);

    // Only the known address got mail; the sent message keeps no body (no live link at rest).
    assert_eq!(sink.messages().len(), 1);
    let outbox = app.store.outbox(app.state.org(), 10).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].status, OutboxStatus::Sent);
    assert!(outbox[0].body_text.is_empty() && outbox[0].body_html.is_none());

    // Both requests are in the audit log, saying whether the address had an account.
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    let asked: Vec<_> = entries
        .iter()
        .filter(|e| e.record.action == "auth.reset.requested")
        .collect();
    assert_eq!(asked.len(), 2);
}
both_dbs_fn!(password_reset_by_email, reset_by_email);

/// The mail server is down when the link is asked for: the message waits in the outbox, is
/// retried, and arrives once the server is up. Nothing is lost.
async fn outage(db: Db) {
    // A port with nothing listening (yet).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(app) = app_with_mail(db, port).await else {
        return;
    };
    app.sign_in_owner().await;
    let (status, _) = ask_for_reset(&app.new_browser(), OWNER_EMAIL).await;
    assert_eq!(status, 200);

    let mut failed_once = false;
    for _ in 0..100 {
        let outbox = app.store.outbox(app.state.org(), 10).await.unwrap();
        if let Some(m) = outbox.first().filter(|m| m.attempts >= 1) {
            assert_eq!(m.status, OutboxStatus::Pending, "a refused connection is temporary");
            assert!(m.last_error.is_some());
            assert!(m.body_text.contains("/admin/reset/"), "the body waits with the message");
            failed_once = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(failed_once, "the worker tried and failed while the server was down");

    let Some(sink) = MailSink::start_on(port).await else {
        return;
    };
    let mails = sink.wait_for(1).await;
    assert!(mails[0].contains(&format!("X-Envelope-To: {OWNER_EMAIL}")));
    // The server accepts the message a moment before the worker records it as sent.
    let mut sent = None;
    for _ in 0..50 {
        let outbox = app.store.outbox(app.state.org(), 10).await.unwrap();
        if outbox[0].status == OutboxStatus::Sent {
            sent = Some(outbox[0].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let sent = sent.expect("recorded as sent");
    assert!(sent.attempts >= 2, "{sent:?}");
}
both_dbs_fn!(mail_waits_out_an_outage, outage);

/// Every request counts: the fourth from one address within the window is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_requests_are_rate_limited() {
    let Some(sink) = MailSink::start().await else { return };
    let app = app_with_mail(Db::Sqlite, sink.port).await.unwrap();
    let b = app.new_browser();
    for n in 0..3 {
        let (status, _) = ask_for_reset(&b, &format!("someone{n}@corvellan.example")).await;
        assert_eq!(status, 200);
    }
    let (status, page) = ask_for_reset(&b, "someone-else@corvellan.example").await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Too many attempts"));
}

/// Without mail settings the page says to ask an owner, and a forged request queues nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_mail_the_page_says_to_ask_an_owner() {
    let app = TestApp::start(Db::Sqlite).await.unwrap();
    app.sign_in_owner().await;
    let b = app.new_browser();
    let (status, page) = b.get_text("/admin/forgot").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("candor user reset-password") && !page.contains("name=\"email\""),
        "{page}"
    );
    let (_, login) = b.get_text("/admin/login").await;
    let r = b
        .post_form("/admin/forgot", &[("_csrf", &csrf_of(&login)), ("email", OWNER_EMAIL)])
        .await;
    assert_eq!(r.status(), 200);
    assert!(app.store.outbox(app.state.org(), 10).await.unwrap().is_empty());
}

/// No CSRF token, or a request from another site: refused, nothing queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_requests_need_the_form_token_and_our_origin() {
    let Some(sink) = MailSink::start().await else { return };
    let app = app_with_mail(Db::Sqlite, sink.port).await.unwrap();
    app.sign_in_owner().await;
    let b = app.new_browser();
    let (_, page) = b.get_text("/admin/forgot").await;
    let r = b.post_form("/admin/forgot", &[("email", OWNER_EMAIL)]).await;
    assert_eq!(r.status(), 403);
    let r = b
        .client
        .post(b.url("/admin/forgot"))
        .header("Origin", "https://evil.example")
        .form(&[("_csrf", csrf_of(&page).as_str()), ("email", OWNER_EMAIL)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.store.outbox(app.state.org(), 10).await.unwrap().is_empty());
}
