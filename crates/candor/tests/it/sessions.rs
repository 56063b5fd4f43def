//! Sessions: rotation without sign-out, timeouts, the sessions page, revocation, role changes,
//! and session fixation.

use crate::access::user_with_role;
use crate::harness::{csrf_of, OWNER_EMAIL, OWNER_PASSWORD};
use crate::{both_dbs, TestApp};
use candor_core::access::Role;

/// Signs in with a client that keeps no cookie jar; returns the raw session cookie ("name=value").
async fn raw_sign_in(app: &TestApp, planted: Option<&str>) -> String {
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = c.get(app.url("/admin/login")).send().await.unwrap();
    let login_cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = r.text().await.unwrap();
    let cookies = match planted {
        Some(p) => format!("{login_cookie}; candor_session={p}"),
        None => login_cookie,
    };
    let r = c
        .post(app.url("/admin/login"))
        .header("Origin", &app.base)
        .header("Cookie", cookies)
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("email", OWNER_EMAIL),
            ("password", OWNER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("candor_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn status_with(app: &TestApp, cookie: &str) -> (u16, Option<String>) {
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = c.get(app.url("/admin")).header("Cookie", cookie).send().await.unwrap();
    let new = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("candor_session="))
        .map(|c| c.split(';').next().unwrap().to_owned());
    (r.status().as_u16(), new)
}

both_dbs!(
    session_ids_rotate_without_signing_out_and_fixation_fails,
    |app: TestApp| async move {
        app.sign_in_owner().await;
        // Fixation: an id planted before sign-in is replaced, and is worthless afterwards.
        let planted = "attacker-chosen-value-0123456789abcdef0123456";
        let cookie = raw_sign_in(&app, Some(planted)).await;
        assert_ne!(cookie, format!("candor_session={planted}"));
        assert_eq!(status_with(&app, &format!("candor_session={planted}")).await.0, 303);
        let (status, rotated) = status_with(&app, &cookie).await;
        assert_eq!(
            (status, rotated.as_deref()),
            (200, None),
            "fresh sessions are not rotated"
        );

        // The rotation interval passes (moved back in the database rather than waited for).
        app.sql("UPDATE sessions SET rotated_at = 0").await;
        let (status, rotated) = status_with(&app, &cookie).await;
        assert_eq!(status, 200, "rotation does not sign out");
        let new_cookie = rotated.expect("a new session id is issued");
        assert_ne!(new_cookie, cookie);
        assert_eq!(status_with(&app, &new_cookie).await, (200, None));
        // The old id works for a short grace period (requests in flight), then not at all.
        assert_eq!(status_with(&app, &cookie).await.0, 200);
        app.sql("UPDATE sessions SET prev_valid_until = 0").await;
        assert_eq!(status_with(&app, &cookie).await.0, 303);
        assert_eq!(status_with(&app, &new_cookie).await.0, 200);

        // Idle and absolute timeouts.
        app.sql("UPDATE sessions SET last_seen_at = 1").await;
        assert_eq!(status_with(&app, &new_cookie).await.0, 303, "idle too long");
        let cookie = raw_sign_in(&app, None).await;
        app.sql("UPDATE sessions SET created_at = 1").await;
        assert_eq!(status_with(&app, &cookie).await.0, 303, "older than the absolute limit");
    }
);

both_dbs!(sessions_page_lists_and_revokes, |app: TestApp| async move {
    let csrf = app.sign_in_owner().await;
    let phone = app.new_browser();
    phone.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    let (_, page) = app.get_text("/admin/sessions").await;
    assert_eq!(page.matches("<tr><th scope=\"row\">").count(), 2, "{page}");
    assert!(page.contains("This browser"));
    let other_id = page
        .split("/admin/sessions/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // Nobody else's session ids: a made-up one is not found.
    assert_eq!(
        app.post_form("/admin/sessions/not-a-session/revoke", &[("_csrf", &csrf)])
            .await
            .status(),
        404
    );
    assert_eq!(
        app.post_form(&format!("/admin/sessions/{other_id}/revoke"), &[("_csrf", &csrf)])
            .await
            .status(),
        303
    );
    assert_eq!(
        phone.get("/admin").await.status(),
        303,
        "the revoked browser is signed out"
    );
    assert_eq!(app.get("/admin").await.status(), 200, "this one is not");
    // Revoke all others.
    let tablet = app.new_browser();
    tablet.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(
        app.post_form("/admin/sessions/revoke-others", &[("_csrf", &csrf)])
            .await
            .status(),
        303
    );
    assert_eq!(tablet.get("/admin").await.status(), 303);
    assert_eq!(app.get("/admin").await.status(), 200);
});

both_dbs!(
    owners_end_other_users_sessions_and_role_changes_sign_out,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let editor = user_with_role(&app, &csrf, Role::Editor).await;
        assert_eq!(editor.get("/admin/content/faq").await.status(), 200);
        let users = app.get_text("/admin/users").await.1;
        let editor_id = users
            .split("action=\"/admin/users/")
            .skip(1)
            .map(|s| s.split('/').next().unwrap())
            .find(|id| users.contains(&format!("id=\"role-{id}\"")))
            .unwrap()
            .to_owned();
        // A role change ends the user's sessions; they sign in again with the new rights.
        let r = app
            .post_form(
                &format!("/admin/users/{editor_id}/role"),
                &[("_csrf", &csrf), ("role", "auditor")],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(editor.get("/admin/content/faq").await.status(), 303);
        editor
            .sign_in("editor@corvellan.example", "a long enough password for tests")
            .await;
        assert_eq!(editor.get("/admin/audit").await.status(), 200, "now an auditor");
        // The owner ends all of that user's sessions.
        assert_eq!(
            app.post_form(
                &format!("/admin/users/{editor_id}/sessions/revoke"),
                &[("_csrf", &csrf)]
            )
            .await
            .status(),
            303
        );
        assert_eq!(editor.get("/admin/audit").await.status(), 303);
        // An owner cannot change their own role: there is no form for it, and a forged request fails.
        let owner_id = app
            .store
            .user_by_email(app.state.org(), OWNER_EMAIL)
            .await
            .unwrap()
            .unwrap()
            .id;
        assert!(!users.contains(&format!("id=\"role-{owner_id}\"")));
        let r = app
            .post_form(
                &format!("/admin/users/{owner_id}/role"),
                &[("_csrf", &csrf), ("role", "auditor")],
            )
            .await;
        assert_eq!(r.status(), 400);
    }
);

both_dbs!(
    changing_your_password_ends_your_other_sessions_and_the_policy_holds,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let laptop = app.new_browser();
        laptop.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
        // Wrong current password, a common password, a mismatch: all refused, each named.
        let r = app
            .post_form(
                "/admin/password",
                &[
                    ("_csrf", &csrf),
                    ("current", "not it at all"),
                    ("password", "qwerty123456"),
                    ("confirm", "different"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Current password: it is not correct")
                && body.contains("commonly used")
                && body.contains("differ"),
            "{body}"
        );
        assert_eq!(
            laptop.get("/admin").await.status(),
            200,
            "a refused change ends nothing"
        );
        let new = "a brand new passphrase for the owner";
        let r = app
            .post_form(
                "/admin/password",
                &[
                    ("_csrf", &csrf),
                    ("current", OWNER_PASSWORD),
                    ("password", new),
                    ("confirm", new),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(app.get("/admin").await.status(), 200, "this browser stays signed in");
        assert_eq!(laptop.get("/admin").await.status(), 303, "the other session ended");
        app.new_browser().sign_in(OWNER_EMAIL, new).await;
    }
);
