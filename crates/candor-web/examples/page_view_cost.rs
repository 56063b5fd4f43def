//! What counting a page view adds to a cached page's answer: the robot check on the user agent
//! and the in-memory counter (`http::page_views::PageViews::note`), per view, on one thread and
//! on every core at once (the counters are shared). Measure a release build on a quiet machine:
//!
//!   cargo run --release -p candor-web --example page_view_cost

use axum::http::{header, HeaderMap, Method, StatusCode};
use candor_web::http::page_views::PageViews;
use std::sync::Arc;
use std::time::Instant;

const N: u32 = 2_000_000;
const HTML: &str = "text/html; charset=utf-8";
const PATHS: [&str; 8] = [
    "/",
    "/faq",
    "/compliance",
    "/subprocessors",
    "/policies",
    "/documents",
    "/s/encryption",
    "/status",
];

fn headers(ua: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::USER_AGENT, ua.parse().expect("a header value"));
    h
}

fn per_view(name: &str, threads: usize, views: &Arc<PageViews>, h: &HeaderMap) {
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for i in 0..N {
                    views.note(&Method::GET, PATHS[i as usize % PATHS.len()], HTML, StatusCode::OK, h);
                }
            });
        }
    });
    let ns = started.elapsed().as_nanos() as f64 / f64::from(N);
    println!("{name:<44} {threads} thread(s): {ns:6.1} ns per view (wall time / views per thread)");
}

fn main() {
    let browser = headers(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    );
    let bot = headers("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let views = Arc::new(PageViews::default());
    let started = Instant::now();
    for _ in 0..N {
        std::hint::black_box(candor_core::engagement::is_bot(Some(std::hint::black_box(
            browser[header::USER_AGENT].as_bytes(),
        ))));
    }
    let ns = started.elapsed().as_nanos() as f64 / f64::from(N);
    println!(
        "{:<44} 1 thread(s): {ns:6.1} ns per view",
        "robot check alone (a browser's user agent)"
    );
    per_view("robot check and count (a browser)", 1, &views, &browser);
    per_view("robot check and count (a browser)", cores, &views, &browser);
    per_view("robot check, not counted (Googlebot)", 1, &views, &bot);
    let counted: u64 = views.take().iter().map(|(_, n)| n).sum();
    assert_eq!(counted, u64::from(N) * (1 + cores as u64), "every view counted once");
}
