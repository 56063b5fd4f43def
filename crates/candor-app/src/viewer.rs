//! Approved viewers of NDA documents: a sign-in link by mail, signing in with it, signing out,
//! and the record of each download.

use crate::access::{MailContext, VIEWER_LINK_SECS};
use crate::mail::{compose, Part};
use crate::{Action, Actor, App, Done, Result};
use candor_crypto::{random_token, token_digest};
use candor_store::{AccessLogEntry, NewLink};
use serde_json::json;

/// A viewer signed in: their address and the session id for their cookie.
#[derive(Debug)]
pub struct ViewerSignIn {
    pub email: String,
    pub session_id: candor_crypto::Secret,
}

/// A new viewer session for `email` inside `work`, with its audit entry: a fresh random id, of
/// which only the digest is stored.
pub(crate) async fn start_viewer_session(work: &mut crate::Work, email: &str, ip: &str) -> Result<ViewerSignIn> {
    let id = random_token();
    let org = work.org();
    work.create_viewer_session(org, &token_digest(id.expose()), email)
        .await?;
    let actor = Actor::Viewer {
        email: email.to_owned(),
        ip: ip.to_owned(),
    };
    work.audit(&actor, Action::ViewerLogin, format!("viewer/{email}"), json!({}))
        .await?;
    Ok(ViewerSignIn {
        email: email.to_owned(),
        session_id: id,
    })
}

impl App {
    /// Sends a sign-in link to an address with a live grant (a newer link ends the older ones).
    /// `false` when the address has no live grant: nothing is sent, and nothing says so.
    pub async fn send_viewer_link(&self, email: &str, ctx: &MailContext) -> Result<Done<bool>> {
        if self.store.live_grants(self.org, email).await?.is_empty() {
            return Ok(Done {
                value: false,
                effects: Default::default(),
            });
        }
        let token = random_token();
        let link = NewLink {
            token_hash: token_digest(token.expose()),
            purpose: "viewer",
            email: email.to_owned(),
            expires_at: candor_store::now() + VIEWER_LINK_SECS,
        };
        let org_name = &ctx.org_name;
        let url = format!("{}/viewer/login/{}", ctx.public_url, token.expose());
        let parts = [
            Part::Text(format!(
                "Hello,\n\nTo sign in and read {} documents, open this link and press Sign in. It works once, within 15 minutes, and asking for another link ends this one:",
                candor_core::grammar::possessive(org_name)
            )),
            Part::Link(url),
            Part::Text("If you did not ask for it, ignore this message.".to_owned()),
        ];
        let mut work = self.begin().await?;
        let org = work.org();
        work.insert_link(org, None, &link).await?;
        work.mail(&compose(
            email,
            format!(
                "Your sign-in link for {} documents",
                candor_core::grammar::possessive(org_name)
            ),
            &parts,
            "viewer-link",
        ))
        .await?;
        work.finish(true).await
    }

    /// The button behind a viewer's sign-in link: uses the link and starts a viewer session.
    /// `None` when the link cannot be used.
    pub async fn viewer_login(&self, token: &str, ip: &str) -> Result<Done<Option<ViewerSignIn>>> {
        let mut work = self.begin().await?;
        let Some((_, email)) = work.use_link(&token_digest(token), "viewer").await? else {
            return work.finish(None).await;
        };
        let signed_in = start_viewer_session(&mut work, &email, ip).await?;
        work.finish(Some(signed_in)).await
    }

    /// Ends a viewer session (by the digest of its id).
    pub async fn viewer_logout(&self, id_hash: &str) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        work.delete_viewer_session(id_hash).await?;
        work.finish(()).await
    }

    /// A viewer downloads a document their grant covers: the access log's line and the audit
    /// entry, together.
    pub async fn record_viewer_download(&self, actor: &Actor, entry: &AccessLogEntry) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        work.log_document_access(org, entry).await?;
        let details = json!({"version": entry.version, "grant": entry.grant_id, "company": entry.company});
        work.audit(
            actor,
            Action::DocumentViewerDownload,
            format!("document/{}", entry.document),
            details,
        )
        .await?;
        work.finish(()).await
    }
}
