//! The public site served like a CDN origin: precompressed encodings chosen by Accept-Encoding,
//! strong ETags and Last-Modified, 304 for current copies, immutable hashed asset URLs.

use crate::{both_dbs, TestApp};
use candor_core::{Kind, SiteChange};
use std::io::Read;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BROWSER_ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).unwrap();
    out
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &b[..], &mut out).unwrap();
    out
}

both_dbs!(
    pages_are_sent_in_the_encoding_the_client_prefers,
    |app: TestApp| async move {
        for path in [
            "/",
            "/faq",
            "/trust.json",
            "/assets/site.css",
            "/status",
            "/api/v2/summary.json",
        ] {
            let plain = get_with(&app, path, &[]).await;
            assert_eq!(plain.status(), 200, "{path}");
            assert_eq!(header(&plain, "content-encoding"), None, "{path}");
            // HTML pages also vary by cookie: a signed-in viewer gets their own variant.
            let vary = if path.contains('.') {
                "accept-encoding"
            } else {
                "accept-encoding, cookie"
            };
            assert_eq!(header(&plain, "vary").as_deref(), Some(vary), "{path}");
            let plain_tag = header(&plain, "etag").unwrap();
            let plain = plain.bytes().await.unwrap();

            let br = get_with(&app, path, &[("accept-encoding", BROWSER_ACCEPT_ENCODING)]).await;
            assert_eq!(header(&br, "content-encoding").as_deref(), Some("br"), "{path}");
            let br_tag = header(&br, "etag").unwrap();
            let br = br.bytes().await.unwrap();
            assert!(br.len() < plain.len(), "{path}: brotli is not smaller");
            assert_eq!(unbrotli(&br), plain, "{path}");

            let gz = get_with(&app, path, &[("accept-encoding", "gzip, deflate")]).await;
            assert_eq!(header(&gz, "content-encoding").as_deref(), Some("gzip"), "{path}");
            let gz_tag = header(&gz, "etag").unwrap();
            assert_eq!(gunzip(&gz.bytes().await.unwrap()), plain, "{path}");

            // Each encoding is its own representation, with its own strong tag.
            assert!(plain_tag.starts_with('"') && !plain_tag.starts_with("W/"));
            assert!(plain_tag != br_tag && br_tag != gz_tag && gz_tag != plain_tag, "{path}");

            // Weights: a coding at q=0 is never sent.
            let res = get_with(&app, path, &[("accept-encoding", "br;q=0, gzip;q=0.5")]).await;
            assert_eq!(header(&res, "content-encoding").as_deref(), Some("gzip"), "{path}");
            let res = get_with(&app, path, &[("accept-encoding", "br;q=0, gzip;q=0")]).await;
            assert_eq!(header(&res, "content-encoding"), None, "{path}");
            assert_eq!(res.bytes().await.unwrap(), plain, "{path}");
            let res = get_with(&app, path, &[("accept-encoding", "gzip;q=1, br;q=0.4")]).await;
            assert_eq!(header(&res, "content-encoding").as_deref(), Some("gzip"), "{path}");
        }
    }
);

both_dbs!(
    head_sends_the_headers_of_get_without_a_body,
    |app: TestApp| async move {
        let ae = [("accept-encoding", "br")];
        let get = get_with(&app, "/", &ae).await;
        let (tag, len) = (header(&get, "etag"), get.bytes().await.unwrap().len());
        let head = app
            .client
            .head(app.url("/"))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(header(&head, "etag"), tag);
        assert_eq!(header(&head, "content-encoding").as_deref(), Some("br"));
        assert_eq!(header(&head, "content-length"), Some(len.to_string()));
        assert!(head.bytes().await.unwrap().is_empty());
    }
);

both_dbs!(a_current_copy_is_not_sent_again, |app: TestApp| async move {
    let ae = ("accept-encoding", BROWSER_ACCEPT_ENCODING);
    let first = get_with(&app, "/", &[ae]).await;
    let tag = header(&first, "etag").unwrap();
    let date = header(&first, "last-modified").unwrap();

    let res = get_with(&app, "/", &[ae, ("if-none-match", &tag)]).await;
    assert_eq!(res.status(), 304);
    assert_eq!(header(&res, "etag").as_deref(), Some(tag.as_str()));
    assert_eq!(header(&res, "vary").as_deref(), Some("accept-encoding, cookie"));
    assert!(res.bytes().await.unwrap().is_empty());

    let res = get_with(&app, "/", &[ae, ("if-modified-since", &date)]).await;
    assert_eq!(res.status(), 304);

    // Another tag, or the tag of another encoding: the page is sent.
    let res = get_with(&app, "/", &[ae, ("if-none-match", "\"0123\"")]).await;
    assert_eq!(res.status(), 200);
    let res = get_with(&app, "/", &[("accept-encoding", "gzip"), ("if-none-match", &tag)]).await;
    assert_eq!(res.status(), 200);
    // If-None-Match decides when both are sent.
    let res = get_with(
        &app,
        "/",
        &[ae, ("if-none-match", "\"0123\""), ("if-modified-since", &date)],
    )
    .await;
    assert_eq!(res.status(), 200);
    // A date before the page's.
    let res = get_with(&app, "/", &[ae, ("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")]).await;
    assert_eq!(res.status(), 200);
});

/// Edits the first control and publishes it, then updates the site as the use case asks.
async fn edit_a_control(app: &TestApp, title: &str) {
    let (store, org) = (app.state.store(), app.state.org());
    let control = store.items(org, Kind::Control).await.unwrap().remove(0);
    let mut body = control.draft;
    body["title"] = title.into();
    store
        .save_draft(org, Kind::Control, &control.slug, &body, "test")
        .await
        .unwrap();
    store.publish(org, Kind::Control, &control.slug, "test").await.unwrap();
    app.state
        .apply_site_changes(&[SiteChange::item(Kind::Control, &control.slug)])
        .await
        .unwrap();
}

both_dbs!(
    an_edit_changes_the_tag_of_the_pages_it_changes_only,
    |app: TestApp| async move {
        let ae = ("accept-encoding", BROWSER_ACCEPT_ENCODING);
        let home = get_with(&app, "/", &[ae]).await;
        let home_tag = header(&home, "etag").unwrap();
        let faq = get_with(&app, "/faq", &[ae]).await;
        let (faq_tag, faq_date) = (header(&faq, "etag").unwrap(), header(&faq, "last-modified").unwrap());
        // Dates have whole seconds: let one pass so a page dated anew would show it.
        tokio::time::sleep(Duration::from_millis(1100)).await;

        edit_a_control(&app, "Keys rotate every 90 days").await;
        let res = get_with(&app, "/", &[ae, ("if-none-match", &home_tag)]).await;
        assert_eq!(res.status(), 200, "the home page changed");
        assert_ne!(header(&res, "etag").unwrap(), home_tag);
        assert!(unbrotli(&res.bytes().await.unwrap())
            .windows(25)
            .any(|w| w == b"Keys rotate every 90 days"));
        let res = get_with(&app, "/faq", &[ae, ("if-none-match", &faq_tag)]).await;
        assert_eq!(res.status(), 304, "the FAQ did not change");

        // Rendering everything again keeps the dates of unchanged pages.
        app.state.refresh_site().await.unwrap();
        let res = get_with(&app, "/faq", &[ae]).await;
        assert_eq!(header(&res, "etag").unwrap(), faq_tag);
        assert_eq!(header(&res, "last-modified").unwrap(), faq_date);
        let res = get_with(&app, "/faq", &[ae, ("if-modified-since", &faq_date)]).await;
        assert_eq!(res.status(), 304);

        // Every page's compressed forms are those of its current bytes.
        let site = app.state.site().await;
        for (path, page) in &site.pages {
            if let Some(gz) = &page.gzip {
                assert_eq!(gunzip(&gz.body), page.body, "{path}: stale gzip");
            }
            if let Some(br) = &page.brotli {
                assert_eq!(unbrotli(&br.body), page.body, "{path}: stale brotli");
            }
        }
    }
);

/// The `href`s of the `<link>` elements of a page.
fn linked(html: &str) -> Vec<String> {
    html.split("<link ")
        .skip(1)
        .filter_map(|l| l.split("href=\"").nth(1)?.split('"').next().map(str::to_owned))
        .map(|h| h.replace("&#x2F;", "/"))
        .collect()
}

both_dbs!(assets_have_immutable_hashed_urls, |app: TestApp| async move {
    let (_, home) = app.get_text("/").await;
    let links = linked(&home);
    let assets: Vec<&String> = links.iter().filter(|h| h.starts_with("/assets/")).collect();
    assert_eq!(assets.len(), 3, "site.css, brand.css and the icon: {links:?}");
    for (href, plain) in assets
        .iter()
        .zip(["/assets/site.css", "/assets/brand.css", "/favicon.ico"])
    {
        assert!(href.len() > plain.len() + 12, "{href} is not named by a hash");
        let res = app.get(href).await;
        assert_eq!(res.status(), 200, "{href}");
        assert_eq!(
            header(&res, "cache-control").as_deref(),
            Some("public, max-age=31536000, immutable"),
            "{href}"
        );
        let hashed = res.bytes().await.unwrap();
        // The plain name keeps working, with a short cache life.
        let res = app.get(plain).await;
        assert_eq!(res.status(), 200, "{plain}");
        assert_ne!(
            header(&res, "cache-control").as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(res.bytes().await.unwrap(), hashed, "{plain} and {href} differ");
    }
    // Another hash is not served the current bytes under an immutable name.
    assert_eq!(app.get("/assets/site.000000000000.css").await.status(), 404);
});

/// Sends `request` on a fresh connection and reads the whole response (the request asks the
/// server to close); returns the bytes read.
async fn raw_exchange(app: &TestApp, request: &str) -> Vec<u8> {
    let addr = app.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .unwrap();
    out
}

both_dbs!(
    a_repeat_visit_of_the_home_page_costs_under_a_kilobyte,
    |app: TestApp| async move {
        let host = app.base.trim_start_matches("http://").to_owned();
        // What a current browser sends for a navigation, less cookies (the public site sets none).
        let browser = format!(
            "Host: {host}\r\n\
             User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n\
             Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n\
             Accept-Encoding: {BROWSER_ACCEPT_ENCODING}\r\n\
             Accept-Language: en-GB,en;q=0.9\r\n\
             Connection: close\r\n"
        );
        let first = raw_exchange(&app, &format!("GET / HTTP/1.1\r\n{browser}\r\n")).await;
        let first = String::from_utf8_lossy(&first);
        assert!(first.starts_with("HTTP/1.1 200"), "{first:.200}");
        let head = first.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        let field = |name: &str| -> String {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("no {name} in {head}"))
                .to_owned()
        };
        let (tag, date) = (field("etag"), field("last-modified"));
        assert_eq!(field("content-encoding"), "br");

        // The repeat visit: the page is revalidated; its stylesheets and icon are immutable, so
        // a browser does not ask for them again.
        let request = format!("GET / HTTP/1.1\r\n{browser}If-None-Match: {tag}\r\nIf-Modified-Since: {date}\r\n\r\n");
        let response = raw_exchange(&app, &request).await;
        let text = String::from_utf8_lossy(&response);
        assert!(text.starts_with("HTTP/1.1 304"), "{text}");
        println!(
            "repeat visit of /: request {} bytes, response {} bytes, first visit {} bytes",
            request.len(),
            response.len(),
            first.len()
        );
        assert!(response.len() < 1024, "the 304 is {} bytes:\n{text}", response.len());
        for href in linked(&app.get_text("/").await.1) {
            if href.starts_with("/assets/") {
                let cache = app.get(&href).await.headers()["cache-control"].clone();
                assert!(cache.to_str().unwrap().contains("immutable"), "{href}");
            }
        }
    }
);
