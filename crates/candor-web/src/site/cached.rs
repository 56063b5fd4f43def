//! One page of the site as a CDN origin stores it: the bytes, their gzip and brotli
//! compressions made once when the page is rendered, and the validators (a strong ETag per
//! encoding, derived from the content, and a Last-Modified date).

use axum::http::HeaderValue;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::time::{Duration, SystemTime};

/// Brotli quality for pages. On the demo's 68 text files (`examples/compression_levels.rs`):
/// quality 5 gives 26.9 % of the size in 28 ms, 9 gives 26.6 % in 276 ms, 10 gives 23.6 % in
/// 295 ms, 11 gives 23.0 % in 680 ms. A change of layout compresses every page while the
/// publisher waits, and sites grow to 50× the demo: 5 keeps that to about a second and a half.
pub const BROTLI_QUALITY: i32 = 5;
/// Brotli window (log2 of bytes): 22 (4 MiB) covers any page whole.
const BROTLI_WINDOW: i32 = 22;
/// gzip level; 9 costs little more than 6 on pages of this size and is what `gzip -9` gives.
pub const GZIP_LEVEL: u32 = 9;

/// A compressed form of a page, with its own strong ETag (a strong validator names one
/// representation, and each content coding is another one).
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    pub body: Bytes,
    pub etag: HeaderValue,
}

/// A ready response body with its content type, compressed forms and validators.
#[derive(Clone, Debug)]
pub struct CachedPage {
    pub content_type: &'static str,
    pub body: Bytes,
    /// `"<first 16 bytes of the SHA-256 of body, hex>"`: equal bodies, equal tags, on every
    /// instance and after every restart.
    pub etag: HeaderValue,
    /// Present when it is smaller than `body`.
    pub gzip: Option<Encoded>,
    pub brotli: Option<Encoded>,
    /// When these bytes were first rendered (whole seconds), as `Last-Modified`. A page rendered
    /// again with the same bytes keeps the earlier date ([`super::Site::keep_dates_of`]).
    pub modified: SystemTime,
    pub last_modified: HeaderValue,
}

/// Pages are equal when they serve the same bytes in every encoding, with the same tags; when
/// each was first rendered does not count.
impl PartialEq for CachedPage {
    fn eq(&self, other: &CachedPage) -> bool {
        self.content_type == other.content_type
            && self.body == other.body
            && self.etag == other.etag
            && self.gzip == other.gzip
            && self.brotli == other.brotli
    }
}

impl CachedPage {
    /// The page `body`, compressed now (text types only) and dated now.
    pub fn new(content_type: &'static str, body: impl Into<Bytes>) -> CachedPage {
        let body: Bytes = body.into();
        let tag = content_tag(&body);
        let (gzip, brotli) = if compressible(content_type) {
            let smaller = |encoded: Vec<u8>, suffix: &str| {
                (encoded.len() < body.len()).then(|| Encoded {
                    body: Bytes::from(encoded),
                    etag: quoted(&format!("{tag}.{suffix}")),
                })
            };
            (smaller(gzip(&body), "gz"), smaller(brotli(&body), "br"))
        } else {
            (None, None)
        };
        let modified = whole_seconds(SystemTime::now());
        CachedPage {
            content_type,
            etag: quoted(&tag),
            body,
            gzip,
            brotli,
            modified,
            last_modified: http_date(modified),
        }
    }

    /// This page dated `modified` instead (kept from an earlier rendering of the same bytes).
    pub fn dated(mut self, modified: SystemTime) -> CachedPage {
        self.redate(modified);
        self
    }

    /// Dates this page `modified` (whole seconds).
    pub fn redate(&mut self, modified: SystemTime) {
        self.modified = whole_seconds(modified);
        self.last_modified = http_date(self.modified);
    }
}

/// The first 16 bytes of the content's SHA-256, in hex: short, and as unique as a page needs.
pub fn content_tag(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..16])
}

fn quoted(tag: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{tag}\"")).expect("hex and dots are valid in a header")
}

fn http_date(t: SystemTime) -> HeaderValue {
    HeaderValue::from_str(&httpdate::fmt_http_date(t)).expect("an HTTP date is a valid header")
}

/// `t` without its fraction of a second: HTTP dates have whole seconds, and a page must not look
/// modified after the date it was sent with.
fn whole_seconds(t: SystemTime) -> SystemTime {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    SystemTime::UNIX_EPOCH + Duration::from_secs(since.as_secs())
}

/// Text compresses; images we serve (the favicon) barely do.
fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/xml")
        || content_type.starts_with("application/atom+xml")
        || content_type.starts_with("image/svg+xml")
        || content_type.starts_with("image/x-icon")
}

/// gzip with a fixed header (no file name, time 0), so equal pages give equal bytes.
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::new(GZIP_LEVEL));
    enc.write_all(body).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

pub fn brotli(body: &[u8]) -> Vec<u8> {
    brotli_at(body, BROTLI_QUALITY)
}

/// Brotli at `quality` (0–11), for measuring levels.
pub fn brotli_at(body: &[u8], quality: i32) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        lgwin: BROTLI_WINDOW,
        mode: brotli::enc::backward_references::BrotliEncoderMode::BROTLI_MODE_TEXT,
        size_hint: body.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(body.len() / 3);
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).expect("compressing in memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn variants_decompress_to_the_page_and_have_their_own_tags() {
        let html = "<p>hello</p>".repeat(200);
        let page = CachedPage::new("text/html; charset=utf-8", html.clone());
        let gz = page.gzip.as_ref().expect("html compresses");
        let br = page.brotli.as_ref().expect("html compresses");
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz.body[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, html);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br.body[..], &mut out).unwrap();
        assert_eq!(out, html.as_bytes());
        let tags = [&page.etag, &gz.etag, &br.etag];
        assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
        assert!(page.etag.to_str().unwrap().starts_with('"'));
    }

    #[test]
    fn equal_bytes_give_equal_tags_and_compressions() {
        let a = CachedPage::new("text/css; charset=utf-8", "body { color: red }".repeat(50));
        let b = CachedPage::new("text/css; charset=utf-8", "body { color: red }".repeat(50));
        assert_eq!(a.etag, b.etag);
        assert_eq!(a.gzip.unwrap().body, b.gzip.unwrap().body);
        let c = CachedPage::new("text/css; charset=utf-8", "body { color: blue }".repeat(50));
        assert_ne!(c.etag, b.etag);
    }

    #[test]
    fn a_compression_that_is_not_smaller_is_not_kept() {
        let page = CachedPage::new("text/plain; charset=utf-8", "x");
        assert!(page.gzip.is_none() && page.brotli.is_none());
    }

    #[test]
    fn the_date_has_whole_seconds_and_can_be_kept() {
        let page = CachedPage::new("text/plain", "x");
        let since = page.modified.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(since.subsec_nanos(), 0);
        let earlier = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let page = page.dated(earlier);
        assert_eq!(page.last_modified, "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
