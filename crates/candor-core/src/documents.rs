//! Documents in the library: what kind they are, who may read them, and which file types are
//! accepted (decided by the bytes, not by the name).

use serde::{Deserialize, Serialize};

/// What a document is, for grouping and labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    AuditReport,
    Certificate,
    PenTestSummary,
    Policy,
    Questionnaire,
    Other,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 6] = [
        DocumentKind::AuditReport,
        DocumentKind::Certificate,
        DocumentKind::PenTestSummary,
        DocumentKind::Policy,
        DocumentKind::Questionnaire,
        DocumentKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::AuditReport => "audit-report",
            DocumentKind::Certificate => "certificate",
            DocumentKind::PenTestSummary => "pen-test-summary",
            DocumentKind::Policy => "policy",
            DocumentKind::Questionnaire => "questionnaire",
            DocumentKind::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::AuditReport => "Audit report",
            DocumentKind::Certificate => "Certificate",
            DocumentKind::PenTestSummary => "Penetration test summary",
            DocumentKind::Policy => "Policy",
            DocumentKind::Questionnaire => "Questionnaire",
            DocumentKind::Other => "Other",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who may read a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Anyone.
    Public,
    /// Approved viewers who signed the NDA, while their grant lasts.
    Nda,
    /// Back-office users only.
    Private,
}

impl Access {
    pub const ALL: [Access; 3] = [Access::Public, Access::Nda, Access::Private];

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Nda => "nda",
            Access::Private => "private",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Access::Public => "Public: anyone may download it",
            Access::Nda => "NDA: approved viewers only",
            Access::Private => "Private: back office only",
        }
    }

    pub fn parse(s: &str) -> Option<Access> {
        Access::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// An accepted file type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Png,
    Jpeg,
    Docx,
    Xlsx,
    Text,
}

impl FileType {
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Text => "text/plain; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Png => "png",
            FileType::Jpeg => "jpg",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
            FileType::Text => "txt",
        }
    }
}

/// How many leading bytes [`sniff`] wants.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The file's type from its first bytes (up to [`SNIFF_BYTES`]), whatever its name says.
///
/// Word and Excel files are ZIP archives: they are told apart by the names of the entries whose
/// local headers appear in those bytes (`word/…` or `xl/…`), which is where Office and the
/// common libraries put them. Plain text is UTF-8 without NUL bytes (a character cut at the end
/// of the sample is allowed).
pub fn sniff(head: &[u8]) -> Result<FileType, String> {
    if head.starts_with(b"%PDF-") {
        return Ok(FileType::Pdf);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(FileType::Png);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(FileType::Jpeg);
    }
    if head.starts_with(b"PK\x03\x04") {
        let names = zip_entry_names(head);
        if names.iter().any(|n| n.starts_with("word/")) {
            return Ok(FileType::Docx);
        }
        if names.iter().any(|n| n.starts_with("xl/")) {
            return Ok(FileType::Xlsx);
        }
        return Err("a ZIP archive that is not a Word (.docx) or Excel (.xlsx) file".into());
    }
    if head.is_empty() {
        return Err("an empty file".into());
    }
    let text_ok = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Only a character cut off by the sample's end is forgiven.
        Err(e) => e.error_len().is_none() && head.len() >= SNIFF_BYTES,
    };
    if text_ok && !head.contains(&0) {
        return Ok(FileType::Text);
    }
    Err("not a PDF, PNG, JPEG, Word (.docx), Excel (.xlsx) or UTF-8 text file".into())
}

/// Names of the ZIP local-file entries found in `head`.
fn zip_entry_names(head: &[u8]) -> Vec<String> {
    let mut names = vec![];
    let mut at = 0;
    while at + 30 <= head.len() && head[at..].starts_with(b"PK\x03\x04") {
        let le16 = |i: usize| u16::from_le_bytes([head[at + i], head[at + i + 1]]) as usize;
        let le32 = |i: usize| u32::from_le_bytes(head[at + i..at + i + 4].try_into().expect("4 bytes")) as usize;
        let (flags, compressed, name_len, extra_len) = (le16(6), le32(18), le16(26), le16(28));
        let name_end = at + 30 + name_len;
        if name_end > head.len() {
            break;
        }
        names.push(String::from_utf8_lossy(&head[at + 30..name_end]).into_owned());
        // With a data descriptor (flag bit 3) the size is not in the header: stop walking.
        if flags & 0x08 != 0 {
            break;
        }
        at = name_end + extra_len + compressed;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut out = vec![];
        for name in names {
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&3u32.to_le_bytes()); // compressed size
            out.extend_from_slice(&3u32.to_le_bytes()); // uncompressed size
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"abc");
        }
        out
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Ok(FileType::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Ok(FileType::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(FileType::Jpeg));
        assert_eq!(
            sniff(&zip_with(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"])),
            Ok(FileType::Docx)
        );
        assert_eq!(
            sniff(&zip_with(&["[Content_Types].xml", "xl/workbook.xml"])),
            Ok(FileType::Xlsx)
        );
        assert_eq!(sniff("Plain notes, naïve café.\n".as_bytes()), Ok(FileType::Text));
    }

    #[test]
    fn other_bytes_are_refused_whatever_the_name() {
        assert!(sniff(&zip_with(&["payload.exe"])).unwrap_err().contains("ZIP"));
        assert!(sniff(b"MZ\x90\0\x03\0\0\0").is_err(), "a Windows program");
        assert!(sniff(b"text with a \0 byte").is_err());
        assert!(sniff(&[0xC3, 0x28, b'a', b'b']).is_err(), "invalid UTF-8");
        assert!(sniff(b"").is_err());
        assert!(
            sniff("caf\u{e9}".as_bytes().split_last().unwrap().1).is_err(),
            "a cut character in a short file"
        );
        let mut long = vec![b'a'; SNIFF_BYTES - 1];
        long.push(0xC3);
        assert_eq!(sniff(&long), Ok(FileType::Text), "a character cut by the sample's end");
    }

    #[test]
    fn names_and_labels_round_trip() {
        for k in DocumentKind::ALL {
            assert_eq!(DocumentKind::parse(k.as_str()), Some(k));
        }
        for a in Access::ALL {
            assert_eq!(Access::parse(a.as_str()), Some(a));
        }
    }
}
