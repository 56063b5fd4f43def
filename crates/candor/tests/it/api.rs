//! The REST API over HTTP: tokens and scopes, CRUD, errors, and the OpenAPI document.

use crate::harness::csrf_of;
use crate::{both_dbs, TestApp};
use serde_json::{json, Value};

/// Creates a token in the back office and returns it (it is shown once).
pub(crate) async fn create_token(app: &TestApp, csrf: &str, scope: &str, days: &str) -> String {
    let r = app
        .post_form(
            "/admin/tokens",
            &[
                ("_csrf", csrf),
                ("name", "test sync"),
                ("scope", scope),
                ("expires_days", days),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    crate::harness::shown_once(&page)
}

both_dbs!(tokens_scopes_and_crud, |app: TestApp| async move {
    let csrf = app.sign_in_owner().await;
    let read = create_token(&app, &csrf, "read", "30").await;
    let write = create_token(&app, &csrf, "read-write", "").await;
    assert!(read.starts_with("candor_") && write.starts_with("candor_"));
    let c = reqwest::Client::new();
    let api = |p: &str| app.url(&format!("/api/v1{p}"));

    // No token, a forged token: 401 with the envelope and a WWW-Authenticate challenge.
    for auth in [None, Some("Bearer candor_forged")] {
        let mut req = c.get(api("/faq"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "unauthorized");
    }

    // A read token reads but cannot write.
    let r = c.get(api("/certifications")).bearer_auth(&read).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["slug"] == "iso-27001"));
    let new_faq = json!({"slug": "api-faq", "body": {"question": "Is there an API?", "answer": "Yes."}});
    let r = c
        .post(api("/faq"))
        .bearer_auth(&read)
        .json(&new_faq)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "insufficient_scope");

    // A read-write token creates, publishes, updates and deletes.
    let r = c
        .post(api("/faq?publish=true"))
        .bearer_auth(&write)
        .json(&new_faq)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "published");
    assert!(app.get_text("/faq").await.1.contains("Is there an API?"));
    let r = c
        .post(api("/faq"))
        .bearer_auth(&write)
        .json(&new_faq)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = c
        .put(api("/faq/api-faq"))
        .bearer_auth(&write)
        .json(&json!({"body": {"question": "Is there an API?", "answer": "Yes, REST."}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "changed");
    let r = c
        .post(api("/faq/api-faq/publish"))
        .bearer_auth(&write)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(app.get_text("/faq").await.1.contains("Yes, REST."));
    let revs: Value = c
        .get(api("/faq/api-faq/revisions"))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revs["revisions"].as_array().unwrap().len(), 4, "{revs}");
    assert_eq!(
        c.delete(api("/faq/api-faq"))
            .bearer_auth(&write)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        c.get(api("/faq/api-faq"))
            .bearer_auth(&read)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // Bad input: each error names what was wrong.
    let r = c
        .post(api("/certifications"))
        .bearer_auth(&write)
        .json(&json!({"slug": "x", "body": {"name": "X", "status": "done"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "validation_failed");
    assert_eq!(e["error"]["details"][0]["field"], "status");
    let r = c
        .post(api("/faq"))
        .bearer_auth(&write)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
    let r = c.get(api("/widgets")).bearer_auth(&read).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("certifications"));

    // A revoked token stops working at once.
    let tokens = app.get_text("/admin/tokens").await.1;
    let id = tokens
        .split("/admin/tokens/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.post_form(&format!("/admin/tokens/{id}/revoke"), &[("_csrf", &csrf_of(&tokens))])
            .await
            .status(),
        303
    );
    let statuses: Vec<u16> = futures_statuses(&c, &api("/faq"), &[&read, &write]).await;
    assert!(
        statuses.contains(&401),
        "one of the two tokens was revoked: {statuses:?}"
    );
});

async fn futures_statuses(c: &reqwest::Client, url: &str, tokens: &[&str]) -> Vec<u16> {
    let mut out = vec![];
    for t in tokens {
        out.push(c.get(url).bearer_auth(t).send().await.unwrap().status().as_u16());
    }
    out
}

both_dbs!(expired_tokens_are_refused, |app: TestApp| async move {
    let csrf = app.sign_in_owner().await;
    let token = create_token(&app, &csrf, "read", "1").await;
    let c = reqwest::Client::new();
    assert_eq!(
        c.get(app.url("/api/v1/faq"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Move the expiry into the past directly in the database.
    app.sql("UPDATE api_tokens SET expires_at = 1").await;
    assert_eq!(
        c.get(app.url("/api/v1/faq"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
});

both_dbs!(
    every_operation_in_the_openapi_document_is_routed,
    |app: TestApp| async move {
        let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let csrf = app.sign_in_owner().await;
        let read = create_token(&app, &csrf, "read", "1").await;
        let c = reqwest::Client::new();
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 9 * 4);
        for (path, ops) in paths {
            for method in ops.as_object().unwrap().keys() {
                let url = app.url(&path.replace("{slug}", "no-such-item").replace("{id}", "999999"));
                let r = c
                    .request(method.to_uppercase().parse().unwrap(), &url)
                    .bearer_auth(&read)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body = r.text().await.unwrap();
                // Routed means a handler answered: not 405, and not the API's catch-all 404.
                assert!(
                    status != 405 && !body.contains("no such API endpoint"),
                    "{method} {path}: {status} {body}"
                );
                assert!(
                    matches!(status, 200 | 403 | 404 | 409),
                    "{method} {path}: {status} {body}"
                );
            }
        }
        // And a path outside the document is the catch-all.
        let r = c
            .get(app.url("/api/v1/faq/x/y/z"))
            .bearer_auth(&read)
            .send()
            .await
            .unwrap();
        assert!(r.text().await.unwrap().contains("no such API endpoint"));
    }
);

both_dbs!(
    disabling_a_user_disables_the_tokens_they_made,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let admin = crate::access::user_with_role(&app, &csrf, candor_core::access::Role::Admin).await;
        let (_, page) = admin.get_text("/admin/tokens").await;
        let r = admin
            .post_form(
                "/admin/tokens",
                &[
                    ("_csrf", &csrf_of(&page)),
                    ("name", "theirs"),
                    ("scope", "read"),
                    ("expires_days", ""),
                ],
            )
            .await;
        let page = r.text().await.unwrap();
        let token = crate::harness::shown_once(&page);
        let c = reqwest::Client::new();
        assert_eq!(
            c.get(app.url("/api/v1/faq"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let users = app.get_text("/admin/users").await.1;
        let id = app
            .store
            .user_by_email(app.state.org(), "admin@corvellan.example")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert!(users.contains(&format!("/admin/users/{id}/disable")));
        assert_eq!(
            app.post_form(&format!("/admin/users/{id}/disable"), &[("_csrf", &csrf)])
                .await
                .status(),
            303
        );
        assert_eq!(
            c.get(app.url("/api/v1/faq"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    }
);

/// The owner changes a user's role through the users page; returns the page shown after it.
async fn change_role(app: &TestApp, csrf: &str, id: i64, role: &str) -> String {
    let r = app
        .post_form(&format!("/admin/users/{id}/role"), &[("_csrf", csrf), ("role", role)])
        .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let (status, page) = app.get_text(&to).await;
    assert_eq!(status, 200);
    page
}

both_dbs!(
    a_token_never_does_more_than_its_creators_current_role,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let admin = crate::access::user_with_role(&app, &csrf, candor_core::access::Role::Admin).await;
        let (_, page) = admin.get_text("/admin/tokens").await;
        let r = admin
            .post_form(
                "/admin/tokens",
                &[
                    ("_csrf", &csrf_of(&page)),
                    ("name", "admin's sync"),
                    ("scope", "read-write"),
                    ("expires_days", ""),
                ],
            )
            .await;
        let token = crate::harness::shown_once(&r.text().await.unwrap());
        let id = app
            .store
            .user_by_email(app.state.org(), "admin@corvellan.example")
            .await
            .unwrap()
            .unwrap()
            .id;
        let c = reqwest::Client::new();
        let api = |p: &str| app.url(&format!("/api/v1{p}"));
        let faq = |slug: &str| json!({"slug": slug, "body": {"question": "Role test?", "answer": "Yes."}});
        let r = c
            .post(api("/faq?publish=true"))
            .bearer_auth(&token)
            .json(&faq("made-as-admin"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);

        // The users page says which tokens a role change affects.
        let users = app.get_text("/admin/users").await.1;
        assert!(
            users.contains("1 API token made by this user may do only what an admin may do"),
            "{users}"
        );

        // Demoted to auditor: the token still reads, and is refused everything else with 403
        // in the API's envelope.
        let page = change_role(&app, &csrf, id, "auditor").await;
        assert!(
            page.contains("1 API token made by admin@corvellan.example is now limited to what an auditor may do."),
            "{page}"
        );
        assert_eq!(
            c.get(api("/faq/made-as-admin"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let refused = [
            c.post(api("/faq")).json(&faq("made-as-auditor")),
            c.put(api("/faq/made-as-admin"))
                .json(&json!({"body": {"question": "Changed?", "answer": "No."}})),
            c.delete(api("/faq/made-as-admin")),
            c.post(api("/faq/made-as-admin/unpublish")),
        ];
        for req in refused {
            let r = req.bearer_auth(&token).send().await.unwrap();
            assert_eq!(r.status(), 403);
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["error"]["code"], "role_forbids", "{e}");
            assert!(e["error"]["message"].as_str().unwrap().contains("auditor"), "{e}");
        }
        let item: Value = c
            .get(api("/faq/made-as-admin"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(item["state"], "published", "nothing changed: {item}");
        assert!(app
            .store
            .audit_chain(app.state.org())
            .await
            .unwrap()
            .iter()
            .any(|e| e.record.action == "api.denied" && e.record.details["role"] == "auditor"));

        // The check follows the role as it is now: made an editor, the token edits again.
        change_role(&app, &csrf, id, "editor").await;
        let r = c
            .post(api("/faq"))
            .bearer_auth(&token)
            .json(&faq("made-as-editor"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);

        // A disabled creator's tokens stop working.
        assert_eq!(
            app.post_form(&format!("/admin/users/{id}/disable"), &[("_csrf", &csrf)])
                .await
                .status(),
            303
        );
        let r = c.get(api("/faq")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "unauthorized");
    }
);

both_dbs!(
    every_error_an_operation_answers_is_in_the_openapi_document,
    |app: TestApp| async move {
        let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let csrf = app.sign_in_owner().await;
        let write = create_token(&app, &csrf, "read-write", "1").await;
        // No connection reuse: the server closes a connection whose body it refused unread.
        let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        let mut with_bodies = 0;
        // A JSON string over the API's 2 MiB body limit.
        let big: &'static str = Box::leak(format!("\"{}\"", "x".repeat(3 << 20)).into_boxed_str());
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                let documented = |status: u16| op["responses"].get(status.to_string()).is_some();
                for status in [401, 404, 429, 500] {
                    assert!(documented(status), "{method} {path} does not list {status}");
                }
                if op.get("requestBody").is_none() {
                    continue;
                }
                with_bodies += 1;
                let url = app.url(&path.replace("{slug}", "profile").replace("{id}", "999999"));
                // Only the content operations take `?publish=`.
                let takes_publish = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == "publish"));
                let send = |body: &'static str, content_type: Option<&'static str>, query: &'static str| {
                    let mut req = c
                        .request(method.to_uppercase().parse().unwrap(), format!("{url}{query}"))
                        .bearer_auth(&write)
                        .body(body);
                    if let Some(t) = content_type {
                        req = req.header("content-type", t);
                    }
                    req.send()
                };
                // Not JSON, not sent as JSON, a bad query parameter, a body over the limit:
                // each answer is one the document lists, in the envelope.
                let mut answers = vec![
                    (send("{not json", Some("application/json"), "").await.unwrap(), 400),
                    (send("{}", None, "").await.unwrap(), 415),
                    (send("[]", Some("application/json"), "").await.unwrap(), 400),
                    (send(big, Some("application/json"), "").await.unwrap(), 413),
                ];
                if takes_publish {
                    answers.push((
                        send("{}", Some("application/json"), "?publish=perhaps").await.unwrap(),
                        400,
                    ));
                }
                for (r, expected) in answers {
                    assert_eq!(r.status().as_u16(), expected, "{method} {path}");
                    assert!(documented(expected), "{method} {path} does not list {expected}");
                    let e: Value = r.json().await.unwrap();
                    assert!(e["error"]["code"].is_string(), "{method} {path}: {e}");
                }
            }
        }
        assert_eq!(
            with_bodies,
            17 + 8,
            "content: create for 8 kinds, replace for 9; status: 8 operations with bodies"
        );
    }
);

both_dbs!(
    api_content_writes_are_audited_like_the_back_office_with_the_token_as_actor,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let write = create_token(&app, &csrf, "read-write", "").await;
        let c = reqwest::Client::new();
        let api = |p: &str| app.url(&format!("/api/v1{p}"));
        let body = |answer: &str| json!({"body": {"question": "Is there an API?", "answer": answer}});
        let mut created = body("Yes.");
        created["slug"] = "api-audit".into();
        let requests = [
            c.post(api("/faq")).json(&created),
            c.put(api("/faq/api-audit?publish=true")).json(&body("Yes, REST.")),
            c.put(api("/faq/api-audit")).json(&body("Yes, REST and JSON.")),
            c.post(api("/faq/api-audit/publish")),
            c.post(api("/faq/api-audit/unpublish")),
            c.delete(api("/faq/api-audit")),
        ];
        for (req, expected) in requests.into_iter().zip([201, 200, 200, 200, 200, 204]) {
            let r = req.bearer_auth(&write).send().await.unwrap();
            assert_eq!(r.status(), expected);
        }
        // A write that fails records nothing of its own.
        let r = c
            .post(api("/controls"))
            .bearer_auth(&write)
            .json(&json!({"slug": "orphan", "body": {"section": "nowhere", "title": "T", "body": "B"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);

        let chain = app.store.audit_chain(app.state.org()).await.unwrap();
        let token_actor = chain
            .iter()
            .find(|e| e.record.action == "api.request")
            .map(|e| e.record.actor.clone())
            .expect("the token's requests are recorded");
        // One spelling of the token everywhere: its use and its changes name it the same way.
        assert!(token_actor.ends_with(" (test sync)"), "{token_actor}");
        let content: Vec<_> = chain
            .iter()
            .filter(|e| e.record.action.starts_with("content."))
            .map(|e| {
                (
                    e.record.actor.as_str(),
                    e.record.action.as_str(),
                    e.record.target.as_str(),
                )
            })
            .collect();
        let t = token_actor.as_str();
        assert_eq!(
            content,
            [
                (t, "content.create", "faq/api-audit"),
                (t, "content.edit", "faq/api-audit"),
                (t, "content.publish", "faq/api-audit"),
                (t, "content.edit", "faq/api-audit"),
                (t, "content.publish", "faq/api-audit"),
                (t, "content.unpublish", "faq/api-audit"),
                (t, "content.delete", "faq/api-audit"),
            ]
        );
        assert_eq!(candor_core::audit::verify(&chain), Ok(chain.len()));
    }
);
