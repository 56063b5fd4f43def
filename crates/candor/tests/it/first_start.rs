//! A blank start (no demo) can be finished in the browser: the profile is created from nothing.

use crate::{Db, TestApp};

async fn blank_start_creates_the_profile(db: Db) {
    let Some(app) = TestApp::start_with(db, false).await else {
        return;
    };
    // Browsers ask every site for an icon; even a blank one has it.
    let r = app.get("/favicon.ico").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/x-icon");
    assert_eq!(&r.bytes().await.unwrap()[..4], &[0, 0, 1, 0]);

    let csrf = app.sign_in_owner().await;
    let r = app.get("/admin/content/profile").await;
    assert_eq!(r.status(), 303);
    let edit = r.headers()["location"].to_str().unwrap().to_owned();
    let r = app.get(&edit).await;
    assert_eq!(r.status(), 303, "a missing profile leads to its creation form");
    assert_eq!(r.headers()["location"], "/admin/content/profile/new");
    let (status, form) = app.get_text("/admin/content/profile/new").await;
    assert_eq!(status, 200, "{form}");
    assert!(
        form.contains("name=\"security_email\"") && !form.contains("id=\"f-slug\""),
        "{form}"
    );

    let r = app
        .post_form(
            "/admin/content/profile",
            &[
                ("_csrf", &csrf),
                ("slug", "anything-typed-is-ignored"),
                ("name", "Brightwater Analytics"),
                ("tagline", "How we protect your data"),
                ("description", "We keep **your** data safe."),
                ("brand_color", "#1f5f8b"),
                ("security_email", "security@brightwater.example"),
                ("privacy_email", "privacy@brightwater.example"),
                ("support_email", "support@brightwater.example"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(
        r.headers()["location"],
        "/admin/content/profile/profile?notice=published"
    );
    let (_, home) = app.get_text("/").await;
    assert!(home.contains("Brightwater Analytics"), "{home}");

    // Once it exists, "new" leads to editing it.
    let r = app.get("/admin/content/profile/new").await;
    assert_eq!(r.status(), 303);
}
crate::both_dbs_fn!(a_blank_start_can_be_finished, blank_start_creates_the_profile);
