//! Emailed and printed single-use links. Corporate mail scanners open every link before the
//! person does, so opening one (GET or HEAD, any number of times, from anywhere) uses nothing:
//! the person's button press (a POST with the form token) uses it, once. And a user's setup and
//! reset links end when a newer one is issued, when one is used, when the password changes, or
//! when the user is disabled.

use crate::gated::{app_with_mail, mail_after, mail_to, path_in, request_access, request_id_of, sign_nda};
use crate::harness::{csrf_of, shown_once, Browser, OWNER_EMAIL, OWNER_PASSWORD};
use crate::services::MailSink;
use crate::{both_dbs, both_dbs_fn, Db, TestApp};

/// What a mail scanner does: opens the link, ten times over, with GET and with HEAD, from clients
/// without cookies. Every visit must show the link's page (`expect` on it) and change nothing.
async fn scan(app: &TestApp, path: &str, expect: &str) {
    for _ in 0..10 {
        let scanner = TestApp::new_client();
        let r = scanner.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "a scanner's GET");
        let page = r.text().await.unwrap();
        assert!(page.contains(expect), "{page}");
        let r = scanner.head(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "a scanner's HEAD");
    }
}

/// Presses a link page's button without a form token, and with a token from another browser:
/// both refused (403), and the link still works afterwards.
async fn press_without_form_token(app: &TestApp, b: &Browser, path: &str) {
    let (status, _) = b.get_text(path).await;
    assert_eq!(status, 200);
    assert_eq!(b.post_form(path, &[]).await.status(), 403, "no form token");
    let (_, elsewhere) = app.new_browser().get_text(path).await;
    let r = b.post_form(path, &[("_csrf", &csrf_of(&elsewhere))]).await;
    assert_eq!(r.status(), 403, "another browser's form token");
}

/// Presses the button of a link page again (with a valid form token) after the link was used:
/// a clear page that says so, and the same when the link is opened.
async fn used_twice(b: &Browser, path: &str, csrf: &str, title: &str) {
    let r = b.post_form(path, &[("_csrf", csrf)]).await;
    assert_eq!(r.status(), 410);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(title) && !page.contains("<form method=\"post\""),
        "{page}"
    );
    let (status, page) = b.get_text(path).await;
    assert_eq!(status, 410);
    assert!(page.contains(title), "{page}");
}

fn audited(entries: &[candor_core::audit::AuditEntry], action: &str) -> usize {
    entries.iter().filter(|e| e.record.action == action).count()
}

async fn audit_entries(app: &TestApp) -> Vec<candor_core::audit::AuditEntry> {
    app.store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap()
}

async fn emailed_links(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with_mail(db, &sink).await else {
        return;
    };
    app.sign_in_owner().await;
    let owner = app.browser();
    let email = "rey@enterprise-buyer.example";

    // The address-verification link: scanned, refused without a form token, then followed.
    let person = app.new_browser();
    let (status, _) = request_access(&person, "Rey Reviewer", email, "Enterprise Buyer", &[]).await;
    assert_eq!(status, 200);
    let verify = path_in(
        &app,
        &mail_to(&sink, email, "Confirm your email").await,
        "/documents/verify/",
    );
    scan(&app, &verify, "Confirm my email address").await;
    press_without_form_token(&app, &person, &verify).await;
    let request = request_id_of(&app, email).await;
    let unverified = app.store.access_requests(app.state.org(), false).await.unwrap();
    assert_eq!(
        unverified.iter().find(|r| r.id == request).unwrap().status,
        candor_core::requests::RequestStatus::Unverified,
        "opening the link verified nothing"
    );
    assert_eq!(audited(&audit_entries(&app).await, "access.verify"), 0);
    let (status, page) = person.get_text(&verify).await;
    assert_eq!(status, 200);
    assert!(page.contains(email), "the page says which address: {page}");
    let csrf = csrf_of(&page);
    let r = person.post_form(&verify, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/documents/nda");
    used_twice(&person, &verify, &csrf, "This link was used already").await;
    let (status, page) = sign_nda(&person, "Rey Reviewer").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(audited(&audit_entries(&app).await, "access.verify"), 1);

    // Approved: the sign-in link in the approval mail, scanned, refused, then followed.
    let (_, queue) = owner.get_text("/admin/access-requests").await;
    let r = owner
        .post_form(
            "/admin/access-requests/decide",
            &[
                ("_csrf", &csrf_of(&queue)),
                ("ids", &request.to_string()),
                ("action", "approve"),
                ("message", ""),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let approval = mail_to(&sink, email, "Your access to").await;
    let login = path_in(&app, &approval, "/viewer/login/");
    scan(&app, &login, "type=\"submit\">Sign in<").await;
    let viewer = app.new_browser();
    press_without_form_token(&app, &viewer, &login).await;
    assert_eq!(audited(&audit_entries(&app).await, "viewer.login"), 0);
    assert_eq!(viewer.get("/viewer").await.status(), 303, "not signed in yet");
    let (_, page) = viewer.get_text(&login).await;
    assert!(page.contains(email), "the page says who signs in: {page}");
    let csrf = csrf_of(&page);
    let r = viewer.post_form(&login, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    used_twice(&viewer, &login, &csrf, "This sign-in link was used already").await;
    assert_eq!(viewer.get("/viewer").await.status(), 200, "signed in");
    assert_eq!(audited(&audit_entries(&app).await, "viewer.login"), 1);

    // A newer sign-in link ends the older unused one: only the newest mail works.
    let seen = sink.messages().len();
    let ask = |b: Browser| async move {
        let (_, form) = b.get_text("/viewer/signin").await;
        let r = b
            .post_form("/viewer/signin", &[("_csrf", &csrf_of(&form)), ("email", email)])
            .await;
        assert_eq!(r.status(), 200);
    };
    ask(app.new_browser()).await;
    let first = mail_after(&sink, seen, email, "Your sign-in link").await;
    let first = path_in(&app, &first, "/viewer/login/");
    let seen = sink.messages().len();
    ask(app.new_browser()).await;
    let second = mail_after(&sink, seen, email, "Your sign-in link").await;
    let second = path_in(&app, &second, "/viewer/login/");
    assert_ne!(first, second);
    let (status, page) = app.new_browser().get_text(&first).await;
    assert_eq!(status, 410, "the older link ended: {page}");
    assert!(page.contains("This sign-in link has expired"), "{page}");
    assert_eq!(app.new_browser().follow_link(&second).await.status(), 303);

    // Unknown links: a clear page, nothing else.
    for path in ["/viewer/login/made-up-token", "/documents/verify/made-up-token"] {
        let (status, page) = app.new_browser().get_text(path).await;
        assert_eq!(status, 404);
        assert!(
            page.contains("does not work") && !page.contains("<form method=\"post\""),
            "{page}"
        );
    }
}
both_dbs_fn!(emailed_links_survive_mail_scanners_and_work_once, emailed_links);

both_dbs!(
    the_setup_link_survives_scanners_and_works_once,
    |app: TestApp| async move {
        let token = app.setup_token.clone().unwrap();
        let path = format!("/admin/setup/{token}");
        scan(&app, &path, "Save password").await;
        let person = app.browser();
        let (_, page) = person.get_text(&path).await;
        let pw = OWNER_PASSWORD;
        let fields = [
            ("name", "Olive Owner"),
            ("email", OWNER_EMAIL),
            ("password", pw),
            ("confirm", pw),
        ];
        let r = person.post_form(&path, &fields).await;
        assert_eq!(r.status(), 403, "no form token");
        let csrf = csrf_of(&page);
        let mut with_token = vec![("_csrf", csrf.as_str())];
        with_token.extend(fields);
        let r = person.post_form(&path, &with_token).await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let r = person.post_form(&path, &with_token).await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("This link was used already"));
        app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    }
);

/// `candor user reset-password EMAIL` against the app's database, as a separate process; returns
/// the path of the link it prints.
fn cli_reset_link(app: &TestApp, email: &str) -> String {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_candor"))
        .args(["user", "reset-password", email])
        .current_dir(data.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CANDOR_DATABASE_URL", &app.db_url)
        .env("CANDOR_DATA_DIR", data.path())
        .output()
        .expect("candor runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let token = stdout.split("/admin/reset/").nth(1).expect("a link").trim();
    format!("/admin/reset/{token}")
}

/// Opens a reset or setup link; `true` when it still shows the password form.
async fn still_works(app: &TestApp, path: &str) -> bool {
    let (status, page) = app.new_browser().get_text(path).await;
    match status {
        200 => true,
        400 => {
            assert!(page.contains("This link has expired, or was replaced"), "{page}");
            false
        }
        other => panic!("{path}: {other} {page}"),
    }
}

both_dbs!(
    user_links_end_when_a_newer_is_issued_one_is_used_the_password_changes_or_the_user_is_disabled,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;

        // 1. A newer link ends the older: an invitation, then a reset link from the CLI.
        let r = app
            .post_form(
                "/admin/users",
                &[
                    ("_csrf", &csrf),
                    ("name", "Erin Editor"),
                    ("email", "erin@corvellan.example"),
                    ("role", "editor"),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        let invitation = shown_once(&r.text().await.unwrap());
        let invitation = invitation.strip_prefix(&app.base).unwrap().to_owned();
        assert!(still_works(&app, &invitation).await);
        let reset = cli_reset_link(&app, "erin@corvellan.example");
        assert!(!still_works(&app, &invitation).await, "the invitation ended");
        assert!(still_works(&app, &reset).await);

        // 2. Using one link ends the others. A link left over from before this rule (two
        // outstanding at once) stands for any other that escaped it.
        let erin = app
            .store
            .user_by_email(app.state.org(), "erin@corvellan.example")
            .await
            .unwrap()
            .unwrap();
        let left_over = "left-over-link-from-an-older-candor";
        app.sql(&format!(
            "INSERT INTO user_links (token_hash, user_id, purpose, expires_at) VALUES ('{}', {}, 'reset', {})",
            candor_crypto::token_digest(left_over),
            erin.id,
            candor_store::now() + 3600
        ))
        .await;
        let left_over = format!("/admin/reset/{left_over}");
        assert!(still_works(&app, &left_over).await);
        let b = app.new_browser();
        let (_, form) = b.get_text(&reset).await;
        let pw = "erin's long enough password";
        let r = b
            .post_form(&reset, &[("_csrf", &csrf_of(&form)), ("password", pw), ("confirm", pw)])
            .await;
        assert_eq!(r.status(), 303);
        assert!(
            !still_works(&app, &left_over).await,
            "the other link ended with the use"
        );

        // 3. Changing the password ends outstanding links.
        let pending = cli_reset_link(&app, OWNER_EMAIL);
        assert!(still_works(&app, &pending).await);
        let (_, form) = app.get_text("/admin/password").await;
        let new = "the owner's next passphrase";
        let r = app
            .post_form(
                "/admin/password",
                &[
                    ("_csrf", &csrf_of(&form)),
                    ("current", OWNER_PASSWORD),
                    ("password", new),
                    ("confirm", new),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert!(
            !still_works(&app, &pending).await,
            "the reset link ended with the change"
        );

        // 4. Disabling a user ends their links: enabling them again does not bring one back.
        let pending = cli_reset_link(&app, "erin@corvellan.example");
        assert!(still_works(&app, &pending).await);
        for action in ["disable", "enable"] {
            let (_, users) = app.get_text("/admin/users").await;
            let r = app
                .post_form(
                    &format!("/admin/users/{}/{action}", erin.id),
                    &[("_csrf", &csrf_of(&users))],
                )
                .await;
            assert_eq!(r.status(), 303, "{action}");
        }
        assert!(
            !still_works(&app, &pending).await,
            "the reset link ended with the disabling"
        );
    }
);
