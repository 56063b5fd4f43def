//! URL slugs: the stable, human-readable id of every content item.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A slug: 1–80 characters of `a-z`, `0-9` and single hyphens, not starting or ending with one.
/// A `Slug` that exists is valid (parse, don't validate).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a string is not a slug; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a valid slug: use 1-80 lowercase letters, digits and single hyphens (e.g. \"encryption-at-rest\")"
)]
pub struct BadSlug(pub String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, BadSlug> {
        let ok = !s.is_empty()
            && s.len() <= 80
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok {
            Ok(Slug(s.to_owned()))
        } else {
            Err(BadSlug(s.to_owned()))
        }
    }

    /// Derives a slug from a title: "ISO/IEC 27001" becomes "iso-iec-27001".
    pub fn from_title(title: &str) -> Option<Self> {
        let mut out = String::new();
        for c in title.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let trimmed: String = out.trim_end_matches('-').chars().take(80).collect();
        Slug::parse(trimmed.trim_end_matches('-')).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = BadSlug;
    fn try_from(s: String) -> Result<Self, BadSlug> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        assert!(Slug::parse("encryption-at-rest").is_ok());
        assert!(Slug::parse("iso-27001").is_ok());
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "a/b", "ü", &"a".repeat(81)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn derives_from_titles() {
        assert_eq!(
            Slug::from_title("ISO/IEC 27001:2022").unwrap().as_str(),
            "iso-iec-27001-2022"
        );
        assert_eq!(Slug::from_title("  Hello, world!  ").unwrap().as_str(), "hello-world");
        assert!(Slug::from_title("!!!").is_none());
    }
}
