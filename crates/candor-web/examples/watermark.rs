//! Watermarking cost: time and peak memory for one PDF, watermarked once or by several viewers at
//! the same time. Two steps, so the peak measured is the watermarking's and not the generator's:
//!
//!     cargo run --release -p candor-web --example watermark -- make PAGES LINES FILE
//!     cargo run --release -p candor-web --example watermark -- run FILE [AT_ONCE]
//!
//! `make` writes a PDF of PAGES pages with LINES lines of text on each. `run` reads FILE, gives
//! each of AT_ONCE jobs (default 1) its own copy (as the server decrypts one per download), starts
//! them together and reports the wall time and the process's peak resident set (VmHWM), also as a
//! multiple of the file's size.
//!
//!     cargo run --release -p candor-web --example watermark [-- time] [PAGES]
//!
//! keeps the older comparison: the median of 20 rounds against parsing and saving unchanged.

use std::time::Instant;

fn pdf(pages: usize, lines: usize) -> Vec<u8> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> >>",
            (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect::<Vec<_>>().join(" ")
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    for i in 0..pages {
        let mut content = String::new();
        for line in 0..lines {
            content.push_str(&format!(
                "BT /F1 10 Tf 72 {} Td (Page {} line {line}: findings, scope and method of the assessment.) Tj ET\n",
                740 - (line % 45) * 16,
                i + 1
            ));
        }
        objects.push(format!("<< /Type /Page /Parent 2 0 R /Contents {} 0 R >>", 5 + 2 * i));
        objects.push(candor_web::simple_pdf::stream(&content));
    }
    candor_web::simple_pdf::assemble(&objects)
}

fn mark() -> candor_web::watermark::Mark<'static> {
    candor_web::watermark::Mark {
        name: "Dana Prospect",
        email: "dana@acme-buyer.example",
        company: "Acme Buyer Ltd",
        date: "2026-11-25",
        grant: "g-0123456789ab",
    }
}

/// Watermarks `input` as a download does (the original's bytes are sent followed by the
/// update, never copied together); returns the size of what would be sent.
fn watermark_once(input: &[u8]) -> usize {
    let budget = candor_web::watermark::Budget::standard();
    let copy = candor_web::watermark::mark_copy(input, &mark(), &budget).unwrap();
    input.len() - copy.keep_from + copy.update.len()
}

/// The process's peak resident set so far, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2] * 1000.0
}

fn run(file: &str, at_once: usize) {
    let input = std::fs::read(file).unwrap();
    let copies: Vec<Vec<u8>> = (0..at_once).map(|_| input.clone()).collect();
    drop(input);
    let size = copies[0].len();
    let before = peak_rss_kib();
    let t = Instant::now();
    let out: Vec<usize> = std::thread::scope(|s| {
        let jobs: Vec<_> = copies.iter().map(|c| s.spawn(move || watermark_once(c))).collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    let secs = t.elapsed().as_secs_f64();
    let peak = peak_rss_kib();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "{file}: {:.1} MiB, {at_once} at once: {secs:.2} s wall, peak RSS {:.0} MiB ({:.1}x the file; {:.0} MiB of it the input copies), output {:.1} MiB each",
        size as f64 / 1048576.0,
        mib(peak),
        peak as f64 * 1024.0 / size as f64,
        mib(before),
        out[0] as f64 / 1048576.0,
    );
}

fn time(pages: usize) {
    let input = pdf(pages, 40);
    let (mut marked, mut plain) = (vec![], vec![]);
    let mut out_len = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let mut doc = lopdf::Document::load_mem(&input).unwrap();
        let mut buf = vec![];
        doc.save_to(&mut buf).unwrap();
        plain.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        out_len = watermark_once(&input);
        marked.push(t.elapsed().as_secs_f64());
    }
    let (m, p) = (median_ms(marked), median_ms(plain));
    println!(
        "{pages}-page PDF, {} KiB in, {} KiB out; medians of 20 rounds",
        input.len() / 1024,
        out_len / 1024
    );
    println!("parse and save unchanged (lopdf): {p:.1} ms");
    println!(
        "watermark every page:             {m:.1} ms  ({:.2}x the unchanged rewrite)",
        m / p
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let number = |i: usize, default: usize| arg(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match arg(0) {
        Some("make") => {
            let file = arg(3).expect("make PAGES LINES FILE");
            std::fs::write(file, pdf(number(1, 100), number(2, 40))).unwrap();
        }
        Some("run") => run(arg(1).expect("run FILE [AT_ONCE]"), number(2, 1)),
        Some("time") => time(number(1, 100)),
        // As before the subcommands: `watermark [PAGES]` times PAGES pages.
        Some(pages) if pages.parse::<usize>().is_ok() => time(number(0, 100)),
        None => time(100),
        _ => eprintln!("usage: watermark make PAGES LINES FILE | run FILE [AT_ONCE] | time [PAGES]"),
    }
}
