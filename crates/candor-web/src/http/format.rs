//! How pages show sizes and times, CSV fields, and the headers of a file download.

use axum::http::header;

/// A byte count as people read it: `12 KB`, `1.4 MB`.
pub fn human_size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} bytes"),
    }
}

/// A Unix time as the back office shows it, `2026-11-24 21:07 UTC`; `—` for none.
pub fn display_time(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

/// The `Content-Disposition` of a download.
pub fn attachment(filename: &str) -> String {
    format!("attachment; filename=\"{}\"", super::upload::safe_filename(filename))
}

/// Sets the headers of a file download: its type (a stored type that is not a valid header value
/// becomes `application/octet-stream`), an attachment disposition with a safe file name, and
/// [`DOWNLOAD_HEADERS`].
pub fn set_download_headers(h: &mut axum::http::HeaderMap, content_type: &str, filename: &str) {
    use axum::http::HeaderValue;
    let content_type =
        HeaderValue::from_str(content_type).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, content_type);
    let disposition =
        HeaderValue::from_str(&attachment(filename)).unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    h.insert(header::CONTENT_DISPOSITION, disposition);
    for (name, value) in DOWNLOAD_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// Headers on every file download: never sniffed as another type, never cached.
pub const DOWNLOAD_HEADERS: [(header::HeaderName, &str); 2] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::CACHE_CONTROL, "no-store"),
];

/// A CSV field: quoted, quotes doubled, and a leading formula character neutralised so that a
/// spreadsheet opening the export does not run an attacker-chosen formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(super::csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(super::csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }
}
