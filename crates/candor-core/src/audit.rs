//! The audit log's hash chain: pure functions to seal and verify entries.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical JSON
//! (keys sorted, no whitespace). Changing, deleting, inserting or reordering any entry changes a
//! hash that the next entry committed to, so `verify` finds the first entry that no longer fits.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash the first entry points back to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, by whom, to what. `seq` numbers the chain from 1 without gaps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// `user:EMAIL`, `api-token:ID`, `cli:OS-USER` (`cli:uid:N` when no user name is known), or
    /// `anonymous`.
    pub actor: String,
    /// Dotted, e.g. `auth.login.failed`, `content.publish`.
    pub action: String,
    /// What it concerned, e.g. `control/encryption-at-rest`; empty if nothing in particular.
    pub target: String,
    pub ip: String,
    /// Extra facts as a JSON object.
    pub details: serde_json::Value,
}

/// A sealed entry: the record, the previous hash and its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    #[serde(flatten)]
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

/// Canonical JSON: object keys sorted at every level, compact.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<_> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    // With serde_json's default map (a BTreeMap) the keys are sorted already; sorting here keeps
    // the hash stable even if some dependency turns on insertion order.
    serde_json::to_string(&sorted(v)).expect("JSON values serialize")
}

pub fn hash(prev_hash: &str, record: &AuditRecord) -> String {
    let json = canonical_json(&serde_json::to_value(record).expect("records serialize"));
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(json.as_bytes());
    hex::encode(h.finalize())
}

pub fn seal(prev_hash: &str, record: AuditRecord) -> AuditEntry {
    let hash = hash(prev_hash, &record);
    AuditEntry {
        record,
        prev_hash: prev_hash.to_owned(),
        hash,
    }
}

/// Why verification stopped, naming the first entry that does not fit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("audit log entry {seq} (row {position}) {reason}")]
pub struct BrokenChain {
    pub seq: i64,
    /// 1-based position in the order checked.
    pub position: usize,
    pub reason: String,
}

/// Checks a whole chain in `seq` order.
pub fn verify(entries: &[AuditEntry]) -> Result<usize, BrokenChain> {
    let mut chain = ChainCheck::new();
    for e in entries {
        chain.next(e)?;
    }
    Ok(chain.checked())
}

/// Checks a chain one entry at a time, in `seq` order, so a long log can be verified page by
/// page in bounded memory ([`verify`] is this over a slice).
#[derive(Clone, Debug)]
pub struct ChainCheck {
    prev: String,
    checked: usize,
}

impl Default for ChainCheck {
    fn default() -> Self {
        ChainCheck::new()
    }
}

impl ChainCheck {
    pub fn new() -> ChainCheck {
        ChainCheck {
            prev: GENESIS.to_owned(),
            checked: 0,
        }
    }

    /// How many entries fitted so far.
    pub fn checked(&self) -> usize {
        self.checked
    }

    /// The next entry: it must carry the next sequence number, point to the entry before it and
    /// match its own hash.
    pub fn next(&mut self, e: &AuditEntry) -> Result<(), BrokenChain> {
        let position = self.checked + 1;
        let fail = |reason: String| BrokenChain {
            seq: e.record.seq,
            position,
            reason,
        };
        if e.record.seq != position as i64 {
            return Err(fail(format!(
                "has sequence number {} where {} was expected: an entry is missing or was inserted",
                e.record.seq, position
            )));
        }
        if e.prev_hash != self.prev {
            return Err(fail(
                "does not point to the entry before it: the previous entry was changed or removed".into(),
            ));
        }
        if hash(&self.prev, &e.record) != e.hash {
            return Err(fail("does not match its hash: its contents were changed".into()));
        }
        self.prev = e.hash.clone();
        self.checked = position;
        Ok(())
    }
}

/// The newest entry of a chain as recorded outside the database (a checkpoint file, a backup,
/// a SIEM that kept the JSON audit lines): deleting entries from the end of the log leaves an
/// intact chain, so only a head kept elsewhere shows that something is missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    /// Unix seconds of the entry.
    pub at: i64,
}

impl Head {
    pub fn of(entry: &AuditEntry) -> Head {
        Head {
            seq: entry.record.seq,
            hash: entry.hash.clone(),
            at: entry.record.at,
        }
    }

    /// Reads `SEQ:HASH` (as an operator copies it from a JSON audit line).
    pub fn parse(text: &str) -> Option<Head> {
        let (seq, hash) = text.trim().split_once(':')?;
        let seq = seq.parse().ok().filter(|s| *s > 0)?;
        let hash = hash.to_ascii_lowercase();
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(Head { seq, hash, at: 0 })
    }
}

/// How a chain disagrees with a head recorded elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeadMismatch {
    #[error("entries {} to {checkpoint} are missing: the checkpoint records entry {checkpoint} but the log ends at entry {last}", last + 1)]
    Missing { last: i64, checkpoint: i64 },
    #[error("entry {seq} is not the one the checkpoint records (its hash differs): the log was rewritten from there")]
    Rewritten { seq: i64 },
}

/// Checks an already verified chain against a head recorded elsewhere: the chain must reach the
/// head, and its entry there must be the one recorded. (A chain that goes further is fine: the
/// head is a lower bound written after each commit.)
pub fn check_head(entries: &[AuditEntry], head: &Head) -> Result<(), HeadMismatch> {
    let last = entries.last().map_or(0, |e| e.record.seq);
    if last < head.seq {
        return Err(HeadMismatch::Missing {
            last,
            checkpoint: head.seq,
        });
    }
    match entries.iter().find(|e| e.record.seq == head.seq) {
        Some(e) if e.hash == head.hash => Ok(()),
        _ => Err(HeadMismatch::Rewritten { seq: head.seq }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_after_a_checkpoint_is_found() {
        let c = chain(5);
        let head = Head::of(&c[3]);
        assert_eq!(check_head(&c, &head), Ok(()));
        assert_eq!(check_head(&c[..4], &head), Ok(()));
        let cut = &c[..2];
        assert_eq!(verify(cut), Ok(2), "a truncated chain still verifies on its own");
        assert_eq!(
            check_head(cut, &head),
            Err(HeadMismatch::Missing { last: 2, checkpoint: 4 })
        );
        assert_eq!(
            check_head(&[], &head),
            Err(HeadMismatch::Missing { last: 0, checkpoint: 4 })
        );
        let other = Head {
            hash: "ab".repeat(32),
            ..head
        };
        assert_eq!(check_head(&c, &other), Err(HeadMismatch::Rewritten { seq: 4 }));
    }

    #[test]
    fn heads_parse_from_seq_and_hash() {
        let h = Head::parse(&format!("12:{}", "AB".repeat(32))).unwrap();
        assert_eq!((h.seq, h.hash.len()), (12, 64));
        for bad in ["12", "x:ab", "0:abab", &format!("3:{}", "z".repeat(64))] {
            assert_eq!(Head::parse(bad), None, "{bad}");
        }
    }

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = seal(
                    &prev,
                    AuditRecord {
                        seq,
                        at: 1_700_000_000 + seq,
                        actor: "user:a@b.example".into(),
                        action: "content.publish".into(),
                        target: format!("faq/q{seq}"),
                        ip: "127.0.0.1".into(),
                        details: serde_json::json!({"b": 1, "a": [2, {"z": 1, "y": 2}]}),
                    },
                );
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn any_edit_delete_or_swap_is_found_at_the_right_entry() {
        let mut c = chain(5);
        c[2].record.target = "faq/other".into();
        assert_eq!(verify(&c).unwrap_err().seq, 3);

        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(&c).unwrap_err().position, 2);

        let mut c = chain(5);
        c.swap(3, 4);
        assert_eq!(verify(&c).unwrap_err().position, 4);

        // Recomputing one entry's hash does not help: the next entry points to the old one.
        let mut c = chain(5);
        c[1].record.actor = "user:mallory@evil.example".into();
        c[1].hash = hash(&c[1].prev_hash, &c[1].record);
        assert_eq!(verify(&c).unwrap_err().seq, 3);
    }

    #[test]
    fn a_chain_checked_in_pages_finds_what_the_whole_check_finds() {
        // The drill reads the log in pages; a change in a later page must still be found there.
        let mut c = chain(7);
        let mut check = ChainCheck::new();
        for e in &c[..4] {
            check.next(e).unwrap();
        }
        c[5].record.target = "faq/other".into();
        assert_eq!(check.next(&c[4]), Ok(()));
        assert_eq!(check.next(&c[5]).unwrap_err().seq, 6);
        assert_eq!(check.checked(), 5);

        // An entry missing at a page boundary: the next page starts one too late.
        let c = chain(7);
        let mut check = ChainCheck::new();
        for e in &c[..3] {
            check.next(e).unwrap();
        }
        assert_eq!(check.next(&c[4]).unwrap_err().position, 4);
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        assert_eq!(
            canonical_json(&serde_json::json!({"b": {"d": 1, "c": 2}, "a": 0})),
            r#"{"a":0,"b":{"c":2,"d":1}}"#
        );
    }
}
