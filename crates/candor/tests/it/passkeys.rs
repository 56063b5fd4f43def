//! Passkeys with a software authenticator (webauthn-authenticator-rs's SoftPasskey): added to an
//! account, used as the second step after a password, and refused when replayed, forged or sent
//! without the page's token. (Sign-in with a passkey alone needs a discoverable credential,
//! which SoftPasskey cannot make: the browser tests do it with Chromium's virtual authenticator.)

use crate::harness::{csrf_of, Browser, OWNER_EMAIL, OWNER_PASSWORD};
use crate::{both_dbs_fn, Db, TestApp};
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;

/// Passkeys need a domain name: the app is told it lives at `localhost`.
async fn passkey_app(db: Db) -> Option<TestApp> {
    TestApp::start_configured(db, true, |c| {
        c.public_url = c.public_url.replace("127.0.0.1", "localhost")
    })
    .await
}

fn origin(app: &TestApp) -> Url {
    Url::parse(&app.state.config().public_url).unwrap()
}

/// A JSON POST from a page of ours, with its CSRF token in the header.
async fn post_json(b: &Browser, path: &str, csrf: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let r = b
        .client
        .post(b.url(path))
        .header("Origin", &b.base)
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// Adds a passkey to the signed-in user of `b`; returns the authenticator holding it.
async fn add_passkey(app: &TestApp, b: &Browser, name: &str) -> WebauthnAuthenticator<SoftPasskey> {
    let (status, page) = b.get_text("/admin/passkeys").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("data-passkey=\"register\""),
        "passkeys are available on a domain name"
    );
    let csrf = csrf_of(&page);
    let (status, start) = post_json(b, "/admin/passkeys/register/start", &csrf, serde_json::json!({})).await;
    assert_eq!(status, 200, "{start}");
    let options: CreationChallengeResponse = serde_json::from_value(start["options"].clone()).unwrap();
    let mut authenticator = WebauthnAuthenticator::new(SoftPasskey::new(true));
    let credential = authenticator
        .do_registration(origin(app), options)
        .expect("software authenticator registers");
    let body = serde_json::json!({"ceremony": start["ceremony"], "name": name, "credential": credential});
    let (status, done) = post_json(b, "/admin/passkeys/register/finish", &csrf, body.clone()).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["redirect"], "/admin/passkeys?notice=passkey-added");
    // The same ceremony cannot be finished twice.
    let (status, again) = post_json(b, "/admin/passkeys/register/finish", &csrf, body).await;
    assert_eq!(status, 400, "{again}");
    authenticator
}

/// Signs in with the password; the session waits for its second step. Returns the verify page.
async fn password_step(b: &Browser) -> String {
    let (_, login) = b.get_text("/admin/login").await;
    let r = b
        .post_form(
            "/admin/login",
            &[
                ("_csrf", &csrf_of(&login)),
                ("email", OWNER_EMAIL),
                ("password", OWNER_PASSWORD),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/admin/mfa/verify"));
    let (status, page) = b.get_text("/admin/mfa/verify").await;
    assert_eq!(status, 200);
    page
}

async fn second_factor(db: Db) {
    let Some(app) = passkey_app(db).await else { return };
    app.sign_in_owner().await;
    let owner = app.browser();
    let mut authenticator = add_passkey(&app, &owner, "Laptop").await;
    let (_, list) = owner.get_text("/admin/passkeys").await;
    assert!(list.contains("Laptop"), "{list}");

    // Without the page's token, or from another site: refused.
    let (status, _) = post_json(
        &owner,
        "/admin/passkeys/register/start",
        "forged",
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 403);
    let r = owner
        .client
        .post(owner.url("/admin/passkeys/register/start"))
        .header("Origin", "https://evil.example")
        .header("X-CSRF-Token", csrf_of(&list))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // No session: sent to sign in, nothing started.
    let r = app
        .new_browser()
        .client
        .post(app.url("/admin/passkeys/register/start"))
        .header("Origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // A password alone is now not enough: the passkey is the second step.
    let b = app.new_browser();
    let verify = password_step(&b).await;
    assert!(
        verify.contains("Use a passkey") && !verify.contains("name=\"code\""),
        "{verify}"
    );
    assert_eq!(b.get("/admin").await.status(), 303, "half signed in");
    let csrf = csrf_of(&verify);
    let (status, start) = post_json(&b, "/admin/mfa/passkey/start", &csrf, serde_json::json!({})).await;
    assert_eq!(status, 200, "{start}");
    let options: RequestChallengeResponse = serde_json::from_value(start["options"].clone()).unwrap();
    let assertion = authenticator
        .do_authentication(origin(&app), options)
        .expect("signs the challenge");
    let body = serde_json::json!({"ceremony": start["ceremony"], "next": "/admin/passkeys", "credential": assertion});
    let (status, done) = post_json(&b, "/admin/mfa/passkey/finish", &csrf, body.clone()).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["redirect"], "/admin/passkeys");
    let (status, page) = b.get_text("/admin/passkeys").await;
    assert_eq!(status, 200);
    assert!(!page.contains("Last used</th><td>—"), "the use is recorded");

    // A recorded assertion replayed against a new challenge: refused.
    let c = app.new_browser();
    let verify = password_step(&c).await;
    let csrf = csrf_of(&verify);
    let (_, start) = post_json(&c, "/admin/mfa/passkey/start", &csrf, serde_json::json!({})).await;
    let replay = serde_json::json!({"ceremony": start["ceremony"], "next": "/admin", "credential": assertion});
    let (status, refused) = post_json(&c, "/admin/mfa/passkey/finish", &csrf, replay).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(c.get("/admin").await.status(), 303, "still half signed in");

    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    assert!(entries
        .iter()
        .any(|e| e.record.action == "auth.login" && e.record.details["mfa"] == "passkey"));
    assert!(entries.iter().any(|e| e.record.action == "auth.passkey.add"));
    assert!(entries.iter().any(|e| e.record.action == "auth.mfa.failed"));
}
both_dbs_fn!(passkey_as_second_factor, second_factor);

/// Removing: only your own passkeys; someone else's id is not found. An owner's reset of a
/// user's second factor removes their passkeys too.
async fn removal(db: Db) {
    let Some(app) = passkey_app(db).await else { return };
    app.sign_in_owner().await;
    let owner = app.browser();
    add_passkey(&app, &owner, "Phone").await;
    let owner_user = app
        .store
        .user_by_email(app.state.org(), OWNER_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let key = app.store.passkeys(owner_user.id).await.unwrap()[0].id;

    // An editor tries to remove the owner's passkey.
    let editor = app
        .store
        .create_user(
            app.state.org(),
            "ed@corvellan.example",
            "Ed",
            candor_store::Role::Editor,
        )
        .await
        .unwrap();
    app.store
        .set_password(editor.id, &candor_crypto::hash_password("editor password 123").unwrap())
        .await
        .unwrap();
    let e = app.new_browser();
    let csrf = e.sign_in("ed@corvellan.example", "editor password 123").await;
    let r = e
        .post_form(&format!("/admin/passkeys/{key}/delete"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(app.store.passkeys(owner_user.id).await.unwrap().len(), 1);

    let (_, page) = owner.get_text("/admin/passkeys").await;
    let r = owner
        .post_form(&format!("/admin/passkeys/{key}/delete"), &[("_csrf", &csrf_of(&page))])
        .await;
    assert_eq!(r.status(), 303);
    assert!(app.store.passkeys(owner_user.id).await.unwrap().is_empty());

    add_passkey(&app, &owner, "Phone again").await;
    let _ = app
        .state
        .app()
        .reset_mfa(&candor_app::Actor::System, &owner_user)
        .await
        .unwrap();
    assert!(app.store.passkeys(owner_user.id).await.unwrap().is_empty());
}
both_dbs_fn!(passkeys_are_removed_only_by_their_owner, removal);

/// Sign-in with a passkey alone refuses what it cannot verify: no token, an expired or unknown
/// ceremony, an assertion from a passkey that is not discoverable (no user handle).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwordless_sign_in_refuses_what_it_cannot_verify() {
    let app = passkey_app(Db::Sqlite).await.unwrap();
    app.sign_in_owner().await;
    let mut authenticator = add_passkey(&app, &app.browser(), "Key").await;
    let b = app.new_browser();
    let (_, login) = b.get_text("/admin/login").await;
    assert!(login.contains("Sign in with a passkey"), "{login}");
    let csrf = csrf_of(&login);
    let (status, _) = post_json(&b, "/admin/passkey-login/start", "forged", serde_json::json!({})).await;
    assert_eq!(status, 403);
    let (status, start) = post_json(&b, "/admin/passkey-login/start", &csrf, serde_json::json!({})).await;
    assert_eq!(status, 200, "{start}");
    assert!(start["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    // SoftPasskey answers only for credentials it is told about: use a second-factor challenge's
    // answer, which carries no user handle, as a forged passwordless answer.
    let owner = app.new_browser();
    let verify = password_step(&owner).await;
    let (_, mfa) = post_json(
        &owner,
        "/admin/mfa/passkey/start",
        &csrf_of(&verify),
        serde_json::json!({}),
    )
    .await;
    let options: RequestChallengeResponse = serde_json::from_value(mfa["options"].clone()).unwrap();
    let assertion = authenticator.do_authentication(origin(&app), options).unwrap();
    let body = serde_json::json!({"ceremony": start["ceremony"], "credential": assertion});
    let (status, refused) = post_json(&b, "/admin/passkey-login/finish", &csrf, body.clone()).await;
    assert_eq!(status, 401, "{refused}");
    let (status, _) = post_json(&b, "/admin/passkey-login/finish", &csrf, body).await;
    assert_eq!(status, 400, "the ceremony was used up");
    assert_eq!(b.get("/admin").await.status(), 303, "not signed in");
}

/// Only the back office may run a script, and only our own file; the public site runs none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_back_office_runs_our_own_script() {
    let app = passkey_app(Db::Sqlite).await.unwrap();
    let csp = |r: &reqwest::Response| r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for path in ["/", "/s/encryption", "/search?q=x", "/nope"] {
        let r = app.get(path).await;
        assert!(csp(&r).contains("script-src 'none'"), "{path}: {}", csp(&r));
    }
    for path in ["/admin/login", "/admin/forgot", "/admin/assets/passkeys.js"] {
        let r = app.get(path).await;
        let policy = csp(&r);
        assert!(
            policy.contains("script-src 'self';") && !policy.contains("unsafe"),
            "{path}: {policy}"
        );
    }
    let r = app.get("/admin/assets/passkeys.js").await;
    assert_eq!(r.headers()["content-type"], "text/javascript; charset=utf-8");
}
