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
        let table = candor_web::admin_route_table();
        assert!(table.len() >= 20);
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
