//! Deleting a document: a confirmation page, then every version, its rows and its encrypted
//! files go; the public library, downloads and signed-in viewers lose it; the deletion is audited.
//! And viewer sessions end on their own idle and absolute timeouts, not the back office's.

use crate::documents::{tiny_pdf, upload};
use crate::harness::{csrf_of, Browser, OWNER_EMAIL};
use crate::{both_dbs_fn, Db, TestApp};

/// Where a blob's file lives in the test's local storage.
fn blob_path(app: &TestApp, id: &str) -> std::path::PathBuf {
    app.state.config().data_dir.join("blobs/blobs").join(&id[..2]).join(id)
}

/// A live grant to `email` for every NDA document and a viewer session for it, made in the
/// database; returns the session cookie's value.
async fn viewer_session(app: &TestApp, email: &str, token: &str) {
    let now = chrono::Utc::now().timestamp();
    let org = app.state.org();
    app.sql(&format!(
        "INSERT INTO grants (org_id, public_id, name, email, company, documents, created_by, created_at, expires_at) \
         VALUES ({org}, 'g-{token}', 'Val Viewer', '{email}', 'Buyer Inc', '[]', 'test', {now}, {})",
        now + 86_400
    ))
    .await;
    app.sql(&format!(
        "INSERT INTO viewer_sessions (id_hash, org_id, email, created_at, last_seen_at) VALUES ('{}', {org}, '{email}', {now}, {now})",
        candor_crypto::token_digest(token)
    ))
    .await;
}

/// GET as a viewer holding session `token`; returns the status and the redirect target, if any.
async fn as_viewer(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let r = TestApp::new_client()
        .get(app.url(path))
        .header("Cookie", format!("candor_viewer={token}"))
        .send()
        .await
        .unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), location)
}

async fn add_version(b: &Browser, csrf: &str, slug: &str, text: &str) -> u16 {
    let form = reqwest::multipart::Form::new().text("_csrf", csrf.to_owned()).part(
        "file",
        reqwest::multipart::Part::bytes(tiny_pdf(text)).file_name("v.pdf"),
    );
    b.client
        .post(b.url(&format!("/admin/documents/{slug}/versions")))
        .header("Origin", &b.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn delete_documents(db: Db) {
    let Some(app) = TestApp::start(db).await else { return };
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    for (title, access) in [("Bridge letter", "public"), ("Pen test summary", "nda")] {
        let (status, page) = upload(&owner, &csrf, title, access, "f.pdf", tiny_pdf(title)).await;
        assert_eq!(status, 303, "{page}");
    }
    assert_eq!(add_version(&owner, &csrf, "bridge-letter", "second").await, 303);
    assert_eq!(add_version(&owner, &csrf, "pen-test-summary", "second").await, 303);
    let blob_ids = |slug: &'static str| {
        let store = app.store.clone();
        let org = app.state.org();
        async move {
            let doc = store.document(org, slug).await.unwrap().unwrap();
            let versions = store.document_versions(doc.id).await.unwrap();
            versions.into_iter().map(|v| v.blob_id).collect::<Vec<_>>()
        }
    };
    let public_blobs = blob_ids("bridge-letter").await;
    let nda_blobs = blob_ids("pen-test-summary").await;
    assert_eq!(public_blobs.len() + nda_blobs.len(), 4);
    for id in public_blobs.iter().chain(&nda_blobs) {
        assert!(blob_path(&app, id).exists(), "{id} is on disk before");
    }
    viewer_session(&app, "val@buyer.example", "viewer-token-1").await;
    assert_eq!(
        as_viewer(&app, "viewer-token-1", "/viewer/documents/pen-test-summary")
            .await
            .0,
        200
    );
    assert_eq!(app.get("/documents/bridge-letter/download").await.status(), 200);

    // The edit page offers it; the confirmation page asks, naming what goes.
    let (_, edit) = owner.get_text("/admin/documents/bridge-letter").await;
    assert!(edit.contains("/admin/documents/bridge-letter/delete"), "{edit}");
    let (status, confirm) = owner.get_text("/admin/documents/bridge-letter/delete").await;
    assert_eq!(status, 200, "{confirm}");
    assert!(
        confirm.contains("Bridge letter") && confirm.contains("2 versions"),
        "{confirm}"
    );
    // Opening the page deleted nothing; a POST without the form token deletes nothing either.
    assert!(app
        .store
        .document(app.state.org(), "bridge-letter")
        .await
        .unwrap()
        .is_some());
    let r = owner
        .post_form("/admin/documents/bridge-letter/delete", &[("_csrf", "wrong")])
        .await;
    assert_eq!(r.status(), 403);
    assert!(app
        .store
        .document(app.state.org(), "bridge-letter")
        .await
        .unwrap()
        .is_some());

    // Deleted: rows, files, the public download and the library listing.
    let r = owner
        .post_form(
            "/admin/documents/bridge-letter/delete",
            &[("_csrf", &csrf_of(&confirm))],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/documents?notice=document-deleted");
    assert!(app
        .store
        .document(app.state.org(), "bridge-letter")
        .await
        .unwrap()
        .is_none());
    assert!(app.store.known_blob_ids(&public_blobs).await.unwrap().is_empty());
    for id in &public_blobs {
        assert!(!blob_path(&app, id).exists(), "{id} is still on disk");
        assert!(app.state.blobs().read_raw(id).await.is_err());
    }
    assert_eq!(app.get("/documents/bridge-letter/download").await.status(), 404);
    assert!(!app.get_text("/documents").await.1.contains("Bridge letter"));
    assert_eq!(owner.get("/admin/documents/bridge-letter").await.status(), 404);
    assert_eq!(
        owner
            .post_form(
                "/admin/documents/bridge-letter/delete",
                &[("_csrf", &csrf_of(&confirm))]
            )
            .await
            .status(),
        404,
        "deleting twice finds nothing"
    );

    // The NDA document: a signed-in viewer loses it at once.
    let (_, confirm) = owner.get_text("/admin/documents/pen-test-summary/delete").await;
    let r = owner
        .post_form(
            "/admin/documents/pen-test-summary/delete",
            &[("_csrf", &csrf_of(&confirm))],
        )
        .await;
    assert_eq!(r.status(), 303);
    for id in &nda_blobs {
        assert!(!blob_path(&app, id).exists(), "{id} is still on disk");
    }
    assert_eq!(
        as_viewer(&app, "viewer-token-1", "/viewer/documents/pen-test-summary")
            .await
            .0,
        404
    );
    let home = TestApp::new_client()
        .get(app.url("/viewer"))
        .header("Cookie", "candor_viewer=viewer-token-1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("Pen test summary"), "{home}");

    // Audited, by the person, once per document.
    let deletes: Vec<_> = app
        .store
        .audit_chain(app.state.org())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.action == "document.delete")
        .collect();
    assert_eq!(deletes.len(), 2);
    assert_eq!(deletes[0].record.target, "document/bridge-letter");
    assert_eq!(deletes[0].record.actor, format!("user:{OWNER_EMAIL}"));
    assert_eq!(deletes[0].record.details["versions"], 2);
}
both_dbs_fn!(documents_are_deleted_with_every_version_and_file, delete_documents);

/// Roles that may not publish may not delete: the page and the POST are refused.
async fn delete_needs_publish(db: Db) {
    let Some(app) = TestApp::start(db).await else { return };
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    assert_eq!(
        upload(&owner, &csrf, "Bridge letter", "public", "f.pdf", tiny_pdf("b"))
            .await
            .0,
        303
    );
    let (_, page) = owner.get_text("/admin/users").await;
    let auditor = crate::access::user_with_role(&app, &csrf_of(&page), candor_core::access::Role::Auditor).await;
    let (_, page) = auditor.get_text("/admin/documents/bridge-letter").await;
    assert!(!page.contains("/admin/documents/bridge-letter/delete"), "{page}");
    let csrf = csrf_of(&page);
    assert_eq!(auditor.get("/admin/documents/bridge-letter/delete").await.status(), 403);
    let r = auditor
        .post_form("/admin/documents/bridge-letter/delete", &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 403);
    assert!(app
        .store
        .document(app.state.org(), "bridge-letter")
        .await
        .unwrap()
        .is_some());
}
both_dbs_fn!(only_publishers_delete_documents, delete_needs_publish);

/// Viewer sessions end after `viewer_session_idle_minutes` unused and
/// `viewer_session_absolute_hours` after sign-in, whatever the back office's timeouts are.
async fn viewer_timeouts(db: Db) {
    let Some(app) = TestApp::start_configured(db, true, |c| {
        c.session_idle_minutes = 600;
        c.session_absolute_hours = 100;
        c.viewer_session_idle_minutes = 5;
        c.viewer_session_absolute_hours = 2;
    })
    .await
    else {
        return;
    };
    viewer_session(&app, "idle@buyer.example", "idle-token").await;
    viewer_session(&app, "busy@buyer.example", "busy-token").await;
    viewer_session(&app, "fresh@buyer.example", "fresh-token").await;
    for token in ["idle-token", "busy-token", "fresh-token"] {
        assert_eq!(as_viewer(&app, token, "/viewer").await.0, 200, "{token} is signed in");
    }
    let hash = candor_crypto::token_digest;
    // Unused for 6 minutes: past the viewer's 5, far within the back office's 600.
    app.sql(&format!(
        "UPDATE viewer_sessions SET last_seen_at = last_seen_at - 360 WHERE id_hash = '{}'",
        hash("idle-token")
    ))
    .await;
    // Used a minute ago, but signed in 3 hours ago: past the viewer's 2, within the back office's 100.
    app.sql(&format!(
        "UPDATE viewer_sessions SET created_at = created_at - 3 * 3600, last_seen_at = last_seen_at - 60 WHERE id_hash = '{}'",
        hash("busy-token")
    ))
    .await;
    // Unused for 4 minutes and signed in 1 hour ago: still within both.
    app.sql(&format!(
        "UPDATE viewer_sessions SET created_at = created_at - 3600, last_seen_at = last_seen_at - 240 WHERE id_hash = '{}'",
        hash("fresh-token")
    ))
    .await;
    for token in ["idle-token", "busy-token"] {
        assert_eq!(
            as_viewer(&app, token, "/viewer").await,
            (303, "/viewer/signin".to_owned()),
            "{token} has ended"
        );
    }
    assert_eq!(as_viewer(&app, "fresh-token", "/viewer").await.0, 200);
    // An ended session is gone from the database, not only refused.
    for (token, live) in [("idle-token", false), ("busy-token", false), ("fresh-token", true)] {
        assert_eq!(
            app.store
                .viewer_session(&hash(token), i64::MAX / 4, i64::MAX / 4)
                .await
                .unwrap()
                .is_some(),
            live,
            "{token}"
        );
    }
}
both_dbs_fn!(viewer_sessions_have_their_own_timeouts, viewer_timeouts);
