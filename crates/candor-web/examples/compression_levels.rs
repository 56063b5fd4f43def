//! How long each compression level takes on a site's pages and how small it makes them: the
//! measurement behind `site::cached::{BROTLI_QUALITY, GZIP_LEVEL}`.
//!
//!   candor export-site /tmp/site
//!   cargo run --release -p candor-web --example compression_levels -- /tmp/site

use candor_web::site::cached::{brotli_at, gzip};
use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: compression_levels EXPORTED_SITE_DIR");
    let mut pages = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if path.is_dir() {
                stack.push(path);
            } else if matches!(ext, "html" | "css" | "json" | "xml" | "atom" | "svg" | "txt") {
                pages.push(std::fs::read(&path).expect("a readable file"));
            }
        }
    }
    let total: usize = pages.iter().map(Vec::len).sum();
    println!("{} pages, {} bytes", pages.len(), total);
    let measure = |name: &str, f: &dyn Fn(&[u8]) -> Vec<u8>| {
        let started = Instant::now();
        let out: usize = pages.iter().map(|p| f(p).len()).sum();
        println!(
            "{name:>10}: {:>8} bytes ({:.1} %), {:>7.1} ms",
            out,
            100.0 * out as f64 / total as f64,
            started.elapsed().as_secs_f64() * 1000.0
        );
    };
    measure("gzip 9", &|p| gzip(p));
    for q in [5, 7, 9, 10, 11] {
        measure(&format!("brotli {q}"), &|p| brotli_at(p, q));
    }
}
