//! Single sign-on against a real OpenID provider (npm `oidc-provider`) started by the test, and
//! against deliberately broken providers: every check of the ID token must hold.

use crate::harness::Browser;
use crate::services::OidcProvider;
use crate::{both_dbs_fn, Db, TestApp};
use candor_store::Role;
use candor_web::identity::oidc::{OidcKeys, OidcSettings};

fn settings(issuer: &str, only: bool) -> OidcSettings {
    OidcSettings::from_keys(OidcKeys {
        issuer: Some(issuer.to_owned()),
        client_id: Some("candor".into()),
        client_secret: Some("candor-test-secret".into()),
        scopes: Some("email profile groups".into()),
        role_map: Some("candor-owners=owner, candor-admins=admin, candor-editors=editor".into()),
        jit: Some(true),
        only: Some(only),
        label: Some("Sign in with Corvellan SSO".into()),
        ..Default::default()
    })
    .expect("valid settings")
    .expect("configured")
}

async fn sso_app(db: Db, issuer: &str, only: bool) -> Option<TestApp> {
    let s = settings(issuer, only);
    TestApp::start_configured(db, true, move |c| c.oidc = Some(s)).await
}

/// Starts single sign-on in `browser` as `login_hint` and follows the provider's redirects
/// (carrying its cookies) until it sends the browser back; returns the callback URL.
async fn to_callback(app: &TestApp, browser: &Browser, login_hint: &str) -> String {
    to_callback_from(app, browser, login_hint, "/admin").await
}

async fn to_callback_from(app: &TestApp, browser: &Browser, login_hint: &str, next: &str) -> String {
    let r = browser.get(&format!("/admin/sso/start?next={next}")).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let mut url = format!("{}&login_hint={login_hint}", location(&r));
    for _ in 0..10 {
        if url.starts_with(&format!("{}/admin/sso/callback", app.base)) {
            return url;
        }
        let r = browser.client.get(&url).send().await.unwrap();
        assert!(
            r.status().is_redirection(),
            "provider answered {} at {url}: {}",
            r.status(),
            r.text().await.unwrap()
        );
        url = reqwest::Url::parse(&url)
            .unwrap()
            .join(&location(&r))
            .unwrap()
            .to_string();
    }
    panic!("the provider never sent the browser back to Candor");
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The whole sign-in; returns the callback's status and page.
async fn sign_in_sso(app: &TestApp, browser: &Browser, login_hint: &str) -> (u16, String) {
    let callback = to_callback(app, browser, login_hint).await;
    let r = browser.client.get(&callback).send().await.unwrap();
    let status = r.status().as_u16();
    if status == 303 {
        assert_eq!(location(&r), "/admin");
    }
    (status, r.text().await.unwrap())
}

async fn sign_in_through_the_provider(db: Db) {
    let Some(idp) = OidcProvider::start().await else { return };
    let Some(app) = sso_app(db, &idp.issuer, false).await else {
        return;
    };
    let (status, login) = app.new_browser().get_text("/admin/login").await;
    assert_eq!(status, 200);
    assert!(login.contains("Sign in with Corvellan SSO") && login.contains("name=\"password\""));

    // A new person in candor-editors: created just in time as an editor, signed in.
    let eddie = app.new_browser();
    let (status, page) = sign_in_sso(&app, &eddie, "eddie").await;
    assert_eq!(status, 303, "{page}");
    let (status, dash) = eddie.get_text("/admin").await;
    assert_eq!(status, 200);
    assert!(dash.contains("eddie@corvellan.example"), "{dash}");
    let user = app
        .store
        .user_by_email(app.state.org(), "eddie@corvellan.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (user.role, user.name.as_str(), user.has_password),
        (Role::Editor, "Eddie Editor", false)
    );
    assert_eq!(
        eddie.get("/admin/users").await.status(),
        403,
        "editors do not manage users"
    );

    // An existing account with another role: linked to the subject, role follows the groups.
    let alice = app
        .store
        .create_user(app.state.org(), "alice@corvellan.example", "Alice", Role::Auditor)
        .await
        .unwrap();
    let b = app.new_browser();
    let (status, page) = sign_in_sso(&app, &b, "alice").await;
    assert_eq!(status, 303, "{page}");
    let alice = app.store.user(app.state.org(), alice.id).await.unwrap().unwrap();
    assert_eq!(alice.role, Role::Admin);
    let subject = app.store.sso_subject_of(alice.id).await.unwrap().unwrap();
    assert_eq!(subject, format!("{} alice", idp.issuer));
    assert_eq!(b.get("/admin/tokens").await.status(), 200, "admins see tokens");

    // In no mapped group: refused, and nothing created.
    let (status, page) = sign_in_sso(&app, &app.new_browser(), "nora").await;
    assert_eq!(status, 403);
    assert!(page.contains("not in a group that gives access to Candor"), "{page}");
    assert!(app
        .store
        .user_by_email(app.state.org(), "nora@corvellan.example")
        .await
        .unwrap()
        .is_none());

    // The provider says the email is not verified: refused.
    let (status, page) = sign_in_sso(&app, &app.new_browser(), "unverified").await;
    assert_eq!(status, 403);
    assert!(page.contains("not verified"), "{page}");

    // The provider refuses (unknown account): its error is shown.
    let (status, page) = sign_in_sso(&app, &app.new_browser(), "stranger").await;
    assert_eq!(status, 403);
    assert!(page.contains("did not sign you in (access_denied"), "{page}");

    // A disabled account cannot come back through the provider.
    app.store.set_disabled(app.state.org(), user.id, true).await.unwrap();
    let (status, page) = sign_in_sso(&app, &app.new_browser(), "eddie").await;
    assert_eq!(status, 403);
    assert!(page.contains("disabled"), "{page}");
    assert_eq!(
        eddie.get("/admin").await.status(),
        303,
        "disabling ended the SSO session too"
    );

    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    let count = |action: &str| entries.iter().filter(|e| e.record.action == action).count();
    assert_eq!(count("auth.sso.login"), 2);
    assert_eq!(count("user.create"), 1);
    assert_eq!(count("user.role.change"), 1);
    assert_eq!(count("auth.sso.failed"), 4);
}
both_dbs_fn!(sso_sign_in, sign_in_through_the_provider);

/// `state` is bound to the browser that started the sign-in and works once.
async fn state_binding(db: Db) {
    let Some(idp) = OidcProvider::start().await else { return };
    let Some(app) = sso_app(db, &idp.issuer, false).await else {
        return;
    };

    // Tampered state: refused, and the genuine callback is used up too.
    let b = app.new_browser();
    let callback = to_callback(&app, &b, "eddie").await;
    let tampered = callback.replace("state=", "state=x");
    let r = b.client.get(&tampered).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("does not match the sign-in this browser started"));
    let r = b.client.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 403, "one try per sign-in");

    // The callback delivered to another browser (a planted code): nothing to match it.
    let b = app.new_browser();
    let callback = to_callback(&app, &b, "eddie").await;
    let (status, page) = app
        .new_browser()
        .get_text(callback.strip_prefix(&app.base).unwrap())
        .await;
    assert_eq!(status, 403);
    assert!(page.contains("not known in this browser"), "{page}");

    // Replayed after success.
    let b = app.new_browser();
    let callback = to_callback(&app, &b, "eddie").await;
    assert_eq!(b.client.get(&callback).send().await.unwrap().status(), 303);
    assert_eq!(b.client.get(&callback).send().await.unwrap().status(), 403);

    // `next` is only ever a back-office path: an outside address falls back to the dashboard.
    for next in ["https://evil.example/", "//evil.example", "/admin/users"] {
        let b = app.new_browser();
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let callback = to_callback_from(&app, &b, "owen", &encoded).await;
        let r = b.client.get(&callback).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let expected = if next == "/admin/users" { next } else { "/admin" };
        assert_eq!(location(&r), expected, "next={next}");
    }
}
both_dbs_fn!(sso_state_is_bound_to_the_browser, state_binding);

/// Broken or malicious providers: each bad ID token is refused with a clear page, and the
/// control case (`ok`) passes, so the refusals are about the token, not the setup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_refuses_bad_id_tokens() {
    let Some(idp) = OidcProvider::start().await else { return };
    for (case, expect) in [
        ("ok", None),
        ("wrong-aud", Some("audience")),
        ("expired", Some("expired")),
        ("wrong-nonce", Some("nonce")),
        ("wrong-iss", Some("issuer")),
        ("bad-signature", Some("signature")),
        ("no-email-verified", Some("not verified")),
    ] {
        let app = sso_app(Db::Sqlite, &format!("{}/rogue/{case}", idp.issuer), false)
            .await
            .unwrap();
        let (status, page) = sign_in_sso(&app, &app.new_browser(), "alice").await;
        match expect {
            None => assert_eq!(status, 303, "{case}: {page}"),
            Some(word) => {
                assert_eq!(status, 403, "{case} must be refused: {page}");
                assert!(
                    page.to_lowercase().contains(word),
                    "{case}: page should mention {word}: {page}"
                );
                assert!(
                    app.store
                        .user_by_email(app.state.org(), "alice@corvellan.example")
                        .await
                        .unwrap()
                        .is_none(),
                    "{case}: nobody was created"
                );
            }
        }
    }
}

/// With `oidc_only`, password sign-in is off: no form, and a posted password is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_only_turns_password_sign_in_off() {
    let Some(idp) = OidcProvider::start().await else { return };
    let app = sso_app(Db::Sqlite, &idp.issuer, true).await.unwrap();
    let b = app.new_browser();
    let (_, login) = b.get_text("/admin/login").await;
    assert!(
        login.contains("Sign in with Corvellan SSO") && !login.contains("name=\"password\""),
        "{login}"
    );
    let r = b
        .post_form(
            "/admin/login",
            &[
                ("_csrf", "none shown"),
                ("email", "owen@corvellan.example"),
                ("password", "whatever it is"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Password sign-in is turned off"));
    let (status, page) = sign_in_sso(&app, &b, "owen").await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(
        b.get("/admin/users").await.status(),
        200,
        "owners from the owners group"
    );
}

/// Each start stores a sign-in in progress: an address that keeps starting and never finishes
/// is made to wait, and finishing a sign-in clears its count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_starts_are_limited_per_address() {
    let Some(idp) = OidcProvider::start().await else { return };
    let app = sso_app(Db::Sqlite, &idp.issuer, false).await.unwrap();
    let b = app.new_browser();
    let (status, _) = sign_in_sso(&app, &b, "owen").await;
    assert_eq!(status, 303);
    for n in 0..20 {
        assert_eq!(b.get("/admin/sso/start").await.status(), 303, "start {n}");
    }
    let r = b.get("/admin/sso/start").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}
