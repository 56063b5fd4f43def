//! The team is told, and the visitor's path is short: over HTTP against a real SMTP server
//! (aiosmtpd) and a webhook receiver that checks signatures with the independent
//! `standardwebhooks` library.
//!
//! - A request that waits for a person mails every access manager who has not turned it off on
//!   their profile (never other roles) and sends a signed `access_request.waiting` event; the
//!   dashboard counts it; each row of the pending list approves or denies it (with the same use
//!   case, events and mail as the bulk form), and refuses the wrong role, no session, a missing
//!   form token, an unknown id and a request decided already.
//! - A visitor whose domain a rule approves is signed in at once after the NDA and lands on their
//!   documents; a visitor who needs a person is not. A free-mail or refused domain is told so on
//!   the page, from the typed domain only.

use crate::access::user_with_role;
use crate::documents::{pdf_pages, upload};
use crate::gated::{mail_after, mail_to, path_in, request_access, request_id_of};
use crate::harness::{csrf_of, Browser};
use crate::services::{fast_retry, MailSink};
use crate::webhooks::Receiver;
use crate::{both_dbs_fn, Db, TestApp};
use candor_core::access::Role;
use std::time::Duration;

async fn app_with(db: Db, sink: &MailSink) -> Option<TestApp> {
    let port = sink.port;
    TestApp::start_configured(db, true, move |c| {
        c.smtp = Some(MailSink::settings(port));
        c.mail_retry = fast_retry();
        c.webhooks.allow_private = true;
        c.webhooks.retry = fast_retry();
    })
    .await
}

/// Forgets the form rate limits, so one test can make more requests than a visitor may.
async fn forget_limits(app: &TestApp) {
    app.sql("DELETE FROM rate_limits").await;
}

/// Confirms the address by the emailed link (in `b`), then signs the NDA; returns the status,
/// the `location` and the `set-cookie` headers, and the body of the answer to signing.
async fn confirm_and_sign(
    app: &TestApp,
    sink: &MailSink,
    skip: usize,
    b: &Browser,
    email: &str,
) -> (u16, String, Vec<String>, String) {
    let verify = mail_after(sink, skip, email, "Confirm your email").await;
    let r = b.follow_link(&path_in(app, &verify, "/documents/verify/")).await;
    assert_eq!(r.status(), 303);
    let (_, nda) = b.get_text("/documents/nda").await;
    let hidden = |name: &str| {
        nda.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no {name} in {nda}"))
            .to_owned()
    };
    let r = b
        .post_form(
            "/documents/nda",
            &[
                ("_csrf", &csrf_of(&nda)),
                ("nda_number", &hidden("nda_number")),
                ("nda_sha256", &hidden("nda_sha256")),
                ("name", "Test Signer"),
                ("agree", "on"),
            ],
        )
        .await;
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    (status, location, cookies, r.text().await.unwrap())
}

/// Adds a webhook endpoint for `topics` as the owner; returns its secret.
async fn add_endpoint(owner: &Browser, url: &str, topics: &[&str]) -> String {
    let (status, page) = owner.get_text("/admin/webhooks").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("value=\"access_requests\""),
        "the topic is offered: {page}"
    );
    let csrf = csrf_of(&page);
    let mut form = vec![("_csrf", csrf.as_str()), ("url", url), ("description", "Team chat")];
    form.extend(topics.iter().map(|t| ("topics", *t)));
    let r = owner.post_form("/admin/webhooks", &form).await;
    assert_eq!(r.status(), 200);
    crate::harness::shown_once(&r.text().await.unwrap())
}

/// Saves the access rules (the NDA text as it is).
async fn save_rules(owner: &Browser, approve: &str, deny: &str, deny_free_mail: bool) {
    let (_, settings) = owner.get_text("/admin/access-settings").await;
    let nda = settings
        .split("name=\"nda\"")
        .nth(1)
        .unwrap()
        .split('>')
        .nth(1)
        .unwrap()
        .split("</textarea")
        .next()
        .unwrap()
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let csrf = csrf_of(&settings);
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("approve", approve),
        ("deny", deny),
        ("grant_days", "60"),
        ("nda", nda.as_str()),
    ];
    if deny_free_mail {
        form.push(("deny_free_mail", "on"));
    }
    assert_eq!(owner.post_form("/admin/access-settings", &form).await.status(), 303);
}

fn has_mail(sink: &MailSink, to: &str, subject: &str) -> bool {
    sink.messages()
        .iter()
        .any(|m| m.contains(&format!("X-Envelope-To: {to}")) && m.contains(subject))
}

async fn team_is_told(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(receiver) = Receiver::start().await else {
        return;
    };
    let Some(app) = app_with(db, &sink).await else { return };
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    let (status, _) = upload(&owner, &csrf, "SOC 2 report", "nda", "soc2.pdf", pdf_pages("soc2", 1)).await;
    assert_eq!(status, 303);
    let manager = user_with_role(&app, &csrf, Role::AccessManager).await;
    let admin = user_with_role(&app, &csrf, Role::Admin).await;
    let editor = user_with_role(&app, &csrf, Role::Editor).await;

    // The admin turns the mail off on their own profile; the editor's profile says it is not
    // theirs to get.
    let (status, profile) = admin.get_text("/admin/profile").await;
    assert_eq!(status, 200);
    assert!(
        profile.contains("name=\"access_request_mail\" aria-describedby=\"arm-help\" checked"),
        "{profile}"
    );
    let r = admin
        .post_form("/admin/profile", &[("_csrf", &csrf_of(&profile))])
        .await;
    assert_eq!(r.headers()["location"], "/admin/profile?notice=profile-saved");
    let (_, profile) = admin.get_text("/admin/profile?notice=profile-saved").await;
    assert!(
        !profile.contains("arm-help\" checked") && profile.contains("Saved."),
        "{profile}"
    );
    let (_, editor_profile) = editor.get_text("/admin/profile").await;
    assert!(
        editor_profile.contains("does not decide access requests") && !editor_profile.contains("access_request_mail"),
        "{editor_profile}"
    );
    // Without its form token the setting does not change.
    let r = app.new_browser().post_form("/admin/profile", &[]).await;
    assert_eq!(r.status(), 303, "no session: sent to sign in");
    let (_, mgr_profile) = manager.get_text("/admin/profile").await;
    let r = manager
        .post_form("/admin/profile", &[("access_request_mail", "on")])
        .await;
    assert_eq!(r.status(), 403);
    assert!(mgr_profile.contains("arm-help\" checked"));

    // A webhook endpoint for access requests; email subscribers cannot choose that topic.
    let secret = add_endpoint(&owner, &receiver.url, &["access_requests"]).await;
    receiver.set_secret(&secret);
    let (_, subscribe) = app.new_browser().get_text("/subscribe").await;
    assert!(!subscribe.contains("access_requests"), "{subscribe}");

    // A request that needs a person: the managers who want mail are told, and the event goes out.
    let visitor = app.new_browser();
    let (status, page) = request_access(&visitor, "Dana Prospect", "dana@buyer.example", "Buyer Ltd", &[]).await;
    assert_eq!(status, 200, "{page}");
    let (status, _, cookies, page) = confirm_and_sign(&app, &sink, 0, &visitor, "dana@buyer.example").await;
    assert_eq!(status, 200);
    assert!(page.contains("Thank you for signing"), "{page}");
    assert!(
        !cookies.iter().any(|c| c.contains("candor_viewer=")),
        "not signed in: {cookies:?}"
    );
    let waiting = mail_to(&sink, "owner@corvellan.example", "Access request waiting").await;
    assert!(
        waiting.contains("dana@buyer.example") && waiting.contains("/admin/access-requests"),
        "{waiting}"
    );
    assert!(waiting.contains("/admin/profile"), "says how to stop them: {waiting}");
    mail_to(&sink, "access-manager@corvellan.example", "Access request waiting").await;
    let got = receiver.wait_for(1).await;
    assert!(got[0].verified, "signature: {:?}", got[0].error);
    assert_eq!(got[0].body["type"], "access_request.waiting");
    assert_eq!(got[0].body["data"]["request"]["email"], "dana@buyer.example");
    assert_eq!(got[0].body["data"]["request"]["company"], "Buyer Ltd");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !has_mail(&sink, "admin@corvellan.example", "Access request waiting"),
        "opted out"
    );
    assert!(
        !has_mail(&sink, "editor@corvellan.example", "Access request waiting"),
        "not a manager"
    );

    // The dashboard counts it for those who decide, not for others.
    let (_, dash) = manager.get_text("/admin").await;
    assert!(
        dash.contains("Access requests waiting for a decision: <strong>1</strong>"),
        "{dash}"
    );
    let (_, dash) = editor.get_text("/admin").await;
    assert!(!dash.contains("Access requests waiting"), "{dash}");

    // Each row has its buttons; the wrong role, no session and no form token are refused.
    let id = request_id_of(&app, "dana@buyer.example").await;
    let (_, queue) = manager.get_text("/admin/access-requests").await;
    assert!(
        queue.contains(&format!("formaction=\"/admin/access-requests/{id}/approve\"")),
        "{queue}"
    );
    assert!(
        queue.contains(&format!("formaction=\"/admin/access-requests/{id}/deny\"")),
        "{queue}"
    );
    let approve = format!("/admin/access-requests/{id}/approve");
    let (_, editor_dash) = editor.get_text("/admin").await;
    let r = editor.post_form(&approve, &[("_csrf", &csrf_of(&editor_dash))]).await;
    assert_eq!(r.status(), 403, "an editor may not decide");
    let r = app.new_browser().post_form(&approve, &[]).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/admin/login"));
    let r = manager.post_form(&approve, &[("days", "30")]).await;
    assert_eq!(r.status(), 403, "no form token");
    let r = manager
        .post_form("/admin/access-requests/999999/approve", &[("_csrf", &csrf_of(&queue))])
        .await;
    assert_eq!(r.status(), 404, "no such request");
    assert_eq!(
        app.store.access_requests(app.state.org(), true).await.unwrap().len(),
        1,
        "still waiting"
    );

    // The manager approves from the row: mail to the requester, the signed event.
    let seen = sink.messages().len();
    let r = manager
        .post_form(
            &approve,
            &[
                ("_csrf", &csrf_of(&queue)),
                ("message", "Welcome"),
                ("days", "30"),
                ("ids", "999999"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/access-requests?notice=approved");
    let approval = mail_after(&sink, seen, "dana@buyer.example", "Your access to").await;
    assert!(approval.contains("Welcome"));
    let got = receiver.wait_for(2).await;
    assert!(got[1].verified, "{:?}", got[1].error);
    assert_eq!(got[1].body["type"], "access_request.approved");
    assert_eq!(got[1].body["data"]["days"], 30);
    assert_eq!(
        got[1].body["data"]["decided_by"],
        "user:access-manager@corvellan.example"
    );
    // Decided already: nothing changes, nobody is mailed, no event.
    let seen = sink.messages().len();
    let deny = format!("/admin/access-requests/{id}/deny");
    let r = manager.post_form(&deny, &[("_csrf", &csrf_of(&queue))]).await;
    assert_eq!(r.headers()["location"], "/admin/access-requests?notice=nothing-decided");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.messages().len(), seen);
    assert_eq!(receiver.received().len(), 2);
    let req = app.store.access_request(app.state.org(), id).await.unwrap().unwrap();
    assert_eq!(req.status, candor_core::requests::RequestStatus::Approved);

    // Another request, denied from its row by the owner.
    forget_limits(&app).await;
    let other = app.new_browser();
    let seen = sink.messages().len();
    request_access(&other, "Eve Other", "eve@other.example", "Other Co", &[]).await;
    let (status, ..) = confirm_and_sign(&app, &sink, seen, &other, "eve@other.example").await;
    assert_eq!(status, 200);
    let got = receiver.wait_for(3).await;
    assert_eq!(got[2].body["type"], "access_request.waiting");
    let eve = request_id_of(&app, "eve@other.example").await;
    let (_, queue) = owner.get_text("/admin/access-requests").await;
    let r = owner
        .post_form(
            &format!("/admin/access-requests/{eve}/deny"),
            &[("_csrf", &csrf_of(&queue)), ("message", "Not now")],
        )
        .await;
    assert_eq!(r.headers()["location"], "/admin/access-requests?notice=denied");
    let denial = mail_to(&sink, "eve@other.example", "Your request for").await;
    assert!(
        denial.contains("not approved") && denial.contains("Not now"),
        "{denial}"
    );
    let got = receiver.wait_for(4).await;
    assert!(got[3].verified);
    assert_eq!(got[3].body["type"], "access_request.denied");
    assert_eq!(got[3].body["data"]["request"]["email"], "eve@other.example");
    let (_, dash) = owner.get_text("/admin").await;
    assert!(dash.contains("waiting for a decision: <strong>0</strong>"), "{dash}");
    // Ids are distinct from one another; deciding one row never touches another.
    assert_ne!(id, eve);
}
both_dbs_fn!(access_team_is_told, team_is_told);

async fn visitor_path(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with(db, &sink).await else { return };
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    let (status, _) = upload(&owner, &csrf, "SOC 2 report", "nda", "soc2.pdf", pdf_pages("soc2", 2)).await;
    assert_eq!(status, 303);
    save_rules(&owner, "trusted.example", "rival.example", false).await;

    // The home page offers the request in one step.
    let (_, home) = app.new_browser().get_text("/").await;
    assert!(
        home.contains("href=\"/documents/request\"") && home.contains("SOC 2 report"),
        "{home}"
    );

    // A customer and an unknown company read the same words (the page never says who is a
    // customer), and so does an address that asked before.
    let pat = app.new_browser();
    let (_, customer) = request_access(&pat, "Pat", "pat@trusted.example", "Trusted", &[]).await;
    let sam = app.new_browser();
    let (_, unknown) = request_access(&sam, "Sam", "sam@unknown.example", "Unknown", &[]).await;
    assert!(customer.contains("Check your email"), "{customer}");
    assert_eq!(customer, unknown);

    // Approved by the rule: signed in at once, onto their documents.
    let (status, location, cookies, _) = confirm_and_sign(&app, &sink, 0, &pat, "pat@trusted.example").await;
    assert_eq!(status, 303);
    assert_eq!(location, "/viewer?welcome=approved");
    let session = cookies
        .iter()
        .find(|c| c.starts_with("candor_viewer="))
        .unwrap_or_else(|| panic!("a viewer session cookie: {cookies:?}"));
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("candor_request=;") || c.starts_with("candor_request=\"\"")),
        "the step cookie is cleared: {cookies:?}"
    );
    let id = session
        .trim_start_matches("candor_viewer=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(id.len() >= 43, "a 256-bit id: {id}");
    let (status, docs) = pat.get_text("/viewer?welcome=approved").await;
    assert_eq!(status, 200);
    assert!(
        docs.contains("SOC 2 report") && docs.contains("Access approved"),
        "{docs}"
    );
    let r = pat.get("/viewer/documents/soc-2-report").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    // The approval mail still carries a link for later.
    mail_to(&sink, "pat@trusted.example", "Your access to").await;
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    assert!(entries
        .iter()
        .any(|e| e.record.action == "viewer.login" && e.record.actor == "viewer:pat@trusted.example"));

    // Only the id's digest is stored, and signing in again in this browser ends the old session.
    let digest = candor_crypto::token_digest(&id);
    let live = |hash: String| {
        let app = &app;
        async move { app.store.viewer_session(&hash, 3600, 3600).await.unwrap().is_some() }
    };
    assert!(live(digest.clone()).await, "the digest finds the session");
    assert!(!live(id.clone()).await, "the raw id is not stored");
    forget_limits(&app).await;
    let seen = sink.messages().len();
    request_access(&pat, "Pat", "pat2@trusted.example", "Trusted", &[]).await;
    let (status, _, cookies, _) = confirm_and_sign(&app, &sink, seen, &pat, "pat2@trusted.example").await;
    assert_eq!(status, 303);
    let again = cookies.iter().find(|c| c.starts_with("candor_viewer=")).unwrap();
    assert!(!again.contains(&id), "a new id");
    assert!(!live(digest).await, "the old session ended");

    // A person decides: no sign-in.
    let (status, _, cookies, page) = confirm_and_sign(&app, &sink, 0, &sam, "sam@unknown.example").await;
    assert_eq!(status, 200);
    assert!(page.contains("Thank you for signing"), "{page}");
    assert!(!cookies.iter().any(|c| c.starts_with("candor_viewer=")), "{cookies:?}");
    let r = sam.get("/viewer").await;
    assert_eq!(r.status(), 303, "not a viewer");

    // Free mail: told on the page that a person will review it; the link still goes out.
    forget_limits(&app).await;
    let seen = sink.messages().len();
    let (status, free) = request_access(&app.new_browser(), "Gee", "gee@gmail.com", "Gee Co", &[]).await;
    assert_eq!(status, 200);
    assert!(
        free.contains("gmail.com is a free email service") && free.contains("cannot be approved automatically"),
        "{free}"
    );
    mail_after(&sink, seen, "gee@gmail.com", "Confirm your email").await;

    // A refused domain: told so, no mail.
    let seen = sink.messages().len();
    let (status, refused) = request_access(&app.new_browser(), "Riley", "riley@rival.example", "Rival", &[]).await;
    assert_eq!(status, 200);
    assert!(
        refused.contains("This request cannot be accepted") && refused.contains("addresses at rival.example"),
        "{refused}"
    );
    assert!(!refused.contains("Check your email"));
    // Free mail refused by the rules reads the same as any refused domain.
    save_rules(&owner, "trusted.example", "rival.example", true).await;
    forget_limits(&app).await;
    let (_, free_refused) = request_access(&app.new_browser(), "Gee", "gee@gmail.com", "Gee Co", &[]).await;
    assert!(
        free_refused.contains("This request cannot be accepted") && free_refused.contains("addresses at gmail.com"),
        "{free_refused}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), seen, "no mail for refused domains");
}
both_dbs_fn!(access_visitor_path, visitor_path);
