//! The organization's logo, uploaded rather than linked: stored encrypted like every file,
//! shown on every public page at once (it is not a draft), audited.

use crate::{Action, Actor, App, Done, Error, Result, SiteChange};
use candor_core::logo::{is_logo_path, logo_path, CheckedLogo, LogoType};
use candor_crypto::envelope::WrappedKey;
use candor_store::BlobRow;
use serde_json::json;

impl App {
    /// Makes a checked, stored file the logo; the profile points at it. Refused (and the file
    /// removed) when there is no profile yet: the logo belongs to it.
    pub async fn set_logo(&self, actor: &Actor, blob: &BlobRow, checked: CheckedLogo) -> Result<Done<String>> {
        let done = self.set_logo_in(actor, blob, checked).await;
        if done.is_err() {
            self.remove_blob(&blob.id).await;
        }
        done
    }

    async fn set_logo_in(&self, actor: &Actor, blob: &BlobRow, checked: CheckedLogo) -> Result<Done<String>> {
        let path = logo_path(checked.kind, &blob.sha256);
        let mut work = self.begin().await?;
        let org = work.org();
        if !work.set_profile_logo_url(org, Some(&path), |_| true).await? {
            return Err(Error::Conflict(
                "There is no organization profile yet: create it first (Content › Organization profile), then upload its logo."
                    .into(),
            ));
        }
        let old = work.set_logo(org, checked.kind.as_str(), blob).await?;
        work.site_changed(SiteChange::Everything);
        let (width, height) = checked.size.unzip();
        let details = json!({"type": checked.kind.as_str(), "size": blob.size, "sha256": blob.sha256, "width": width, "height": height});
        work.audit(actor, Action::SettingsLogo, "logo", details).await?;
        let done = work.finish(path).await?;
        if let Some(old) = old {
            self.remove_blob(&old).await;
        }
        Ok(done)
    }

    /// Removes the uploaded logo; a profile that pointed at it shows none. A linked logo (an
    /// https address on the profile) is left alone.
    pub async fn remove_logo(&self, actor: &Actor) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        let old = work.clear_logo(org).await?;
        let Some(old) = old else {
            return work.finish(()).await;
        };
        work.set_profile_logo_url(org, None, is_logo_path).await?;
        work.site_changed(SiteChange::Everything);
        work.audit(actor, Action::SettingsLogo, "logo", json!({"removed": true}))
            .await?;
        let done = work.finish(()).await?;
        self.remove_blob(&old).await;
        Ok(done)
    }

    /// The logo's type and bytes (decrypted), for the public address and the static export.
    pub async fn logo_file(&self) -> anyhow::Result<Option<(LogoType, Vec<u8>)>> {
        let Some(logo) = self.store.logo(self.org).await? else {
            return Ok(None);
        };
        let Some(kind) = LogoType::parse(&logo.kind) else {
            return Ok(None);
        };
        let ring = self.key_ring_for(&logo.blob.key_id)?;
        let wrapped = WrappedKey {
            key_id: logo.blob.key_id.clone(),
            sealed: logo.blob.wrapped_key.clone(),
        };
        let bytes = self.blobs.read_all(&ring, &logo.blob.id, &wrapped).await?;
        Ok(Some((kind, bytes)))
    }
}
