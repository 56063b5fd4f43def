//! Security headers on every response.

use crate::config::Config;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;

pub struct SecurityHeaders {
    list: Vec<(HeaderName, HeaderValue)>,
    /// The back office's CSP: the same, but scripts from our own origin may run.
    pub admin_csp: HeaderValue,
}

impl SecurityHeaders {
    pub fn new(config: &Config) -> SecurityHeaders {
        // No script at all, styles only from our own stylesheet: injected markup can neither run
        // code nor restyle the page. Forms may post only to us.
        let csp_with = |scripts: &str| {
            format!(
                "default-src 'none'; script-src {scripts}; style-src 'self'; img-src 'self' https: data:; font-src 'self'; \
                 connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {}",
                config.frame_ancestors
            )
        };
        let csp = csp_with("'none'");
        let admin_csp = HeaderValue::from_str(&csp_with("'self'")).expect("validated at start-up");
        let mut list = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&csp).expect("validated at start-up"),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            ),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
            (
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
            ),
        ];
        if config.frame_ancestors == "'none'" {
            list.push((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
        }
        if config.secure_cookies {
            list.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            ));
        }
        SecurityHeaders { list, admin_csp }
    }

    /// Adds the headers to a response's; a route that set its own policy (the back office)
    /// keeps it.
    pub fn apply(&self, h: &mut axum::http::HeaderMap) {
        for (name, value) in &self.list {
            if name == header::CONTENT_SECURITY_POLICY && h.contains_key(name) {
                continue;
            }
            h.insert(name.clone(), value.clone());
        }
    }

    /// The headers as `name: value\r\n` lines, for the responses hyper writes itself before a
    /// request reaches the application (see `server::guarded_io`).
    pub fn as_head_lines(&self) -> bytes::Bytes {
        let mut out = Vec::new();
        for (name, value) in &self.list {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.into()
    }
}

pub async fn security_headers(State(state): State<AppState>, mut res: Response) -> Response {
    state.security_headers().apply(res.headers_mut());
    res
}
