//! Secrets kept in the database (a TOTP secret today; every later one uses the same helper),
//! sealed with AES-256-GCM under the master key ring.
//!
//! Each secret has its own random data key, wrapped by the current master key exactly like a
//! blob's ([`KeyRing::wrap`]). The stored text carries the master key's id, so a key rotation
//! re-wraps the small data key ([`rewrap_secret`]) and never needs the secret itself.
//!
//! Stored form: `sealed1:KEY-ID:WRAPPED-DATA-KEY:BASE64(NONCE ‖ CIPHERTEXT ‖ TAG)`. The
//! ciphertext is bound (as associated data) to a `context` naming what the secret is for and
//! whose it is (`totp:42`), so a sealed value copied onto another row or field does not open.

use crate::envelope::{CryptoError, DataKey, KeyRing, WrappedKey};
use base64::Engine;
use ring::aead::{Aad, Nonce};

/// How every sealed value begins.
pub const PREFIX: &str = "sealed1:";
const AAD: &str = "candor secret v1 ";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The parts of a sealed value.
struct Sealed<'a> {
    key: WrappedKey,
    body: &'a str,
}

fn parse(stored: &str) -> Result<Sealed<'_>, CryptoError> {
    let rest = stored
        .strip_prefix(PREFIX)
        .ok_or(CryptoError::Tampered("the stored secret is not sealed"))?;
    let mut parts = rest.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(key_id), Some(wrapped), Some(body)) if !key_id.is_empty() => Ok(Sealed {
            key: WrappedKey {
                key_id: key_id.to_owned(),
                sealed: wrapped.to_owned(),
            },
            body,
        }),
        _ => Err(CryptoError::Tampered("the sealed secret is malformed")),
    }
}

fn format(key: &WrappedKey, body: &str) -> String {
    format!("{PREFIX}{}:{}:{body}", key.key_id, key.sealed)
}

/// Whether `stored` is a sealed value (and not a plaintext secret from before sealing).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// The id of the master key that wraps a sealed value's data key.
pub fn sealed_key_id(stored: &str) -> Option<&str> {
    stored.strip_prefix(PREFIX)?.split(':').next()
}

/// Seals `plaintext` for storage under the ring's current master key.
pub fn seal_secret(ring: &KeyRing, context: &str, plaintext: &str) -> String {
    let dk = DataKey::generate();
    let nonce: [u8; 12] = rand::random();
    let mut buf = plaintext.as_bytes().to_vec();
    dk.aead()
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from([AAD, context].concat()),
            &mut buf,
        )
        .expect("sealing a short secret cannot fail");
    let body = b64().encode([nonce.as_slice(), &buf].concat());
    format(&ring.wrap(&dk), &body)
}

/// Opens a value made by [`seal_secret`] with the same `context`. A modified value, another
/// row's value or a plaintext one is an error.
pub fn open_secret(ring: &KeyRing, context: &str, stored: &str) -> Result<String, CryptoError> {
    let sealed = parse(stored)?;
    let dk = ring.unwrap(&sealed.key)?;
    let raw = b64()
        .decode(sealed.body)
        .map_err(|_| CryptoError::Tampered("sealed secret is not base64"))?;
    if raw.len() < 12 + crate::envelope::TAG {
        return Err(CryptoError::Tampered("sealed secret is too short"));
    }
    let (nonce, ciphertext) = raw.split_at(12);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Tampered("nonce"))?;
    let mut buf = ciphertext.to_vec();
    let plain = dk
        .aead()
        .open_in_place(nonce, Aad::from([AAD, context].concat()), &mut buf)
        .map_err(|_| CryptoError::Tampered("sealed secret"))?;
    String::from_utf8(plain.to_vec()).map_err(|_| CryptoError::Tampered("sealed secret is not text"))
}

/// The same sealed value with its data key wrapped by the ring's current master key (the
/// ciphertext is unchanged). Needs the old master key still in the ring.
pub fn rewrap_secret(ring: &KeyRing, stored: &str) -> Result<String, CryptoError> {
    let sealed = parse(stored)?;
    let dk = ring.unwrap(&sealed.key)?;
    Ok(format(&ring.wrap(&dk), sealed.body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let ring = KeyRing::generate();
        let stored = seal_secret(&ring, "totp:1", "JBSWY3DPEHPK3PXP");
        assert!(is_sealed(&stored));
        assert!(!stored.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(sealed_key_id(&stored), Some(ring.current_id()));
        assert_eq!(open_secret(&ring, "totp:1", &stored).unwrap(), "JBSWY3DPEHPK3PXP");
        // Another row's context, another ring, a plaintext value, a flipped character.
        assert!(open_secret(&ring, "totp:2", &stored).is_err());
        assert!(matches!(
            open_secret(&KeyRing::generate(), "totp:1", &stored),
            Err(CryptoError::UnknownKey(_))
        ));
        assert!(open_secret(&ring, "totp:1", "JBSWY3DPEHPK3PXP").is_err());
        let mut bent = stored.clone().into_bytes();
        let last = bent.len() - 3;
        bent[last] = if bent[last] == b'A' { b'B' } else { b'A' };
        assert!(open_secret(&ring, "totp:1", &String::from_utf8(bent).unwrap()).is_err());
        // Two seals of one secret differ (fresh data key and nonce).
        assert_ne!(stored, seal_secret(&ring, "totp:1", "JBSWY3DPEHPK3PXP"));
    }

    #[test]
    fn rewrapping_moves_a_secret_to_the_new_key_without_changing_it() {
        let old = KeyRing::generate();
        let stored = seal_secret(&old, "totp:9", "secret");
        let both = KeyRing::parse(&old.to_text()).unwrap().with_new_key();
        let moved = rewrap_secret(&both, &stored).unwrap();
        assert_eq!(sealed_key_id(&moved), Some(both.current_id()));
        let newest = both.current_only();
        assert_eq!(open_secret(&newest, "totp:9", &moved).unwrap(), "secret");
        assert!(open_secret(&newest, "totp:9", &stored).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_text_round_trips(text in ".{0,200}", context in "[a-z]{1,8}:[0-9]{1,6}") {
            let ring = KeyRing::generate();
            let stored = seal_secret(&ring, &context, &text);
            prop_assert_eq!(open_secret(&ring, &context, &stored).unwrap(), text);
        }
    }
}
