//! Envelope encryption for blobs (documents and other files at rest).
//!
//! Every blob has its own random 256-bit data key. The data key is stored *wrapped*: encrypted
//! with AES-256-GCM under a master key from the [`KeyRing`], next to the id of that master key.
//! Rotating the master key therefore re-wraps small data keys and never touches the blobs.
//!
//! A blob is encrypted in chunks of [`CHUNK`] bytes with the STREAM construction (Hoang, Reyhanitabar,
//! Rogaway and Vizár, "Online authenticated-encryption and its nonce-reuse misuse-resistance"):
//! each chunk is sealed with AES-256-GCM under a nonce made of a random 7-byte prefix, the
//! chunk's 32-bit big-endian counter and a last-chunk flag. So a modified chunk fails its tag, a
//! reordered or dropped chunk fails because its counter is wrong, and a truncated blob fails
//! because its final chunk does not carry the last flag. A large blob is streamed through a fixed
//! buffer; nothing holds it whole. The AES-GCM itself is `ring`'s (the same as the TLS stack's).
//!
//! Blob layout: `CNDR` · version byte `1` · 7-byte nonce prefix · sealed chunks (each
//! `CHUNK + 16` bytes except the last, which is 16 to `CHUNK + 16`).

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use std::fmt;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// AES-GCM tag length.
pub const TAG: usize = 16;
const MAGIC: &[u8; 4] = b"CNDR";
const VERSION: u8 = 1;
/// Bytes before the first chunk.
pub const HEADER: usize = 4 + 1 + 7;
const WRAP_AAD: &[u8] = b"candor data key v1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The blob or wrapped key was modified, truncated, reordered or belongs to another key.
    #[error("the encrypted data is damaged or was tampered with ({0}); nothing of it is trusted")]
    Tampered(&'static str),
    #[error("master key {0} is not in the key ring (was it removed before every data key was re-wrapped?)")]
    UnknownKey(String),
    #[error("key ring: {0}")]
    BadKeyRing(String),
}

fn aead_key(bytes: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("32 bytes is an AES-256 key"))
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A blob's own key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn generate() -> DataKey {
        DataKey(rand::random())
    }

    /// The key for one AES-256-GCM seal (a secret field sealed in one piece).
    pub(crate) fn aead(&self) -> LessSafeKey {
        aead_key(&self.0)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(***)")
    }
}

/// A data key as stored: which master key wrapped it, and `base64(nonce ‖ sealed key)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    pub key_id: String,
    pub sealed: String,
}

struct MasterKey {
    id: String,
    key: [u8; 32],
}

/// The master keys: the last one wraps new data keys; older ones only unwrap, until a rotation
/// has re-wrapped everything under the newest.
///
/// Text form (the key file, or `CANDOR_MASTER_KEY`): one `ID BASE64-KEY` a line, oldest first;
/// `#` starts a comment.
pub struct KeyRing {
    keys: Vec<MasterKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

fn new_master() -> MasterKey {
    let id: [u8; 4] = rand::random();
    MasterKey {
        id: hex::encode(id),
        key: rand::random(),
    }
}

impl KeyRing {
    /// A ring with one new random key.
    pub fn generate() -> KeyRing {
        KeyRing {
            keys: vec![new_master()],
        }
    }

    pub fn parse(text: &str) -> Result<KeyRing, CryptoError> {
        let mut keys = vec![];
        for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, key) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| CryptoError::BadKeyRing(format!("line {n}: expected `ID BASE64-KEY`")))?;
            let bytes = b64()
                .decode(key.trim())
                .map_err(|_| CryptoError::BadKeyRing(format!("line {n}: the key is not base64")))?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| {
                CryptoError::BadKeyRing(format!("line {n}: a key must be 32 bytes (44 base64 characters)"))
            })?;
            if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || id.len() > 40 {
                return Err(CryptoError::BadKeyRing(format!(
                    "line {n}: key id {id:?} must be letters, digits or -"
                )));
            }
            if keys.iter().any(|k: &MasterKey| k.id == id) {
                return Err(CryptoError::BadKeyRing(format!("line {n}: key id {id} appears twice")));
            }
            keys.push(MasterKey { id: id.to_owned(), key });
        }
        if keys.is_empty() {
            return Err(CryptoError::BadKeyRing("no key in it".into()));
        }
        Ok(KeyRing { keys })
    }

    /// The text form, for the key file.
    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "# Candor master keys: one `ID BASE64-KEY` a line, oldest first. The last one wraps new data keys.\n\
             # Keep this file secret and backed up apart from the data: without it nothing stored can be read.\n",
        );
        for k in &self.keys {
            out.push_str(&format!("{} {}\n", k.id, b64().encode(k.key)));
        }
        out
    }

    /// The id of the key that wraps new data keys.
    pub fn current_id(&self) -> &str {
        &self.keys.last().expect("a ring is never empty").id
    }

    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// The same ring with a new current key added.
    pub fn with_new_key(&self) -> KeyRing {
        let mut keys: Vec<MasterKey> = self
            .keys
            .iter()
            .map(|k| MasterKey {
                id: k.id.clone(),
                key: k.key,
            })
            .collect();
        keys.push(new_master());
        KeyRing { keys }
    }

    /// The ring with only its current key (after every data key was re-wrapped).
    pub fn current_only(&self) -> KeyRing {
        let k = self.keys.last().expect("a ring is never empty");
        KeyRing {
            keys: vec![MasterKey {
                id: k.id.clone(),
                key: k.key,
            }],
        }
    }

    fn key(&self, id: &str) -> Result<&MasterKey, CryptoError> {
        self.keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))
    }

    /// Seals a data key under the current master key. The key id is bound in as associated
    /// data, so a wrapped key cannot be passed off as another key's.
    pub fn wrap(&self, dk: &DataKey) -> WrappedKey {
        let master = self.keys.last().expect("a ring is never empty");
        let nonce: [u8; 12] = rand::random();
        let mut sealed = dk.0.to_vec();
        aead_key(&master.key)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from([WRAP_AAD, master.id.as_bytes()].concat()),
                &mut sealed,
            )
            .expect("sealing 32 bytes cannot fail");
        WrappedKey {
            key_id: master.id.clone(),
            sealed: b64().encode([nonce.as_slice(), &sealed].concat()),
        }
    }

    pub fn unwrap(&self, w: &WrappedKey) -> Result<DataKey, CryptoError> {
        let master = self.key(&w.key_id)?;
        let raw = b64()
            .decode(&w.sealed)
            .map_err(|_| CryptoError::Tampered("wrapped key is not base64"))?;
        if raw.len() != 12 + 32 + TAG {
            return Err(CryptoError::Tampered("wrapped key has the wrong length"));
        }
        let (nonce, sealed) = raw.split_at(12);
        let mut buf = sealed.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Tampered("nonce"))?;
        let plain = aead_key(&master.key)
            .open_in_place(nonce, Aad::from([WRAP_AAD, master.id.as_bytes()].concat()), &mut buf)
            .map_err(|_| CryptoError::Tampered("wrapped key"))?;
        Ok(DataKey(
            plain
                .try_into()
                .map_err(|_| CryptoError::Tampered("wrapped key size"))?,
        ))
    }
}

fn chunk_nonce(prefix: &[u8; 7], counter: u32, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[..7].copy_from_slice(prefix);
    n[7..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    Nonce::assume_unique_for_key(n)
}

/// Encrypts a blob as it is written: feed plaintext in any pieces, take sealed bytes out.
pub struct Encryptor {
    key: LessSafeKey,
    prefix: [u8; 7],
    counter: u32,
    buf: Vec<u8>,
}

impl Encryptor {
    /// A new encryptor and the header to write first.
    pub fn new(dk: &DataKey) -> (Encryptor, Vec<u8>) {
        let prefix: [u8; 7] = rand::random();
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        header.extend_from_slice(&prefix);
        let enc = Encryptor {
            key: aead_key(&dk.0),
            prefix,
            counter: 0,
            // Room for the tag too, so sealing in place never reallocates.
            buf: Vec::with_capacity(CHUNK + TAG),
        };
        (enc, header)
    }

    fn seal(&mut self, mut chunk: Vec<u8>, last: bool) -> Vec<u8> {
        let nonce = chunk_nonce(&self.prefix, self.counter, last);
        self.key
            .seal_in_place_append_tag(nonce, Aad::empty(), &mut chunk)
            .expect("a chunk is far below AES-GCM's limit");
        self.counter = self.counter.checked_add(1).expect("blobs stay below 256 TiB");
        chunk
    }

    /// Takes more plaintext; returns the chunks it completed (possibly none), sealed.
    pub fn update(&mut self, mut data: &[u8]) -> Vec<u8> {
        let mut out = vec![];
        while !data.is_empty() {
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            // A full chunk is sealed only once more data shows it is not the last one.
            if self.buf.len() == CHUNK && !data.is_empty() {
                let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + TAG));
                let sealed = self.seal(chunk, false);
                if out.is_empty() {
                    out = sealed;
                } else {
                    out.extend_from_slice(&sealed);
                }
            }
        }
        out
    }

    /// Seals what is left as the final chunk (which may be empty).
    pub fn finish(mut self) -> Vec<u8> {
        let chunk = std::mem::take(&mut self.buf);
        self.seal(chunk, true)
    }
}

/// Decrypts a blob as it is read. Plaintext comes out only after its chunk's tag checked; an
/// error means stop and discard, never serve what came before as if complete.
pub struct Decryptor {
    key: LessSafeKey,
    prefix: Option<[u8; 7]>,
    counter: u32,
    buf: Vec<u8>,
}

impl Decryptor {
    pub fn new(dk: &DataKey) -> Decryptor {
        Decryptor {
            key: aead_key(&dk.0),
            prefix: None,
            counter: 0,
            buf: Vec::with_capacity(CHUNK + TAG),
        }
    }

    fn open(&mut self, mut chunk: Vec<u8>, last: bool) -> Result<Vec<u8>, CryptoError> {
        let prefix = self.prefix.expect("header read before chunks");
        let nonce = chunk_nonce(&prefix, self.counter, last);
        let n = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut chunk)
            .map_err(|_| {
                CryptoError::Tampered(if last {
                    "the final chunk does not check out: truncated or modified"
                } else {
                    "a chunk does not check out: modified or out of order"
                })
            })?
            .len();
        chunk.truncate(n);
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(CryptoError::Tampered("too many chunks"))?;
        Ok(chunk)
    }

    /// Takes more sealed bytes; returns the plaintext of the chunks it could check.
    pub fn update(&mut self, mut data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if self.prefix.is_none() {
            let need = HEADER - self.buf.len();
            let take = need.min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() < HEADER {
                return Ok(vec![]);
            }
            if &self.buf[..4] != MAGIC || self.buf[4] != VERSION {
                return Err(CryptoError::Tampered("not a Candor encrypted blob"));
            }
            self.prefix = Some(self.buf[5..HEADER].try_into().expect("7 bytes"));
            self.buf.clear();
        }
        let mut out = vec![];
        while !data.is_empty() {
            let take = (CHUNK + TAG - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            // A full sealed chunk is opened as "not last" only once more bytes follow it.
            if self.buf.len() == CHUNK + TAG && !data.is_empty() {
                let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + TAG));
                let plain = self.open(chunk, false)?;
                if out.is_empty() {
                    out = plain;
                } else {
                    out.extend_from_slice(&plain);
                }
            }
        }
        Ok(out)
    }

    /// The end of the sealed bytes: opens the final chunk.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        if self.prefix.is_none() || self.buf.len() < TAG {
            return Err(CryptoError::Tampered("the blob ends before its final chunk"));
        }
        let chunk = std::mem::take(&mut self.buf);
        self.open(chunk, true)
    }
}

/// Encrypts a whole buffer (for small values and tests).
pub fn seal_all(dk: &DataKey, plain: &[u8]) -> Vec<u8> {
    let (mut enc, mut out) = Encryptor::new(dk);
    out.extend(enc.update(plain));
    out.extend(enc.finish());
    out
}

/// Decrypts a whole buffer.
pub fn open_all(dk: &DataKey, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut dec = Decryptor::new(dk);
    let mut out = dec.update(sealed)?;
    out.extend(dec.finish()?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn sizes_around_chunk_boundaries_round_trip() {
        let dk = DataKey::generate();
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17] {
            let plain = sample(n);
            let sealed = seal_all(&dk, &plain);
            let chunks = n.div_ceil(CHUNK).max(1);
            assert_eq!(sealed.len(), HEADER + n + chunks * TAG, "n = {n}");
            assert_eq!(open_all(&dk, &sealed).unwrap(), plain, "n = {n}");
        }
    }

    #[test]
    fn tampering_is_caught() {
        let dk = DataKey::generate();
        let plain = sample(3 * CHUNK + 100);
        let sealed = seal_all(&dk, &plain);
        let sealed_chunk = CHUNK + TAG;
        // A flipped bit anywhere.
        for at in [0, 5, HEADER, HEADER + 10, HEADER + sealed_chunk + 3, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 1;
            assert!(open_all(&dk, &bad).is_err(), "flip at {at}");
        }
        // Truncated at a chunk boundary: the (new) end is not marked last.
        let cut = &sealed[..HEADER + 2 * sealed_chunk];
        assert!(matches!(open_all(&dk, cut), Err(CryptoError::Tampered(_))));
        // Truncated anywhere else, or emptied.
        assert!(open_all(&dk, &sealed[..sealed.len() - 1]).is_err());
        assert!(open_all(&dk, &sealed[..HEADER]).is_err());
        assert!(open_all(&dk, &[]).is_err());
        // Two chunks swapped.
        let mut swapped = sealed[..HEADER].to_vec();
        swapped.extend_from_slice(&sealed[HEADER + sealed_chunk..HEADER + 2 * sealed_chunk]);
        swapped.extend_from_slice(&sealed[HEADER..HEADER + sealed_chunk]);
        swapped.extend_from_slice(&sealed[HEADER + 2 * sealed_chunk..]);
        assert!(open_all(&dk, &swapped).is_err());
        // Another key.
        assert!(open_all(&DataKey::generate(), &sealed).is_err());
    }

    #[test]
    fn streaming_never_releases_an_unchecked_chunk() {
        let dk = DataKey::generate();
        let plain = sample(2 * CHUNK);
        let mut sealed = seal_all(&dk, &plain);
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        let mut dec = Decryptor::new(&dk);
        let released = dec.update(&sealed).unwrap();
        assert_eq!(released, plain[..CHUNK], "only the first chunk, which checked out");
        assert!(dec.finish().is_err());
    }

    #[test]
    fn wrapped_keys_unwrap_only_with_their_master_key() {
        let ring = KeyRing::generate();
        let dk = DataKey::generate();
        let w = ring.wrap(&dk);
        assert_eq!(w.key_id, ring.current_id());
        assert_eq!(ring.unwrap(&w).unwrap(), dk);
        // Rotation: the new ring still opens the old wrapping, and wraps under the new key.
        let rotated = ring.with_new_key();
        assert_eq!(rotated.unwrap(&w).unwrap(), dk);
        let w2 = rotated.wrap(&dk);
        assert_ne!(w2.key_id, w.key_id);
        assert_eq!(rotated.current_only().unwrap(&w2).unwrap(), dk);
        assert!(matches!(
            rotated.current_only().unwrap(&w),
            Err(CryptoError::UnknownKey(_))
        ));
        // Relabelled or modified wrappings fail.
        let relabelled = WrappedKey {
            key_id: w2.key_id.clone(),
            sealed: w.sealed.clone(),
        };
        assert!(rotated.unwrap(&relabelled).is_err());
        let mut bytes = b64().decode(&w.sealed).unwrap();
        bytes[20] ^= 1;
        let modified = WrappedKey {
            key_id: w.key_id.clone(),
            sealed: b64().encode(bytes),
        };
        assert!(ring.unwrap(&modified).is_err());
    }

    #[test]
    fn key_ring_text_round_trips_and_bad_text_is_named() {
        let ring = KeyRing::generate().with_new_key();
        let again = KeyRing::parse(&ring.to_text()).unwrap();
        assert_eq!(again.ids(), ring.ids());
        assert_eq!(again.current_id(), ring.current_id());
        assert!(format!("{ring:?}").contains(ring.current_id()) && !ring.to_text().is_empty());
        for (text, says) in [
            ("", "no key"),
            ("k1", "expected `ID BASE64-KEY`"),
            ("k1 not-base64!", "not base64"),
            ("k1 AAAA", "32 bytes"),
        ] {
            let e = KeyRing::parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_data_in_any_pieces_round_trips(data in proptest::collection::vec(any::<u8>(), 0..200_000), cuts in proptest::collection::vec(1usize..70_000, 0..6)) {
            let dk = DataKey::generate();
            let (mut enc, mut sealed) = Encryptor::new(&dk);
            let mut rest = data.as_slice();
            for c in &cuts {
                let (a, b) = rest.split_at((*c).min(rest.len()));
                sealed.extend(enc.update(a));
                rest = b;
            }
            sealed.extend(enc.update(rest));
            sealed.extend(enc.finish());
            let mut dec = Decryptor::new(&dk);
            let mut out = vec![];
            for piece in sealed.chunks(9_973) {
                out.extend(dec.update(piece).unwrap());
            }
            out.extend(dec.finish().unwrap());
            prop_assert_eq!(out, data);
        }
    }
}
