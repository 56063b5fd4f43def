//! The backup archive: one file holding every table and every blob, encrypted whole.
//!
//! Layout on disk:
//!
//! ```text
//! "CANDOR-BACKUP\n" · u16 (big-endian) length · header JSON {format, key_id, wrapped_key}
//! · the plaintext below, sealed with candor-crypto's chunked AES-256-GCM (STREAM) under a
//!   fresh data key, which the header carries wrapped by the master key ring
//! ```
//!
//! The plaintext is a sequence of frames `kind (1 byte) · length (u32 big-endian) · payload`:
//! `E` opens an entry (payload: its name), `D` carries its bytes, `Z` closes it, and one `M`
//! frame, the last, holds the [`Manifest`] with every entry's size and SHA-256. Entries are
//! `tables/NAME.jsonl` (one JSON array of cells per row) and `blobs/ID` (the blob's sealed bytes
//! as stored, still encrypted under their own data key).
//!
//! Everything streams through fixed buffers: a gigabyte of blobs is never held in memory. The
//! chunked encryption makes any change, reordering or truncation of the file fail to decrypt;
//! the manifest's digests also catch a writer that lost or mixed up an entry.

use candor_crypto::envelope::{CryptoError, DataKey, Decryptor, Encryptor, KeyRing, WrappedKey};
use candor_store::snapshot::TableSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const MAGIC: &[u8] = b"CANDOR-BACKUP\n";
/// The archive format this build writes and reads.
pub const FORMAT: u32 = 1;
/// Plaintext bytes gathered before they are framed and sealed.
const FRAME: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("not a Candor backup archive (it does not start with the archive's signature)")]
    NotAnArchive,
    #[error("the archive is format {0}; this version of Candor reads format {FORMAT}: restore with the version that wrote it")]
    Format(u32),
    #[error(
        "this archive was encrypted under master key {0}, which is not in this installation's key ring: \
         restore with the key ring of the installation that made it (DATA_DIR/master.keys or CANDOR_MASTER_KEY)"
    )]
    UnknownKey(String),
    #[error("the archive is damaged or was tampered with: {0}; nothing was restored")]
    Damaged(String),
    #[error("reading or writing the archive: {0}")]
    Io(#[from] std::io::Error),
}

impl From<CryptoError> for ArchiveError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::UnknownKey(id) => ArchiveError::UnknownKey(id),
            other => ArchiveError::Damaged(other.to_string()),
        }
    }
}

/// What the archive holds, written last and checked before anything is restored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// When the snapshot was taken (Unix seconds).
    pub created_at: i64,
    pub candor_version: String,
    /// `sqlite` or `postgres`: where it came from (it restores into either).
    pub source: String,
    /// The newest migration of the source database.
    pub schema_version: i64,
    pub tables: Vec<TableManifest>,
    pub blobs: u64,
    pub entries: Vec<EntryDigest>,
}

impl Manifest {
    pub fn row_count(&self) -> i64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TableManifest {
    pub schema: TableSchema,
    pub rows: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDigest {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    key_id: String,
    wrapped_key: String,
}

/// Writes an archive.
pub struct ArchiveWriter<W> {
    out: W,
    enc: Encryptor,
    /// Plaintext not yet sealed.
    pending: Vec<u8>,
    current: Option<(String, u64, Sha256)>,
    entries: Vec<EntryDigest>,
    written: u64,
}

impl<W: AsyncWrite + Unpin> ArchiveWriter<W> {
    /// Writes the header: a new data key, wrapped by the ring's current master key.
    pub async fn new(mut out: W, ring: &KeyRing) -> Result<Self, ArchiveError> {
        let dk = DataKey::generate();
        let wrapped = ring.wrap(&dk);
        let header = serde_json::to_vec(&Header {
            format: FORMAT,
            key_id: wrapped.key_id,
            wrapped_key: wrapped.sealed,
        })
        .map_err(std::io::Error::other)?;
        let (enc, envelope) = Encryptor::new(&dk);
        out.write_all(MAGIC).await?;
        out.write_all(&(header.len() as u16).to_be_bytes()).await?;
        out.write_all(&header).await?;
        out.write_all(&envelope).await?;
        let written = (MAGIC.len() + 2 + header.len() + envelope.len()) as u64;
        Ok(ArchiveWriter {
            out,
            enc,
            pending: Vec::with_capacity(FRAME + 64),
            current: None,
            entries: vec![],
            written,
        })
    }

    async fn frame(&mut self, kind: u8, payload: &[u8]) -> Result<(), ArchiveError> {
        self.pending.push(kind);
        self.pending.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        self.pending.extend_from_slice(payload);
        if self.pending.len() >= FRAME {
            let sealed = self.enc.update(&self.pending);
            self.pending.clear();
            self.out.write_all(&sealed).await?;
            self.written += sealed.len() as u64;
        }
        Ok(())
    }

    pub async fn begin_entry(&mut self, name: &str) -> Result<(), ArchiveError> {
        debug_assert!(self.current.is_none(), "entries do not nest");
        self.frame(b'E', name.as_bytes()).await?;
        self.current = Some((name.to_owned(), 0, Sha256::new()));
        Ok(())
    }

    pub async fn write(&mut self, mut data: &[u8]) -> Result<(), ArchiveError> {
        if let Some((_, size, hash)) = &mut self.current {
            *size += data.len() as u64;
            hash.update(data);
        }
        while !data.is_empty() {
            let take = data.len().min(FRAME);
            self.frame(b'D', &data[..take]).await?;
            data = &data[take..];
        }
        Ok(())
    }

    pub async fn end_entry(&mut self) -> Result<(), ArchiveError> {
        if let Some((name, size, hash)) = self.current.take() {
            self.entries.push(EntryDigest {
                name,
                size,
                sha256: hex::encode(hash.finalize()),
            });
        }
        self.frame(b'Z', &[]).await
    }

    /// Writes the manifest (with the digests gathered) and seals the end. Returns the manifest
    /// and the archive's size in bytes.
    pub async fn finish(mut self, mut manifest: Manifest) -> Result<(Manifest, u64, W), ArchiveError> {
        manifest.entries = std::mem::take(&mut self.entries);
        let json = serde_json::to_vec(&manifest).map_err(std::io::Error::other)?;
        self.frame(b'M', &json).await?;
        let mut sealed = self.enc.update(&self.pending);
        sealed.extend_from_slice(&self.enc.finish());
        self.out.write_all(&sealed).await?;
        self.out.flush().await?;
        self.written += sealed.len() as u64;
        Ok((manifest, self.written, self.out))
    }
}

/// One frame read back.
#[derive(Debug)]
pub enum Frame {
    Begin(String),
    Data(Vec<u8>),
    End,
    Manifest(Box<Manifest>),
}

/// Reads an archive frame by frame, decrypting as it goes. A frame is handed out only after the
/// chunks it came from checked out.
pub struct ArchiveReader<R> {
    input: R,
    dec: Option<Decryptor>,
    plain: Vec<u8>,
    /// Where the next frame starts in `plain`.
    at: usize,
    done: bool,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> ArchiveReader<R> {
    /// Reads the header and unwraps the archive's key with `ring`.
    pub async fn open(mut input: R, ring: &KeyRing) -> Result<Self, ArchiveError> {
        let mut magic = [0u8; MAGIC.len()];
        if input.read_exact(&mut magic).await.is_err() || magic != MAGIC {
            return Err(ArchiveError::NotAnArchive);
        }
        let len = input.read_u16().await? as usize;
        let mut header = vec![0u8; len];
        input.read_exact(&mut header).await?;
        let header: Header =
            serde_json::from_slice(&header).map_err(|e| ArchiveError::Damaged(format!("header: {e}")))?;
        if header.format != FORMAT {
            return Err(ArchiveError::Format(header.format));
        }
        let dk = ring.unwrap(&WrappedKey {
            key_id: header.key_id,
            sealed: header.wrapped_key,
        })?;
        Ok(ArchiveReader {
            input,
            dec: Some(Decryptor::new(&dk)),
            plain: vec![],
            at: 0,
            done: false,
            buf: vec![0u8; 1 << 20],
        })
    }

    /// The next frame, or `None` at the end of the file (after its last chunk checked out).
    pub async fn next(&mut self) -> Result<Option<Frame>, ArchiveError> {
        loop {
            if let Some(frame) = self.parse()? {
                return Ok(Some(frame));
            }
            if self.done {
                if self.at < self.plain.len() {
                    return Err(ArchiveError::Damaged("the archive ends inside a frame".into()));
                }
                return Ok(None);
            }
            let n = self.input.read(&mut self.buf).await?;
            let more = match (n, self.dec.take()) {
                (_, None) => vec![],
                (0, Some(dec)) => {
                    self.done = true;
                    dec.finish()?
                }
                (n, Some(mut dec)) => {
                    let out = dec.update(&self.buf[..n])?;
                    self.dec = Some(dec);
                    out
                }
            };
            if self.at > 0 {
                self.plain.drain(..self.at);
                self.at = 0;
            }
            self.plain.extend_from_slice(&more);
        }
    }

    fn parse(&mut self) -> Result<Option<Frame>, ArchiveError> {
        let rest = &self.plain[self.at..];
        if rest.len() < 5 {
            return Ok(None);
        }
        let len = u32::from_be_bytes(rest[1..5].try_into().expect("4 bytes")) as usize;
        if rest.len() < 5 + len {
            return Ok(None);
        }
        let payload = &rest[5..5 + len];
        let frame = match rest[0] {
            b'E' => Frame::Begin(
                String::from_utf8(payload.to_vec()).map_err(|_| ArchiveError::Damaged("an entry name".into()))?,
            ),
            b'D' => Frame::Data(payload.to_vec()),
            b'Z' => Frame::End,
            b'M' => Frame::Manifest(Box::new(
                serde_json::from_slice(payload).map_err(|e| ArchiveError::Damaged(format!("manifest: {e}")))?,
            )),
            other => return Err(ArchiveError::Damaged(format!("unknown frame kind {other}"))),
        };
        self.at += 5 + len;
        Ok(Some(frame))
    }
}

/// Reads the whole archive, recomputes every entry's digest and compares them with the manifest.
/// Nothing is written; the manifest is returned only when everything matches.
pub async fn verify<R: AsyncRead + Unpin>(
    input: R,
    ring: &KeyRing,
    mut progress: impl FnMut(u64),
) -> Result<Manifest, ArchiveError> {
    let mut reader = ArchiveReader::open(input, ring).await?;
    let mut seen: Vec<EntryDigest> = vec![];
    let mut current: Option<(String, u64, Sha256)> = None;
    let mut manifest = None;
    let mut bytes = 0u64;
    while let Some(frame) = reader.next().await? {
        if manifest.is_some() {
            return Err(ArchiveError::Damaged("data after the manifest".into()));
        }
        match frame {
            Frame::Begin(name) => {
                if current.is_some() {
                    return Err(ArchiveError::Damaged(format!("entry {name} opens inside another")));
                }
                current = Some((name, 0, Sha256::new()));
            }
            Frame::Data(data) => {
                let (_, size, hash) = current
                    .as_mut()
                    .ok_or_else(|| ArchiveError::Damaged("data outside an entry".into()))?;
                *size += data.len() as u64;
                hash.update(&data);
                bytes += data.len() as u64;
                progress(bytes);
            }
            Frame::End => {
                let (name, size, hash) = current
                    .take()
                    .ok_or_else(|| ArchiveError::Damaged("an entry closes that never opened".into()))?;
                seen.push(EntryDigest {
                    name,
                    size,
                    sha256: hex::encode(hash.finalize()),
                });
            }
            Frame::Manifest(m) => manifest = Some(*m),
        }
    }
    let manifest = manifest.ok_or_else(|| ArchiveError::Damaged("the manifest is missing".into()))?;
    if manifest.entries.len() != seen.len() {
        return Err(ArchiveError::Damaged(format!(
            "the manifest lists {} entries, the archive holds {}",
            manifest.entries.len(),
            seen.len()
        )));
    }
    for (listed, found) in manifest.entries.iter().zip(&seen) {
        if listed != found {
            return Err(ArchiveError::Damaged(format!(
                "entry {} does not match its digest in the manifest",
                found.name
            )));
        }
    }
    Ok(manifest)
}
