//! Candor's use cases: every change of state, whichever front end asks for it.
//!
//! The back office, the API, the public forms and the CLI parse their input, check the route's
//! access rule and call one function here. Each function names who acts ([`Actor`]), runs in one
//! database transaction that also carries its audit entry and its mail ([`Work`]), and returns
//! what happened with its [`Effects`] (the public site changed, mail was queued), which the
//! caller hands to one place that applies them.
//!
//! This crate knows nothing of HTTP or HTML.

pub mod access;
pub mod access_team;
mod actor;
pub mod audit;
pub mod audit_log;
pub mod backup;
pub mod content;
pub mod demo;
pub mod documents;
pub mod engagement;
mod error;
pub mod identity;
pub mod keys;
pub mod logo;
pub mod mail;
pub mod outbox;
mod secrets;
pub mod status;
pub mod subscriptions;
pub mod tokens;
pub mod viewer;
pub mod webhooks;
mod work;

pub use actor::Actor;
pub use audit::Action;
pub use error::{Error, Result};
pub use work::{Done, Effects, SiteChange, Work};

use candor_crypto::envelope::KeyRing;
use candor_store::{OrgId, Store};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// The use cases, over one organization's data. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Store,
    org: OrgId,
    blobs: candor_blob::BlobStore,
    keys: Arc<Keys>,
    /// The trust center's address, for links in mail sent from inside use cases (notices to
    /// subscribers); set by the front ends that know it ([`App::with_public_url`]).
    public_url: Arc<str>,
}

/// The master key ring and where it comes from, so a key added by a rotation in another process
/// can be read again.
struct Keys {
    ring: RwLock<Arc<KeyRing>>,
    data_dir: PathBuf,
    from_env: Option<String>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("org", &self.org).finish_non_exhaustive()
    }
}

impl App {
    /// `ring` is the master key ring loaded from `data_dir` or from `from_env` (the
    /// `CANDOR_MASTER_KEY` text); it is read again from there when a key id is not in it.
    pub fn new(
        store: Store,
        org: OrgId,
        blobs: candor_blob::BlobStore,
        ring: KeyRing,
        data_dir: PathBuf,
        from_env: Option<String>,
    ) -> App {
        App {
            store,
            org,
            blobs,
            keys: Arc::new(Keys {
                ring: RwLock::new(Arc::new(ring)),
                data_dir,
                from_env,
            }),
            public_url: Arc::from(""),
        }
    }

    /// The same use cases, with the trust center's public address for the links in the mail
    /// they send (scheme and host, e.g. `https://trust.example.com`).
    pub fn with_public_url(mut self, url: &str) -> App {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    /// The trust center's public address (empty when the front end did not say).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Encrypted file storage.
    pub fn blobs(&self) -> &candor_blob::BlobStore {
        &self.blobs
    }

    /// The master key ring as last read.
    pub fn key_ring(&self) -> Arc<KeyRing> {
        match self.keys.ring.read() {
            Ok(ring) => ring.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The ring that knows `key_id`: the current one, or the key source read again (a
    /// `candor keys rotate` in another process added it).
    pub fn key_ring_for(&self, key_id: &str) -> anyhow::Result<Arc<KeyRing>> {
        let ring = self.key_ring();
        if ring.ids().iter().any(|id| id == key_id) {
            return Ok(ring);
        }
        let (fresh, _) = candor_blob::keyfile::load(&self.keys.data_dir, self.keys.from_env.as_deref(), false)?;
        let fresh = Arc::new(fresh);
        match self.keys.ring.write() {
            Ok(mut slot) => *slot = fresh.clone(),
            Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
        }
        Ok(fresh)
    }

    /// The database, for reads. Writes go through [`App::begin`] inside a use case.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn org(&self) -> OrgId {
        self.org
    }

    /// Starts the transaction of one use case.
    pub async fn begin(&self) -> Result<Work> {
        Ok(Work::new(self.store.begin().await?, self.clone()))
    }

    /// Records an event that changes nothing else (a download, a refused attempt, a damaged
    /// file) in the audit log.
    pub async fn record(
        &self,
        actor: &Actor,
        action: Action,
        target: impl Into<String>,
        details: serde_json::Value,
    ) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        work.audit(actor, action, target, details).await?;
        work.finish(()).await
    }
}
