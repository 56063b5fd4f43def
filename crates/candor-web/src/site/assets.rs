//! Stylesheets under names that hold a hash of their content (`/assets/site.0123456789ab.css`),
//! so caches may keep them for a year: a new stylesheet is a new name, which the pages link to.
//! The plain names (`/assets/site.css`, `/assets/brand.css`) keep working with a short cache
//! life, for the back office and for links made before.

use super::cached::{content_tag, CachedPage};
use super::{feeds, icon};
use std::collections::HashMap;
use std::sync::LazyLock;

pub const SITE_CSS: &str = include_str!("../../assets/site.css");
const CSS: &str = "text/css; charset=utf-8";
/// Hex digits of the content hash in a file name.
const HASH_LEN: usize = 12;

/// The stylesheet compressed once per process: it is the same for every site.
static SITE_CSS_PAGE: LazyLock<(String, CachedPage)> = LazyLock::new(|| {
    (
        hashed("site", "css", SITE_CSS.as_bytes()),
        CachedPage::new(CSS, SITE_CSS),
    )
});

/// `/assets/STEM.HASH.EXT` for `body`.
fn hashed(stem: &str, ext: &str, body: &[u8]) -> String {
    format!("/assets/{stem}.{}.{ext}", &content_tag(body)[..HASH_LEN])
}

/// The URL of the shared stylesheet.
pub fn site_css_href() -> String {
    SITE_CSS_PAGE.0.clone()
}

/// The URL of the stylesheet for `brand_color`.
pub fn brand_css_href(brand_color: &str) -> String {
    hashed("brand", "css", feeds::brand_css(brand_color).as_bytes())
}

/// Puts the shared stylesheet under its plain and its hashed name.
pub fn put_site_css(map: &mut HashMap<String, CachedPage>) {
    let (path, page) = &*SITE_CSS_PAGE;
    map.insert("/assets/site.css".into(), page.clone());
    map.insert(path.clone(), page.clone());
}

/// The URL of the icon for `brand_color`.
pub fn favicon_href(brand_color: &str) -> String {
    hashed("favicon", "ico", &icon::favicon_ico(brand_color))
}

/// Puts what the brand colour decides, the brand stylesheet and the icon, under their plain
/// names (`/assets/brand.css`, `/favicon.ico`) and their hashed ones, in place of those for
/// another colour.
pub fn put_brand(map: &mut HashMap<String, CachedPage>, brand_color: &str) {
    map.retain(|path, _| !path.starts_with("/assets/brand.") && !path.starts_with("/assets/favicon."));
    let css = feeds::brand_css(brand_color);
    let path = hashed("brand", "css", css.as_bytes());
    let page = CachedPage::new(CSS, css);
    map.insert("/assets/brand.css".into(), page.clone());
    map.insert(path, page);
    let ico = icon::favicon_ico(brand_color);
    let path = hashed("favicon", "ico", &ico);
    let page = CachedPage::new("image/x-icon", ico);
    map.insert("/favicon.ico".into(), page.clone());
    map.insert(path, page);
}

/// Whether `path` names an asset by its content hash (cached for a year, never revalidated).
pub fn is_immutable(path: &str) -> bool {
    let Some(name) = path.strip_prefix("/assets/") else {
        return false;
    };
    let mut parts = name.split('.');
    let (Some(stem), Some(hash), Some(ext), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty()
        && !ext.is_empty()
        && hash.len() == HASH_LEN
        && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_immutable_and_plain_ones_are_not() {
        assert!(is_immutable(&site_css_href()));
        assert!(is_immutable(&brand_css_href("#123456")));
        assert!(!is_immutable("/assets/site.css"));
        assert!(!is_immutable("/assets/site.0123456789ab.css.gz"));
        assert!(!is_immutable("/assets/site.0123456789AB.css"));
        assert!(!is_immutable("/s/site.0123456789ab.css"));
    }

    #[test]
    fn the_brand_name_follows_the_colour() {
        assert_ne!(brand_css_href("#123456"), brand_css_href("#654321"));
        let mut map = HashMap::new();
        put_brand(&mut map, "#123456");
        put_brand(&mut map, "#654321");
        let mut paths: Vec<String> = map.keys().cloned().collect();
        paths.sort();
        let mut want = vec![
            "/assets/brand.css".to_owned(),
            "/favicon.ico".to_owned(),
            brand_css_href("#654321"),
            favicon_href("#654321"),
        ];
        want.sort();
        assert_eq!(paths, want);
    }
}
