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

/// Enrols the owner (signed in with `csrf`) in TOTP; returns the secret and the owner's user id.
async fn enrol_owner(app: &TestApp, csrf: &str) -> (String, i64) {
    let (_, page) = app.get_text("/admin/mfa").await;
    let secret = crate::harness::shown_once(&page);
    let r = app
        .post_form(
            "/admin/mfa/confirm",
            &[("_csrf", csrf), ("code", &totp::code_at(&secret, now()).unwrap())],
        )
        .await;
    assert_eq!(r.status(), 200);
    let id = app
        .store
        .user_by_email(app.state.org(), OWNER_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .id;
    (secret, id)
}

both_dbs!(
    totp_secrets_are_stored_sealed_and_survive_a_key_rotation,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let (secret, id) = enrol_owner(&app, &csrf).await;
        // The column holds a sealed value under the current master key, never the secret.
        let (stored, pending, _) = app.store.totp_state(id).await.unwrap();
        let stored = stored.expect("an active secret");
        assert!(pending.is_none());
        assert!(!stored.contains(&secret), "the secret is not in the database");
        let first_key = app.state.key_ring().current_id().to_owned();
        assert!(stored.starts_with(&format!("sealed1:{first_key}:")), "{stored}");

        // Rotate and retire the old key: the secret moves to the new key and still signs in.
        let actor = candor_app::Actor::Cli { os_user: "test".into() };
        let r = app.state.app().rotate_keys(&actor, None).await.unwrap().value;
        assert_eq!((r.secrets, r.retired.clone()), (1, vec![first_key.clone()]), "{r:?}");
        let moved = app.store.totp_state(id).await.unwrap().0.unwrap();
        assert!(moved.starts_with(&format!("sealed1:{}:", r.current)), "{moved}");
        assert!(!moved.contains(&secret));
        let key_file = app.state.config().data_dir.join(candor_blob::keyfile::FILE_NAME);
        assert!(!std::fs::read_to_string(key_file).unwrap().contains(&first_key));
        let b = app.new_browser();
        assert!(password_step(&b).await.starts_with("/admin/mfa/verify?next="));
        let r = give_code(&b, &totp::code_at(&secret, now() + 30).unwrap()).await;
        assert_eq!(r.status(), 303, "the code is accepted after the rotation");
        assert_eq!(b.get("/admin/content/faq").await.status(), 200);
    }
);

both_dbs!(
    an_interrupted_rotation_resumes_with_secrets_and_files,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let (secret, id) = enrol_owner(&app, &csrf).await;
        let first_key = app.state.key_ring().current_id().to_owned();
        let actor = candor_app::Actor::Cli { os_user: "test".into() };
        // Stopped before touching the secret: it is still under the old key, and opens.
        let r = app.state.app().rotate_keys(&actor, Some(0)).await.unwrap().value;
        assert!(r.started && r.secrets == 0 && r.retired.is_empty(), "{r:?}");
        let stored = app.store.totp_state(id).await.unwrap().0.unwrap();
        assert!(stored.starts_with(&format!("sealed1:{first_key}:")));
        let opened = app.state.app().totp_state(id).await.unwrap().active.unwrap();
        assert_eq!(opened.expose(), secret);
        // Run again: resumes under the same new key and retires the old one.
        let again = app.state.app().rotate_keys(&actor, None).await.unwrap().value;
        assert!(
            !again.started && again.secrets == 1 && again.current == r.current,
            "{again:?}"
        );
        assert_eq!(again.retired, vec![first_key]);
        let c = app.new_browser();
        password_step(&c).await;
        assert_eq!(
            give_code(&c, &totp::code_at(&secret, now() + 30).unwrap())
                .await
                .status(),
            303
        );
    }
);

both_dbs!(
    a_plaintext_secret_from_an_older_version_is_sealed_at_start_up,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let (secret, id) = enrol_owner(&app, &csrf).await;
        // As an older version stored it.
        app.sql(&format!("UPDATE users SET totp_secret = '{secret}' WHERE id = {id}"))
            .await;
        // What start-up does before the first request (AppState::new runs it).
        assert_eq!(app.state.app().seal_plaintext_secrets().await.unwrap(), 1);
        let stored = app.store.totp_state(id).await.unwrap().0.unwrap();
        assert!(stored.starts_with("sealed1:") && !stored.contains(&secret), "{stored}");
        assert_eq!(app.state.app().seal_plaintext_secrets().await.unwrap(), 0, "once only");
        let b = app.new_browser();
        password_step(&b).await;
        assert_eq!(
            give_code(&b, &totp::code_at(&secret, now() + 30).unwrap())
                .await
                .status(),
            303
        );
    }
);
