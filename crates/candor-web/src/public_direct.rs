//! Pages of the rendered site answered straight from the connection, without the router and its
//! layers.
//!
//! A public page is a lookup in a map of precompressed bytes, yet through the router it passed
//! three `from_fn` layers (each boxing a future), a route match that misses over every route, and
//! extractors that copy the request's headers: most of the work per page view, and what put the
//! tail of our latency behind nginx's. Here the connection's service looks the page up first and
//! adds what those layers would have added: the security headers, the request id and the
//! request's metrics. The page view is counted where both ways meet (`public::cached`). The one
//! route answered here as well is the Statuspage JSON under `/api/v2/`, which status widgets poll
//! as often as pages are viewed; it goes through the same function as its route.
//! Everything else (a route's path, another method, a page not in the site, a site to re-render
//! because the date changed, a viewer's session cookie, debug logging) goes through the router as
//! before, so the answers are the same either way (tested in `it/metrics.rs` and `it/origin.rs`).

use crate::http::metrics::FALLBACK_ROUTE;
use crate::ops::request_id;
use crate::AppState;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// Where the Statuspage-compatible JSON lives (public, cached like a page).
const STATUS_JSON: &str = "/api/v2/";

/// Answers cached pages for one listener.
#[derive(Clone)]
pub(crate) struct DirectPages {
    state: AppState,
    routes: Arc<RoutePaths>,
}

impl DirectPages {
    pub fn new(state: AppState) -> DirectPages {
        DirectPages {
            state,
            routes: Arc::new(RoutePaths::of(&crate::routes::table())),
        }
    }

    /// The answer to the request, when it is a GET or HEAD of a page in the current site that
    /// no route takes; `None` sends the request through the router.
    pub fn answer(&self, method: &Method, uri: &Uri, headers: &HeaderMap, peer: IpAddr) -> Option<Response> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        // The router's outer layer writes the debug line per request.
        if tracing::enabled!(tracing::Level::DEBUG) {
            return None;
        }
        let path = uri.path();
        if path.starts_with(STATUS_JSON) {
            return self.status_json(method, path, headers, peer);
        }
        if self.routes.takes(path) {
            return None;
        }
        let state = &self.state;
        // A signed-in viewer may get their own variant of the page (`public::page`).
        if crate::http::viewer_session::carries_session(state, headers) {
            return None;
        }
        let started = Instant::now();
        let _in_flight = state.metrics().request_started();
        let site = state.site_if_current()?;
        let mut res = crate::public::cached(state, &site, method, path, headers)?;
        self.finish(&mut res, FALLBACK_ROUTE, method, headers, peer, started);
        Some(res)
    }

    /// The Statuspage JSON under `/api/v2/` (its own routes, so not a page of the site above):
    /// status widgets poll it, so it is answered here too, as its route answers it.
    fn status_json(&self, method: &Method, path: &str, headers: &HeaderMap, peer: IpAddr) -> Option<Response> {
        let route = self.routes.exact.get(path).copied()?;
        let started = Instant::now();
        let _in_flight = self.state.metrics().request_started();
        let site = self.state.site_if_current()?;
        let mut res = crate::site::status::handlers::json_from(&site, path, headers);
        self.finish(&mut res, route, method, headers, peer, started);
        Some(res)
    }

    /// What the router's layers add to every answer: security headers, the request id, metrics.
    fn finish(
        &self,
        res: &mut Response,
        route: &str,
        method: &Method,
        headers: &HeaderMap,
        peer: IpAddr,
        started: Instant,
    ) {
        let state = &self.state;
        state.security_headers().apply(res.headers_mut());
        res.headers_mut()
            .insert(request_id::HEADER, request_id::for_request(state, Some(peer), headers));
        state
            .metrics()
            .request_done(method, route, res.status().as_u16(), started.elapsed());
    }
}

/// The paths some route answers: exact paths, and the prefixes of those with a parameter
/// (`/status/incidents/{id}` takes everything under `/status/incidents/`). Over-broad on purpose:
/// a page it wrongly claims for the router is still answered, only by the slower way.
struct RoutePaths {
    exact: HashSet<&'static str>,
    prefixes: Vec<&'static str>,
}

impl RoutePaths {
    fn of(table: &[crate::RouteSpec]) -> RoutePaths {
        let mut exact = HashSet::new();
        let mut prefixes = Vec::new();
        for spec in table {
            match spec.path.find('{') {
                Some(at) => prefixes.push(&spec.path[..at]),
                None => {
                    exact.insert(spec.path);
                }
            }
        }
        // The back office and the API are never pages of the site.
        prefixes.extend(["/admin", "/api/v1"]);
        prefixes.sort_unstable();
        prefixes.dedup();
        RoutePaths { exact, prefixes }
    }

    fn takes(&self, path: &str) -> bool {
        self.exact.contains(path) || self.prefixes.iter().any(|p| path.starts_with(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_keep_their_paths() {
        let routes = RoutePaths::of(&crate::routes::table());
        for taken in [
            "/search",
            "/status/incidents/3",
            "/api/v2/summary.json",
            "/admin",
            "/admin/anything",
            "/api/v1/openapi.json",
            "/healthz",
            "/metrics",
        ] {
            assert!(routes.takes(taken), "{taken} is a route's");
        }
        for page in [
            "/",
            "/compliance",
            "/s/encryption",
            "/assets/site.css",
            "/status",
            "/trust.json",
        ] {
            assert!(!routes.takes(page), "{page} is a page of the site");
        }
    }
}
