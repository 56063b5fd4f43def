//! The back office over HTTP: sign-in, CSRF, editing and publishing, history, users.

use crate::harness::{csrf_of, OWNER_EMAIL, OWNER_PASSWORD};
use crate::{both_dbs, TestApp};

const BAD_LOGIN: &str = "The email or password is not correct.";

both_dbs!(
    setup_link_works_once_and_sign_in_fails_uniformly,
    |app: TestApp| async move {
        // Not signed in: the back office sends you to the sign-in page and remembers where you were.
        let r = app.get("/admin/content/section").await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"],
            "/admin/login?next=%2Fadmin%2Fcontent%2Fsection"
        );

        let token = app.setup_token.clone().unwrap();
        let (_, page) = app.get_text(&format!("/admin/setup/{token}")).await;
        let r = app
            .post_form(
                &format!("/admin/setup/{token}"),
                &[
                    ("_csrf", &csrf_of(&page)),
                    ("name", "O"),
                    ("email", "o@x.example"),
                    ("password", "short"),
                    ("confirm", "other"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("at least 12 characters") && body.contains("the two passwords differ"),
            "{body}"
        );

        app.sign_in_owner().await;
        // The link is spent.
        let (status, body) = app.get_text(&format!("/admin/setup/{token}")).await;
        assert_eq!(status, 400);
        assert!(body.contains("This link was used already"), "{body}");

        // Wrong password and unknown user get the same words and status.
        let other = TestApp::new_client();
        for (email, password) in [
            (OWNER_EMAIL, "wrong password!!"),
            ("nobody@corvellan.example", OWNER_PASSWORD),
        ] {
            let page = other
                .get(app.url("/admin/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let r = other
                .post(app.url("/admin/login"))
                .header("Origin", &app.base)
                .form(&[
                    ("_csrf", csrf_of(&page).as_str()),
                    ("email", email),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
            assert!(r.text().await.unwrap().contains(BAD_LOGIN));
        }
    }
);

both_dbs!(sign_in_backs_off_after_repeated_failures, |app: TestApp| async move {
    let mut statuses = vec![];
    for _ in 0..4 {
        let (_, page) = app.get_text("/admin/login").await;
        let r = app
            .post_form(
                "/admin/login",
                &[
                    ("_csrf", &csrf_of(&page)),
                    ("email", OWNER_EMAIL),
                    ("password", "not the password"),
                ],
            )
            .await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
});

both_dbs!(open_redirects_after_sign_in_are_refused, |app: TestApp| async move {
    app.sign_in_owner().await;
    let fresh = TestApp::new_client();
    for next in ["https://evil.example/", "//evil.example/admin", "/\\evil.example"] {
        let page = fresh
            .get(app.url(&format!("/admin/login?next={next}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("name=\"next\" value=\"/admin\""),
            "next={next} must fall back to /admin"
        );
        let r = fresh
            .post(app.url("/admin/login"))
            .header("Origin", &app.base)
            .form(&[
                ("_csrf", csrf_of(&page).as_str()),
                ("email", OWNER_EMAIL),
                ("password", OWNER_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/admin", "next={next}");
    }
});

both_dbs!(csrf_and_origin_are_enforced, |app: TestApp| async move {
    let csrf = app.sign_in_owner().await;
    let path = "/admin/content/faq/soc-2-report/unpublish";
    // No token.
    assert_eq!(app.post_form(path, &[]).await.status(), 403);
    // A wrong token.
    assert_eq!(app.post_form(path, &[("_csrf", "forged")]).await.status(), 403);
    // The right token from another origin.
    let r = app
        .client
        .post(app.url(path))
        .header("Origin", "https://evil.example")
        .form(&[("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The right token and no Origin or Referer at all.
    let r = app
        .client
        .post(app.url(path))
        .form(&[("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Another session's token: a second browser signs in and gets its own.
    let theirs = app.new_browser().sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_ne!(theirs, csrf);
    assert_eq!(app.post_form(path, &[("_csrf", &theirs)]).await.status(), 403);
    // And the genuine request passes.
    assert_eq!(app.post_form(path, &[("_csrf", &csrf)]).await.status(), 303);
});

/// Saves and publishes an item through the edit form, keeping the other fields as they are.
pub async fn edit_and_publish(app: &TestApp, kind: &str, slug: &str, changes: &[(&str, &str)]) -> reqwest::Response {
    let (status, page) = app.get_text(&format!("/admin/content/{kind}/{slug}")).await;
    assert_eq!(status, 200, "{page}");
    let mut form: Vec<(String, String)> = form_fields(&page);
    for (k, v) in changes {
        form.retain(|(name, _)| name != k);
        form.push(((*k).to_owned(), (*v).to_owned()));
    }
    form.push(("action".into(), "publish".into()));
    app.client
        .post(app.url(&format!("/admin/content/{kind}/{slug}")))
        .header("Origin", &app.base)
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The named inputs, textareas and selected options of the edit form.
fn form_fields(page: &str) -> Vec<(String, String)> {
    let form = page
        .split("class=\"edit-form\"")
        .nth(1)
        .unwrap()
        .split("</form>")
        .next()
        .unwrap();
    let unescape = |s: &str| {
        s.replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#x2F;", "/")
            .replace("&amp;", "&")
    };
    let mut out = vec![];
    for part in form.split('<').skip(1) {
        let attr = |name: &str| {
            part.split(&format!(" {name}=\""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .map(unescape)
        };
        if part.starts_with("input") {
            if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
                out.push((n, v));
            }
        } else if part.starts_with("textarea") {
            let n = attr("name").unwrap();
            let v = part.split_once('>').unwrap().1;
            out.push((n, unescape(v)));
        } else if part.starts_with("select") {
            let n = attr("name").unwrap();
            let rest = form
                .split(&format!("name=\"{n}\""))
                .nth(1)
                .unwrap()
                .split("</select>")
                .next()
                .unwrap();
            let sel = rest
                .split("<option")
                .find(|o| o.contains(" selected"))
                .or_else(|| rest.split("<option").nth(1))
                .unwrap();
            out.push((
                n,
                sel.split("value=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned(),
            ));
        }
    }
    out
}

both_dbs!(edit_a_control_publish_and_see_it_public, |app: TestApp| async move {
    app.sign_in_owner().await;
    let (_, before) = app.get_text("/s/encryption").await;
    assert!(!before.contains("Now with quantum-safe key exchange"));
    let r = edit_and_publish(
        &app,
        "control",
        "encryption-in-transit",
        &[
            ("title", "Encryption in transit, reviewed"),
            ("body", "Now with quantum-safe key exchange trials."),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, after) = app.get_text("/s/encryption").await;
    assert!(after.contains("Encryption in transit, reviewed") && after.contains("Now with quantum-safe key exchange"));
    // A saved but unpublished draft stays private.
    let (_, page) = app.get_text("/admin/content/control/encryption-in-transit").await;
    let mut form = form_fields(&page);
    form.retain(|(k, _)| k != "body");
    form.push(("body".into(), "A draft nobody should see yet.".into()));
    form.push(("action".into(), "save".into()));
    let r = app
        .client
        .post(app.url("/admin/content/control/encryption-in-transit"))
        .header("Origin", &app.base)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(!app
        .get_text("/s/encryption")
        .await
        .1
        .contains("A draft nobody should see yet."));
});

both_dbs!(
    invalid_edits_are_refused_with_field_errors_and_change_nothing,
    |app: TestApp| async move {
        app.sign_in_owner().await;
        let r = edit_and_publish(
            &app,
            "certification",
            "iso-27001",
            &[("name", ""), ("expires", "2001-01-01"), ("issued", "2002-01-01")],
        )
        .await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Name: is required") && body.contains("is before the issue date"),
            "{body}"
        );
        let r = edit_and_publish(
            &app,
            "control",
            "encryption-in-transit",
            &[("section", "no-such-section")],
        )
        .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("there is no section with slug"));
        let item = app
            .store
            .item(app.state.org(), candor_core::Kind::Certification, "iso-27001")
            .await
            .unwrap()
            .unwrap();
        assert!(!item.has_unpublished_changes());
    }
);

both_dbs!(
    markdown_payloads_are_rendered_inert_in_every_markdown_field,
    |app: TestApp| async move {
        app.sign_in_owner().await;
        let payload = "Hello <script>alert('x')</script> <img src=x onerror=alert(1)> [link](javascript:alert(1)) <a href=\"javascript:alert(2)\">a</a> <iframe src=//evil.example></iframe>";
        // (kind, slug, markdown field, page that shows it)
        let targets = [
            ("profile", "profile", "description", "/"),
            ("section", "encryption", "body", "/s/encryption"),
            ("control", "encryption-at-rest", "body", "/s/encryption"),
            ("certification", "iso-27001", "summary", "/compliance"),
            (
                "policy",
                "information-security",
                "body",
                "/policies/information-security",
            ),
            ("faq", "soc-2-report", "answer", "/faq"),
            ("page", "privacy", "body", "/p/privacy"),
        ];
        for (kind, slug, field, page) in targets {
            let r = edit_and_publish(&app, kind, slug, &[(field, payload)]).await;
            assert_eq!(r.status(), 303, "{kind} {slug}: {}", r.text().await.unwrap());
            let (_, html) = app.get_text(page).await;
            assert!(
                html.contains("Hello"),
                "{kind}: the text around the payload is shown on {page}"
            );
            let lower = html.to_lowercase();
            for bad in ["<script>alert", "onerror=", "javascript:", "<iframe"] {
                assert!(!lower.contains(bad), "{kind}.{field} on {page} lets {bad} through");
            }
        }
        // The feed and search show it escaped, too.
        let (_, feed) = app.get_text("/feed.atom").await;
        assert!(!feed.contains("<script>"));
        let (_, results) = app.get_text("/search?q=hello").await;
        assert!(!results.to_lowercase().contains("<script>alert"));
    }
);

both_dbs!(
    history_shows_diffs_and_restores_an_old_revision,
    |app: TestApp| async move {
        app.sign_in_owner().await;
        let original = app.get_text("/s/encryption").await.1;
        assert_eq!(
            edit_and_publish(
                &app,
                "control",
                "encryption-at-rest",
                &[("title", "At rest, version two")]
            )
            .await
            .status(),
            303
        );
        let (_, history) = app.get_text("/admin/content/control/encryption-at-rest/history").await;
        assert!(history.contains("<ins>At rest, version two</ins>"), "{history}");
        assert!(history.contains("<del>Encryption at rest</del>"));
        // Revision 1 is the demo import; restore it and publish.
        let csrf = csrf_of(&history);
        let r = app
            .post_form(
                "/admin/content/control/encryption-at-rest/history/1/restore",
                &[("_csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = app
            .post_form("/admin/content/control/encryption-at-rest/publish", &[("_csrf", &csrf)])
            .await;
        assert_eq!(r.status(), 303);
        let restored = app.get_text("/s/encryption").await.1;
        assert!(restored.contains("Encryption at rest") && !restored.contains("version two"));
        assert_eq!(
            restored.matches("<section class=\"control\"").count(),
            original.matches("<section class=\"control\"").count()
        );
        // Restoring a revision that does not exist is a 404.
        assert_eq!(
            app.post_form(
                "/admin/content/control/encryption-at-rest/history/999/restore",
                &[("_csrf", &csrf)]
            )
            .await
            .status(),
            404
        );
    }
);

both_dbs!(create_reorder_and_delete, |app: TestApp| async move {
    let csrf = app.sign_in_owner().await;
    let r = app
        .post_form(
            "/admin/content/faq",
            &[
                ("_csrf", &csrf),
                ("slug", ""),
                ("question", "Do you support SCIM?"),
                ("answer", "Yes, **SCIM 2.0**."),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/admin/content/faq/do-you-support-scim?notice=published"
    );
    let faq = app.get_text("/faq").await.1;
    assert!(faq.contains("<strong>SCIM 2.0</strong>"));
    let ids = |html: &str| -> Vec<String> {
        html.split("<section class=\"faq\" id=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&faq).last().unwrap(),
        "do-you-support-scim",
        "a new FAQ entry goes last"
    );
    // Same slug again: a field error, not a crash.
    let r = app
        .post_form(
            "/admin/content/faq",
            &[
                ("_csrf", &csrf),
                ("slug", "do-you-support-scim"),
                ("question", "Again?"),
                ("answer", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("already used"));
    // Move it up once: it swaps with its neighbour.
    assert_eq!(
        app.post_form(
            "/admin/content/faq/do-you-support-scim/move",
            &[("_csrf", &csrf), ("dir", "up")]
        )
        .await
        .status(),
        303
    );
    let faq = app.get_text("/faq").await.1;
    let order = ids(&faq);
    assert_eq!(order[order.len() - 2], "do-you-support-scim");
    assert_eq!(
        app.post_form("/admin/content/faq/do-you-support-scim/delete", &[("_csrf", &csrf)])
            .await
            .status(),
        303
    );
    assert!(!app.get_text("/faq").await.1.contains("Do you support SCIM?"));
    assert_eq!(app.get("/admin/content/faq/do-you-support-scim").await.status(), 404);
    assert_eq!(app.get("/admin/content/no-such-kind").await.status(), 404);
});

both_dbs!(
    only_owners_manage_users_and_disabling_ends_sessions,
    |app: TestApp| async move {
        let csrf = app.sign_in_owner().await;
        let r = app
            .post_form(
                "/admin/users",
                &[
                    ("_csrf", &csrf),
                    ("name", "Ada Admin"),
                    ("email", "ada@corvellan.example"),
                    ("role", "admin"),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        let link = crate::harness::shown_once(&page);
        let path = link.strip_prefix(&app.base).unwrap().to_owned();
        // Ada sets her password in her own browser and signs in.
        let ada = app.new_browser();
        let (status, form) = ada.get_text(&path).await;
        assert_eq!(status, 200);
        let pw = "ada's long enough password";
        let r = ada
            .post_form(&path, &[("_csrf", &csrf_of(&form)), ("password", pw), ("confirm", pw)])
            .await;
        assert_eq!(r.status(), 303);
        let ada_csrf = ada.sign_in("ada@corvellan.example", pw).await;
        // An admin edits content and sees who has access, but may not manage users.
        assert_eq!(ada.get("/admin/content/section").await.status(), 200);
        let (status, users_page) = ada.get_text("/admin/users").await;
        assert_eq!(status, 200);
        assert!(
            !users_page.contains("Add a user"),
            "no form for what the role may not do"
        );
        let r = ada
            .post_form(
                "/admin/users",
                &[
                    ("_csrf", &ada_csrf),
                    ("name", "Mallory"),
                    ("email", "m@evil.example"),
                    ("role", "owner"),
                ],
            )
            .await;
        assert_eq!(r.status(), 403);
        // The owner disables Ada: her session ends at once and she cannot sign in again.
        let users = app.get_text("/admin/users").await.1;
        let id = users
            .split("/admin/users/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(
            app.post_form(&format!("/admin/users/{id}/disable"), &[("_csrf", &csrf)])
                .await
                .status(),
            303
        );
        assert_eq!(ada.get("/admin").await.status(), 303);
        let (_, login) = ada.get_text("/admin/login").await;
        let r = ada
            .post_form(
                "/admin/login",
                &[
                    ("_csrf", &csrf_of(&login)),
                    ("email", "ada@corvellan.example"),
                    ("password", pw),
                ],
            )
            .await;
        assert_eq!(r.status(), 401);
        // The spent invitation link does not work twice.
        assert_eq!(ada.get(&path).await.status(), 400);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_tls_cookies_are_secure_host_only_and_hsts_is_sent() {
    let app = TestApp::start_configured(crate::Db::Sqlite, true, |c| c.secure_cookies = true)
        .await
        .unwrap();
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = plain.get(app.url("/")).send().await.unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    // Set the owner's password, then sign in carrying the login cookie by hand (reqwest's jar
    // would rightly refuse to send a Secure cookie over plain HTTP).
    let token = app.setup_token.clone().unwrap();
    let r = plain
        .get(app.url(&format!("/admin/setup/{token}")))
        .send()
        .await
        .unwrap();
    let login_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        login_cookie.contains("; Secure") && login_cookie.contains("HttpOnly"),
        "{login_cookie}"
    );
    let value = login_cookie.split(';').next().unwrap().to_owned();
    let page = r.text().await.unwrap();
    let r = plain
        .post(app.url(&format!("/admin/setup/{token}")))
        .header("Origin", &app.base)
        .header("Cookie", &value)
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("name", "O"),
            ("email", OWNER_EMAIL),
            ("password", OWNER_PASSWORD),
            ("confirm", OWNER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = plain.get(app.url("/admin/login")).send().await.unwrap();
    let value = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = r.text().await.unwrap();
    let r = plain
        .post(app.url("/admin/login"))
        .header("Origin", &app.base)
        .header("Cookie", &value)
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("email", OWNER_EMAIL),
            ("password", OWNER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-candor_session="))
        .expect("session cookie");
    assert!(
        session.contains("; Path=/")
            && session.contains("; HttpOnly")
            && session.contains("; SameSite=Lax")
            && session.contains("; Secure"),
        "{session}"
    );
    assert!(!session.contains("Domain="), "host-only");
}

/// Four failed sign-ins for different unknown accounts, the last from `last_ip` per
/// X-Forwarded-For; returns the statuses.
async fn failures_with_forwarded(app: &TestApp, last_ip: &str) -> Vec<u16> {
    let mut out = vec![];
    for (i, ip) in ["203.0.113.7", "203.0.113.7", "203.0.113.7", last_ip]
        .iter()
        .enumerate()
    {
        let (_, page) = app.get_text("/admin/login").await;
        let email = format!("nobody{i}@corvellan.example");
        let r = app
            .client
            .post(app.url("/admin/login"))
            .header("Origin", &app.base)
            .header("X-Forwarded-For", *ip)
            .form(&[
                ("_csrf", csrf_of(&page).as_str()),
                ("email", &email),
                ("password", "whatever it is"),
            ])
            .send()
            .await
            .unwrap();
        out.push(r.status().as_u16());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    // Not trusted (the default): the header is ignored, so a client cannot dodge the limit by
    // inventing addresses.
    let app = TestApp::start(crate::Db::Sqlite).await.unwrap();
    assert_eq!(
        failures_with_forwarded(&app, "198.51.100.9").await,
        [401, 401, 401, 429]
    );
    // Trusted: each forwarded client has its own limit.
    let app = TestApp::start_configured(crate::Db::Sqlite, true, |c| {
        c.trusted_proxies = vec![candor_web::config::IpNet::parse("127.0.0.0/8").unwrap()]
    })
    .await
    .unwrap();
    assert_eq!(
        failures_with_forwarded(&app, "198.51.100.9").await,
        [401, 401, 401, 401]
    );
    assert_eq!(failures_with_forwarded(&app, "203.0.113.7").await[3], 429);
}
