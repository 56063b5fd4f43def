//! Candor's blob storage: uploaded files (documents, their versions) kept in a local directory
//! (the default, inside the data directory) or in S3-compatible object storage, through one
//! interface (the `object_store` crate). Every blob is encrypted before it leaves the process,
//! with its own data key (see `candor_crypto::envelope`), and streamed both ways: a large file is
//! never held whole in memory.

pub mod bucket;
pub mod keyfile;

use bytes::Bytes;
use candor_crypto::envelope::{CryptoError, DataKey, Decryptor, Encryptor, KeyRing, WrappedKey};
use futures_util::stream::{BoxStream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Where blobs live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A directory on this machine.
    Local(std::path::PathBuf),
    /// An S3-compatible bucket (AWS S3, MinIO, Ceph, R2, ...).
    S3(S3Settings),
}

/// S3 settings. The secret key never reaches logs.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// Another endpoint than AWS's, for S3-compatible storage.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Objects under this prefix (`""` for the bucket's root).
    pub prefix: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("prefix", &self.prefix)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("blob storage: {0}")]
    Storage(#[from] object_store::Error),
    #[error("reading the upload: {0}")]
    Io(#[from] std::io::Error),
    #[error("blob storage is not configured right: {0}")]
    Config(String),
}

/// What the database keeps about a stored blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// Random, 128 bits, hex: also the object's name.
    pub id: String,
    pub wrapped: WrappedKey,
    /// Plaintext size and SHA-256.
    pub size: u64,
    pub sha256: String,
}

/// Encrypted blob storage.
#[derive(Clone, Debug)]
pub struct BlobStore {
    objects: Arc<dyn ObjectStore>,
    prefix: String,
    /// For a local directory, reads go straight to the file with large buffers (object_store's
    /// local reads come in 8 KiB pieces, each a blocking-pool round trip: 5× slower).
    local_root: Option<std::path::PathBuf>,
}

impl BlobStore {
    pub fn open(backend: &Backend) -> Result<BlobStore, BlobError> {
        match backend {
            Backend::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| BlobError::Config(format!("cannot create {}: {e}", dir.display())))?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
                Ok(BlobStore {
                    objects: Arc::new(fs),
                    prefix: String::new(),
                    local_root: Some(dir.clone()),
                })
            }
            Backend::S3(s) => Ok(BlobStore {
                objects: Arc::new(amazon(s)?),
                prefix: s.prefix.trim_matches('/').to_owned(),
                local_root: None,
            }),
        }
    }

    fn path(&self, id: &str) -> ObjectPath {
        let name = format!("blobs/{}/{id}", &id[..2.min(id.len())]);
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// Encrypts `reader` into a new blob, at most `limit` plaintext bytes. Over the limit, the
    /// upload is abandoned (nothing is kept) and `TooLarge` returned.
    pub async fn put(
        &self,
        ring: &KeyRing,
        mut reader: impl AsyncRead + Unpin,
        limit: u64,
    ) -> Result<StoredBlob, BlobError> {
        let id = hex::encode(rand_id());
        let dk = DataKey::generate();
        let (mut enc, header) = Encryptor::new(&dk);
        let mut sink = self.writer(&id).await?;
        let mut hash = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        let result: Result<(), BlobError> = async {
            sink.write_all(&header).await?;
            loop {
                let n = reader.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                if size > limit {
                    return Err(BlobError::TooLarge { limit });
                }
                hash.update(&buf[..n]);
                sink.write_all(&enc.update(&buf[..n])).await?;
            }
            sink.write_all(&enc.finish()).await?;
            sink.finish().await
        }
        .await;
        if let Err(e) = result {
            // Abandon the partial object (a multipart upload is aborted, a local file removed).
            sink.abandon().await;
            let _ = self.objects.delete(&self.path(&id)).await;
            return Err(e);
        }
        Ok(StoredBlob {
            id,
            wrapped: ring.wrap(&dk),
            size,
            sha256: hex::encode(hash.finalize()),
        })
    }

    /// Where a new blob's sealed bytes go: a local file written beside its final name and renamed
    /// into place once complete, or an object-store upload (multipart when large).
    async fn writer(&self, id: &str) -> Result<Sink, BlobError> {
        match &self.local_root {
            Some(root) => {
                let path = root.join(self.path(id).as_ref());
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                let tmp = path.with_extension("partial");
                let file = tokio::fs::File::create(&tmp).await?;
                Ok(Sink::Local {
                    file: tokio::io::BufWriter::with_capacity(1 << 20, file),
                    tmp,
                    path,
                })
            }
            None => Ok(Sink::Object(object_store::buffered::BufWriter::new(
                self.objects.clone(),
                self.path(id),
            ))),
        }
    }

    /// Stores bytes already in memory.
    pub async fn put_bytes(&self, ring: &KeyRing, data: &[u8]) -> Result<StoredBlob, BlobError> {
        self.put(ring, data, u64::MAX).await
    }

    /// The blob's plaintext as a stream of checked pieces. A piece is released only after its
    /// chunk's tag verified; damage anywhere ends the stream with an error instead of its end.
    pub async fn get(
        &self,
        ring: &KeyRing,
        id: &str,
        wrapped: &WrappedKey,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let dk = ring.unwrap(wrapped)?;
        let sealed: BoxStream<'static, Result<Bytes, BlobError>> = match &self.local_root {
            Some(root) => {
                let path = root.join(self.path(id).as_ref());
                let file = tokio::fs::File::open(&path).await.map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => BlobError::Storage(object_store::Error::NotFound {
                        path: path.display().to_string(),
                        source: e.into(),
                    }),
                    _ => BlobError::Io(e),
                })?;
                tokio_util::io::ReaderStream::with_capacity(file, 1 << 20)
                    .map(|r| r.map_err(BlobError::Io))
                    .boxed()
            }
            None => self
                .objects
                .get(&self.path(id))
                .await?
                .into_stream()
                .map(|r| r.map_err(BlobError::Storage))
                .boxed(),
        };
        let state = (sealed, Some(Decryptor::new(&dk)));
        let plain = futures_util::stream::unfold(state, |(mut sealed, dec)| async move {
            let mut dec = dec?;
            loop {
                match sealed.next().await {
                    Some(Ok(bytes)) => match dec.update(&bytes) {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Some((Ok(Bytes::from(out)), (sealed, Some(dec)))),
                        Err(e) => return Some((Err(e.into()), (sealed, None))),
                    },
                    Some(Err(e)) => return Some((Err(e), (sealed, None))),
                    None => {
                        return match dec.finish() {
                            Ok(out) => Some((Ok(Bytes::from(out)), (sealed, None))),
                            Err(e) => Some((Err(e.into()), (sealed, None))),
                        }
                    }
                }
            }
        });
        Ok(plain.boxed())
    }

    /// The whole plaintext (for files that must be processed whole, like a PDF to watermark).
    pub async fn read_all(&self, ring: &KeyRing, id: &str, wrapped: &WrappedKey) -> Result<Vec<u8>, BlobError> {
        let mut stream = self.get(ring, id, wrapped).await?;
        let mut out = vec![];
        while let Some(piece) = stream.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok(out)
    }

    pub async fn delete(&self, id: &str) -> Result<(), BlobError> {
        match self.objects.delete(&self.path(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The names of the stored objects last written before `cutoff` (Unix seconds): blob ids, and
    /// the `ID.partial` files of local writes that never finished. The sweep of unreferenced
    /// blobs starts from this list; [`BlobStore::delete`] takes these names.
    pub async fn written_before(&self, cutoff: i64) -> Result<Vec<String>, BlobError> {
        let root = if self.prefix.is_empty() {
            ObjectPath::from("blobs")
        } else {
            ObjectPath::from(format!("{}/blobs", self.prefix))
        };
        let mut list = self.objects.list(Some(&root));
        let mut names = vec![];
        while let Some(meta) = list.next().await {
            let meta = meta?;
            if meta.last_modified.timestamp() < cutoff {
                if let Some(name) = meta.location.filename() {
                    names.push(name.to_owned());
                }
            }
        }
        Ok(names)
    }

    /// The stored (sealed) bytes of a blob as a stream, for backups: they are copied as they
    /// are, still encrypted under their data key.
    pub async fn sealed_stream(&self, id: &str) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        match &self.local_root {
            Some(root) => {
                let path = root.join(self.path(id).as_ref());
                let file = tokio::fs::File::open(&path).await?;
                Ok(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20)
                    .map(|r| r.map_err(BlobError::Io))
                    .boxed())
            }
            None => Ok(self
                .objects
                .get(&self.path(id))
                .await?
                .into_stream()
                .map(|r| r.map_err(BlobError::Storage))
                .boxed()),
        }
    }

    /// Starts writing a blob's sealed bytes under its existing id (a restore). Nothing is visible
    /// under the id until [`SealedUpload::finish`].
    pub async fn sealed_upload(&self, id: &str) -> Result<SealedUpload, BlobError> {
        let valid = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(BlobError::Config(format!("{id:?} is not a blob id")));
        }
        Ok(SealedUpload(self.writer(id).await?))
    }

    /// Replaces the stored bytes of a blob (tests use it to simulate damage at rest).
    #[doc(hidden)]
    pub async fn overwrite_raw(&self, id: &str, sealed: Vec<u8>) -> Result<(), BlobError> {
        self.objects.put(&self.path(id), PutPayload::from(sealed)).await?;
        Ok(())
    }

    /// How many objects the store holds (tests check that nothing is left behind).
    #[doc(hidden)]
    pub async fn count_objects(&self) -> Result<usize, BlobError> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let mut list = self.objects.list(prefix.as_ref());
        let mut n = 0;
        while let Some(item) = list.next().await {
            item?;
            n += 1;
        }
        Ok(n)
    }

    /// The stored (sealed) bytes of a blob.
    #[doc(hidden)]
    pub async fn read_raw(&self, id: &str) -> Result<Vec<u8>, BlobError> {
        Ok(self.objects.get(&self.path(id)).await?.bytes().await?.to_vec())
    }
}

/// A blob's sealed bytes being written back (see [`BlobStore::sealed_upload`]).
pub struct SealedUpload(Sink);

impl SealedUpload {
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        self.0.write_all(bytes).await
    }

    /// Makes the blob visible under its id.
    pub async fn finish(mut self) -> Result<(), BlobError> {
        self.0.finish().await
    }

    /// Drops what was written.
    pub async fn abandon(self) {
        self.0.abandon().await
    }
}

/// A blob being written.
enum Sink {
    Local {
        file: tokio::io::BufWriter<tokio::fs::File>,
        tmp: std::path::PathBuf,
        path: std::path::PathBuf,
    },
    Object(object_store::buffered::BufWriter),
}

impl Sink {
    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        match self {
            Sink::Local { file, .. } => file.write_all(bytes).await?,
            Sink::Object(w) => w.write_all(bytes).await?,
        }
        Ok(())
    }

    /// Completes the blob: a local file is flushed to disk and renamed into place.
    async fn finish(&mut self) -> Result<(), BlobError> {
        match self {
            Sink::Local { file, tmp, path } => {
                file.flush().await?;
                file.get_ref().sync_all().await?;
                tokio::fs::rename(&tmp, &path).await?;
            }
            Sink::Object(w) => w.shutdown().await?,
        }
        Ok(())
    }

    async fn abandon(self) {
        match self {
            Sink::Local { tmp, .. } => {
                let _ = tokio::fs::remove_file(tmp).await;
            }
            Sink::Object(mut w) => {
                let _ = w.abort().await;
            }
        }
    }
}

/// An S3 client for these settings.
fn amazon(s: &S3Settings) -> Result<object_store::aws::AmazonS3, BlobError> {
    let mut b = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(&s.bucket)
        .with_region(&s.region)
        .with_access_key_id(&s.access_key_id)
        .with_secret_access_key(&s.secret_access_key);
    if let Some(endpoint) = &s.endpoint {
        b = b
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
    }
    Ok(b.build()?)
}

fn rand_id() -> [u8; 16] {
    rand::random()
}
