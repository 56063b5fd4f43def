//! One HTTP/1.1 request over a connection the checker opened itself (plain or TLS): the
//! status compared with the expected one (redirects are not followed) and, when asked, the body
//! searched for a text.

use crate::{Found, Stage};
use bytes::Bytes;
use candor_core::status::monitor::{Endpoint, MonitorSpec};
use http_body_util::{BodyExt, Empty};
use hyper::header::{HeaderValue, ACCEPT, CONNECTION, HOST, USER_AGENT};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// How much of a body a check reads when it looks for a text.
const BODY_LIMIT: usize = 1024 * 1024;

const AGENT: &str = concat!("Candor-Monitor/", env!("CARGO_PKG_VERSION"));

pub(crate) async fn exchange<S>(io: S, spec: &MonitorSpec, endpoint: &Endpoint, stage: &mut Stage) -> Found
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = match hyper::client::conn::http1::handshake(TokioIo::new(io)).await {
        Ok(pair) => pair,
        Err(e) => return Found::Down(format!("HTTP failed: {e}")),
    };
    // The connection is driven beside the request and dropped with it; `Connection: close`
    // ends it on the server's side too.
    let driver = tokio::spawn(connection);
    let found = request(&mut sender, spec, endpoint, stage).await;
    driver.abort();
    found
}

async fn request(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    spec: &MonitorSpec,
    endpoint: &Endpoint,
    stage: &mut Stage,
) -> Found {
    let s = &spec.settings;
    let method = match Method::from_bytes(s.method.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Found::Down(format!("the method {} is not valid", s.method)),
    };
    let mut req = Request::new(Empty::<Bytes>::new());
    *req.method_mut() = method.clone();
    *req.uri_mut() = match endpoint.path.parse() {
        Ok(uri) => uri,
        Err(_) => return Found::Down(format!("the path {} is not valid", endpoint.path)),
    };
    let headers = req.headers_mut();
    match HeaderValue::from_str(&endpoint.host_header) {
        Ok(host) => headers.insert(HOST, host),
        Err(_) => return Found::Down("the host is not valid".into()),
    };
    headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
    headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    *stage = Stage::Waiting;
    let response = match sender.send_request(req).await {
        Ok(r) => r,
        Err(e) => return Found::Down(request_error(&e)),
    };
    let got = response.status().as_u16();
    if got != s.expected_status {
        let reason = response.status().canonical_reason().unwrap_or("");
        return Found::Down(
            format!("expected {}, got {got} {reason}", s.expected_status)
                .trim_end()
                .to_owned(),
        );
    }
    let Some(text) = s.body_contains.as_deref() else {
        return Found::Up(vec![]);
    };
    if method == Method::HEAD {
        return Found::Up(vec![]);
    }
    *stage = Stage::Reading;
    let mut body = response.into_body();
    let mut seen: Vec<u8> = Vec::new();
    while seen.len() < BODY_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = BODY_LIMIT - seen.len();
                    seen.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            Some(Err(e)) => return Found::Down(format!("the body could not be read: {e}")),
            None => break,
        }
    }
    if contains(&seen, text.as_bytes()) {
        Found::Up(vec![])
    } else {
        let read = if seen.len() >= BODY_LIMIT {
            " in its first 1 MiB"
        } else {
            ""
        };
        Found::Down(format!("the body does not contain {text:?}{read}"))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn request_error(e: &hyper::Error) -> String {
    if e.is_incomplete_message() {
        "the server closed the connection without answering".into()
    } else if e.is_parse() {
        format!("the answer is not HTTP/1.1: {e}")
    } else {
        format!("HTTP failed: {e}")
    }
}
