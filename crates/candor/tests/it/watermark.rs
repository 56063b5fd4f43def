//! Watermarking against hostile PDFs (loops and depth in the page tree, too many pages, too
//! slow) and the validity of what it writes (`qpdf --check`, `pdftotext` on every page).

use crate::documents::{pdf_page_texts, pdf_pages, upload};
use crate::{both_dbs_fn, Db, TestApp};
use candor_web::simple_pdf::{assemble, stream};
use candor_web::watermark::{mark_copy, watermark, Budget, Mark};
use std::time::Duration;

/// Page trees that loop or nest without end, written by hand.
#[derive(Clone, Copy, Debug)]
pub enum Hostile {
    /// One page whose `/Parent` is itself, with no MediaBox or Resources to find on the way.
    SelfParent,
    /// A page-tree node that lists itself among its kids.
    KidsLoop,
    /// Two nodes that name each other as `/Parent`.
    ParentCycle,
    /// 300 nested page-tree nodes.
    Deep,
}

pub fn hostile_pdf(kind: Hostile) -> Vec<u8> {
    let catalog = "<< /Type /Catalog /Pages 2 0 R >>".to_owned();
    let content = stream("BT /F1 12 Tf 72 720 Td (hostile) Tj ET");
    let objects = match kind {
        Hostile::SelfParent => vec![
            catalog,
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 3 0 R /Contents 4 0 R >>".into(),
            content,
        ],
        Hostile::KidsLoop => vec![
            catalog,
            "<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>".into(),
            "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>".into(),
            content,
        ],
        Hostile::ParentCycle => vec![
            catalog,
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Pages /Parent 4 0 R /Kids [5 0 R] /Count 1 >>".into(),
            "<< /Type /Pages /Parent 3 0 R /Kids [] /Count 0 >>".into(),
            "<< /Type /Page /Parent 3 0 R /Contents 6 0 R >>".into(),
            content,
        ],
        Hostile::Deep => {
            let mut objects = vec![catalog];
            for level in 0..300 {
                let id = level + 2;
                objects.push(format!(
                    "<< /Type /Pages /Parent {} 0 R /Kids [{} 0 R] /Count 1 >>",
                    if level == 0 { 1 } else { id - 1 },
                    id + 1
                ));
            }
            objects.push("<< /Type /Page /Parent 301 0 R /Contents 303 0 R >>".into());
            objects.push(content);
            // The root names no parent.
            objects[1] = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into();
            objects
        }
    };
    assemble(&objects)
}

pub const DANA: Mark<'static> = Mark {
    name: "Dana Prospect",
    email: "dana@acme-buyer.example",
    company: "Acme (Buyer) Ltd",
    date: "2026-11-25",
    grant: "g-7f3a",
};

/// Runs `job` on its own thread and waits at most `limit`: a job that never ends fails the test
/// instead of hanging it (the thread is left behind).
fn within<T: Send + 'static>(limit: Duration, job: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(job()).ok());
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("still running after {limit:?}"))
}

#[test]
fn hostile_page_trees_are_refused_promptly_with_a_reason() {
    for kind in [
        Hostile::SelfParent,
        Hostile::KidsLoop,
        Hostile::ParentCycle,
        Hostile::Deep,
    ] {
        let pdf = hostile_pdf(kind);
        let started = std::time::Instant::now();
        let result = within(Duration::from_secs(10), move || {
            watermark(&pdf, &DANA).map(|_| ()).map_err(|e| e.to_string())
        });
        let why = result.expect_err(&format!("{kind:?} is refused"));
        assert!(why.contains("page tree"), "{kind:?}: {why}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{kind:?} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn the_budget_stops_a_job_that_is_too_long_or_too_large() {
    let pdf = pdf_pages("Budget", 5);
    let slow = mark_copy(&pdf, &DANA, &Budget::with_time_limit(Duration::ZERO));
    let why = slow.err().expect("no time at all is too slow").to_string();
    assert!(why.contains("took longer than"), "{why}");
    let mut few = Budget::standard();
    few.max_pages = 3;
    let why = mark_copy(&pdf, &DANA, &few).err().expect("5 pages > 3").to_string();
    assert!(why.contains("more than 3 pages"), "{why}");
    let mut tiny = Budget::standard();
    tiny.max_objects = 4;
    let why = mark_copy(&pdf, &DANA, &tiny)
        .err()
        .expect("too many objects")
        .to_string();
    assert!(why.contains("more than 4 objects"), "{why}");
    assert!(mark_copy(&pdf, &DANA, &Budget::standard()).is_ok());
}

/// `qpdf --check` on `pdf`: None when qpdf is not installed (and CI is not set).
fn qpdf_check(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("marked.pdf");
    std::fs::write(&path, pdf).unwrap();
    let Ok(out) = std::process::Command::new("qpdf").arg("--check").arg(&path).output() else {
        return crate::services::unavailable("qpdf", "apt-get install qpdf");
    };
    let report = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "qpdf --check failed:\n{report}");
    assert!(!report.contains("WARNING"), "qpdf --check warns:\n{report}");
    Some(report)
}

/// The same document rewritten by qpdf with object streams and a cross-reference stream (as
/// most current PDF writers produce).
fn with_object_streams(pdf: &[u8]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let (from, to) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
    std::fs::write(&from, pdf).unwrap();
    let Ok(status) = std::process::Command::new("qpdf")
        .arg("--object-streams=generate")
        .args([&from, &to])
        .status()
    else {
        return crate::services::unavailable("qpdf", "apt-get install qpdf");
    };
    assert!(status.success());
    Some(std::fs::read(&to).unwrap())
}

#[test]
fn marked_copies_are_valid_pdfs_with_the_mark_on_every_page() {
    let plain = pdf_pages("Quarterly penetration test summary", 5);
    let Some(compressed) = with_object_streams(&plain) else {
        return;
    };
    for original in [plain, compressed] {
        let marked = watermark(&original, &DANA).unwrap();
        assert!(
            marked.starts_with(&original),
            "the original's bytes are kept as they were"
        );
        qpdf_check(&marked);
        let Some(pages) = pdf_page_texts(&marked) else { return };
        assert_eq!(pages.len(), 5);
        for (i, page) in pages.iter().enumerate() {
            let flat = page.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains("dana@acme-buyer.example"), "page {}: {flat}", i + 1);
            assert!(
                flat.contains(&format!("Quarterly penetration test summary, page {}", i + 1)),
                "page {}: {flat}",
                i + 1
            );
        }
    }
}

/// Hostile PDFs are refused at upload (415, saying why), and nothing is kept.
async fn hostile_uploads_are_refused(db: Db) {
    let Some(app) = TestApp::start_with(db, false).await else {
        return;
    };
    let csrf = app.sign_in_owner().await;
    let owner = app.browser();
    for (i, kind) in [
        Hostile::SelfParent,
        Hostile::KidsLoop,
        Hostile::ParentCycle,
        Hostile::Deep,
    ]
    .into_iter()
    .enumerate()
    {
        let title = format!("Hostile {i}");
        let upload = upload(&owner, &csrf, &title, "nda", "h.pdf", hostile_pdf(kind));
        let (status, page) = tokio::time::timeout(Duration::from_secs(20), upload)
            .await
            .unwrap_or_else(|_| panic!("the upload of {kind:?} got no answer"));
        assert_eq!(status, 415, "{kind:?}: {page}");
        assert!(
            page.contains("cannot be read for watermarking") && page.contains("page tree"),
            "{kind:?}: {page}"
        );
    }
    assert!(app.store.documents(app.state.org()).await.unwrap().is_empty());
}
both_dbs_fn!(hostile_pdfs_are_refused_at_upload, hostile_uploads_are_refused);
