//! The permission table, enforced: every back-office route × every role × anonymous.
//! The router is built from `candor_web::admin_route_table()`, so a route without an access rule
//! cannot exist, and this test reaches every route there is.

use crate::harness::{csrf_of, Browser};
use crate::{both_dbs, TestApp};
use candor_core::access::{allows, Role};
use candor_web::Access;

/// Invites a user with `role` as the owner and signs them in, in a browser of their own.
pub async fn user_with_role(app: &TestApp, owner_csrf: &str, role: Role) -> Browser {
    let email = format!("{}@corvellan.example", role.as_str());
    let r = app
        .post_form(
            "/admin/users",
            &[
                ("_csrf", owner_csrf),
                ("name", role.label()),
                ("email", &email),
                ("role", role.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), 200, "inviting {role:?}");
    let page = r.text().await.unwrap();
    let link = crate::harness::shown_once(&page);
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    let b = app.new_browser();
    let (_, form) = b.get_text(&path).await;
    let pw = "a long enough password for tests";
    assert_eq!(
        b.post_form(&path, &[("_csrf", &csrf_of(&form)), ("password", pw), ("confirm", pw)])
            .await
            .status(),
        303
    );
    b.sign_in(&email, pw).await;
    b
}

fn fill(path: &str) -> String {
    path.replace("{kind}", "faq")
        .replace("{slug}", "soc-2-report")
        .replace("{token}", "not-a-real-token")
        .replace("{id}", "999999")
        .replace("{number}", "1")
}

both_dbs!(
    every_admin_route_answers_every_role_as_the_table_says,
    |app: TestApp| async move {
        let owner_csrf = app.sign_in_owner().await;
        let mut people: Vec<(Option<Role>, Browser)> =
            vec![(None, app.new_browser()), (Some(Role::Owner), app.browser())];
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Owner) {
            people.push((Some(role), user_with_role(&app, &owner_csrf, role).await));
        }
        let table = candor_web::route_table();
        assert!(table.len() >= 60);
        // The raw (unwatermarked) files of documents have a permission of their own.
        let raw = table
            .iter()
            .find(|s| s.path == "/admin/documents/{slug}/versions/{number}")
            .expect("the raw download route exists");
        assert_eq!(
            raw.access,
            Access::Needs(candor_core::access::Permission::DownloadRawDocuments)
        );
        for spec in &table {
            if matches!(spec.access, Access::Viewer | Access::Token(_) | Access::Scraper) {
                continue; // walked by the tests below, with viewers and tokens, and in metrics.rs
            }
            let path = fill(spec.path);
            for (role, b) in &people {
                // Writes go without a CSRF token: a permitted role then meets the CSRF check ("Form
                // expired"), a forbidden one the permission check ("Not allowed"). Nothing changes.
                let r = if spec.method == axum::http::Method::GET {
                    b.get(&path).await
                } else {
                    b.client
                        .post(b.url(&path))
                        .header("Origin", &b.base)
                        .form(&[("x", "y")])
                        .send()
                        .await
                        .unwrap()
                };
                let status = r.status().as_u16();
                let location = r
                    .headers()
                    .get("location")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                let body = r.text().await.unwrap();
                let who = format!("{} {} as {:?}", spec.method, spec.path, role);
                let expected = match (spec.access, role) {
                    (Access::Public, _) => true,
                    (_, None) => false,
                    (Access::SignedIn, Some(_)) => true,
                    (Access::Needs(p), Some(r)) => allows(*r, p),
                    (Access::Viewer | Access::Token(_) | Access::Scraper, _) => unreachable!("skipped above"),
                };
                let sent_to_login = status == 303 && location.starts_with("/admin/login");
                let forbidden = status == 403 && body.contains("Not allowed");
                if role.is_none() && spec.access != Access::Public {
                    assert!(
                        sent_to_login,
                        "{who}: anonymous must be sent to sign in, got {status} {location}"
                    );
                } else if expected {
                    assert!(
                        !forbidden && !sent_to_login,
                        "{who}: should be allowed, got {status} {location}"
                    );
                } else {
                    assert!(forbidden, "{who}: should be 403 Not allowed, got {status} {location}");
                }
            }
        }
    }
);

/// A request to `spec`'s path with its method, a form or JSON body for writes.
fn request(c: &reqwest::Client, app: &TestApp, spec: &candor_web::RouteSpec) -> reqwest::RequestBuilder {
    let url = app.url(&fill(spec.path));
    match spec.method.as_str() {
        "GET" => c.get(url),
        "PUT" => c.put(url).json(&serde_json::json!({"body": {}})),
        "PATCH" => c.patch(url).json(&serde_json::json!({"body": {}})),
        "DELETE" => c.delete(url),
        _ => c.post(url).json(&serde_json::json!({"body": {}})),
    }
}

both_dbs!(
    every_api_route_answers_every_role_and_scope_as_the_table_says,
    |app: TestApp| async move {
        let owner_csrf = app.sign_in_owner().await;
        let org = app.state.org();
        // One read-write token per role (the token acts with its creator's current role), and a
        // read-only one of the owner's.
        let mut tokens: Vec<(Role, &str, String)> = vec![];
        for role in Role::ALL {
            if role != Role::Owner {
                user_with_role(&app, &owner_csrf, role).await;
            }
            let email = if role == Role::Owner {
                crate::harness::OWNER_EMAIL.to_owned()
            } else {
                format!("{}@corvellan.example", role.as_str())
            };
            let user = app.store.user_by_email(org, &email).await.unwrap().unwrap();
            for scope in [candor_store::TokenScope::ReadWrite, candor_store::TokenScope::Read] {
                let secret = format!("candor_route_test_{}_{}", role.as_str(), scope.as_str());
                let mut tx = app.store.begin().await.unwrap();
                tx.create_api_token(
                    org,
                    "route test",
                    &candor_crypto::token_digest(&secret),
                    scope,
                    user.id,
                    None,
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
                tokens.push((role, scope.as_str(), secret));
            }
        }
        let c = reqwest::Client::new();
        let mut walked = 0;
        for spec in candor_web::route_table() {
            let Access::Token(needs) = spec.access else { continue };
            walked += 1;
            let who = format!("{} {}", spec.method, spec.path);
            let r = request(&c, &app, &spec).send().await.unwrap();
            assert_eq!(r.status(), 401, "{who} without a token");
            let writes = spec.method != axum::http::Method::GET;
            for (role, scope, secret) in &tokens {
                let r = request(&c, &app, &spec).bearer_auth(secret).send().await.unwrap();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
                let who = format!("{who} as {role:?} with a {scope} token");
                // The scope is checked first: a read token never writes, whatever its role.
                if writes && *scope == "read" {
                    assert!(
                        status == 403 && code == "insufficient_scope",
                        "{who}: got {status} {code}"
                    );
                } else if !allows(*role, needs) {
                    assert!(status == 403 && code == "role_forbids", "{who}: got {status} {code}");
                } else {
                    assert!(
                        status != 401 && status != 403,
                        "{who}: should be allowed, got {status} {code}"
                    );
                }
            }
        }
        assert!(walked >= 8, "the API routes are in the table");
    }
);

both_dbs!(viewer_routes_need_a_viewer_session, |app: TestApp| async move {
    app.sign_in_owner().await;
    let viewer = app.new_browser();
    let id = "route-test-viewer-session-id";
    let mut tx = app.store.begin().await.unwrap();
    tx.create_viewer_session(
        app.state.org(),
        &candor_crypto::token_digest(id),
        "reader@customer.example",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut walked = 0;
    for spec in candor_web::route_table() {
        if spec.access != Access::Viewer {
            continue;
        }
        walked += 1;
        let path = fill(spec.path);
        // Neither a stranger nor a back-office user is a viewer.
        for b in [&viewer, &app.browser()] {
            let r = b.get(&path).await;
            assert_eq!(r.status(), 303, "{path} without a viewer session");
            assert_eq!(r.headers()["location"], "/viewer/signin", "{path}");
        }
        let r = no_redirects
            .get(app.url(&path))
            .header("cookie", format!("candor_viewer={id}"))
            .send()
            .await
            .unwrap();
        let to = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        assert_ne!(to.as_deref(), Some("/viewer/signin"), "{path} with a viewer session");
    }
    assert!(walked >= 2);
});
