//! The back office's upload forms (a new document, a new version): multipart, read in order,
//! with the CSRF token checked before any file is stored.

use crate::http::error::{WebError, WebResult};
use crate::http::session::Admin;
use crate::http::upload::{self, Received};
use crate::AppState;
use axum::extract::Multipart;
use axum::http::StatusCode;
use std::collections::HashMap;

/// Form values, every field possibly repeated (`links`).
pub(super) type Fields = HashMap<String, Vec<String>>;

/// Reads a multipart form: the CSRF token must come first (it is checked before any file is
/// stored), then fields, then at most one file. When the form is refused after its file was
/// stored (a second file part, a bad field), the stored file is deleted: nothing is kept.
pub(super) async fn read_form(
    state: &AppState,
    admin: &Admin,
    form: Multipart,
) -> WebResult<(Fields, Option<Received>)> {
    let mut file = None;
    match read_parts(state, admin, form, &mut file).await {
        Ok(fields) => Ok((fields, file)),
        Err(e) => {
            if let Some(f) = file {
                state.app().discard_upload(&f.blob.id).await;
            }
            Err(e)
        }
    }
}

async fn read_parts(
    state: &AppState,
    admin: &Admin,
    mut form: Multipart,
    file: &mut Option<Received>,
) -> WebResult<Fields> {
    let mut fields: Fields = HashMap::new();
    let mut file_parts = 0;
    let mut csrf_ok = false;
    while let Some(field) = form.next_field().await.map_err(form_error)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            if !csrf_ok {
                return Err(WebError::Csrf);
            }
            file_parts += 1;
            if file_parts > 1 {
                return Err(WebError::BadRequest(
                    "The form has more than one file; upload one file at a time.".into(),
                ));
            }
            if field.file_name().is_some_and(|n| !n.is_empty()) {
                *file = Some(upload::receive(state, field).await?);
            }
            continue;
        }
        // Text fields are small; the body as a whole is limited to the file's limit plus a
        // little (see `upload_route`), and each field is capped here.
        if fields.values().map(Vec::len).sum::<usize>() >= 200 {
            return Err(WebError::TooLarge("The form has too many fields.".into()));
        }
        let value = small_text(field).await?;
        if name == "_csrf" {
            admin.check_csrf(&HashMap::from([("_csrf".to_owned(), value.clone())]))?;
            csrf_ok = true;
        }
        fields.entry(name).or_default().push(value);
    }
    if !csrf_ok {
        return Err(WebError::Csrf);
    }
    Ok(fields)
}

/// A form that could not be read: over the body limit (413), or malformed (400).
fn form_error(e: axum::extract::multipart::MultipartError) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::TooLarge(
            "The form is larger than the upload limit allows. Upload a smaller file, or ask an administrator to raise upload_limit_mb.".into(),
        )
    } else {
        WebError::BadRequest(format!("The form could not be read ({}).", e.body_text()))
    }
}

/// A text field's value, at most 64 KiB.
async fn small_text(mut field: axum::extract::multipart::Field<'_>) -> WebResult<String> {
    let mut bytes = Vec::new();
    while let Some(piece) = field.chunk().await.map_err(form_error)? {
        bytes.extend_from_slice(&piece);
        if bytes.len() > 64 * 1024 {
            return Err(WebError::TooLarge(
                "A text field of the form is larger than 64 KiB.".into(),
            ));
        }
    }
    String::from_utf8(bytes).map_err(|_| WebError::BadRequest("A text field of the form is not UTF-8 text.".into()))
}
