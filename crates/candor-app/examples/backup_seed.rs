//! Fills a Candor installation for the backup benchmark: ROWS audit entries (one transaction,
//! the real hash chain) and MB megabytes of stored files in FILES blobs, encrypted under the
//! data directory's master key ring as uploads are.
//!
//!     cargo run --release -p candor-app --example backup_seed -- DATABASE_URL DATA_DIR ROWS MB [FILES]
//!
//! Used by `bench/backup.sh`. The file contents are pseudo-random (incompressible, like PDFs).

use candor_blob::{Backend, BlobStore};
use candor_store::{BlobRow, NewAuditEvent, Store};
use std::path::PathBuf;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, data_dir, rows, mb, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: backup_seed DATABASE_URL DATA_DIR ROWS MB [FILES]");
    };
    let rows: usize = rows.parse()?;
    let mb: usize = mb.parse()?;
    let files: usize = rest.first().map(|f| f.parse()).transpose()?.unwrap_or(64).max(1);
    let data_dir = PathBuf::from(data_dir);
    let store = Store::open(url).await?;
    let org = store.ensure_org("default").await?;
    let (ring, _) = candor_blob::keyfile::load(&data_dir, None, true)?;

    let mut tx = store.begin().await?;
    for i in 0..rows {
        tx.append_audit(
            org,
            NewAuditEvent {
                actor: "bench".into(),
                action: "bench.seed".into(),
                target: format!("row/{i}"),
                ip: "127.0.0.1".into(),
                details: serde_json::json!({"n": i, "note": "a row of the backup benchmark"}),
            },
        )
        .await?;
    }
    tx.commit().await?;

    let blobs = BlobStore::open(&Backend::Local(data_dir.join("blobs")))?;
    let per_file = mb * 1_000_000 / files;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut data = vec![0u8; per_file];
    for _ in 0..files {
        for chunk in data.chunks_mut(8) {
            // xorshift: fast, incompressible enough, the same every run.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let stored = blobs.put_bytes(&ring, &data).await?;
        store
            .insert_blob(
                org,
                &BlobRow {
                    id: stored.id,
                    key_id: stored.wrapped.key_id,
                    wrapped_key: stored.wrapped.sealed,
                    size: stored.size as i64,
                    sha256: stored.sha256,
                },
            )
            .await?;
    }
    store.close().await;
    println!("seeded {rows} audit entries and {files} files of {per_file} bytes");
    Ok(())
}
