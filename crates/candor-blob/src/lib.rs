//! Candor's blob storage: uploaded files (documents, their versions) kept in a local directory
//! (the default, inside the data directory) or in S3-compatible object storage, through one
//! interface (the `object_store` crate). Every blob is encrypted before it leaves the process,
//! with its own data key (see `candor_crypto::envelope`), and streamed both ways: a large file is
//! never held whole in memory.

pub mod keyfile;

use bytes::Bytes;
use candor_crypto::envelope::{CryptoError, DataKey, Decryptor, Encryptor, KeyRing, WrappedKey, CHUNK};
use futures_util::stream::{BoxStream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
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
                })
            }
            Backend::S3(s) => {
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
                Ok(BlobStore {
                    objects: Arc::new(b.build()?),
                    prefix: s.prefix.trim_matches('/').to_owned(),
                })
            }
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
        let mut writer = object_store::buffered::BufWriter::new(self.objects.clone(), self.path(&id));
        let mut hash = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; CHUNK];
        let result: Result<(), BlobError> = async {
            writer.write_all(&header).await?;
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
                writer.write_all(&enc.update(&buf[..n])).await?;
            }
            writer.write_all(&enc.finish()).await?;
            writer.shutdown().await?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            // Abandon the partial object (a multipart upload is aborted, a local file removed).
            let _ = writer.abort().await;
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
        let sealed = self.objects.get(&self.path(id)).await?.into_stream();
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
                    Some(Err(e)) => return Some((Err(e.into()), (sealed, None))),
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

fn rand_id() -> [u8; 16] {
    rand::random()
}
