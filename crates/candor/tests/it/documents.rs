//! The document library: uploads checked by content and size, encrypted at rest, versions kept,
//! and who may download what.

use crate::harness::{csrf_of, Browser};
use crate::{both_dbs_fn, Db, TestApp};

/// A small but well-formed PDF.
pub fn tiny_pdf(text: &str) -> Vec<u8> {
    pdf_pages(text, 1)
}

/// A well-formed PDF of `pages` pages, each saying `text` and its number. The pages inherit
/// their font from the page tree (as many real PDFs do), and leave their graphics state moved.
pub fn pdf_pages(text: &str, pages: usize) -> Vec<u8> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> >>",
            (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect::<Vec<_>>().join(" ")
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    for i in 0..pages {
        let content = format!(
            "0.5 0 0 0.5 300 300 cm BT /F1 24 Tf 72 720 Td ({text}, page {}) Tj ET",
            i + 1
        );
        objects.push(format!("<< /Type /Page /Parent 2 0 R /Contents {} 0 R >>", 5 + 2 * i));
        objects.push(candor_web::simple_pdf::stream(&content));
    }
    candor_web::simple_pdf::assemble(&objects)
}

/// Posts the new-document form with a file; returns the status and page.
pub async fn upload(
    b: &Browser,
    csrf: &str,
    title: &str,
    access: &str,
    filename: &str,
    bytes: Vec<u8>,
) -> (u16, String) {
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf.to_owned())
        .text("title", title.to_owned())
        .text("description", format!("About {title}."))
        .text("kind", "audit-report")
        .text("access", access.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
        );
    let r = b.post_multipart("/admin/documents", form).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn blob_count(app: &TestApp) -> usize {
    let docs = app.store.documents(app.state.org()).await.unwrap();
    let mut n = 0;
    for d in docs {
        n += app.store.document_versions(d.id).await.unwrap().len();
    }
    n
}

async fn library(db: Db) {
    let Some(app) = TestApp::start_configured(db, true, |c| c.storage.upload_limit = 300_000).await else {
        return;
    };
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    let report = tiny_pdf("Corvellan SOC 2 Type II report");

    // A public document: listed, downloadable, byte for byte, as an attachment.
    let (status, page) = upload(
        &owner,
        &csrf,
        "Security overview",
        "public",
        "overview.pdf",
        report.clone(),
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let (status, list) = app.new_browser().get_text("/documents").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("Security overview") && list.contains("/documents/security-overview/download"),
        "{list}"
    );
    let r = app.new_browser().get("/documents/security-overview/download").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"overview.pdf\""
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.bytes().await.unwrap().to_vec(), report);

    // At rest it is encrypted: the stored object holds none of the PDF.
    let doc = app
        .store
        .document(app.state.org(), "security-overview")
        .await
        .unwrap()
        .unwrap();
    let raw = app
        .state
        .blobs()
        .read_raw(&doc.current.as_ref().unwrap().blob_id)
        .await
        .unwrap();
    assert!(!raw.windows(8).any(|w| w == b"%PDF-1.4") && !raw.windows(9).any(|w| w == b"Corvellan"));

    // NDA: listed with a request link, not downloadable here. Private: neither.
    let (status, _) = upload(&owner, &csrf, "SOC 2 report", "nda", "soc2.pdf", report.clone()).await;
    assert_eq!(status, 303);
    let (status, _) = upload(&owner, &csrf, "Board minutes", "private", "minutes.pdf", report.clone()).await;
    assert_eq!(status, 303);
    let (_, list) = app.new_browser().get_text("/documents").await;
    assert!(
        list.contains("SOC 2 report") && list.contains("Request access"),
        "{list}"
    );
    assert!(!list.contains("Board minutes"));
    assert_eq!(
        app.new_browser().get("/documents/soc-2-report/download").await.status(),
        404
    );
    assert_eq!(
        app.new_browser()
            .get("/documents/board-minutes/download")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.new_browser().get("/documents/nothing-here/download").await.status(),
        404
    );

    // Content decides the type: a program named .pdf is refused (415), nothing is kept.
    let before = blob_count(&app).await;
    let (status, page) = upload(
        &owner,
        &csrf,
        "Not a PDF",
        "public",
        "report.pdf",
        b"MZ\x90\0\x03\0\0\0program".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{page}");
    assert!(page.contains("not a PDF, PNG, JPEG"), "{page}");
    // A "PDF" that cannot be read (it could never be watermarked for a viewer): 415 at upload.
    let (status, page) = upload(
        &owner,
        &csrf,
        "Broken",
        "nda",
        "broken.pdf",
        b"%PDF-1.7\nnot really".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{page}");
    assert!(page.contains("cannot be read for watermarking"), "{page}");
    // Over the size limit (300 KB here): 413, nothing is kept.
    let mut big = tiny_pdf("big");
    big.extend(std::iter::repeat_n(b'%', 400_000));
    let (status, page) = upload(&owner, &csrf, "Too big", "public", "big.pdf", big).await;
    assert_eq!(status, 413, "{page}");
    assert_eq!(blob_count(&app).await, before);
    assert!(app.store.document(app.state.org(), "too-big").await.unwrap().is_none());
    // Missing fields: every problem named, 422.
    let (status, page) = upload(&owner, &csrf, "", "everyone", "x.pdf", report.clone()).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Title: enter a title") && page.contains("Who may read it"),
        "{page}"
    );
    // Another site's form, or no token: refused before anything is stored.
    let (status, _) = upload(&owner, "forged", "Forged", "public", "f.pdf", report.clone()).await;
    assert_eq!(status, 403);

    // A new version replaces what visitors get; the old one stays for the back office.
    let v2 = tiny_pdf("Security overview, second edition");
    let form = reqwest::multipart::Form::new().text("_csrf", csrf.clone()).part(
        "file",
        reqwest::multipart::Part::bytes(v2.clone()).file_name("overview-v2.pdf"),
    );
    let r = owner
        .client
        .post(owner.url("/admin/documents/security-overview/versions"))
        .header("Origin", &owner.base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = app.new_browser().get("/documents/security-overview/download").await;
    assert_eq!(r.bytes().await.unwrap().to_vec(), v2);
    let r = owner.get("/admin/documents/security-overview/versions/1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), report);
    let (status, page) = owner.get_text("/admin/documents/security-overview").await;
    assert_eq!(status, 200);
    assert!(page.contains("overview-v2.pdf") && page.contains("overview.pdf"));

    // A damaged file is never served as whole: the download breaks, and it is audited.
    let doc = app
        .store
        .document(app.state.org(), "security-overview")
        .await
        .unwrap()
        .unwrap();
    let blob_id = doc.current.unwrap().blob_id;
    let mut raw = app.state.blobs().read_raw(&blob_id).await.unwrap();
    let at = raw.len() - 5;
    raw[at] ^= 1;
    app.state.blobs().overwrite_raw(&blob_id, raw).await.unwrap();
    let r = app.new_browser().get("/documents/security-overview/download").await;
    assert!(r.bytes().await.is_err(), "the body does not complete");
    let entries = app
        .store
        .audit_entries(app.state.org(), &Default::default())
        .await
        .unwrap();
    assert!(entries.iter().any(|e| e.record.action == "document.damaged"));
    for action in ["document.create", "document.version", "document.download"] {
        assert!(entries.iter().any(|e| e.record.action == action), "{action}");
    }
}
both_dbs_fn!(document_library, library);

/// Roles: an auditor sees the library and a document's details, but neither uploads nor gets
/// the raw (unwatermarked) file; only owners, admins and access managers download it.
async fn who_downloads_raw_files(db: Db) {
    let Some(app) = TestApp::start(db).await else { return };
    let csrf = app.sign_in_owner().await;
    let (status, _) = upload(
        &app.browser(),
        &csrf,
        "Pen test summary",
        "nda",
        "pt.pdf",
        tiny_pdf("pt"),
    )
    .await;
    assert_eq!(status, 303);
    let raw = "/admin/documents/pen-test-summary/versions/1";
    for role in [
        candor_store::Role::Auditor,
        candor_store::Role::Editor,
        candor_store::Role::Triager,
        candor_store::Role::AccessManager,
    ] {
        let b = crate::access::user_with_role(&app, &csrf, role).await;
        assert_eq!(b.get("/admin/documents").await.status(), 200);
        let (status, details) = b.get_text("/admin/documents/pen-test-summary").await;
        assert_eq!(status, 200, "{role:?}");
        assert!(details.contains("pt.pdf"), "{role:?} sees the versions");
        let r = b.get(raw).await;
        if role == candor_store::Role::AccessManager {
            assert_eq!(r.status(), 200);
            assert_eq!(r.bytes().await.unwrap().as_ref(), tiny_pdf("pt").as_slice());
            assert!(details.contains(&format!("href=\"{raw}\"")));
        } else {
            assert_eq!(r.status(), 403, "{role:?}");
            assert!(!details.contains(raw), "{role:?} is shown no download link");
        }
        if role == candor_store::Role::Auditor {
            let (_, page) = b.get_text("/admin/documents").await;
            let (status, _) = upload(&b, &csrf_of(&page), "Mine", "public", "m.pdf", tiny_pdf("m")).await;
            assert_eq!(status, 403);
        }
    }
    let downloads: Vec<_> = app
        .store
        .audit_chain(app.state.org())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.action == "document.download")
        .collect();
    assert_eq!(downloads.len(), 1, "the one raw download is audited");
    assert!(downloads[0].record.actor.contains("access-manager@corvellan.example"));
}
both_dbs_fn!(only_some_roles_download_raw_files, who_downloads_raw_files);

/// The text `pdftotext` (poppler-utils) reads from each page of `pdf`.
pub fn pdf_page_texts(pdf: &[u8]) -> Option<Vec<String>> {
    use std::io::Write;
    let Ok(mut child) = std::process::Command::new("pdftotext")
        .args(["-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    else {
        return crate::services::unavailable("pdftotext", "apt-get install poppler-utils");
    };
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pdftotext could not read the PDF");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Some(
        text.split('\x0c')
            .filter(|p| !p.trim().is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

#[test]
fn watermarks_name_the_viewer_on_every_page_and_keep_the_content() {
    let original = pdf_pages("Quarterly penetration test summary", 5);
    let mark = candor_web::watermark::Mark {
        name: "Dana Prospect",
        email: "dana@acme-buyer.example",
        company: "Acme (Buyer) Ltd",
        date: "2026-11-25",
        grant: "g-7f3a",
    };
    let marked = candor_web::watermark::watermark(&original, &mark).unwrap();
    let Some(pages) = pdf_page_texts(&marked) else { return };
    assert_eq!(pages.len(), 5);
    for (i, page) in pages.iter().enumerate() {
        let flat = page.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("dana@acme-buyer.example"), "page {}: {flat}", i + 1);
        assert!(
            flat.contains("grant g-7f3a") && flat.contains("Acme (Buyer) Ltd"),
            "page {}: {flat}",
            i + 1
        );
        assert!(
            flat.contains(&format!("Quarterly penetration test summary, page {}", i + 1)),
            "page {}: {flat}",
            i + 1
        );
    }
    // The original is unchanged, and an unreadable file is an error, not a panic.
    assert!(pdf_page_texts(&original).unwrap().iter().all(|p| !p.contains("dana@")));
    assert!(candor_web::watermark::watermark(b"%PDF-1.4 garbage", &mark).is_err());
}

/// The demo's sample documents: a public one to download, an NDA one to request; seeding twice
/// adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_sample_documents() {
    let app = TestApp::start(Db::Sqlite).await.unwrap();
    candor_web::demo_documents::seed(&app.state).await.unwrap();
    candor_web::demo_documents::seed(&app.state).await.unwrap();
    assert_eq!(app.store.documents(app.state.org()).await.unwrap().len(), 2);
    let (status, list) = app.get_text("/documents").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("Security overview") && list.contains("/documents/request?documents=soc-2-type-ii-report"),
        "{list}"
    );
    let r = app.get("/documents/security-overview/download").await;
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap().to_vec();
    if let Some(pages) = pdf_page_texts(&pdf) {
        assert_eq!(pages.len(), 2);
        assert!(pages[0].contains("SAMPLE"));
    }
    assert_eq!(
        app.get("/documents/soc-2-type-ii-report/download").await.status(),
        404,
        "NDA: not public"
    );
}

/// The new-document form as a browser builds it, with `extra` parts after the file.
fn document_form(csrf: &str, title: &str, file: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("_csrf", csrf.to_owned())
        .text("title", title.to_owned())
        .text("kind", "audit-report")
        .text("access", "nda")
        .part("file", reqwest::multipart::Part::bytes(file).file_name("one.pdf"))
}

async fn post_document(b: &Browser, form: reqwest::multipart::Form) -> (u16, String) {
    let r = b.post_multipart("/admin/documents", form).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// An upload keeps at most one file: a second file part is refused and nothing is stored; and a
/// form larger than the file limit plus a small allowance is refused as it arrives.
async fn one_file_per_upload(db: Db) {
    let Some(app) = TestApp::start_configured(db, true, |c| c.storage.upload_limit = 300_000).await else {
        return;
    };
    let csrf = app.sign_in_owner().await;
    let before = app.state.blobs().count_objects().await.unwrap();

    let form = document_form(&csrf, "Two files", tiny_pdf("first"))
        .part(
            "file",
            reqwest::multipart::Part::bytes(tiny_pdf("second")).file_name("two.pdf"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(tiny_pdf("third")).file_name("three.pdf"),
        );
    let (status, page) = post_document(&app.browser(), form).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("more than one file"), "{page}");
    assert_eq!(
        app.state.blobs().count_objects().await.unwrap(),
        before,
        "no blob is kept"
    );
    assert!(app
        .store
        .document(app.state.org(), "two-files")
        .await
        .unwrap()
        .is_none());

    // 30 text fields of 60 KB after a small file: each field is under its own cap, but the body
    // is over 300 KB + 1 MiB.
    let mut form = document_form(&csrf, "Padded", tiny_pdf("padded"));
    for i in 0..30 {
        form = form.text(format!("padding{i}"), "x".repeat(60_000));
    }
    let (status, page) = post_document(&app.browser(), form).await;
    assert_eq!(status, 413, "{page}");
    assert_eq!(
        app.state.blobs().count_objects().await.unwrap(),
        before,
        "no blob is kept"
    );
    assert!(app.store.document(app.state.org(), "padded").await.unwrap().is_none());

    // A form within the limits is taken.
    let (status, _) = post_document(&app.browser(), document_form(&csrf, "One file", tiny_pdf("one"))).await;
    assert_eq!(status, 303);
    assert_eq!(app.state.blobs().count_objects().await.unwrap(), before + 1);
}
both_dbs_fn!(an_upload_keeps_at_most_one_file, one_file_per_upload);

/// Sets a stored blob's modification time `secs` into the past.
fn age_blob_file(app: &TestApp, name: &str, secs: u64) {
    let path = app
        .state
        .config()
        .data_dir
        .join("blobs/blobs")
        .join(&name[..2])
        .join(name);
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs))
        .unwrap();
}

/// Blobs that no row references are swept once they are older than the threshold; a fresh one
/// (its row may be being written) and a referenced one are kept.
async fn orphan_blobs_are_swept(db: Db) {
    let Some(app) = TestApp::start(db).await else { return };
    let ring = app.state.key_ring();
    let blobs = app.state.blobs();
    let put = |text: &'static str| {
        let ring = ring.clone();
        async move { blobs.put_bytes(&ring, text.as_bytes()).await.unwrap() }
    };
    let old_orphan = put("left behind by a crash").await;
    let fresh_orphan = put("its row is being written").await;
    let referenced = put("a document's file").await;
    app.store
        .insert_blob(
            app.state.org(),
            &candor_store::BlobRow {
                id: referenced.id.clone(),
                key_id: referenced.wrapped.key_id.clone(),
                wrapped_key: referenced.wrapped.sealed.clone(),
                size: referenced.size as i64,
                sha256: referenced.sha256.clone(),
            },
        )
        .await
        .unwrap();
    // A local write that never finished.
    let partial = format!("{}.partial", &old_orphan.id[..30]);
    let dir = app.state.config().data_dir.join("blobs/blobs").join(&partial[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&partial), b"half a blob").unwrap();
    let hour_and_a_bit = candor_web::blob_sweep::ORPHAN_AGE.as_secs() + 60;
    for name in [&old_orphan.id, &referenced.id, &partial] {
        age_blob_file(&app, name, hour_and_a_bit);
    }
    age_blob_file(
        &app,
        &fresh_orphan.id,
        candor_web::blob_sweep::ORPHAN_AGE.as_secs() - 300,
    );
    let before = blobs.count_objects().await.unwrap();

    let swept = candor_web::blob_sweep::sweep_orphan_blobs(&app.state, candor_web::blob_sweep::ORPHAN_AGE)
        .await
        .unwrap();
    assert_eq!(swept, 2, "the old orphan and the old partial write");
    assert_eq!(blobs.count_objects().await.unwrap(), before - 2);
    assert!(blobs.read_raw(&old_orphan.id).await.is_err());
    assert!(!dir.join(&partial).exists());
    for kept in [&fresh_orphan, &referenced] {
        assert_eq!(
            blobs.read_all(&ring, &kept.id, &kept.wrapped).await.unwrap().len() as u64,
            kept.size
        );
    }
    // Nothing more to do the second time.
    assert_eq!(
        candor_web::blob_sweep::sweep_orphan_blobs(&app.state, candor_web::blob_sweep::ORPHAN_AGE)
            .await
            .unwrap(),
        0
    );
}
both_dbs_fn!(orphan_blobs_older_than_an_hour_are_swept, orphan_blobs_are_swept);
