//! Downloads of stored documents: the file decrypted as it streams out, as an attachment with
//! `nosniff` and no caching. Public documents are here; NDA ones go through a viewer's grant.

use crate::http::error::{WebError, WebResult};
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use candor_core::documents::Access;
use candor_crypto::envelope::WrappedKey;
use futures_util::StreamExt;

/// Streams one version. If the stored file turns out damaged, the stream stops with an error (the
/// client sees a broken download, never a complete-looking one) and the damage is audited.
pub async fn stream_version(
    state: &AppState,
    version: &candor_store::DocumentVersion,
    ip: &str,
) -> WebResult<Response> {
    let blob = state.store().blob(&version.blob_id).await?.ok_or(WebError::NotFound)?;
    let ring = state.key_ring_for(&blob.key_id)?;
    let wrapped = WrappedKey {
        key_id: blob.key_id.clone(),
        sealed: blob.wrapped_key.clone(),
    };
    let stream = match state.blobs().get(&ring, &blob.id, &wrapped).await {
        Ok(s) => s,
        Err(e) => return Err(damaged(state, &blob.id, ip, e).await),
    };
    let (state2, blob_id, ip2) = (state.clone(), blob.id.clone(), ip.to_owned());
    let body = stream.then(move |piece| {
        let (state, blob_id, ip) = (state2.clone(), blob_id.clone(), ip2.clone());
        async move {
            match piece {
                Ok(bytes) => Ok(bytes),
                Err(e) => {
                    let _ = damaged(&state, &blob_id, &ip, e).await;
                    Err(std::io::Error::other("the stored file is damaged"))
                }
            }
        }
    });
    let mut res = Body::from_stream(body).into_response();
    let h = res.headers_mut();
    crate::http::format::set_download_headers(h, &version.content_type, &version.filename);
    h.insert(header::CONTENT_LENGTH, blob.size.into());
    Ok(res)
}

/// Logs and audits a damaged or unreadable blob; the answer is a plain server error.
pub(crate) async fn damaged(state: &AppState, blob_id: &str, ip: &str, e: candor_blob::BlobError) -> WebError {
    tracing::error!(blob.id = blob_id, error = %e, "a stored file could not be read back");
    let recorded = state
        .app()
        .record(
            &candor_app::Actor::System,
            candor_app::Action::DocumentDamaged,
            format!("blob/{blob_id}"),
            // Candor found the damage; the client whose download revealed it is noted.
            serde_json::json!({"error": e.to_string(), "client_ip": ip}),
        )
        .await;
    match recorded {
        Ok(done) => state.apply(done.effects).await,
        Err(e) => tracing::error!(error = %e, "could not record a damaged file in the audit log"),
    }
    WebError::Internal(anyhow::anyhow!("stored file {blob_id} could not be read: {e}"))
}

/// `GET /documents/{slug}/download`: the current version of a public document; anything else is
/// simply not found here.
pub async fn download(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Path(slug): Path<String>,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    let doc = state
        .store()
        .document(state.org(), &slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let (Access::Public, Some(version)) = (doc.access, doc.current.as_ref()) else {
        return Err(WebError::NotFound);
    };
    let res = stream_version(&state, version, &peer.ip().to_string()).await?;
    state.page_views().note_download(&method, &slug, &headers);
    Ok(res)
}
