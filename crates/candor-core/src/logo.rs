//! The organization's uploaded logo: which files are accepted, and where the public site finds
//! it.
//!
//! PNG files are checked by their bytes (signature, header, dimensions, end marker), never by
//! their name or declared type. SVG files are *refused*, not rewritten, when they hold anything
//! that can run or fetch: scripts, event handlers, references outside the file, `foreignObject`,
//! style sheets that import, document type declarations. Refusing keeps the owner's file exactly
//! as they made it (a sanitiser that rewrites it could change the picture without saying so) and
//! tells them what to fix; editors export plain SVG in one click. Elements must come from a short
//! allow-list over a real XML parser, so what the checker understands is what a browser renders.
//! The file is also served with a CSP sandbox (see the web crate), so a mistake here is not
//! enough on its own.

/// The largest logo accepted.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// The largest width or height of a PNG logo, in pixels.
pub const MAX_LOGO_SIDE: u32 = 2048;

/// The kinds of logo file accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoType {
    Png,
    Svg,
}

impl LogoType {
    pub fn parse(s: &str) -> Option<LogoType> {
        match s {
            "png" => Some(LogoType::Png),
            "svg" => Some(LogoType::Svg),
            _ => None,
        }
    }
    /// The file extension, also the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogoType::Png => "png",
            LogoType::Svg => "svg",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            LogoType::Png => "image/png",
            LogoType::Svg => "image/svg+xml",
        }
    }
}

/// An accepted logo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedLogo {
    pub kind: LogoType,
    /// Pixels, for PNG files.
    pub size: Option<(u32, u32)>,
}

/// Where the public site serves the logo: stable for its type; `v` changes with the file, so a
/// new logo is not hidden by caches.
pub fn logo_path(kind: LogoType, sha256_hex: &str) -> String {
    format!(
        "/brand/logo.{}?v={}",
        kind.as_str(),
        &sha256_hex[..sha256_hex.len().min(16)]
    )
}

/// Whether a profile's `logo_url` is the path of an uploaded logo (the one relative address it
/// may hold).
pub fn is_logo_path(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("/brand/logo.") else {
        return false;
    };
    let Some((ext, v)) = rest.split_once("?v=") else {
        return false;
    };
    LogoType::parse(ext).is_some() && !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const PNG_END: &[u8] = b"\0\0\0\0IEND\xaeB`\x82";

/// Checks an uploaded logo; the error says what is wrong in words an owner can act on.
pub fn check_logo(bytes: &[u8]) -> Result<CheckedLogo, String> {
    if bytes.is_empty() {
        return Err("The file is empty: choose a PNG or SVG image.".into());
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(format!(
            "The file is {} KiB; a logo may be at most {} KiB. Export it smaller, or as SVG.",
            bytes.len().div_ceil(1024),
            MAX_LOGO_BYTES / 1024
        ));
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        return check_png(bytes);
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err("This file is not a PNG or SVG image. Upload a PNG image, or an SVG saved as plain SVG.".into());
    };
    check_svg(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn check_png(bytes: &[u8]) -> Result<CheckedLogo, String> {
    let broken = || "This PNG file is damaged or incomplete: export it again.".to_owned();
    if bytes.len() < 33 + PNG_END.len() || &bytes[12..16] != b"IHDR" || !bytes.ends_with(PNG_END) {
        return Err(broken());
    }
    let be = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let (width, height) = (be(16), be(20));
    if width == 0 || height == 0 {
        return Err(broken());
    }
    if width > MAX_LOGO_SIDE || height > MAX_LOGO_SIDE {
        return Err(format!(
            "The image is {width} × {height} pixels; a logo may be at most {MAX_LOGO_SIDE} × {MAX_LOGO_SIDE}."
        ));
    }
    Ok(CheckedLogo {
        kind: LogoType::Png,
        size: Some((width, height)),
    })
}

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XLINK_NS: &str = "http://www.w3.org/1999/xlink";
/// Editors' metadata (Inkscape, Sodipodi, RDF and Dublin Core): inert, and kept so that files
/// saved by those editors are accepted.
const METADATA_NS: &[&str] = &[
    "http://www.inkscape.org/namespaces/inkscape",
    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://creativecommons.org/ns#",
    "http://purl.org/dc/elements/1.1/",
];
/// SVG elements that draw, group or describe, and nothing that runs, embeds or fetches.
const SVG_ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "symbol",
    "use",
    "title",
    "desc",
    "metadata",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "filter",
    "feGaussianBlur",
    "feOffset",
    "feBlend",
    "feColorMatrix",
    "feComposite",
    "feFlood",
    "feMerge",
    "feMergeNode",
    "style",
];

fn check_svg(text: &str) -> Result<CheckedLogo, String> {
    let refuse = |why: &str| {
        Err(format!(
            "This SVG cannot be used as a logo: {why}. Save it as plain SVG without it."
        ))
    };
    let doc = match roxmltree::Document::parse(text) {
        Ok(doc) => doc,
        Err(roxmltree::Error::DtdDetected) => return refuse("it has a document type declaration (<!DOCTYPE>)"),
        Err(_) => {
            return Err(
                "This file is not a PNG or SVG image (it is not well-formed XML). Upload a PNG image, or an SVG saved as plain SVG."
                    .into(),
            )
        }
    };
    let root = doc.root_element();
    if root.tag_name().name() != "svg" || root.tag_name().namespace() != Some(SVG_NS) {
        return Err("This file is not a PNG or SVG image. Upload a PNG image, or an SVG saved as plain SVG.".into());
    }
    for node in doc.descendants() {
        if node.is_pi() {
            return refuse("it has a processing instruction (such as an external style sheet)");
        }
        if !node.is_element() {
            continue;
        }
        let name = node.tag_name();
        let local = name.name();
        match name.namespace() {
            Some(SVG_NS) => {
                if local.eq_ignore_ascii_case("script") {
                    return refuse("it contains a script");
                }
                if local.eq_ignore_ascii_case("foreignObject") {
                    return refuse("it contains a foreignObject (embedded HTML)");
                }
                if !SVG_ELEMENTS.contains(&local) {
                    return refuse(&format!("it contains a <{local}> element, which logos do not need"));
                }
            }
            Some(ns) if METADATA_NS.contains(&ns) => {}
            _ => return refuse(&format!("it contains a <{local}> element from outside SVG")),
        }
        if local == "style" {
            if let Some(why) = css_problem(&node.text().unwrap_or_default().to_ascii_lowercase()) {
                return refuse(why);
            }
        }
        for attr in node.attributes() {
            let attr_name = attr.name();
            let value = attr.value().trim().to_ascii_lowercase();
            if attr_name.len() > 2 && attr_name[..2].eq_ignore_ascii_case("on") {
                return refuse(&format!("it has an event handler ({attr_name})"));
            }
            let is_href = attr_name == "href" && matches!(attr.namespace(), None | Some(XLINK_NS));
            if is_href && !value.starts_with('#') {
                return refuse("it refers to something outside the file (an href that is not #id)");
            }
            if value.contains("javascript:") || value.contains("data:") {
                return refuse(&format!(
                    "its {attr_name} attribute holds a javascript: or data: address"
                ));
            }
            if let Some(why) = css_problem(&value) {
                return refuse(why);
            }
        }
    }
    Ok(CheckedLogo {
        kind: LogoType::Svg,
        size: None,
    })
}

/// Style text (a `style` attribute, a `<style>` element, a presentation attribute) that would
/// fetch or import: only `url(#id)` references inside the file are allowed.
fn css_problem(css: &str) -> Option<&'static str> {
    if css.contains("@import") || css.contains("expression(") {
        return Some("its style imports a style sheet");
    }
    let mut rest = css;
    while let Some(at) = rest.find("url(") {
        rest = &rest[at + 4..];
        let target = rest.trim_start().trim_start_matches(['"', '\'']);
        if !target.starts_with('#') {
            return Some("its style refers to something outside the file (url() that is not #id)");
        }
    }
    if css.contains('\\') {
        return Some("its style has escapes, which could hide an outside reference");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn png(width: u32, height: u32) -> Vec<u8> {
        let mut b = PNG_SIGNATURE.to_vec();
        b.extend(13u32.to_be_bytes());
        b.extend(b"IHDR");
        b.extend(width.to_be_bytes());
        b.extend(height.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b.extend(PNG_END);
        b
    }

    const PLAIN: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#123"/></linearGradient></defs><rect width="10" height="10" fill="url(#g)" style="stroke: url( '#g' )"/><title>Logo</title></svg>"##;

    #[test]
    fn plain_png_and_svg_are_accepted() {
        assert_eq!(check_logo(&png(64, 32)).unwrap().size, Some((64, 32)));
        assert_eq!(check_logo(PLAIN.as_bytes()).unwrap().kind, LogoType::Svg);
        let inkscape = r#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" inkscape:version="1.3"><path d="M0 0h1"/></svg>"#;
        assert!(check_logo(inkscape.as_bytes()).is_ok());
    }

    #[test]
    fn hostile_files_are_refused_with_the_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"<html><script>alert(1)</script></html>", "not a PNG or SVG"),
            (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>", "damaged"),
            (br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#, "a script"),
            (br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#, "event handler (onload)"),
            (br#"<svg xmlns="http://www.w3.org/2000/svg"><rect ONclick="x"/></svg>"#, "event handler"),
            (
                br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="http://evil.example/x.svg#a"/></svg>"#,
                "outside the file",
            ),
            (br#"<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/p.png"/></svg>"#, "<image>"),
            (br#"<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml"/></foreignObject></svg>"#, "foreignObject"),
            (br#"<svg xmlns="http://www.w3.org/2000/svg"><h:script xmlns:h="http://www.w3.org/1999/xhtml">x</h:script></svg>"#, "outside SVG"),
            (br#"<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/a.css);</style></svg>"#, "imports"),
            (br#"<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://evil.example/#a)"/></svg>"#, "outside the file"),
            (br#"<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>"#, "<a>"),
            (br#"<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>"#, "document type"),
            (br#"<?xml-stylesheet href="https://evil.example/a.css"?><svg xmlns="http://www.w3.org/2000/svg"/>"#, "processing instruction"),
            (br#"<svg><rect/></svg>"#, "not a PNG or SVG"),
        ];
        for (bytes, why) in cases {
            let err = check_logo(bytes).unwrap_err();
            assert!(err.contains(why), "{}: {err}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn size_and_dimensions_are_limited() {
        let mut big = png(10, 10);
        big.splice(33..33, vec![0; MAX_LOGO_BYTES]);
        assert!(check_logo(&big).unwrap_err().contains("at most 512 KiB"));
        assert!(check_logo(&png(4096, 10)).unwrap_err().contains("4096 × 10"));
        assert!(check_logo(&png(0, 10)).unwrap_err().contains("damaged"));
        assert!(check_logo(b"").unwrap_err().contains("empty"));
    }

    #[test]
    fn logo_paths() {
        let p = logo_path(LogoType::Svg, "0123456789abcdef0123");
        assert_eq!(p, "/brand/logo.svg?v=0123456789abcdef");
        assert!(is_logo_path(&p));
        for bad in [
            "/brand/logo.html?v=1",
            "/brand/logo.png",
            "/brand/logo.png?v=",
            "/brand/logo.png?v=x\"",
            "//evil/brand/logo.png?v=1",
        ] {
            assert!(!is_logo_path(bad), "{bad}");
        }
    }
}
