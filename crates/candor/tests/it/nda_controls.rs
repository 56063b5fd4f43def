//! The public site for a signed-in viewer and for everyone else: NDA-only controls (the demo's
//! "Latest penetration test results") reach only a viewer whose grant is live, labelled
//! "Confidential", on pages rendered for them and never cached; every public surface (pages,
//! feeds, search, `trust.json`, `llms.txt`, the sitemap, the static export) leaves them out. A
//! viewer also sees "Download" for the documents their grant covers and a "Your documents" link.
//! And the pages new with them: `/controls`, `/llms.txt`, the header's Status link, the
//! business-continuity section's status and last passing disaster-recovery drill.

use crate::harness::Browser;
use crate::{both_dbs, both_dbs_fn, Db, TestApp};
use candor_app::Actor;
use candor_core::requests::RequestStatus;
use candor_core::Kind;
use candor_store::{NewGrant, NewLink, NewRequest};
use std::time::Duration;

/// The demo's NDA-only control: its anchor and its title.
const NDA_SLUG: &str = "pen-test-results";
const NDA_TITLE: &str = "Latest penetration test results";
/// The demo's NDA document (`candor_web::demo_documents`).
const NDA_DOC: &str = "soc-2-type-ii-report";

fn owner() -> Actor {
    Actor::User {
        email: "owner@localhost".into(),
        ip: "127.0.0.1".into(),
    }
}

/// Puts a component named API on the status page (the site shows it at once); its id.
async fn add_component(app: &TestApp) -> i64 {
    let draft = candor_app::status::ComponentDraft {
        group_id: None,
        name: "API".into(),
        description: String::new(),
        showcase: true,
        only_show_if_degraded: false,
    };
    let done = app.state.app().create_status_component(&owner(), &draft).await.unwrap();
    app.state.apply(done.effects).await;
    done.value
}

async fn with_documents(app: &TestApp) {
    candor_web::demo_documents::seed(&app.state).await.unwrap();
}

/// A person approved for `documents` (every NDA document when empty), signed in by their emailed
/// link as a person does: the request and its approval are written as an access manager's
/// decision writes them, with a sign-in link whose token the test knows.
async fn approved_viewer(app: &TestApp, email: &str, documents: &[&str]) -> Browser {
    let org = app.state.org();
    let token = candor_crypto::random_token();
    let mut tx = app.store.begin().await.unwrap();
    let request = NewRequest {
        name: "Dana Prospect".into(),
        email: email.into(),
        company: "Acme Buyer".into(),
        reason: "Vendor due diligence".into(),
        documents: documents.iter().map(|d| (*d).to_owned()).collect(),
        status: RequestStatus::Signed,
        ip: "127.0.0.1".into(),
        user_agent: "test".into(),
    };
    let id = tx.create_access_request(org, &request).await.unwrap();
    let grant = NewGrant {
        public_id: format!("grant-{id}"),
        expires_at: candor_store::now() + 3600,
    };
    let link = NewLink {
        token_hash: candor_crypto::token_digest(token.expose()),
        purpose: "viewer",
        email: email.into(),
        expires_at: candor_store::now() + 900,
    };
    assert!(tx
        .decide_request(org, id, "owner@localhost", "", Some((&grant, &link)))
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let b = app.new_browser();
    let r = b.follow_link(&format!("/viewer/login/{}", token.expose())).await;
    assert_eq!(r.status(), 303, "the viewer signs in");
    b
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The page, its Cache-Control and Vary.
async fn page(b: &Browser, path: &str) -> (String, String, String) {
    let r = b.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    let (cache, vary) = (header(&r, "cache-control"), header(&r, "vary"));
    (r.text().await.unwrap(), cache, vary)
}

/// Whether `text` mentions the NDA-only control anywhere.
fn shows_nda(text: &str) -> bool {
    text.contains(NDA_SLUG) || text.contains(NDA_TITLE)
}

/// Every public surface, asked without a viewer session: no trace of the NDA-only control, and
/// the HTML pages cacheable by anyone, varying by cookie.
async fn public_surfaces_leave_it_out(app: &TestApp, b: &Browser) {
    for path in [
        "/",
        "/controls",
        "/s/secure-development",
        "/feed.atom",
        "/trust.json",
        "/sitemap.xml",
        "/llms.txt",
        "/search?q=penetration",
    ] {
        let (text, cache, vary) = page(b, path).await;
        assert!(!shows_nda(&text), "{path} shows the NDA-only control");
        if !path.starts_with("/search") && (path == "/" || !path.contains('.')) {
            assert_eq!(cache, "public, max-age=60", "{path}");
            assert!(vary.contains("cookie"), "{path}: Vary {vary:?}");
        }
    }
    // The public section still shows its public controls.
    let (text, ..) = page(b, "/s/secure-development").await;
    assert!(text.contains("id=\"penetration-testing\""));
    assert!(!text.contains("Your documents"));
    // The static export (`candor export-site`) is made from the same public site.
    let site = candor_web::site::Site::load(app.state.app(), &app.base, chrono::Utc::now().date_naive())
        .await
        .unwrap();
    let files = site.static_files();
    assert!(files.contains_key("controls.html") && files.contains_key("llms.txt"));
    for (name, bytes) in &files {
        if name.ends_with(".gz") || name.ends_with(".br") {
            continue;
        }
        assert!(!shows_nda(&String::from_utf8_lossy(bytes)), "{name} in the export");
    }
}

both_dbs!(
    nda_controls_reach_only_a_viewer_with_a_live_grant,
    |app: TestApp| async move {
        with_documents(&app).await;
        let anonymous = app.new_browser();
        public_surfaces_leave_it_out(&app, &anonymous).await;

        let viewer = approved_viewer(&app, "dana@acme-buyer.example", &[NDA_DOC]).await;
        let r = viewer.get("/s/secure-development").await;
        assert_eq!(header(&r, "cache-control"), "private, no-store");
        assert_eq!(header(&r, "vary"), "cookie");
        assert!(
            r.headers().get("etag").is_none(),
            "a viewer page has no validator to cache it by"
        );
        let section = r.text().await.unwrap();
        assert!(section.contains(&format!("id=\"{NDA_SLUG}\"")), "{section}");
        assert!(section.contains("<span class=\"pill confidential\">Confidential</span>"));
        assert!(section.contains("<a href=\"/viewer\">Your documents</a>"));
        // The visitor's forms keep the link for them (asking for more documents, subscribing);
        // not for anyone else.
        for form in ["/documents/request", "/subscribe"] {
            let mine = viewer.get_text(form).await.1;
            assert!(
                mine.contains("<a href=\"/viewer\">Your documents</a>"),
                "{form}: {mine}"
            );
            let theirs = anonymous.get_text(form).await.1;
            assert!(!theirs.contains("Your documents"), "{form}");
        }
        let (overview, ..) = page(&viewer, "/controls").await;
        assert!(overview.contains(&format!("/s/secure-development#{NDA_SLUG}")));
        let (home, ..) = page(&viewer, "/").await;
        assert!(home.contains(NDA_TITLE));
        let (found, cache, _) = page(&viewer, "/search?q=penetration").await;
        assert!(
            found.contains(NDA_TITLE) && found.contains("Confidential control"),
            "{found}"
        );
        assert_eq!(cache, "private, no-store");
        // What is the same for everyone stays public, also when a viewer asks.
        for path in ["/trust.json", "/feed.atom", "/sitemap.xml", "/llms.txt"] {
            let (text, cache, _) = page(&viewer, path).await;
            assert!(!shows_nda(&text), "{path}");
            assert!(cache.starts_with("public"), "{path}");
        }

        // The grant expires: the public page again, cacheable.
        app.sql("UPDATE grants SET expires_at = 1").await;
        let (text, cache, _) = page(&viewer, "/s/secure-development").await;
        assert!(!shows_nda(&text) && !text.contains("Your documents"));
        assert_eq!(cache, "public, max-age=60");
        app.sql(&format!(
            "UPDATE grants SET expires_at = {}",
            candor_store::now() + 3600
        ))
        .await;
        assert!(shows_nda(&page(&viewer, "/s/secure-development").await.0));
        // Revoked: the public page.
        app.sql(&format!("UPDATE grants SET revoked_at = {}", candor_store::now()))
            .await;
        assert!(!shows_nda(&page(&viewer, "/s/secure-development").await.0));
        assert!(!shows_nda(&page(&viewer, "/search?q=penetration").await.0));

        // A made-up session cookie is nobody's.
        let forged = reqwest::Client::new()
            .get(app.url("/s/secure-development"))
            .header("cookie", "candor_viewer=not-a-session")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&forged, "cache-control"), "public, max-age=60");
        assert!(!shows_nda(&forged.text().await.unwrap()));
    }
);

both_dbs!(a_viewer_downloads_what_their_grant_covers, |app: TestApp| async move {
    with_documents(&app).await;
    let request = format!("/documents/request?documents={NDA_DOC}");
    let download = format!("href=\"/viewer/documents/{NDA_DOC}\"");
    let (public, ..) = page(&app.new_browser(), "/documents").await;
    assert!(public.contains(&request) && !public.contains(&download));

    let viewer = approved_viewer(&app, "dana@acme-buyer.example", &[NDA_DOC]).await;
    let (docs, ..) = page(&viewer, "/documents").await;
    assert!(docs.contains(&download), "{docs}");
    assert!(!docs.contains(&request), "no Request access for a covered document");
    // The compliance card of the certification the report belongs to.
    let (compliance, ..) = page(&viewer, "/compliance").await;
    assert!(compliance.contains(&download) && !compliance.contains(&request));
    // The link works: the watermarked download.
    assert_eq!(viewer.get(&format!("/viewer/documents/{NDA_DOC}")).await.status(), 200);
    // Their own page links back from the header.
    let (own, ..) = page(&viewer, "/viewer").await;
    assert!(own.contains("<a href=\"/viewer\" aria-current=\"page\">Your documents</a>"));

    // Someone whose live grant covers another document: the NDA-only controls, but still
    // "Request access" for this one.
    let other = approved_viewer(&app, "lee@other-buyer.example", &["some-other-report"]).await;
    let (docs, ..) = page(&other, "/documents").await;
    assert!(docs.contains(&request) && !docs.contains(&download));
    assert!(shows_nda(&page(&other, "/s/secure-development").await.0));
    assert_eq!(other.get(&format!("/viewer/documents/{NDA_DOC}")).await.status(), 404);
});

both_dbs!(
    controls_overview_llms_txt_and_the_status_link,
    |app: TestApp| async move {
        with_documents(&app).await;
        let b = app.new_browser();
        // The header's Controls link goes to the overview, which lists every section and its
        // public controls.
        let (home, ..) = page(&b, "/").await;
        assert!(home.contains("<a href=\"/controls\">Controls</a>"), "{home}");
        // Candor's own status page is linked only once it has something to show.
        assert!(
            !home.contains("href=\"/status\""),
            "no link to an empty status page: {home}"
        );
        let (status_page, ..) = page(&b, "/status").await;
        assert!(!status_page.contains("All systems operational"), "{status_page}");
        let api = add_component(&app).await;
        for path in ["/", "/faq", "/s/encryption"] {
            let (html, ..) = page(&b, path).await;
            assert!(html.contains("<a href=\"/status\">Status</a>"), "{path}: {html}");
            assert!(
                html.contains("<a href=\"/status\">System status</a>"),
                "footer of {path}"
            );
        }
        let (status_page, ..) = page(&b, "/status").await;
        assert!(status_page.contains("All systems operational"), "{status_page}");
        let gone = app.state.app().delete_status_component(&owner(), api).await.unwrap();
        app.state.apply(gone.effects).await;
        assert!(!page(&b, "/faq").await.0.contains("href=\"/status\""));
        let (overview, ..) = page(&b, "/controls").await;
        assert!(overview.contains("aria-current=\"page\">Controls</a>"));
        for href in [
            "/s/encryption",
            "/s/business-continuity",
            "/s/encryption#encryption-at-rest",
            "/s/secure-development#penetration-testing",
        ] {
            assert!(overview.contains(&format!("href=\"{href}\"")), "{href}");
        }
        let (sitemap, ..) = page(&b, "/sitemap.xml").await;
        assert!(sitemap.contains(&format!("{}/controls</loc>", app.base)));

        // llms.txt: Markdown, UTF-8, absolute links, the way to NDA documents, trust.json.
        let r = b.get("/llms.txt").await;
        assert_eq!(header(&r, "content-type"), "text/markdown; charset=utf-8");
        let text = String::from_utf8(r.bytes().await.unwrap().to_vec()).expect("UTF-8");
        assert!(text.starts_with("# Corvellan Trust Center\n"), "{text}");
        for needle in [
            format!("({}/trust.json)", app.base),
            format!("({}/controls)", app.base),
            format!("({}/s/encryption)", app.base),
            format!("{}/documents/request", app.base),
            format!("({}/documents/security-overview/download)", app.base),
            "SOC 2 Type II report (summary): Audit report, under NDA".to_owned(),
        ] {
            assert!(text.contains(&needle), "llms.txt lacks {needle}:\n{text}");
        }

        // An external status page named on the profile: https only.
        let mut profile = app
            .store
            .item(app.state.org(), Kind::Profile, "profile")
            .await
            .unwrap()
            .unwrap()
            .published
            .unwrap();
        profile["status_url"] = "http://status.corvellan.example".into();
        let refused = app
            .state
            .app()
            .save(&owner(), Kind::Profile, "profile", &profile, true)
            .await;
        assert!(refused.is_err(), "an http:// status page is refused");
        profile["status_url"] = "https://status.corvellan.example".into();
        let done = app
            .state
            .app()
            .save(&owner(), Kind::Profile, "profile", &profile, true)
            .await
            .unwrap();
        app.state.apply(done.effects).await;
        let (home, ..) = page(&b, "/").await;
        assert!(
            home.contains("<a href=\"https://status.corvellan.example\">Status</a>"),
            "{home}"
        );
        let (trust, ..) = page(&b, "/trust.json").await;
        let trust: serde_json::Value = serde_json::from_str(&trust).unwrap();
        assert_eq!(trust["organization"]["status_url"], "https://status.corvellan.example");
        let (text, ..) = page(&b, "/llms.txt").await;
        assert!(text.contains("[System status](https://status.corvellan.example)"));
    }
);

/// The business-continuity section shows the overall status once the status page is in use, and
/// the last passing drill once one is recorded, also by another process (`candor dr-drill`):
/// the content watcher notices the drill.
async fn continuity_evidence(db: Db) {
    let Some(app) = TestApp::start_configured(db, true, |c| c.content_watch_every = Duration::from_millis(25)).await
    else {
        return;
    };
    let b = app.new_browser();
    let path = "/s/business-continuity";
    let (text, ..) = page(&b, path).await;
    assert!(!text.contains("Current status") && !text.contains("Last disaster-recovery test"));

    add_component(&app).await;
    let (text, ..) = page(&b, path).await;
    assert!(text.contains("<dt>Current status</dt>"), "{text}");
    assert!(text.contains(">All systems operational</a>"), "{text}");

    // A failed drill is not evidence; a passing one is, with its date, RTO and RPO.
    let now = candor_store::now();
    app.sql(&format!(
        "INSERT INTO dr_drills (org_id, ran_at, archive, backup_taken_at, ok, rto_ms, rpo_secs, row_count, blob_count, audit_entries, error) \
         VALUES ({org}, {now}, 'a.candor-backup', {taken}, 0, 1000, 60, 0, 0, 0, 'digest mismatch')",
        org = app.state.org(),
        taken = now - 60,
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!page(&b, path).await.0.contains("Last disaster-recovery test"));
    app.sql(&format!(
        "INSERT INTO dr_drills (org_id, ran_at, archive, backup_taken_at, ok, rto_ms, rpo_secs, row_count, blob_count, audit_entries, error) \
         VALUES ({org}, {now}, 'b.candor-backup', {taken}, 1, 95000, 7200, 10, 2, 5, '')",
        org = app.state.org(),
        taken = now - 7200,
    ))
    .await;
    for _ in 0..200 {
        let (text, ..) = page(&b, path).await;
        if text.contains("Last disaster-recovery test") {
            assert!(text.contains("1 minute 35 seconds (recovery time, RTO)"), "{text}");
            assert!(text.contains("2 hours old (recovery point, RPO)"), "{text}");
            let day = chrono::DateTime::from_timestamp(now, 0).unwrap().date_naive();
            assert!(text.contains(&format!("<time datetime=\"{day}\">")), "{text}");
            // Only this section shows it.
            assert!(!page(&b, "/s/encryption")
                .await
                .0
                .contains("Last disaster-recovery test"));
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("a drill recorded behind the server's back never showed on {path}");
}
both_dbs_fn!(
    business_continuity_shows_status_and_the_last_passing_drill,
    continuity_evidence
);
