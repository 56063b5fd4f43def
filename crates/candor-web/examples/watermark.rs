//! Watermarking latency for a PDF of many pages, against parsing and saving it unchanged
//! (the floor for any PDF rewrite with the same library), in one run.
//!
//!     cargo run --release -p candor-web --example watermark [PAGES]
//!
//! Builds a PDF of PAGES pages (default 100) with text on each, then times 20 rounds of each and
//! reports the median.

use std::time::Instant;

fn pdf(pages: usize) -> Vec<u8> {
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
        for line in 0..40 {
            content.push_str(&format!(
                "BT /F1 10 Tf 72 {} Td (Page {} line {line}: findings, scope and method of the assessment.) Tj ET\n",
                740 - line * 16,
                i + 1
            ));
        }
        objects.push(format!("<< /Type /Page /Parent 2 0 R /Contents {} 0 R >>", 5 + 2 * i));
        objects.push(candor_web::simple_pdf::stream(&content));
    }
    candor_web::simple_pdf::assemble(&objects)
}

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2] * 1000.0
}

fn main() {
    let pages: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let input = pdf(pages);
    let mark = candor_web::watermark::Mark {
        name: "Dana Prospect",
        email: "dana@acme-buyer.example",
        company: "Acme Buyer Ltd",
        date: "2026-11-25",
        grant: "g-0123456789ab",
    };
    let (mut marked, mut plain) = (vec![], vec![]);
    let mut out_len = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let mut doc = lopdf::Document::load_mem(&input).unwrap();
        let mut buf = vec![];
        doc.save_to(&mut buf).unwrap();
        plain.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        out_len = candor_web::watermark::watermark(&input, &mark).unwrap().len();
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
