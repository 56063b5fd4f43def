//! Answering a request for a cached page like a CDN origin: the best encoding the client
//! accepts, validators, and `304 Not Modified` for a conditional request whose copy is current.

use super::cached::CachedPage;
use crate::http::negotiate::{choose, Coding};
use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Response, StatusCode};
use std::time::SystemTime;

/// How long caches may keep a page: a minute, so a publish shows quickly everywhere.
pub const PAGE_CACHE: &str = "public, max-age=60";
/// An asset under an unhashed name (`/assets/site.css`, linked from the back office): an hour.
pub const ASSET_CACHE: &str = "public, max-age=3600";
/// An asset whose name holds its content's hash: its bytes never change, so a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `page` for a request with headers `req`. The body is sent for HEAD too; hyper leaves it out
/// and keeps its length in `Content-Length`.
pub fn respond(page: &CachedPage, req: &HeaderMap, cache_control: &'static str) -> Response<Body> {
    let coding = choose(req, page.brotli.is_some(), page.gzip.is_some());
    let (body, etag, encoding) = match (coding, &page.brotli, &page.gzip) {
        (Coding::Brotli, Some(br), _) => (&br.body, &br.etag, Some("br")),
        (Coding::Gzip, _, Some(gz)) => (&gz.body, &gz.etag, Some("gzip")),
        _ => (&page.body, &page.etag, None),
    };
    let varies = page.brotli.is_some() || page.gzip.is_some();
    let mut res = if not_modified(req, etag, page.modified) {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        res
    } else {
        let mut res = Response::new(Body::from(body.clone()));
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(page.content_type));
        h.insert(header::LAST_MODIFIED, page.last_modified.clone());
        if let Some(encoding) = encoding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        res
    };
    // A 304 carries what a cache updates its stored response with: validator, freshness, Vary.
    let h = res.headers_mut();
    // Room for these and the security headers added on the way out, so the map is not grown
    // (reallocated and rehashed) on every page view.
    h.reserve(16);
    h.insert(header::ETAG, etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    if varies {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// Whether the client's copy is current (RFC 9110 §13.1.2, §13.1.3): `If-None-Match` when
/// sent (weak comparison, `*` matches), else `If-Modified-Since` against the page's date.
fn not_modified(req: &HeaderMap, etag: &HeaderValue, modified: SystemTime) -> bool {
    let tags = req.get_all(header::IF_NONE_MATCH);
    if tags.iter().next().is_some() {
        let ours = etag.as_bytes();
        return tags.iter().any(|value| {
            value.as_bytes().split(|&b| b == b',').any(|t| {
                let t = t.trim_ascii();
                t == b"*" || t.strip_prefix(b"W/").unwrap_or(t) == ours
            })
        });
    }
    let Some(since) = req
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return false;
    };
    modified <= since
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn page() -> CachedPage {
        CachedPage::new("text/html; charset=utf-8", "<p>page</p>".repeat(100))
            .dated(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
    }

    fn req(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn sends_the_accepted_encoding_with_its_tag() {
        let p = page();
        let res = respond(&p, &req(&[("accept-encoding", "gzip, br")]), PAGE_CACHE);
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-encoding"], "br");
        assert_eq!(res.headers()["etag"], p.brotli.as_ref().unwrap().etag);
        assert_eq!(res.headers()["vary"], "accept-encoding");
        let res = respond(&p, &req(&[]), PAGE_CACHE);
        assert!(res.headers().get("content-encoding").is_none());
        assert_eq!(res.headers()["etag"], p.etag);
        assert_eq!(res.headers()["vary"], "accept-encoding");
        assert_eq!(res.headers()["last-modified"], "Tue, 14 Nov 2023 22:13:20 GMT");
    }

    #[test]
    fn a_matching_tag_is_not_modified() {
        let p = page();
        let gz = p.gzip.as_ref().unwrap().etag.to_str().unwrap().to_owned();
        let h = req(&[
            ("accept-encoding", "gzip"),
            ("if-none-match", &format!("\"x\", W/{gz}")),
        ]);
        let res = respond(&p, &h, PAGE_CACHE);
        assert_eq!(res.status(), 304);
        assert_eq!(res.headers()["etag"], gz.as_str());
        assert!(res.headers().get("content-type").is_none());
        // The tag of another encoding is another representation.
        let h = req(&[("accept-encoding", "br"), ("if-none-match", &gz)]);
        assert_eq!(respond(&p, &h, PAGE_CACHE).status(), 200);
        assert_eq!(respond(&p, &req(&[("if-none-match", "*")]), PAGE_CACHE).status(), 304);
    }

    #[test]
    fn if_modified_since_counts_only_without_if_none_match() {
        let p = page();
        let same = "Tue, 14 Nov 2023 22:13:20 GMT";
        let before = "Tue, 14 Nov 2023 22:13:19 GMT";
        assert_eq!(
            respond(&p, &req(&[("if-modified-since", same)]), PAGE_CACHE).status(),
            304
        );
        assert_eq!(
            respond(&p, &req(&[("if-modified-since", before)]), PAGE_CACHE).status(),
            200
        );
        assert_eq!(
            respond(&p, &req(&[("if-modified-since", "yesterday")]), PAGE_CACHE).status(),
            200
        );
        let h = req(&[("if-modified-since", same), ("if-none-match", "\"other\"")]);
        assert_eq!(respond(&p, &h, PAGE_CACHE).status(), 200);
    }
}
