//! Regression tests for the defects a new owner and a customer's reviewer met (issue 12): what
//! confirmations say, where two-factor sign-in is found and required, a decision form that comes
//! back instead of a dead end, the budgets of access requests, form errors tied to their fields,
//! the brand colour Candor darkens, and grammar.

use crate::access::user_with_role;
use crate::documents::{tiny_pdf, upload};
use crate::gated::{app_with_mail, mail_to, path_in, request_access, sign_nda};
use crate::harness::{csrf_of, Browser};
use crate::services::MailSink;
use crate::{both_dbs, both_dbs_fn, Db, TestApp};
use candor_core::access::Role;

/// Where a redirect goes.
fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The profile form's fields, with `name` and `brand_color` as given.
fn profile<'a>(csrf: &'a str, name: &'a str, brand: &'a str, action: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("name", name),
        ("tagline", "How we protect your data"),
        ("description", "We keep **your** data safe."),
        ("brand_color", brand),
        ("security_email", "security@northwind.example"),
        ("privacy_email", "privacy@northwind.example"),
        ("support_email", "support@northwind.example"),
        ("action", action),
    ]
}

both_dbs!(confirmations_say_what_happened, |app: TestApp| async move {
    let csrf = app.sign_in_owner().await;
    let b = app.browser();
    // A new document has no draft: it is live at once, at its access level.
    for (access, says) in [
        ("public", "It is public now"),
        ("nda", "viewers with approved access can download it"),
        ("private", "only back-office users can see it"),
    ] {
        let title = format!("Pen test letter {access}");
        let form = reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text("title", title.clone())
            .text("description", "A letter.")
            .text("kind", "audit-report")
            .text("access", access)
            .part(
                "file",
                reqwest::multipart::Part::bytes(tiny_pdf("letter")).file_name("letter.pdf"),
            );
        let r = b.post_multipart("/admin/documents", form).await;
        assert_eq!(r.status(), 303, "{access}");
        let to = location(&r);
        assert!(to.ends_with(&format!("?notice=document-created-{access}")), "{to}");
        let (_, page) = b.get_text(&to).await;
        assert!(page.contains(says), "{access}: {page}");
        assert!(!page.contains("Created as a draft"), "{page}");
    }
    let (_, list) = app.get_text("/documents").await;
    assert!(list.contains("Pen test letter public"), "public at once: {list}");

    // Saving a document's access level: live at once, no publish step.
    let (_, edit) = b.get_text("/admin/documents/pen-test-letter-nda").await;
    let r = b
        .post_form(
            "/admin/documents/pen-test-letter-nda",
            &[
                ("_csrf", &csrf_of(&edit)),
                ("title", "Pen test letter nda"),
                ("description", "A letter."),
                ("kind", "audit-report"),
                ("access", "public"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, page) = b.get_text(&location(&r)).await;
    assert!(page.contains("The change is live now"), "{page}");
    assert!(!page.contains("once you publish"), "{page}");
    let (_, list) = app.get_text("/documents").await;
    assert!(
        list.contains("/documents/pen-test-letter-nda/download") || list.contains("Pen test letter nda"),
        "{list}"
    );

    // The approval rules and NDA: they apply at once.
    let (_, settings) = b.get_text("/admin/access-settings").await;
    let r = b
        .post_form(
            "/admin/access-settings",
            &[
                ("_csrf", &csrf_of(&settings)),
                ("grant_days", "90"),
                ("nda", "# Agreement\n\nKeep it confidential."),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = b.get_text(&location(&r)).await;
    assert!(page.contains("Rules and NDA saved. They apply at once"), "{page}");
    assert!(!page.contains("once you publish"), "{page}");

    // Content does have drafts, and says so truthfully.
    let r = b
        .post_form(
            "/admin/content/faq",
            &[
                ("_csrf", &csrf),
                ("slug", "new-question"),
                ("question", "Do you encrypt backups?"),
                ("answer", "Yes, with AES-256."),
                ("action", "save"),
            ],
        )
        .await;
    if r.status() == 303 {
        let (_, page) = b.get_text(&location(&r)).await;
        assert!(
            page.contains("Created as a draft. The public site shows it once you publish it."),
            "{page}"
        );
    }
});

both_dbs!(
    two_factor_is_found_and_required_from_the_users_page,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        // The user menu on every back-office page links both.
        let (_, dash) = app.get_text("/admin").await;
        assert!(
            dash.contains("href=\"/admin/mfa\"") && dash.contains("href=\"/admin/passkeys\""),
            "{dash}"
        );
        let (_, users) = app.get_text("/admin/users").await;
        assert!(
            users.contains("href=\"/admin/mfa\"") && users.contains("Sign-in policy"),
            "{users}"
        );
        assert!(users.contains("<strong>not required</strong>"), "{users}");

        // Someone whose role may not manage users sees the policy but may not change it.
        let editor = user_with_role(&app, &csrf, Role::Editor).await;
        let (_, editor_dash) = editor.get_text("/admin").await;
        assert!(editor_dash.contains("href=\"/admin/mfa\""));
        let r = editor
            .post_form(
                "/admin/settings/require-mfa",
                &[
                    ("_csrf", &csrf_of(&editor_dash)),
                    ("require", "true"),
                    ("back", "users"),
                ],
            )
            .await;
        assert_eq!(r.status(), 403);
        assert!(!app.state.app().mfa_required().await.unwrap());
        // Without a session: sent to sign in.
        let r = app
            .new_browser()
            .post_form("/admin/settings/require-mfa", &[("require", "true")])
            .await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with("/admin/login"));

        let r = app
            .post_form(
                "/admin/settings/require-mfa",
                &[("_csrf", &csrf_of(&users)), ("require", "true"), ("back", "users")],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/admin/users?notice=mfa-required");
        // Required at once: the owner, who has not set it up, is sent to do so.
        let r = app.get(&location(&r)).await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with("/admin/mfa"), "{}", location(&r));
        let (_, mfa) = app.get_text("/admin/mfa").await;
        assert!(mfa.contains("Your organization requires two-factor sign-in"), "{mfa}");
        assert!(app.state.app().mfa_required().await.unwrap());
        assert_eq!(
            candor_web::http::layout::notice_text("mfa-required")
                .map(|t| t.starts_with("Two-factor sign-in is now required")),
            Some(true)
        );
        let audit = app
            .store
            .audit_entries(app.state.org(), &Default::default())
            .await
            .unwrap();
        assert!(
            audit.iter().any(|e| e.record.action == "settings.require_mfa"),
            "the change is audited"
        );
    }
);

/// A request waiting for a decision: asked, address confirmed, NDA signed.
async fn waiting_request(app: &TestApp, sink: &MailSink, email: &str) {
    let b = app.new_browser();
    let (status, page) = request_access(&b, "Alex Buyer", email, "Buyer Inc", &["penetration-test-summary"]).await;
    assert_eq!(status, 200, "{page}");
    let verify = mail_to(sink, email, "Confirm your email").await;
    let r = b.follow_link(&path_in(app, &verify, "/documents/verify/")).await;
    assert_eq!(r.status(), 303);
    let (status, page) = sign_nda(&b, "Alex Buyer").await;
    assert!(status < 400, "{page}");
}

async fn deciding_nothing(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with_mail(db, &sink).await else {
        return;
    };
    let csrf = app.sign_in_owner().await;
    let (status, page) = upload(
        &app.browser(),
        &csrf,
        "Penetration test summary",
        "nda",
        "pentest.pdf",
        tiny_pdf("pentest"),
    )
    .await;
    assert!(status < 400, "{page}");
    waiting_request(&app, &sink, "alex@buyer.example").await;

    // Pending requests name documents by title.
    let (_, queue) = app.get_text("/admin/access-requests").await;
    assert!(queue.contains("<td>Penetration test summary</td>"), "{queue}");
    assert!(!queue.contains("penetration-test-summary"), "{queue}");

    // Approve with nothing ticked: the form again, the message kept, the error at the list.
    let message = "Welcome aboard; the summary is in your documents.";
    let r = app
        .post_form(
            "/admin/access-requests/decide",
            &[
                ("_csrf", &csrf),
                ("message", message),
                ("days", "30"),
                ("action", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!(">{message}</textarea>")), "{page}");
    assert!(page.contains("value=\"30\""), "{page}");
    assert!(page.contains("Requests: tick at least one request"), "{page}");
    assert!(page.contains("id=\"d-ids-error\""), "{page}");
    assert!(
        page.contains("aria-invalid=\"true\" aria-describedby=\"d-ids-error\""),
        "{page}"
    );
    assert!(page.contains("<form method=\"post\" action=\"/admin/access-requests/decide\">"));
    assert!(!page.contains("Request not valid"), "not the error page: {page}");

    // Days out of range: the same, with the error at the days.
    let r = app
        .post_form(
            "/admin/access-requests/decide",
            &[
                ("_csrf", &csrf),
                ("message", message),
                ("days", "0"),
                ("action", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("Days of access: enter a whole number"), "{page}");
    assert!(page.contains(&format!(">{message}</textarea>")), "{page}");

    // Someone who may not manage access is refused.
    let editor = user_with_role(&app, &csrf, Role::Editor).await;
    let (_, dash) = editor.get_text("/admin").await;
    let r = editor
        .post_form(
            "/admin/access-requests/decide",
            &[("_csrf", &csrf_of(&dash)), ("action", "approve")],
        )
        .await;
    assert_eq!(r.status(), 403);
}
both_dbs_fn!(approving_nothing_shows_the_form_again, deciding_nothing);

/// Sends the request form as `email` from the test's address; returns status, Retry-After and
/// the page.
async fn ask(b: &Browser, name: &str, email: &str) -> (u16, Option<String>, String) {
    let (_, form) = b.get_text("/documents/request").await;
    let r = b
        .post_form(
            "/documents/request",
            &[
                ("_csrf", &csrf_of(&form)),
                ("name", name),
                ("email", email),
                ("company", "Buyer Inc"),
                ("reason", "Our annual vendor review"),
                ("all", "on"),
            ],
        )
        .await;
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry, r.text().await.unwrap())
}

both_dbs!(
    access_requests_have_budgets_per_email_and_per_address,
    |app: TestApp| async move {
        let b = app.new_browser();
        // Per email: three, then the form again, filled in, with the wait in words.
        for _ in 0..3 {
            let (status, _, page) = ask(&b, "Alex Buyer", "alex@buyer.example").await;
            assert_eq!(status, 200, "{page}");
            assert!(page.contains("Check your email"));
        }
        let (status, retry, page) = ask(&b, "Alex Buyer", "alex@buyer.example").await;
        assert_eq!(status, 429, "{page}");
        let secs: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!((100..=120).contains(&secs), "{secs}");
        assert!(page.contains("Wait 2 minutes, then send the form again"), "{page}");
        assert!(page.contains("value=\"Alex Buyer\""), "what was typed is kept: {page}");
        assert!(page.contains("value=\"alex@buyer.example\""), "{page}");
        assert!(page.contains("Our annual vendor review</textarea>"), "{page}");
        assert!(
            page.contains("action=\"/documents/request\""),
            "the form, not a bare page"
        );
        assert!(!page.contains("/admin"), "no link to the back office: {page}");
        // Any address gets the same budget, known or not: no hint about which exist.
        let mut seen = vec![];
        for email in ["owner@corvellan.example", "nobody-at-all@corvellan.example"] {
            for _ in 0..3 {
                assert_eq!(ask(&b, "Sam", email).await.0, 200);
            }
            let (status, _, page) = ask(&b, "Sam", email).await;
            seen.push((
                status,
                page.replace(email, "EMAIL")
                    .split("name=\"_csrf\"")
                    .nth(1)
                    .map(str::len),
            ));
        }
        assert_eq!(seen[0].0, 429);
        assert_eq!(seen[0], seen[1]);

        // A colleague behind the same company network is not held up by those.
        let (status, _, page) = ask(&b, "Jo Colleague", "jo@buyer.example").await;
        assert_eq!(status, 200, "{page}");

        // Per address: a generous burst (thirty in all), then the wait.
        for n in 0..20 {
            let (status, _, page) = ask(&b, "Colleague", &format!("c{n}@buyer.example")).await;
            assert_eq!(status, 200, "request {n}: {page}");
        }
        let (status, retry, page) = ask(&b, "Late Colleague", "late@buyer.example").await;
        assert_eq!(status, 429, "{page}");
        let secs: u64 = retry.unwrap().parse().unwrap();
        assert!((1..=30).contains(&secs), "{secs}");
        assert!(page.contains("value=\"Late Colleague\""), "{page}");
    }
);

/// The viewer sign-in form: a malformed address is told at its field, and a fourth link asked
/// for one address within two minutes gets the form again with the wait, while a colleague on
/// the same network still gets theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_sign_in_explains_bad_addresses_and_waits() {
    let app = TestApp::start(Db::Sqlite).await.unwrap();
    let b = app.new_browser();
    let sign_in = |email: &'static str| {
        let b = &b;
        async move {
            let (_, form) = b.get_text("/viewer/signin").await;
            let r = b
                .post_form("/viewer/signin", &[("_csrf", &csrf_of(&form)), ("email", email)])
                .await;
            let status = r.status().as_u16();
            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            (status, retry, r.text().await.unwrap())
        }
    };
    let (status, _, page) = sign_in("not an address").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    assert!(
        page.contains("<a href=\"#v-email\">Email: enter an address like you@company.com.</a>"),
        "{page}"
    );
    assert!(page.contains("value=\"not an address\""), "{page}");
    for _ in 0..3 {
        let (status, _, page) = sign_in("reviewer@buyer.example").await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Check your email"), "{page}");
    }
    let (status, retry, page) = sign_in("reviewer@buyer.example").await;
    assert_eq!(status, 429, "{page}");
    assert!(retry.is_some());
    assert!(page.contains("Wait 2 minutes, then send the form again"), "{page}");
    assert!(page.contains("value=\"reviewer@buyer.example\""), "{page}");
    assert!(!page.contains("/admin"), "no link to the back office: {page}");
    let (status, _, page) = sign_in("colleague@buyer.example").await;
    assert_eq!(status, 200, "{page}");
}

both_dbs!(
    form_errors_are_tied_to_their_fields_with_labels,
    |app: TestApp| async move {
        // Public: the request form.
        let b = app.new_browser();
        let (_, form) = b.get_text("/documents/request").await;
        assert!(!form.contains("aria-invalid"), "no errors before sending");
        let r = b
            .post_form(
                "/documents/request",
                &[
                    ("_csrf", &csrf_of(&form)),
                    ("name", ""),
                    ("email", "not an address"),
                    ("company", "Buyer Inc"),
                    ("all", "on"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        for (field, label) in [("name", "Full name"), ("email", "Work email")] {
            assert!(
                page.contains(&format!("aria-invalid=\"true\" aria-describedby=\"r-{field}-error\"")),
                "{field}: {page}"
            );
            assert!(
                page.contains(&format!("<p class=\"field-error\" id=\"r-{field}-error\">")),
                "{page}"
            );
            assert!(page.contains(&format!("<a href=\"#r-{field}\">{label}: ")), "{page}");
        }
        assert!(!page.contains("r-company-error"), "{page}");
        assert!(page.contains("class=\"error-summary\" id=\"error-summary\" role=\"alert\" tabindex=\"-1\" autofocus"));
        assert!(page.contains("value=\"Buyer Inc\""), "{page}");

        // Back office: the summary names fields as their labels do, never by internal key.
        let csrf = app.sign_in_owner().await;
        let mut fields = profile(&csrf, "Northwind Labs", "#1d4ed8", "save");
        fields.retain(|(k, _)| *k != "security_email");
        fields.push(("security_email", "not-an-address"));
        let r = app.post_form("/admin/content/profile/profile", &fields).await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("<a href=\"#f-security_email\">Security contact: "),
            "{page}"
        );
        assert!(!page.contains(">security_email:"), "{page}");
        assert!(page.contains("id=\"f-security_email-error\""), "{page}");
        assert!(page.contains("aria-invalid=\"true\""), "{page}");
    }
);

both_dbs!(
    a_light_brand_colour_says_what_is_used_and_names_take_the_right_possessive,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let r = app
            .post_form(
                "/admin/content/profile/profile",
                &profile(&csrf, "Northwind Labs", "#ffe14d", "publish"),
            )
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let (_, edit) = app.get_text(&location(&r)).await;
        let used = candor_core::color::darkened_accent("#ffe14d").unwrap();
        assert!(
            edit.contains(&format!(
                "#ffe14d is too light for white text: buttons, links and the header use the darker {used} instead"
            )),
            "{edit}"
        );
        // A dark colour is used as given, and nothing is said.
        let r = app
            .post_form(
                "/admin/content/profile/profile",
                &profile(&csrf, "Northwind Labs", "#1d4ed8", "publish"),
            )
            .await;
        let (_, edit) = app.get_text(&location(&r)).await;
        assert!(!edit.contains("is too light for white text:"), "{edit}");

        for path in ["/documents/request", "/subscribe"] {
            let (status, page) = app.get_text(path).await;
            assert_eq!(status, 200);
            assert!(page.contains("Northwind Labs&#39; "), "{path}: {page}");
            assert!(!page.contains("Labs&#39;s"), "{path}: {page}");
        }
    }
);
