//! Secrets held in the database, sealed under the master key ring (see
//! `candor_crypto::secret`). Plaintext secrets written before sealing existed are sealed once at
//! start-up ([`App::seal_plaintext_secrets`]); a key rotation re-wraps the sealed ones.

use crate::{App, Result};
use candor_crypto::secret::{open_secret, seal_secret, sealed_key_id, PREFIX};
use candor_crypto::Secret;

impl App {
    /// Seals `plaintext` under the current master key, bound to `context` (what it is and whose).
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        seal_secret(&self.key_ring(), context, plaintext)
    }

    /// Opens a sealed value with the ring that knows its key (read again from the key source
    /// when a rotation in another process added the key).
    pub fn open(&self, context: &str, stored: &str) -> Result<Secret> {
        let key_id = sealed_key_id(stored)
            .ok_or_else(|| anyhow::anyhow!("a stored secret ({context}) is not sealed; restart Candor to seal it"))?;
        let ring = self.key_ring_for(key_id)?;
        let plain = open_secret(&ring, context, stored).map_err(|e| anyhow::anyhow!("secret {context}: {e}"))?;
        Ok(Secret::new(plain))
    }

    /// Seals every secret still stored in plaintext (from a version before sealing). Runs at
    /// start-up, before the server answers; one row per transaction, each only if unchanged.
    /// Returns how many it sealed.
    pub async fn seal_plaintext_secrets(&self) -> Result<usize> {
        let mut sealed = 0;
        loop {
            let batch = self.store().totp_secrets_outside(PREFIX, 100).await?;
            if batch.is_empty() {
                break;
            }
            for s in batch {
                let new = self.seal(&crate::identity::totp_context(s.user_id), &s.stored);
                let mut work = self.begin().await?;
                if work.replace_totp_secret(&s, &new).await? {
                    sealed += 1;
                }
                work.commit().await?;
            }
        }
        if sealed > 0 {
            tracing::info!(
                secrets.sealed = sealed,
                "sealed TOTP secrets stored in plaintext by an older version"
            );
        }
        Ok(sealed)
    }
}
