//! Hostile text: control characters in single-line fields, links smuggled into mail, Markdown
//! nested deep enough to stall the renderer, and feeds that must stay well-formed XML whatever is
//! stored.

use crate::admin::edit_and_publish;
use crate::gated::{app_with_mail, mail_to, request_access};
use crate::harness::csrf_of;
use crate::services::MailSink;
use crate::{both_dbs, both_dbs_fn, Db};
use candor_core::requests::RequestStatus;
use serde_json::{json, Value};

/// The decoded `text/html` part of a raw message, read with Python's standard MIME parser (the
/// body is quoted-printable or base64 on the wire).
fn html_part(raw: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import email,sys\nm=email.message_from_bytes(sys.stdin.buffer.read())\n\
             [sys.stdout.write(p.get_payload(decode=True).decode(p.get_content_charset() or 'utf-8')) for p in m.walk() if p.get_content_type()=='text/html']",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(raw.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.contains("<body>"), "no HTML part in:\n{raw}");
    html
}

/// Every `href` value in an HTML text.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

async fn visitor_text_never_becomes_a_link(db: Db) {
    let Some(sink) = MailSink::start().await else { return };
    let Some(app) = app_with_mail(db, &sink).await else {
        return;
    };

    // A name that is two lines is refused with a field error, and the form keeps what was typed.
    let visitor = app.new_browser();
    let (status, page) = request_access(
        &visitor,
        "Eve\n\nhttp://evil.example/login",
        "eve@buyer.example",
        "Buyer Inc",
        &[],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("Full name: must be a single line; remove the line breaks."),
        "{page}"
    );
    assert!(
        page.contains("value=\"Eve\n\nhttp://evil.example/login\"") && page.contains("value=\"Buyer Inc\""),
        "the form keeps what was typed: {page}"
    );
    let (status, page) = request_access(&visitor, "Eve\u{7}", "eve@buyer.example", "Buyer\tInc", &[]).await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("Full name: contains the invisible control character U+0007"),
        "{page}"
    );
    assert!(
        page.contains("Company: contains the invisible control character U+0009"),
        "{page}"
    );
    assert!(app
        .store
        .access_requests(app.state.org(), true)
        .await
        .unwrap()
        .is_empty());

    // A one-line name with an address in it goes into the mail as words, not as a link; our own
    // verification link is still a link.
    let (status, page) = request_access(
        &visitor,
        "Eve http://evil.example/login",
        "eve@buyer.example",
        "https://evil.example",
        &[],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let verify = html_part(&mail_to(&sink, "eve@buyer.example", "Confirm your email").await);
    assert!(verify.contains("Hello Eve http://evil.example/login,"), "{verify}");
    let links = hrefs(&verify);
    assert!(
        links.len() == 1 && links[0].starts_with(&format!("{}/documents/verify/", app.base)),
        "{links:?} in {verify}"
    );

    // A request stored before names were checked (two lines, the second an address) is approved
    // from the back office: the approval mail links only to our sign-in page.
    let id = app
        .store
        .create_access_request(
            app.state.org(),
            &candor_store::NewRequest {
                name: "Mallory\n\nhttps://evil.example/sign-in".into(),
                email: "mallory@buyer.example".into(),
                company: "Buyer Inc".into(),
                reason: String::new(),
                documents: vec![],
                status: RequestStatus::Signed,
                ip: "127.0.0.1".into(),
                user_agent: "test".into(),
            },
            None,
        )
        .await
        .unwrap();
    app.sign_in_owner().await;
    let (status, queue) = app.get_text("/admin/access-requests").await;
    assert_eq!(status, 200, "{queue}");
    let r = app
        .post_form(
            "/admin/access-requests/decide",
            &[
                ("_csrf", &csrf_of(&queue)),
                ("ids", &id.to_string()),
                ("action", "approve"),
                ("message", "http://evil.example/note"),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let approval = html_part(&mail_to(&sink, "mallory@buyer.example", "Your access to").await);
    assert!(approval.contains("https://evil.example/sign-in"), "{approval}");
    let links = hrefs(&approval);
    assert!(
        links.len() == 1 && links[0].starts_with(&format!("{}/viewer/login/", app.base)),
        "{links:?} in {approval}"
    );
}
both_dbs_fn!(visitor_text_in_mail_is_never_a_link, visitor_text_never_becomes_a_link);

both_dbs!(
    control_characters_and_deep_markdown_are_field_errors_in_forms_and_api,
    |app: crate::TestApp| async move {
        let csrf = app.sign_in_owner().await;
        // Back office: a title with a control character, a body nested 1,000 quotes deep.
        let r = edit_and_publish(&app, "faq", &first_faq(&app).await, &[("question", "Why\u{1b}[2J?")]).await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("Question: contains the invisible control character U+001B"),
            "{page}"
        );
        assert!(page.contains("Why\u{1b}[2J?"), "the form keeps what was typed");
        let deep = ">".repeat(1000) + " x";
        let r = edit_and_publish(&app, "faq", &first_faq(&app).await, &[("answer", &deep)]).await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("Answer: nests quotes, lists or emphasis more than 40 levels deep"),
            "{page}"
        );

        // A document's title, on upload.
        let (status, page) = crate::documents::upload(
            &app.browser(),
            &csrf,
            "SOC 2\u{0} report",
            "nda",
            "soc2.pdf",
            crate::documents::pdf_pages("soc 2", 1),
        )
        .await;
        assert_eq!(status, 422, "{page}");
        assert!(
            page.contains("Title: contains the invisible control character U+0000"),
            "{page}"
        );

        // API: the JSON envelope names the field.
        let token = crate::api::create_token(&app, &csrf, "read-write", "").await;
        let c = reqwest::Client::new();
        for (body, field, words) in [
            (json!({"title": "Terms\u{0}", "body": "ok"}), "title", "U+0000"),
            (json!({"title": "Terms\nof use", "body": "ok"}), "title", "single line"),
            (json!({"title": "Terms", "body": "a\u{8}b"}), "body", "U+0008"),
            (
                json!({"title": "Terms", "body": "- ".repeat(500) + "x"}),
                "body",
                "40 levels",
            ),
        ] {
            let r = c
                .post(app.url("/api/v1/pages"))
                .bearer_auth(&token)
                .json(&json!({"slug": "terms-x", "body": body}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422);
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["error"]["code"], "validation_failed", "{e}");
            assert_eq!(e["error"]["details"][0]["field"], field, "{e}");
            assert!(
                e["error"]["details"][0]["message"].as_str().unwrap().contains(words),
                "{e}"
            );
        }
        // Tabs and line breaks stay welcome in Markdown.
        let r = c
            .post(app.url("/api/v1/pages"))
            .bearer_auth(&token)
            .json(&json!({"slug": "terms-ok", "body": {"title": "Terms", "body": "a\tb\r\n\r\nc"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
);

async fn first_faq(app: &crate::TestApp) -> String {
    app.store
        .items(app.state.org(), candor_core::Kind::Faq)
        .await
        .unwrap()
        .first()
        .expect("the demo has FAQ entries")
        .slug
        .clone()
}
