//! The viewer session (an approved reader of NDA documents, signed in by emailed link), as every
//! feature that shows something to viewers reads it: the documents feature for their own pages
//! and downloads, the public site for its viewer variant (NDA-only controls, "Download" instead
//! of "Request access").

use super::error::WebResult;
use super::session::read_cookie;
use crate::AppState;
use axum::http::HeaderMap;
use candor_core::documents::Access;
use candor_core::requests::grant_covers;
use candor_crypto::token_digest;

/// The viewer session's cookie: its own, separate from the back office's.
pub fn session_cookie(state: &AppState) -> &'static str {
    if state.config().secure_cookies {
        "__Host-candor_viewer"
    } else {
        "candor_viewer"
    }
}

/// Whether the request carries a viewer session cookie at all (live or not): the public site's
/// anonymous path, which must stay a hash lookup, asks nothing more of a request without one.
pub fn carries_session(state: &AppState, headers: &HeaderMap) -> bool {
    read_cookie(headers, session_cookie(state)).is_some()
}

/// The signed-in viewer's email, if any. Viewer sessions have their own idle and absolute
/// timeouts (`viewer_session_idle_minutes`, `viewer_session_absolute_hours`), separate from the
/// back office's.
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> WebResult<Option<String>> {
    let Some(id) = read_cookie(headers, session_cookie(state)) else {
        return Ok(None);
    };
    let cfg = state.config();
    Ok(state
        .store()
        .viewer_session(
            &token_digest(id),
            cfg.viewer_session_idle_minutes * 60,
            cfg.viewer_session_absolute_hours * 3600,
        )
        .await?)
}

/// A signed-in viewer with at least one live grant: the one who sees the viewer variant of the
/// public pages. A viewer whose grants all expired or were revoked is not one (they see the
/// public pages).
#[derive(Debug)]
pub struct LiveViewer {
    pub email: String,
    grants: Vec<candor_store::Grant>,
}

impl LiveViewer {
    /// Whether one of the viewer's live grants covers the NDA document `slug`.
    pub fn may_download(&self, slug: &str) -> bool {
        self.grants
            .iter()
            .any(|g| grant_covers(&g.documents, slug, Access::Nda))
    }
}

/// The viewer of this request when they are signed in and hold a live grant; `None` at once for
/// a request without the session cookie.
pub async fn live_viewer(state: &AppState, headers: &HeaderMap) -> WebResult<Option<LiveViewer>> {
    if !carries_session(state, headers) {
        return Ok(None);
    }
    let Some(email) = signed_in(state, headers).await? else {
        return Ok(None);
    };
    let grants = state.store().live_grants(state.org(), &email).await?;
    Ok((!grants.is_empty()).then_some(LiveViewer { email, grants }))
}
