//! Plain objects under a prefix of an S3-compatible bucket: where backup archives go when the
//! destination is `s3://bucket/prefix`. Nothing is encrypted here; an archive is already.

use crate::{amazon, BlobError, S3Settings};
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// An object being uploaded (multipart when large); complete it with `shutdown`, or `abort`.
pub use object_store::buffered::BufWriter as ObjectWriter;

pub struct Bucket {
    objects: Arc<dyn ObjectStore>,
    prefix: String,
}

impl Bucket {
    pub fn open(settings: &S3Settings) -> Result<Bucket, BlobError> {
        Ok(Bucket {
            objects: Arc::new(amazon(settings)?),
            prefix: settings.prefix.trim_matches('/').to_owned(),
        })
    }

    fn path(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// Starts uploading `name`; it appears only once the writer is shut down.
    pub fn writer(&self, name: &str) -> ObjectWriter {
        ObjectWriter::new(self.objects.clone(), self.path(name))
    }

    /// The names of the objects directly under the prefix.
    pub async fn names(&self) -> Result<Vec<String>, BlobError> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let listed = self.objects.list_with_delimiter(prefix.as_ref()).await?;
        Ok(listed
            .objects
            .into_iter()
            .filter_map(|m| m.location.filename().map(str::to_owned))
            .collect())
    }

    /// Copies object `name` into the file `to`, streaming.
    pub async fn download(&self, name: &str, to: &std::path::Path) -> Result<(), BlobError> {
        let mut stream = self.objects.get(&self.path(name)).await?.into_stream();
        let mut file = tokio::io::BufWriter::new(tokio::fs::File::create(to).await?);
        while let Some(piece) = stream.next().await {
            file.write_all(&piece?).await?;
        }
        file.flush().await?;
        Ok(())
    }

    pub async fn delete(&self, name: &str) -> Result<(), BlobError> {
        self.objects.delete(&self.path(name)).await?;
        Ok(())
    }
}
