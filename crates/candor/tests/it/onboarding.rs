//! The owner's first hour: keep the demo or start blank at setup, remove the demo later in one
//! step (audited, one transaction), and choose a control's section from a list.

use crate::access::user_with_role;
use crate::documents::{tiny_pdf, upload};
use crate::harness::csrf_of;
use crate::{Db, TestApp};
use candor_core::access::Role;
use candor_core::audit::AuditEntry;
use candor_core::Kind;

/// Every audit entry, from the back office's export.
async fn audit_entries(app: &TestApp) -> Vec<AuditEntry> {
    let (status, jsonl) = app.get_text("/admin/audit/export?format=jsonl").await;
    assert_eq!(status, 200, "{jsonl}");
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What first start adds besides the demo's content: its sample documents and status page.
async fn seed_the_whole_demo(app: &TestApp) {
    candor_web::demo_documents::seed(&app.state).await.unwrap();
    let seeded = app.state.app().seed_status_demo(candor_store::now()).await.unwrap();
    app.state.apply(seeded.effects).await;
    let demo = app.store.demo_content(app.state.org()).await.unwrap().status;
    assert_eq!(
        (
            demo.groups.len(),
            demo.components.len(),
            demo.incidents.len(),
            demo.maintenances.len()
        ),
        (2, 5, 2, 1),
        "the seeding marks what it created"
    );
}

/// The status page's parts: (components, incidents and notices, maintenance windows).
async fn status_counts(app: &TestApp) -> (usize, usize, usize) {
    let org = app.state.org();
    let components = app.store.status_components(org).await.unwrap().len();
    let incidents = app
        .store
        .incidents(
            org,
            candor_store::IncidentQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len();
    let maintenance = app.store.maintenances(org, false, 100).await.unwrap().len();
    (components, incidents, maintenance)
}

async fn remove_the_demo_later(db: Db) {
    let Some(app) = TestApp::start_with(db, true).await else {
        return;
    };
    seed_the_whole_demo(&app).await;
    let org = app.state.org();
    let demo_items = app.store.all_items(org).await.unwrap().len();
    assert!(demo_items > 50);

    // Nobody signed in: sent to sign in, nothing removed.
    let anon = app.new_browser();
    let r = anon.get("/admin/demo/remove").await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/admin/login"));
    let r = anon.post_form("/admin/demo/remove", &[("_csrf", "x")]).await;
    assert!(r.status() == 303 || r.status() == 403, "{}", r.status());

    let csrf = app.sign_in_owner().await;
    let (_, dash) = app.get_text("/admin").await;
    assert!(dash.contains("href=\"/admin/demo/remove\""), "{dash}");

    // The owner's own work stays: a question and a document of their own.
    let r = app
        .post_form(
            "/admin/content/faq",
            &[
                ("_csrf", &csrf),
                ("slug", "selling-data"),
                ("question", "Do you sell our data?"),
                ("answer", "No, never."),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (status, page) = upload(
        &app.browser(),
        &csrf,
        "Our pentest letter",
        "public",
        "letter.pdf",
        tiny_pdf("ours"),
    )
    .await;
    assert!(status == 303 || status == 200, "{status}: {page}");
    // ... and a component of their own on the status page, with an incident on it.
    let r = app
        .post_form("/admin/status/components", &[("_csrf", &csrf), ("name", "Billing API")])
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let ours = app.store.status_components(org).await.unwrap();
    let ours = ours.iter().find(|c| c.name == "Billing API").unwrap().id;
    let r = app
        .post_form(
            "/admin/status/incidents",
            &[
                ("_csrf", &csrf),
                ("kind", "incident"),
                ("title", "Billing API slow"),
                ("impact", "minor"),
                ("status", "investigating"),
                ("body", "Looking into it."),
                (&format!("component-{ours}"), "degraded_performance"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(status_counts(&app).await, (6, 3, 1));

    // A role that may not delete content cannot remove the demo.
    let manager = user_with_role(&app, &csrf, Role::AccessManager).await;
    assert_eq!(manager.get("/admin/demo/remove").await.status(), 403);
    let (_, mdash) = manager.get_text("/admin").await;
    let r = manager
        .post_form("/admin/demo/remove", &[("_csrf", &csrf_of(&mdash))])
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(app.store.all_items(org).await.unwrap().len(), demo_items + 1);

    // The confirmation page says what goes.
    let (status, confirm) = app.get_text("/admin/demo/remove").await;
    assert_eq!(status, 200, "{confirm}");
    for row in [
        "<th scope=\"row\">Sample documents</th><td>2</td>",
        "<th scope=\"row\">Status page components, with their uptime history</th><td>5</td>",
        "<th scope=\"row\">Incidents and security notices</th><td>2</td>",
        "<th scope=\"row\">Maintenance windows</th><td>1</td>",
    ] {
        assert!(confirm.contains(row), "{row}: {confirm}");
    }
    assert!(!confirm.contains("Do you sell"), "{confirm}");

    // A forged request (no CSRF token) removes nothing.
    let r = app.post_form("/admin/demo/remove", &[]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(app.store.all_items(org).await.unwrap().len(), demo_items + 1);

    let r = app
        .post_form("/admin/demo/remove", &[("_csrf", &csrf_of(&confirm))])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin?notice=demo-removed");

    let items = app.store.all_items(org).await.unwrap();
    assert_eq!(items.len(), 1, "only the owner's own question is left");
    assert_eq!(items[0].kind, Kind::Faq);
    let docs = app.store.documents(org).await.unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].title, "Our pentest letter");
    assert!(app.store.demo_content(org).await.unwrap().is_empty());
    // The status page keeps only the owner's component and incident.
    assert_eq!(status_counts(&app).await, (1, 1, 0));
    assert!(app.store.status_groups(org).await.unwrap().is_empty());
    let (_, status_page) = app.get_text("/status").await;
    assert!(
        status_page.contains("Billing API") && !status_page.contains("Single sign-on"),
        "{status_page}"
    );
    assert!(
        !status_page.contains("Slow and failing API requests") && !status_page.contains("Database upgrade"),
        "{status_page}"
    );

    // The public site is rendered again without the demo.
    let (_, home) = app.get_text("/").await;
    assert!(!home.contains("Corvellan"), "{home}");
    let (_, faq) = app.get_text("/faq").await;
    assert!(faq.contains("Do you sell our data?"), "{faq}");
    let (_, library) = app.get_text("/documents").await;
    assert!(
        library.contains("Our pentest letter") && !library.contains("Security overview"),
        "{library}"
    );
    assert_eq!(app.get("/documents/security-overview/download").await.status(), 404);

    // One audit entry that names the counts.
    let entries = audit_entries(&app).await;
    let removals: Vec<_> = entries
        .iter()
        .filter(|e| e.record.action == "content.demo_remove")
        .collect();
    assert_eq!(removals.len(), 1);
    let e = removals[0];
    assert_eq!(e.record.actor, format!("user:{}", crate::harness::OWNER_EMAIL));
    assert_eq!(e.record.details["items"], demo_items);
    assert_eq!(e.record.details["documents"], 2);
    assert_eq!(e.record.details["kinds"]["profile"], 1);
    assert_eq!(e.record.details["status"]["components"], 5);
    assert_eq!(e.record.details["status"]["incidents"], 2);
    assert!(e.record.details["document_slugs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "soc-2-type-ii-report"));

    // Nothing left: the dashboard no longer offers it, the page says so, and a second removal
    // records nothing.
    let (_, dash) = app.get_text("/admin").await;
    assert!(!dash.contains("href=\"/admin/demo/remove\""), "{dash}");
    let (_, confirm) = app.get_text("/admin/demo/remove").await;
    assert!(confirm.contains("no demo content left"), "{confirm}");
    let r = app.post_form("/admin/demo/remove", &[("_csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    let again = audit_entries(&app).await;
    assert_eq!(
        again
            .iter()
            .filter(|e| e.record.action == "content.demo_remove")
            .count(),
        1
    );
}
crate::both_dbs_fn!(the_demo_is_removed_in_one_step, remove_the_demo_later);

async fn start_blank_at_setup(db: Db) {
    let Some(app) = TestApp::start_with(db, true).await else {
        return;
    };
    seed_the_whole_demo(&app).await;
    let org = app.state.org();
    let token = app.setup_token.clone().unwrap();
    let path = format!("/admin/setup/{token}");
    let (status, page) = app.get_text(&path).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("name=\"start\" value=\"demo\" checked") && page.contains("name=\"start\" value=\"blank\""),
        "{page}"
    );

    // A mistake elsewhere keeps the choice and removes nothing.
    let r = app
        .post_form(
            &path,
            &[
                ("_csrf", &csrf_of(&page)),
                ("name", "Olive Owner"),
                ("email", crate::harness::OWNER_EMAIL),
                ("password", "short"),
                ("confirm", "short"),
                ("start", "blank"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let again = r.text().await.unwrap();
    assert!(again.contains("name=\"start\" value=\"blank\" checked"), "{again}");
    assert!(!app.store.demo_content(org).await.unwrap().is_empty());

    let pw = crate::harness::OWNER_PASSWORD;
    let r = app
        .post_form(
            &path,
            &[
                ("_csrf", &csrf_of(&page)),
                ("name", "Olive Owner"),
                ("email", crate::harness::OWNER_EMAIL),
                ("password", pw),
                ("confirm", pw),
                ("start", "blank"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], "/admin/login?next=/admin/content/profile/new");
    assert!(app.store.all_items(org).await.unwrap().is_empty());
    assert!(app.store.documents(org).await.unwrap().is_empty());
    assert_eq!(status_counts(&app).await, (0, 0, 0));
    let (_, home) = app.get_text("/").await;
    assert!(!home.contains("Corvellan"), "{home}");

    // Signed in, the owner is led to their profile; publishing it makes the site theirs.
    let csrf = app.sign_in(crate::harness::OWNER_EMAIL, pw).await;
    let (status, form) = app.get_text("/admin/content/profile/new").await;
    assert_eq!(status, 200, "{form}");
    let entries = audit_entries(&app).await;
    let e = entries
        .iter()
        .find(|e| e.record.action == "content.demo_remove")
        .expect("audited");
    assert_eq!(e.record.actor, format!("user:{}", crate::harness::OWNER_EMAIL));
    assert_eq!(e.record.details["documents"], 2);
    let r = app
        .post_form(
            "/admin/content/profile",
            &[
                ("_csrf", &csrf),
                ("name", "Brightwater Analytics"),
                ("tagline", "How we protect your data"),
                ("description", "We keep your data safe."),
                ("brand_color", "#1f5f8b"),
                ("security_email", "security@brightwater.example"),
                ("privacy_email", "privacy@brightwater.example"),
                ("support_email", "support@brightwater.example"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, home) = app.get_text("/").await;
    assert!(home.contains("Brightwater Analytics"), "{home}");
}
crate::both_dbs_fn!(setup_can_start_blank, start_blank_at_setup);

/// Without the demo there is nothing to choose: the setup page does not ask.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_without_the_demo_does_not_ask() {
    let app = TestApp::start_with(Db::Sqlite, false).await.unwrap();
    let token = app.setup_token.clone().unwrap();
    let (status, page) = app.get_text(&format!("/admin/setup/{token}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("name=\"start\""), "{page}");
}

async fn section_from_a_list(db: Db) {
    let Some(app) = TestApp::start_with(db, true).await else {
        return;
    };
    let csrf = app.sign_in_owner().await;
    let (status, form) = app.get_text("/admin/content/control/new").await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("<select id=\"f-section\" name=\"section\""), "{form}");
    assert!(
        form.contains("<option value=\"\" selected>Choose a section</option>"),
        "{form}"
    );
    assert!(
        form.contains("<option value=\"encryption\">Encryption</option>"),
        "{form}"
    );

    // An existing control has its own section selected.
    let (status, edit) = app.get_text("/admin/content/control/encryption-at-rest").await;
    assert_eq!(status, 200, "{edit}");
    assert!(
        edit.contains("<option value=\"encryption\" selected>Encryption</option>"),
        "{edit}"
    );

    // What the list sends is what a control is saved with.
    let r = app
        .post_form(
            "/admin/content/control",
            &[
                ("_csrf", &csrf),
                ("slug", "keys-in-hardware"),
                ("section", "encryption"),
                ("visibility", "public"),
                ("title", "Keys in hardware"),
                ("body", "Our keys never leave the HSM."),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, page) = app.get_text("/s/encryption").await;
    assert!(page.contains("Keys in hardware"), "{page}");

    // Choosing nothing is an error that names the field, with the list shown again.
    let r = app
        .post_form(
            "/admin/content/control",
            &[
                ("_csrf", &csrf),
                ("slug", "nowhere"),
                ("section", ""),
                ("visibility", "public"),
                ("title", "Nowhere"),
                ("body", "x"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("<select id=\"f-section\""), "{page}");
}
crate::both_dbs_fn!(a_controls_section_is_chosen_from_a_list, section_from_a_list);

/// A PNG of `width` × `height` as far as the checks read it (signature, header, end), padded to
/// `pad` more bytes.
fn png(width: u32, height: u32, pad: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend(13u32.to_be_bytes());
    b.extend(b"IHDR");
    b.extend(width.to_be_bytes());
    b.extend(height.to_be_bytes());
    b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b.extend(vec![0; pad]);
    b.extend(b"\0\0\0\0IEND\xaeB`\x82");
    b
}

async fn post_logo(b: &crate::harness::Browser, csrf: &str, name: &str, bytes: Vec<u8>) -> (u16, String) {
    let form = reqwest::multipart::Form::new().text("_csrf", csrf.to_owned()).part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    let r = b.post_multipart("/admin/logo", form).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

const PLAIN_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#1f5f8b"/></svg>"##;

async fn logo_upload(db: Db) {
    let Some(app) = TestApp::start_with(db, true).await else {
        return;
    };
    let anon = app.new_browser();
    assert_eq!(anon.get("/admin/logo").await.status(), 303);
    let (status, _) = post_logo(&anon, "x", "logo.svg", PLAIN_SVG.into()).await;
    assert!(status == 303 || status == 403, "{status}");

    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    let (status, page) = app.get_text("/admin/logo").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("type=\"file\""), "{page}");

    // A role that may not publish cannot change the logo.
    let manager = user_with_role(&app, &csrf, Role::AccessManager).await;
    let (_, mdash) = manager.get_text("/admin").await;
    assert_eq!(
        post_logo(&manager, &csrf_of(&mdash), "logo.svg", PLAIN_SVG.into())
            .await
            .0,
        403
    );
    // No CSRF token: refused before the file is read.
    assert_eq!(post_logo(&owner, "wrong", "logo.svg", PLAIN_SVG.into()).await.0, 403);

    // Hostile files are refused with the reason, and nothing is stored.
    let hostile: &[(&str, Vec<u8>, u16, &str)] = &[
        ("logo.png", b"<html><body><script>alert(1)</script></body></html>".to_vec(), 422, "not a PNG or SVG"),
        (
            "logo.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec(),
            422,
            "it contains a script",
        ),
        (
            "logo.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>"#.to_vec(),
            422,
            "event handler (onload)",
        ),
        (
            "logo.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="http://evil.example/a.svg#x"/></svg>"#.to_vec(),
            422,
            "outside the file",
        ),
        ("logo.png", png(64, 64, 530 * 1024), 413, "at most 512 KiB"),
        ("huge.png", png(64, 64, 2 * 1024 * 1024), 413, "at most 512 KiB"),
    ];
    for (name, bytes, status, why) in hostile {
        let (got, page) = post_logo(&owner, &csrf, name, bytes.clone()).await;
        assert_eq!(got, *status, "{name}: {page}");
        assert!(page.contains(why), "{name}: {page}");
    }
    assert!(app.store.logo(app.state.org()).await.unwrap().is_none());
    assert_eq!(app.get("/brand/logo.svg").await.status(), 404);
    assert_eq!(app.get("/brand/logo.png").await.status(), 404);

    // A plain SVG: published at once, served with its type, nosniff and a sandbox.
    let (status, page) = post_logo(&owner, &csrf, "logo.svg", PLAIN_SVG.into()).await;
    assert_eq!(status, 303, "{page}");
    let (_, home) = app.get_text("/").await;
    assert!(home.contains("<img src=\"/brand/logo.svg?v="), "{home}");
    let r = app.get("/brand/logo.svg").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("sandbox") && csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(r.text().await.unwrap(), PLAIN_SVG);
    assert_eq!(app.get("/brand/logo.png").await.status(), 404);
    // The profile's form still saves (the relative address is not a url input).
    let (_, edit) = app.get_text("/admin/content/profile/profile").await;
    assert!(edit.contains("type=\"text\" value=\"/brand/logo.svg?v="), "{edit}");

    // A PNG replaces it; the file is stored encrypted.
    let image = png(128, 128, 100);
    let (status, page) = post_logo(&owner, &csrf, "logo.png", image.clone()).await;
    assert_eq!(status, 303, "{page}");
    let r = app.get("/brand/logo.png").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), image);
    assert_eq!(app.get("/brand/logo.svg").await.status(), 404);
    let stored = app.store.logo(app.state.org()).await.unwrap().expect("a logo");
    let raw = app.state.blobs().read_raw(&stored.blob.id).await.unwrap();
    assert!(!raw.windows(4).any(|w| w == b"IHDR"), "stored encrypted");
    let (_, home) = app.get_text("/").await;
    assert!(home.contains("<img src=\"/brand/logo.png?v="), "{home}");
    let entries = audit_entries(&app).await;
    let logos: Vec<_> = entries.iter().filter(|e| e.record.action == "settings.logo").collect();
    assert_eq!(logos.len(), 2);
    assert_eq!(logos[1].record.details["type"], "png");
    assert_eq!(logos[1].record.details["width"], 128);

    // Removed: the header has no image and the address is gone.
    let (_, page) = app.get_text("/admin/logo").await;
    let r = app.post_form("/admin/logo/remove", &[("_csrf", &csrf_of(&page))]).await;
    assert_eq!(r.status(), 303);
    let (_, home) = app.get_text("/").await;
    assert!(!home.contains("/brand/logo."), "{home}");
    assert_eq!(app.get("/brand/logo.png").await.status(), 404);
}
crate::both_dbs_fn!(a_logo_can_be_uploaded, logo_upload);
