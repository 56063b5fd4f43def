//! Receiving an uploaded file from a multipart form: its type is decided by its first bytes, and
//! it is encrypted into the blob store as it arrives, within the size limit.

use crate::http::error::{WebError, WebResult};
use crate::AppState;
use axum::extract::multipart::Field;
use bytes::Bytes;
use candor_blob::BlobError;
use candor_core::documents::{sniff, FileType, SNIFF_BYTES};
use futures_util::{stream, StreamExt, TryStreamExt};

/// A file now stored (encrypted) in the blob store.
pub struct Received {
    pub blob: candor_store::BlobRow,
    pub file_type: FileType,
    /// The name the browser sent, reduced to safe characters (for the download's name only).
    pub filename: String,
}

/// Stores the file in `field`. 415 when its content is not an accepted type, 413 over the limit;
/// in both cases nothing is kept.
pub async fn receive(state: &AppState, mut field: Field<'_>) -> WebResult<Received> {
    let filename = safe_filename(field.file_name().unwrap_or("file"));
    let limit = state.config().storage.upload_limit;
    let too_large = || {
        WebError::TooLarge(format!(
            "The file is larger than the limit of {} MiB. Upload a smaller file, or ask an administrator to raise upload_limit_mb.",
            limit / (1024 * 1024)
        ))
    };
    // Enough of the start to tell the type.
    let mut head = Vec::new();
    while head.len() < SNIFF_BYTES {
        match field.chunk().await {
            Ok(Some(piece)) => head.extend_from_slice(&piece),
            Ok(None) => break,
            Err(e) => return Err(multipart_error(e, too_large)),
        }
    }
    let file_type = sniff(&head[..head.len().min(SNIFF_BYTES)]).map_err(|why| {
        WebError::UnsupportedType(format!(
            "This file is {why}. Documents may be PDF, PNG, JPEG, Word (.docx), Excel (.xlsx) or plain text; the type is read from the file itself, not its name."
        ))
    })?;
    let rest = field.map_err(|e| {
        let kind = if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            std::io::ErrorKind::FileTooLarge
        } else {
            std::io::ErrorKind::Other
        };
        std::io::Error::new(kind, e)
    });
    let all = stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(head)) }).chain(rest);
    let reader = tokio_util::io::StreamReader::new(all.boxed());
    let ring = state.key_ring();
    let stored = match state.blobs().put(&ring, reader, limit).await {
        Ok(b) => b,
        Err(BlobError::TooLarge { .. }) => return Err(too_large()),
        // The request body went over the server's body limit.
        Err(BlobError::Io(e)) if e.kind() == std::io::ErrorKind::FileTooLarge => return Err(too_large()),
        Err(BlobError::Io(e)) => {
            return Err(WebError::BadRequest(format!(
                "The upload did not arrive whole ({e}). Try again."
            )))
        }
        Err(e) => return Err(WebError::Internal(e.into())),
    };
    // A PDF is watermarked for each viewer, so it must be one the watermarker can mark: checked
    // now by running it (same code, same limits), while the uploader can fix it, instead of
    // failing a viewer's download later.
    if file_type == FileType::Pdf {
        let wrapped = candor_crypto::envelope::WrappedKey {
            key_id: stored.wrapped.key_id.clone(),
            sealed: stored.wrapped.sealed.clone(),
        };
        let readable = match state.blobs().read_all(&ring, &stored.id, &wrapped).await {
            Ok(pdf) => crate::watermark::in_slot(state.watermark_slots(), move || {
                crate::watermark::check(&pdf, &crate::watermark::Budget::standard())
            })
            .await?
            .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(why) = readable {
            state.blobs().delete(&stored.id).await.ok();
            return Err(WebError::UnsupportedType(format!(
                "This PDF cannot be read for watermarking: {why}. Save it again without a password, or export it anew (for example with \"Print to PDF\"), and upload that."
            )));
        }
    }
    Ok(Received {
        blob: candor_store::BlobRow {
            id: stored.id,
            key_id: stored.wrapped.key_id,
            wrapped_key: stored.wrapped.sealed,
            size: stored.size as i64,
            sha256: stored.sha256,
        },
        file_type,
        filename,
    })
}

fn multipart_error(e: axum::extract::multipart::MultipartError, too_large: impl Fn() -> WebError) -> WebError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        WebError::BadRequest(format!("The upload could not be read ({}). Try again.", e.body_text()))
    }
}

/// Letters, digits, `.`, `-` and `_` only, at most 100 characters; never empty.
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

/// The name to download a version as: the uploaded name, with the extension of its real type.
pub fn download_name(filename: &str, file_type_ext: &str) -> String {
    let stem = filename.rsplit_once('.').map(|(s, _)| s).unwrap_or(filename);
    format!("{stem}.{file_type_ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_reduced_to_safe_characters() {
        assert_eq!(safe_filename("SOC 2 Type II (2026).pdf"), "SOC_2_Type_II__2026_.pdf");
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(safe_filename("\"; evil=1\r\n.pdf"), "___evil_1__.pdf");
        assert_eq!(safe_filename(".htaccess"), "htaccess");
        assert_eq!(safe_filename(""), "file");
        assert_eq!(download_name("report.exe", "pdf"), "report.pdf");
        assert_eq!(download_name("notes", "txt"), "notes.txt");
    }
}
