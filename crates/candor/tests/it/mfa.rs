//! Two-factor sign-in: enrolment, the second step, replay, recovery codes, the org policy.

use crate::access::user_with_role;
use crate::harness::{csrf_of, Browser, OWNER_EMAIL, OWNER_PASSWORD};
use crate::{both_dbs, TestApp};
use candor_core::access::Role;
use candor_crypto::totp;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Signs in with the password only; returns where the server sent the browser.
async fn password_step(b: &Browser) -> String {
    let (_, page) = b.get_text("/admin/login").await;
    let r = b
        .post_form(
            "/admin/login",
            &[
                ("_csrf", &csrf_of(&page)),
                ("email", OWNER_EMAIL),
                ("password", OWNER_PASSWORD),
                ("next", "/admin/content/faq"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn give_code(b: &Browser, code: &str) -> reqwest::Response {
    let (_, page) = b.get_text("/admin/mfa/verify").await;
    b.post_form(
        "/admin/mfa/verify",
        &[
            ("_csrf", &csrf_of(&page)),
            ("code", code),
            ("next", "/admin/content/faq"),
        ],
    )
    .await
}

both_dbs!(
    totp_enrolment_second_step_replay_and_recovery_codes,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let (_, page) = app.get_text("/admin/mfa").await;
        assert!(page.contains("<svg"), "a server-rendered QR code");
        let secret = crate::harness::shown_once(&page);
        // A wrong code does not turn it on.
        let r = app
            .post_form("/admin/mfa/confirm", &[("_csrf", &csrf), ("code", "000000")])
            .await;
        assert_eq!(r.status(), 422);
        let code = totp::code_at(&secret, now()).unwrap();
        let r = app
            .post_form("/admin/mfa/confirm", &[("_csrf", &csrf), ("code", &code)])
            .await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        let recovery: Vec<String> = page
            .split("<ul class=\"token\">")
            .nth(1)
            .unwrap()
            .split("</ul>")
            .next()
            .unwrap()
            .split("<li>")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().to_owned())
            .collect();
        assert_eq!(recovery.len(), 10);

        // Signing in now takes two steps; in between, nothing else is reachable.
        let b = app.new_browser();
        assert!(password_step(&b).await.starts_with("/admin/mfa/verify?next="));
        let r = b.get("/admin/content/faq").await;
        assert_eq!(r.headers()["location"], "/admin/mfa/verify");
        assert_eq!(give_code(&b, "123456").await.status(), 401);
        // The code used to enrol cannot be used again (same time step).
        assert_eq!(give_code(&b, &code).await.status(), 401, "replayed code refused");
        // The next step's code works (waiting 30 s would do the same; the server accepts one step of skew).
        let next_code = totp::code_at(&secret, now() + 30).unwrap();
        let r = give_code(&b, &next_code).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/admin/content/faq");
        assert_eq!(b.get("/admin/content/faq").await.status(), 200);

        // A recovery code works once.
        let c = app.new_browser();
        password_step(&c).await;
        assert_eq!(
            give_code(&c, &recovery[0].to_uppercase()).await.status(),
            303,
            "recovery codes ignore case"
        );
        let d = app.new_browser();
        password_step(&d).await;
        assert_eq!(
            give_code(&d, &recovery[0]).await.status(),
            401,
            "a spent recovery code fails"
        );
        assert_eq!(give_code(&d, &recovery[1]).await.status(), 303);
    }
);

both_dbs!(
    an_organization_can_require_mfa_for_everyone,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let editor = user_with_role(&app, &csrf, Role::Editor).await;
        assert_eq!(editor.get("/admin/content/faq").await.status(), 200);
        // Only owners set the policy.
        let (_, page) = editor.get_text("/admin/mfa").await;
        assert!(!page.contains("Organization policy"));
        let editor_csrf = csrf_of(&page);
        assert_eq!(
            editor
                .post_form(
                    "/admin/settings/require-mfa",
                    &[("_csrf", &editor_csrf), ("require", "true")]
                )
                .await
                .status(),
            403
        );
        assert_eq!(
            app.post_form("/admin/settings/require-mfa", &[("_csrf", &csrf), ("require", "true")])
                .await
                .status(),
            303
        );
        // The editor has no second factor: everything but enrolment is closed until they set it up.
        let r = editor.get("/admin/content/faq").await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/admin/mfa");
        let (_, page) = editor.get_text("/admin/mfa").await;
        assert!(page.contains("Your organization requires two-factor sign-in"));
        let secret = crate::harness::shown_once(&page);
        let r = editor
            .post_form(
                "/admin/mfa/confirm",
                &[
                    ("_csrf", &csrf_of(&page)),
                    ("code", &totp::code_at(&secret, now()).unwrap()),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(editor.get("/admin/content/faq").await.status(), 200);
    }
);

both_dbs!(an_owner_resets_a_lost_second_factor, |app: TestApp| async move {
    let csrf = app.sign_in_owner().await;
    let editor = user_with_role(&app, &csrf, Role::Editor).await;
    let (_, page) = editor.get_text("/admin/mfa").await;
    let secret = crate::harness::shown_once(&page);
    let r = editor
        .post_form(
            "/admin/mfa/confirm",
            &[
                ("_csrf", &csrf_of(&page)),
                ("code", &totp::code_at(&secret, now()).unwrap()),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let id = app
        .store
        .user_by_email(app.state.org(), "editor@corvellan.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    let users = app.get_text("/admin/users").await.1;
    assert!(users.contains(&format!("/admin/users/{id}/mfa/reset")));
    // Not the editor's to do.
    assert_eq!(
        editor
            .post_form(&format!("/admin/users/{id}/mfa/reset"), &[("_csrf", &csrf_of(&page))])
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post_form(&format!("/admin/users/{id}/mfa/reset"), &[("_csrf", &csrf)])
            .await
            .status(),
        303
    );
    assert_eq!(
        editor.get("/admin/content/faq").await.status(),
        303,
        "their sessions ended"
    );
    // They sign in with the password alone now.
    editor
        .sign_in("editor@corvellan.example", "a long enough password for tests")
        .await;
    assert!(!app.store.user(app.state.org(), id).await.unwrap().unwrap().mfa_enabled);
});
