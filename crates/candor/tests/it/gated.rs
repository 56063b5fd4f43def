//! Gated documents end to end over HTTP, with mail read back from a real SMTP server: request →
//! verify the address → sign the NDA → approval → sign in by link → watermarked download →
//! revoke. And the ways in which it must refuse.

use crate::documents::{pdf_page_texts, pdf_pages, upload};
use crate::harness::{csrf_of, Browser};
use crate::services::{fast_retry, link_in, MailSink};
use crate::{both_dbs_fn, Db, TestApp};

pub(crate) async fn app_with_mail(db: Db, sink: &MailSink) -> Option<TestApp> {
    let port = sink.port;
    TestApp::start_configured(db, true, move |c| {
        c.smtp = Some(MailSink::settings(port));
        c.mail_retry = fast_retry();
    })
    .await
}

/// The newest message to `to` whose subject contains `subject`, waiting up to 20 s.
pub(crate) async fn mail_to(sink: &MailSink, to: &str, subject: &str) -> String {
    mail_after(sink, 0, to, subject).await
}

/// Like [`mail_to`], among the messages after the first `skip`.
pub(crate) async fn mail_after(sink: &MailSink, skip: usize, to: &str, subject: &str) -> String {
    for _ in 0..200 {
        if let Some(m) = sink
            .messages()
            .into_iter()
            .skip(skip)
            .rev()
            .find(|m| m.contains(&format!("X-Envelope-To: {to}")) && m.contains(subject))
        {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no mail to {to} about {subject:?}; got {} message(s)",
        sink.messages().len()
    );
}

/// The path of the first link in `mail` under `prefix` (e.g. "/documents/verify/").
pub(crate) fn path_in(app: &TestApp, mail: &str, prefix: &str) -> String {
    link_in(mail, &format!("{}{prefix}", app.base))
        .strip_prefix(&app.base)
        .unwrap()
        .to_owned()
}

/// Fills and sends the request form as `email`; returns the status and page.
pub(crate) async fn request_access(
    b: &Browser,
    name: &str,
    email: &str,
    company: &str,
    documents: &[&str],
) -> (u16, String) {
    let (_, form) = b.get_text("/documents/request").await;
    let mut fields = vec![
        ("_csrf", csrf_of(&form)),
        ("name", name.to_owned()),
        ("email", email.to_owned()),
        ("company", company.to_owned()),
        ("reason", "Vendor due diligence".to_owned()),
    ];
    for d in documents {
        fields.push(("documents", (*d).to_owned()));
    }
    if documents.is_empty() {
        fields.push(("all", "on".to_owned()));
    }
    let r = b
        .client
        .post(b.url("/documents/request"))
        .header("Origin", &b.base)
        .form(&fields)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// Follows the verification mail, then signs the NDA as `name`; returns the final page.
async fn verify_and_sign(app: &TestApp, sink: &MailSink, b: &Browser, email: &str, name: &str) -> (u16, String) {
    let verify = mail_to(sink, email, "Confirm your email").await;
    let r = b.follow_link(&path_in(app, &verify, "/documents/verify/")).await;
    assert_eq!(r.status(), 303);
    sign_nda(b, name).await
}

/// Signs the NDA as `name` in a browser whose address is verified; returns the final page.
pub(crate) async fn sign_nda(b: &Browser, name: &str) -> (u16, String) {
    let (status, nda) = b.get_text("/documents/nda").await;
    assert_eq!(status, 200, "{nda}");
    if !nda.contains("name=\"nda_sha256\"") {
        return (status, nda);
    }
    let hidden = |name: &str| {
        nda.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned()
    };
    let r = b
        .post_form(
            "/documents/nda",
            &[
                ("_csrf", &csrf_of(&nda)),
                ("nda_number", &hidden("nda_number")),
                ("nda_sha256", &hidden("nda_sha256")),
                ("name", name),
                ("agree", "on"),
            ],
        )
        .await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

pub(crate) async fn request_id_of(app: &TestApp, email: &str) -> i64 {
    app.store
        .access_requests(app.state.org(), false)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.email == email)
        .expect("a request")
        .id
}

async fn end_to_end(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with_mail(db, &sink).await else {
        return;
    };
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    let report = pdf_pages("Corvellan SOC 2 Type II report", 4);
    assert_eq!(
        upload(&owner, &csrf, "SOC 2 report", "nda", "soc2.pdf", report).await.0,
        303
    );
    assert_eq!(
        upload(&owner, &csrf, "Board minutes", "private", "m.pdf", pdf_pages("m", 1))
            .await
            .0,
        303
    );
    let (status, _) = upload(&owner, &csrf, "Pen test summary", "nda", "pt.pdf", pdf_pages("pt", 1)).await;
    assert_eq!(status, 303);

    // 1. The request: one uniform answer.
    let visitor = app.new_browser();
    let (status, page) = request_access(
        &visitor,
        "Dana Prospect",
        "dana@acme-buyer.example",
        "Acme Buyer",
        &["soc-2-report"],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Check your email"));

    // 2–3. The emailed link proves the address; the NDA is signed; a copy is mailed.
    let (status, page) = verify_and_sign(&app, &sink, &visitor, "dana@acme-buyer.example", "Dana Prospect").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Thank you for signing"), "{page}");
    let copy = mail_to(&sink, "dana@acme-buyer.example", "Your signed NDA").await;
    assert!(
        copy.contains("Confidentiality agreement") || copy.contains("confidential"),
        "{copy}"
    );
    // The verification link works once.
    let verify = mail_to(&sink, "dana@acme-buyer.example", "Confirm your email").await;
    assert_eq!(
        app.new_browser()
            .get(&path_in(&app, &verify, "/documents/verify/"))
            .await
            .status(),
        410
    );

    // 4. An access manager approves from the queue.
    let (status, queue) = owner.get_text("/admin/access-requests").await;
    assert_eq!(status, 200);
    assert!(
        queue.contains("dana@acme-buyer.example") && queue.contains("Signed"),
        "{queue}"
    );
    let id = request_id_of(&app, "dana@acme-buyer.example").await.to_string();
    let r = owner
        .post_form(
            "/admin/access-requests/decide",
            &[
                ("_csrf", &csrf_of(&queue)),
                ("ids", &id),
                ("action", "approve"),
                ("message", "Welcome aboard"),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);

    // 5. Sign in by the emailed link; download a copy watermarked on every page.
    let approval = mail_to(&sink, "dana@acme-buyer.example", "Your access to").await;
    assert!(approval.contains("Welcome aboard"));
    let login = path_in(&app, &approval, "/viewer/login/");
    let viewer = app.new_browser();
    assert_eq!(viewer.follow_link(&login).await.status(), 303);
    assert_eq!(
        app.new_browser().get(&login).await.status(),
        410,
        "the sign-in link works once"
    );
    let (status, home) = viewer.get_text("/viewer").await;
    assert_eq!(status, 200);
    assert!(
        home.contains("SOC 2 report") && !home.contains("Board minutes"),
        "{home}"
    );
    let r = viewer.get("/viewer/documents/soc-2-report").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"soc2.pdf\"");
    let pdf = r.bytes().await.unwrap().to_vec();
    if let Some(pages) = pdf_page_texts(&pdf) {
        assert_eq!(pages.len(), 4);
        for (i, p) in pages.iter().enumerate() {
            let flat = p.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains("dana@acme-buyer.example"), "page {}: {flat}", i + 1);
        }
    }
    // Outside the grant: another NDA document not asked for, private and unknown documents.
    assert!(!home.contains("Pen test summary"));
    assert_eq!(viewer.get("/viewer/documents/pen-test-summary").await.status(), 404);
    assert_eq!(viewer.get("/viewer/documents/board-minutes").await.status(), 404);
    assert_eq!(viewer.get("/viewer/documents/nope").await.status(), 404);
    // Not signed in: sent to sign in.
    assert_eq!(
        app.new_browser().get("/viewer/documents/soc-2-report").await.status(),
        303
    );

    // 6. The access report shows it, and exports it as CSV.
    let (_, report_page) = owner.get_text("/admin/access-log?document=soc-2-report").await;
    assert!(report_page.contains("dana@acme-buyer.example"), "{report_page}");
    let csv = owner
        .get("/admin/access-log?company=Acme%20Buyer&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("at,document,version") && csv.contains("\"soc-2-report\""),
        "{csv}"
    );

    // Forged and expired links do nothing.
    assert_eq!(
        app.new_browser().get("/viewer/login/forged-token-value").await.status(),
        404
    );
    assert_eq!(
        app.new_browser()
            .get("/documents/verify/forged-token-value")
            .await
            .status(),
        404
    );
    let b = app.new_browser();
    request_access(
        &b,
        "Late Reader",
        "late@acme-buyer.example",
        "Acme Buyer",
        &["soc-2-report"],
    )
    .await;
    let late = mail_to(&sink, "late@acme-buyer.example", "Confirm your email").await;
    app.sql("UPDATE magic_links SET expires_at = 1 WHERE used_at IS NULL")
        .await;
    assert_eq!(
        b.get(&path_in(&app, &late, "/documents/verify/")).await.status(),
        410,
        "an expired link"
    );

    // An expired grant, like a revoked one, stops downloads.
    app.sql("UPDATE grants SET expires_at = 1").await;
    assert_eq!(
        viewer.get("/viewer/documents/soc-2-report").await.status(),
        404,
        "the grant expired"
    );
    app.sql(&format!(
        "UPDATE grants SET expires_at = {}",
        candor_store::now() + 3600
    ))
    .await;
    assert_eq!(viewer.get("/viewer/documents/soc-2-report").await.status(), 200);

    // 7. Revoked: the download is refused, and the attempt audited.
    let grant = app.store.grants(app.state.org()).await.unwrap().remove(0);
    let (_, grants) = owner.get_text("/admin/grants").await;
    let r = owner
        .post_form(
            &format!("/admin/grants/{}/revoke", grant.public_id),
            &[("_csrf", &csrf_of(&grants))],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(viewer.get("/viewer/documents/soc-2-report").await.status(), 404);
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    for action in [
        "access.request",
        "access.verify",
        "access.nda.sign",
        "access.approve",
        "viewer.login",
        "document.viewer_download",
        "access.revoke",
        "document.denied",
    ] {
        assert!(entries.iter().any(|e| e.record.action == action), "{action} is audited");
    }
}
both_dbs_fn!(gated_documents_end_to_end, end_to_end);

/// Rules decide without a person: customers' domains are approved once signed; denied domains
/// are told so and get no mail.
async fn rules(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with_mail(db, &sink).await else {
        return;
    };
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    assert_eq!(
        upload(&owner, &csrf, "Pen test summary", "nda", "pt.pdf", pdf_pages("pt", 1))
            .await
            .0,
        303
    );
    let (_, settings) = owner.get_text("/admin/access-settings").await;
    let nda_text = settings
        .split("name=\"nda\"")
        .nth(1)
        .unwrap()
        .split('>')
        .nth(1)
        .unwrap()
        .split("</textarea")
        .next()
        .unwrap();
    let nda_text = nda_text
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let r = owner
        .post_form(
            "/admin/access-settings",
            &[
                ("_csrf", &csrf_of(&settings)),
                ("approve", "trusted.example"),
                ("deny", "rival.example"),
                ("grant_days", "60"),
                ("nda", &nda_text),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);

    let b = app.new_browser();
    let (status, allowed) = request_access(
        &b,
        "Pat Customer",
        "pat@eu.trusted.example",
        "Trusted",
        &["pen-test-summary"],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = verify_and_sign(&app, &sink, &b, "pat@eu.trusted.example", "Pat Customer").await;
    assert_eq!(status, 303, "approved and signed in at once (it/access_team.rs)");
    let (_, page) = b.get_text("/viewer").await;
    assert!(page.contains("Pen test summary"), "{page}");
    mail_to(&sink, "pat@eu.trusted.example", "Your access to").await;

    let before = sink.messages().len();
    let (status, refused) = request_access(
        &app.new_browser(),
        "Riley",
        "riley@rival.example",
        "Rival",
        &["pen-test-summary"],
    )
    .await;
    assert_eq!(status, 200);
    assert!(allowed.contains("Check your email"), "{allowed}");
    assert!(
        refused.contains("cannot be accepted"),
        "told so, from the domain only: {refused}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), before, "no mail for a denied domain");
    let riley = app.store.access_requests(app.state.org(), false).await.unwrap();
    let riley = riley.iter().find(|r| r.email == "riley@rival.example").unwrap();
    assert_eq!(riley.status, candor_core::requests::RequestStatus::Denied);
}
both_dbs_fn!(gated_documents_rules, rules);

/// An NDA signed for a superseded version is refused; a signature of the current version on
/// file skips signing again; a flood of requests from one address is slowed down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nda_versions_on_file_and_flood() {
    let Some(sink) = MailSink::start().await else { return };
    let app = app_with_mail(Db::Sqlite, &sink).await.unwrap();
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    assert_eq!(
        upload(&owner, &csrf, "ISO certificate", "nda", "iso.pdf", pdf_pages("iso", 1))
            .await
            .0,
        303
    );

    // First request signs version 1.
    let b = app.new_browser();
    request_access(&b, "Sam Buyer", "sam@buyer.example", "Buyer", &[]).await;
    let (_, page) = verify_and_sign(&app, &sink, &b, "sam@buyer.example", "Sam Buyer").await;
    assert!(page.contains("Thank you for signing"), "{page}");

    // Second request from the same address: the signature on file is enough.
    let b2 = app.new_browser();
    let seen = sink.messages().len();
    request_access(&b2, "Sam Buyer", "sam@buyer.example", "Buyer", &[]).await;
    let verify = mail_after(&sink, seen, "sam@buyer.example", "Confirm your email").await;
    let path = path_in(&app, &verify, "/documents/verify/");
    assert_eq!(b2.follow_link(&path).await.status(), 303);
    let (status, page) = b2.get_text("/documents/nda").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Thank you for signing") && !page.contains("nda_sha256"),
        "{page}"
    );

    // Third request (the address limit allows three an hour): the NDA changes while reading.
    let b3 = app.new_browser();
    request_access(&b3, "Alex Buyer", "alex@buyer.example", "Buyer", &[]).await;
    let verify = mail_to(&sink, "alex@buyer.example", "Confirm your email").await;
    b3.follow_link(&path_in(&app, &verify, "/documents/verify/")).await;
    let (_, nda) = b3.get_text("/documents/nda").await;
    let old_sha = nda
        .split("name=\"nda_sha256\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (_, settings) = owner.get_text("/admin/access-settings").await;
    let r = owner
        .post_form(
            "/admin/access-settings",
            &[
                ("_csrf", &csrf_of(&settings)),
                ("grant_days", "90"),
                (
                    "nda",
                    "# Agreement, second edition\n\nKeep it all confidential, forever and a day.",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = b3
        .post_form(
            "/documents/nda",
            &[
                ("_csrf", &csrf_of(&nda)),
                ("nda_number", "1"),
                ("nda_sha256", &old_sha),
                ("name", "Alex Buyer"),
                ("agree", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(
        r.text().await.unwrap().contains("second edition"),
        "the new text is shown to read"
    );
    // The budgets of access requests (per client address, per email) are tested in defects.rs.
}

/// A hostile PDF that never went through the upload check (planted in storage, as an older
/// version's upload would have left it): the viewer's download answers promptly with a clear
/// page, and the failure is audited. Before, it spun a core forever and never answered.
async fn planted_hostile_pdf(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with_mail(db, &sink).await else {
        return;
    };
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    let report = pdf_pages("Corvellan SOC 2 Type II report", 2);
    assert_eq!(
        upload(&owner, &csrf, "SOC 2 report", "nda", "soc2.pdf", report).await.0,
        303
    );
    let visitor = app.new_browser();
    let email = "dana@acme-buyer.example";
    request_access(&visitor, "Dana Prospect", email, "Acme Buyer", &["soc-2-report"]).await;
    let (status, page) = verify_and_sign(&app, &sink, &visitor, email, "Dana Prospect").await;
    assert_eq!(status, 200, "{page}");
    let (_, queue) = owner.get_text("/admin/access-requests").await;
    let id = request_id_of(&app, email).await.to_string();
    let decide = [
        ("_csrf", csrf_of(&queue)),
        ("ids", id),
        ("action", "approve".into()),
        ("message", "Welcome".into()),
        ("days", "30".into()),
    ];
    let decide: Vec<(&str, &str)> = decide.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        owner.post_form("/admin/access-requests/decide", &decide).await.status(),
        303
    );
    let approval = mail_to(&sink, email, "Your access to").await;
    let viewer = app.new_browser();
    assert_eq!(
        viewer
            .follow_link(&path_in(&app, &approval, "/viewer/login/"))
            .await
            .status(),
        303
    );
    assert_eq!(viewer.get("/viewer/documents/soc-2-report").await.status(), 200);

    // A new version straight into the blob store and the database, past the upload check.
    let hostile = crate::watermark::hostile_pdf(crate::watermark::Hostile::SelfParent);
    let stored = app
        .state
        .blobs()
        .put_bytes(&app.state.key_ring(), &hostile)
        .await
        .unwrap();
    let blob = candor_store::BlobRow {
        id: stored.id,
        key_id: stored.wrapped.key_id,
        wrapped_key: stored.wrapped.sealed,
        size: stored.size as i64,
        sha256: stored.sha256,
    };
    let version = candor_store::NewVersion {
        blob,
        filename: "soc2.pdf".into(),
        content_type: "application/pdf".into(),
        uploaded_by: "planted by the test".into(),
    };
    app.store
        .add_document_version(app.state.org(), "soc-2-report", &version)
        .await
        .unwrap();

    for _ in 0..3 {
        let download = viewer.get("/viewer/documents/soc-2-report");
        let r = tokio::time::timeout(std::time::Duration::from_secs(10), download)
            .await
            .expect("the download answers promptly");
        assert_eq!(r.status(), 400);
        let page = r.text().await.unwrap();
        assert!(page.contains("cannot be prepared for you"), "{page}");
    }
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    let failed: Vec<_> = entries
        .iter()
        .filter(|e| e.record.action == "document.watermark_failed")
        .collect();
    assert_eq!(failed.len(), 3);
    let details = failed[0].record.details.to_string();
    assert!(details.contains("page tree"), "{details}");
    // No job is left running: every watermarking slot is free again.
    let slots = app.state.watermark_slots();
    assert_eq!(
        slots.available_permits(),
        std::thread::available_parallelism().map_or(2, usize::from)
    );
}
both_dbs_fn!(a_planted_hostile_pdf_fails_its_download_promptly, planted_hostile_pdf);
