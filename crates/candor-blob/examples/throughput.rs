//! Encrypted blob throughput against the plain file, on this machine's disk, in one run.
//!
//!     cargo run --release -p candor-blob --example throughput [SIZE_MIB]
//!
//! Writes a SIZE_MIB (default 1024) file of pseudo-random bytes, then times, three rounds each
//! (median reported): reading the plain file in 1 MiB pieces; encrypting it into the blob store
//! (local directory) from that file; and reading the blob back through decryption. Also reports
//! the process's peak resident memory before and after the encrypted read, to show that a large
//! blob streams through a fixed buffer.

use candor_blob::{Backend, BlobStore};
use candor_crypto::envelope::KeyRing;
use futures_util::StreamExt;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mib: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1024);
    let size = mib * 1024 * 1024;
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let plain = dir.path().join("plain.bin");
    {
        let mut f = tokio::fs::File::create(&plain).await.unwrap();
        let mut block = vec![0u8; 1 << 20];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..mib {
            for b in block.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            f.write_all(&block).await.unwrap();
        }
        f.sync_all().await.unwrap();
    }
    let store = BlobStore::open(&Backend::Local(dir.path().join("blobs"))).unwrap();
    let ring = KeyRing::generate();
    let gbps = |secs: f64| size as f64 / secs / 1e9;

    let mut plain_read = vec![];
    let mut plain_write = vec![];
    let mut enc_write = vec![];
    let mut dec_read = vec![];
    let rss_before = peak_rss_mib();
    for _ in 0..3 {
        let t = Instant::now();
        let mut f = tokio::fs::File::open(&plain).await.unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let mut n = 0u64;
        loop {
            let r = f.read(&mut buf).await.unwrap();
            if r == 0 {
                break;
            }
            n += r as u64;
        }
        assert_eq!(n, size);
        plain_read.push(t.elapsed().as_secs_f64());

        // The reference for writing: copying the plain file, flushed to disk like a blob.
        let t = Instant::now();
        let copy = dir.path().join("copy.bin");
        tokio::fs::copy(&plain, &copy).await.unwrap();
        tokio::fs::File::open(&copy).await.unwrap().sync_all().await.unwrap();
        plain_write.push(t.elapsed().as_secs_f64());
        tokio::fs::remove_file(&copy).await.unwrap();

        let t = Instant::now();
        let f = tokio::fs::File::open(&plain).await.unwrap();
        let blob = store.put(&ring, f, u64::MAX).await.unwrap();
        enc_write.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let mut s = store.get(&ring, &blob.id, &blob.wrapped).await.unwrap();
        let mut n = 0u64;
        while let Some(piece) = s.next().await {
            n += piece.unwrap().len() as u64;
        }
        assert_eq!(n, size);
        dec_read.push(t.elapsed().as_secs_f64());
        store.delete(&blob.id).await.unwrap();
    }
    let rss_after = peak_rss_mib();
    // The cipher alone, in memory (256 MiB), to tell crypto from I/O.
    let data = vec![7u8; 256 << 20];
    let dk = candor_crypto::envelope::DataKey::generate();
    let t = Instant::now();
    let sealed = candor_crypto::envelope::seal_all(&dk, &data);
    let seal_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let opened = candor_crypto::envelope::open_all(&dk, &sealed).unwrap();
    let open_s = t.elapsed().as_secs_f64();
    assert_eq!(opened.len(), data.len());
    println!(
        "in memory, 256 MiB: seal {:.2} GB/s, open {:.2} GB/s",
        data.len() as f64 / seal_s / 1e9,
        data.len() as f64 / open_s / 1e9
    );
    let (p, w, e, d) = (
        median(plain_read),
        median(plain_write),
        median(enc_write),
        median(dec_read),
    );
    println!(
        "file: {mib} MiB; {} cores; medians of 3 rounds",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!("plain read:                 {:.2} GB/s ({p:.3} s)", gbps(p));
    println!("plain copy, flushed:        {:.2} GB/s ({w:.3} s)", gbps(w));
    println!(
        "encrypt into blob store:    {:.2} GB/s ({e:.3} s)  ratio to plain copy {:.2}",
        gbps(e),
        w / e
    );
    println!(
        "read back with decryption:  {:.2} GB/s ({d:.3} s)  ratio to plain read {:.2}",
        gbps(d),
        p / d
    );
    println!("peak RSS: {rss_before:.1} MiB before the rounds, {rss_after:.1} MiB after (the file is {mib} MiB)");
}
