//! A request id on every request: the one a trusted reverse proxy sent in `X-Request-Id` (so the
//! proxy's log and ours name the same id), or a new one. Every log line written while the
//! request is answered carries it (the `request` span), and the answer returns it in
//! `X-Request-Id`, so a person reporting an error can quote it.

use crate::AppState;
use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderValue;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The header, in both directions.
pub const HEADER: &str = "x-request-id";

/// The longest id taken from a proxy; longer ones are replaced.
const MAX_LEN: usize = 128;

/// The address the connection really came from, before `X-Forwarded-For` is applied: the
/// `/metrics` rule needs to know whether a proxy relayed the request.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub IpAddr);

/// The request's id: a trusted proxy's when harmless, else a new one. Also notes the connection's
/// own address on the request ([`Peer`]); call it before `X-Forwarded-For` is applied.
pub fn choose(state: &AppState, req: &mut Request) -> HeaderValue {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let id = for_request(state, peer, req.headers());
    if let Some(ip) = peer {
        req.extensions_mut().insert(Peer(ip));
    }
    id
}

/// The id for a request from `peer` with `headers`: the proxy's when `peer` is a trusted proxy
/// and the id is harmless, else a new one.
pub fn for_request(state: &AppState, peer: Option<IpAddr>, headers: &axum::http::HeaderMap) -> HeaderValue {
    let from_trusted_proxy = peer.is_some_and(|ip| state.config().trusted_proxies.iter().any(|n| n.contains(ip)));
    headers
        .get(HEADER)
        .filter(|_| from_trusted_proxy)
        .filter(|v| acceptable(v.as_bytes()))
        .cloned()
        .unwrap_or_else(new_id)
}

/// What an id from a proxy may be: letters, digits and `-_.:+=/`, up to [`MAX_LEN`] (UUIDs,
/// nginx's `$request_id`, Cloudflare's ray ids). Nothing that could forge a log line.
fn acceptable(v: &[u8]) -> bool {
    !v.is_empty() && v.len() <= MAX_LEN && v.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:+=/".contains(b))
}

/// A new id: a random prefix per process (so instances behind one balancer do not collide) and
/// a counter. Unique, not secret: it is shown to the client anyway.
fn new_id() -> HeaderValue {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| {
        let token = candor_crypto::random_token();
        token
            .expose()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect()
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    HeaderValue::from_str(&format!("{prefix}-{n:08x}")).unwrap_or(HeaderValue::from_static("unknown"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_proxies_are_kept_only_when_harmless() {
        assert!(acceptable(b"3f2a9c1e-7b4d-4c1a-9e2f-0a1b2c3d4e5f"));
        assert!(acceptable(b"8c5e1f0a2b3d4e6f-AMS"));
        assert!(!acceptable(b""));
        assert!(!acceptable(b"a b"));
        assert!(!acceptable(b"evil\"} forged=1"));
        assert!(!acceptable("é".as_bytes()));
        assert!(!acceptable(&[b'a'; MAX_LEN + 1]));
    }

    #[test]
    fn new_ids_differ_and_are_harmless() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(acceptable(a.as_bytes()), "{a:?}");
    }
}
