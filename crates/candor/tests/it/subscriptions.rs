//! Email subscriptions end to end, with a real SMTP server: double opt-in with one answer for
//! every address, notices of content changes to the right subscribers only, RFC 8058 one-click
//! unsubscribe (a POST from a mail provider, with no form token and no Origin), and the back
//! office's list.

use crate::harness::csrf_of;
use crate::services::{fast_retry, link_in, MailSink};
use crate::webhooks::publish_subprocessor;
use crate::{both_dbs_fn, Db, TestApp};

/// An app that mails `port` and believes X-Forwarded-For from loopback, so each sign-up below
/// can come from an address of its own (the form is rate-limited per address).
async fn app_with_mail(db: Db, port: u16) -> Option<TestApp> {
    TestApp::start_configured(db, true, |c| {
        c.smtp = Some(MailSink::settings(port));
        c.mail_retry = fast_retry();
        c.trusted_proxies = vec![candor_web::config::IpNet::parse("127.0.0.0/8").unwrap()];
    })
    .await
}

/// Fills in the sign-up form from a fresh browser at `ip`; returns the status and the page.
async fn subscribe(app: &TestApp, ip: &str, email: &str, topics: &[&str]) -> (u16, String) {
    let b = app.new_browser();
    let (status, form) = b.get_text("/subscribe").await;
    assert_eq!(status, 200, "{form}");
    let csrf = csrf_of(&form);
    let mut fields = vec![("_csrf", csrf.as_str()), ("email", email)];
    fields.extend(topics.iter().map(|t| ("topics", *t)));
    let r = b
        .client
        .post(b.url("/subscribe"))
        .header("Origin", &b.base)
        .header("X-Forwarded-For", ip)
        .form(&fields)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The value of a header of a raw message, with folded lines joined.
fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail
        .split("\r\n\r\n")
        .next()
        .unwrap_or(mail)
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

async fn subscriber_emails(app: &TestApp) -> Vec<String> {
    let mut emails: Vec<String> = app
        .store
        .subscribers(app.state.org(), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.email)
        .collect();
    emails.sort();
    emails
}

async fn double_opt_in(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with_mail(db, sink.port).await else {
        return;
    };
    let base = app.base.clone();
    let ada = "ada@buyer.example";

    // New, waiting, confirmed and another new address: one answer, one mail each.
    let new = subscribe(&app, "198.51.100.1", ada, &["subprocessors"]).await;
    assert_eq!(new.0, 200, "{}", new.1);
    assert!(new.1.contains("Check your email"));
    let mails = sink.wait_for(1).await;
    assert!(mails[0].contains(&format!("X-Envelope-To: {ada}")));
    let stale = link_in(&mails[0], &format!("{base}/subscriptions/confirm/"));
    let pending = subscribe(&app, "198.51.100.2", "Ada@Buyer.example", &["subprocessors"]).await;
    let mails = sink.wait_for(2).await;
    let confirm = link_in(&mails[1], &format!("{base}/subscriptions/confirm/"));
    assert_ne!(stale, confirm, "a new link replaces the old one");
    let (status, page) = app.new_browser().get_text(stale.strip_prefix(&base).unwrap()).await;
    assert_eq!(status, 404, "{page}");

    // Opening the link changes nothing; the button confirms.
    let path = confirm.strip_prefix(&base).unwrap().to_owned();
    let visitor = app.new_browser();
    let (status, page) = visitor.get_text(&path).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        app.store.subscriber_counts(app.state.org()).await.unwrap(),
        (0, 1),
        "GET did not confirm"
    );
    let r = visitor.post_form(&path, &[("_csrf", &csrf_of(&page))]).await;
    assert_eq!(r.status(), 303);
    let manage = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(manage.starts_with("/subscriptions/manage/"), "{manage}");
    let (status, page) = visitor.get_text(&manage).await;
    assert_eq!(status, 200);
    assert!(page.contains("You are subscribed") && page.contains(ada), "{page}");
    let (status, page) = app.new_browser().get_text(&path).await;
    assert_eq!(status, 410, "a confirmation link works once: {page}");

    let confirmed = subscribe(&app, "198.51.100.3", ada, &["policies"]).await;
    let mails = sink.wait_for(3).await;
    assert!(
        mails[2].contains("Subject: Your subscription to Corvellan"),
        "{}",
        mails[2]
    );
    assert!(link_in(&mails[2], &format!("{base}/subscriptions/manage/"))
        .ends_with(manage.rsplit('/').next().unwrap().split('?').next().unwrap()));
    let bob = subscribe(&app, "198.51.100.4", "bob@buyer.example", &["policies"]).await;
    for answer in [&pending, &confirmed, &bob] {
        assert_eq!(answer, &new, "the same status and page for every address");
    }
    let mails = sink.wait_for(4).await;
    let bob_confirm = link_in(&mails[3], &format!("{base}/subscriptions/confirm/"));
    let r = app
        .new_browser()
        .follow_link(bob_confirm.strip_prefix(&base).unwrap())
        .await;
    assert_eq!(r.status(), 303);
    let subscribers = app.store.subscribers(app.state.org(), 10).await.unwrap();
    let ada_row = subscribers.iter().find(|s| s.email == ada).unwrap();
    assert_eq!(
        ada_row.topics,
        [candor_core::events::Topic::Subprocessors],
        "a confirmed choice is not changed by a sign-up"
    );

    // A new subprocessor reaches Ada (subprocessors) and not Bob (policies).
    publish_subprocessor(&app, "mailfast", "Mailfast Ltd").await;
    let notices: Vec<String> = app
        .store
        .outbox(app.state.org(), 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.purpose == "subscription-notice")
        .map(|m| m.recipient)
        .collect();
    assert_eq!(notices, [ada]);
    let mails = sink.wait_for(5).await;
    let notice = &mails[4];
    assert!(notice.contains(&format!("X-Envelope-To: {ada}")));
    assert!(notice.contains("Subject: Subprocessor added: Mailfast Ltd"), "{notice}");
    assert_eq!(
        header(notice, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = header(notice, "List-Unsubscribe").expect("List-Unsubscribe header");
    let unsubscribe = unsubscribe.trim_start_matches('<').trim_end_matches('>');
    assert!(
        unsubscribe.starts_with(&format!("{base}/subscriptions/unsubscribe/")),
        "{unsubscribe}"
    );
    let unsubscribe = unsubscribe.strip_prefix(&base).unwrap().to_owned();

    // Opening the link does not unsubscribe; neither does a post without the form token.
    let (status, page) = app.new_browser().get_text(&unsubscribe).await;
    assert_eq!(status, 200, "{page}");
    let stranger = reqwest::Client::new();
    let r = stranger
        .post(app.url(&unsubscribe))
        .header("Origin", "https://evil.example")
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(subscriber_emails(&app).await, [ada, "bob@buyer.example"]);

    // RFC 8058: the provider's POST, no cookie, no Origin, no form token.
    let r = stranger
        .post(app.url(&unsubscribe))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("You are unsubscribed"));
    assert_eq!(subscriber_emails(&app).await, ["bob@buyer.example"]);
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    let left = entries
        .iter()
        .find(|e| e.record.action == "subscription.unsubscribe")
        .unwrap();
    assert_eq!(left.record.actor, format!("visitor:{ada}"));
    assert_eq!(left.record.details["how"], "one-click");
    for action in ["subscription.request", "subscription.confirm"] {
        assert!(entries.iter().any(|e| e.record.action == action), "{action}");
    }

    // Bob changes his topics from the manage link, then leaves by a multipart one-click post.
    let bob_again = subscribe(&app, "198.51.100.5", "bob@buyer.example", &["status"]).await;
    assert_eq!(bob_again, new);
    let mails = sink.wait_for(6).await;
    let manage = link_in(&mails[5], &format!("{base}/subscriptions/manage/"));
    let manage = manage.strip_prefix(&base).unwrap().to_owned();
    let b = app.new_browser();
    let (_, page) = b.get_text(&manage).await;
    let r = b
        .post_form(
            &manage,
            &[
                ("_csrf", &csrf_of(&page)),
                ("topics", "policies"),
                ("topics", "certifications"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let row = &app.store.subscribers(app.state.org(), 10).await.unwrap()[0];
    assert_eq!(
        row.topics,
        [
            candor_core::events::Topic::Policies,
            candor_core::events::Topic::Certifications
        ]
    );
    let token = manage.rsplit('/').next().unwrap();
    let form = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let r = stranger
        .post(app.url(&format!("/subscriptions/unsubscribe/{token}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(subscriber_emails(&app).await.is_empty());
    let (status, _) = app.new_browser().get_text(&manage).await;
    assert_eq!(status, 404, "the link ends with the subscription");
}
both_dbs_fn!(double_opt_in_notices_and_one_click_unsubscribe, double_opt_in);

async fn back_office(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with_mail(db, sink.port).await else {
        return;
    };
    let csrf = app.sign_in_owner().await;
    let (status, _) = subscribe(&app, "198.51.100.9", "carol@buyer.example", &["status"]).await;
    assert_eq!(status, 200);
    let (status, page) = app.get_text("/admin/subscribers").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("carol@buyer.example") && page.contains("waiting for confirmation"),
        "{page}"
    );
    let id = app.store.subscribers(app.state.org(), 10).await.unwrap()[0].id;
    let r = app
        .post_form(&format!("/admin/subscribers/{id}/remove"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    assert!(subscriber_emails(&app).await.is_empty());
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    assert!(entries.iter().any(|e| e.record.action == "subscription.remove"));
    // The confirmation link sent before the removal no longer works.
    let mails = sink.wait_for(1).await;
    let link = link_in(&mails[0], &format!("{}/subscriptions/confirm/", app.base));
    let (status, _) = app.new_browser().get_text(link.strip_prefix(&app.base).unwrap()).await;
    assert_eq!(status, 404);
}
both_dbs_fn!(subscribers_are_listed_and_removed_in_the_back_office, back_office);

/// Sign-ups spend the mail budgets: colleagues behind one company network sign up one after
/// another, while a fourth sign-up for one address within two minutes gets the form again, as
/// it was typed, with the wait (not a bare error page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscribe_form_is_rate_limited() {
    let app = TestApp::start(Db::Sqlite).await.unwrap();
    // A form sent back to fix mails nobody and spends nothing.
    for _ in 0..4 {
        let (status, page) = subscribe(&app, "", "someone0@buyer.example", &[]).await;
        assert_eq!(status, 422, "{page}");
    }
    for n in 0..10 {
        let (status, page) = subscribe(&app, "", &format!("someone{n}@buyer.example"), &["policies"]).await;
        assert_eq!(status, 200, "colleague {n}: {page}");
    }
    for _ in 0..2 {
        let (status, page) = subscribe(&app, "", "someone0@buyer.example", &["policies"]).await;
        assert_eq!(status, 200, "{page}");
    }
    let (status, page) = subscribe(&app, "", "someone0@buyer.example", &["policies"]).await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Wait 2 minutes, then send the form again"), "{page}");
    assert!(page.contains("value=\"someone0@buyer.example\""), "{page}");
    assert!(page.contains("value=\"policies\" checked"), "{page}");
    assert!(
        !page.contains("value=\"subprocessors\" checked"),
        "as chosen, not the default: {page}"
    );
    assert!(page.contains("action=\"/subscribe\""), "the form, not a bare page");
}

/// A bad address or no topic: the form again, with what to fix, and nothing stored or sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sign_ups_are_explained() {
    let app = TestApp::start(Db::Sqlite).await.unwrap();
    let (status, page) = subscribe(&app, "", "not an address", &[]).await;
    assert_eq!(status, 422);
    assert!(page.contains("Email: enter an address"), "{page}");
    let (status, page) = subscribe(&app, "", "dan@buyer.example", &[]).await;
    assert_eq!(status, 422);
    assert!(page.contains("Topics: choose at least one topic"), "{page}");
    assert!(subscriber_emails(&app).await.is_empty());
    assert!(app.store.outbox(app.state.org(), 10).await.unwrap().is_empty());
}
