//! The brand colour as it is used. The stylesheet keeps the accent (buttons, links, the header)
//! dark enough for white text by capping its OKLCH lightness at 0.47 (`oklch(from var(--brand)
//! min(l, 0.47) c h)` in site.css). The same computation here lets the profile form say which
//! colour a light brand colour becomes, instead of darkening it silently.

/// The highest OKLCH lightness the accent is given; the stylesheet uses the same number.
pub const MAX_ACCENT_LIGHTNESS: f64 = 0.47;

/// The colour used for `hex` (`#rrggbb`) when it is too light for white text (below the 4.5:1
/// contrast of WCAG AA), as `#rrggbb`; `None` when it is readable as given (the stylesheet
/// may still nudge a colour just above the cap, too little to see) or is not a colour.
pub fn darkened_accent(hex: &str) -> Option<String> {
    let rgb = parse(hex)?;
    if contrast_with_white(rgb) >= 4.5 {
        return None;
    }
    let [l, a, b] = oklab(rgb);
    if l <= MAX_ACCENT_LIGHTNESS {
        return None;
    }
    let out = srgb([MAX_ACCENT_LIGHTNESS, a, b]);
    Some(format!(
        "#{:02x}{:02x}{:02x}",
        to_byte(out[0]),
        to_byte(out[1]),
        to_byte(out[2])
    ))
}

/// The WCAG contrast ratio of white text on `rgb`.
fn contrast_with_white(rgb: [f64; 3]) -> f64 {
    let [r, g, b] = rgb.map(linear);
    1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)
}

fn parse(hex: &str) -> Option<[f64; 3]> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok().map(|v| f64::from(v) / 255.0);
    Some([c(0)?, c(2)?, c(4)?])
}

fn to_byte(c: f64) -> u8 {
    (c.clamp(0.0, 1.0) * 255.0).round() as u8
}

fn linear(c: f64) -> f64 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn gamma(c: f64) -> f64 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.003_130_8 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// sRGB (0..1) to OKLab (Björn Ottosson's matrices, as CSS Color 4 uses them).
fn oklab(rgb: [f64; 3]) -> [f64; 3] {
    let [r, g, b] = rgb.map(linear);
    let l = (0.412_221_470_8 * r + 0.536_332_536_3 * g + 0.051_445_992_9 * b).cbrt();
    let m = (0.211_903_498_2 * r + 0.680_699_545_1 * g + 0.107_396_956_6 * b).cbrt();
    let s = (0.088_302_461_9 * r + 0.281_718_837_6 * g + 0.629_978_700_5 * b).cbrt();
    [
        0.210_454_255_3 * l + 0.793_617_785_0 * m - 0.004_072_046_8 * s,
        1.977_998_495_1 * l - 2.428_592_205_0 * m + 0.450_593_709_9 * s,
        0.025_904_037_1 * l + 0.782_771_766_2 * m - 0.808_675_766_0 * s,
    ]
}

/// OKLab to sRGB (0..1), clipped to the sRGB gamut.
fn srgb(lab: [f64; 3]) -> [f64; 3] {
    let [l, a, b] = lab;
    let l_ = (l + 0.396_337_777_4 * a + 0.215_803_757_3 * b).powi(3);
    let m_ = (l - 0.105_561_345_8 * a - 0.063_854_172_8 * b).powi(3);
    let s_ = (l - 0.089_484_177_5 * a - 1.291_485_548_0 * b).powi(3);
    [
        4.076_741_662_1 * l_ - 3.307_711_591_3 * m_ + 0.230_969_929_2 * s_,
        -1.268_438_004_6 * l_ + 2.609_757_401_1 * m_ - 0.341_319_396_5 * s_,
        -0.004_196_086_3 * l_ - 0.703_418_614_7 * m_ + 1.707_614_701_0 * s_,
    ]
    .map(gamma)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contrast(hex: &str) -> f64 {
        contrast_with_white(parse(hex).unwrap())
    }

    #[test]
    fn dark_colours_are_used_as_given() {
        assert_eq!(darkened_accent("#1d4ed8"), None);
        assert_eq!(darkened_accent("#1B4D6B"), None);
        assert_eq!(darkened_accent("#000000"), None);
        assert_eq!(darkened_accent("not a colour"), None);
    }

    #[test]
    fn light_yellow_is_darkened_to_a_readable_colour() {
        let used = darkened_accent("#ffe14d").expect("light yellow is darkened");
        assert_ne!(used, "#ffe14d");
        assert!(contrast(&used) >= 4.5, "{used}");
        let white = darkened_accent("#ffffff").unwrap();
        assert!(contrast(&white) >= 4.5, "{white}");
    }

    #[test]
    fn round_trips_through_oklab() {
        for hex in ["#1d4ed8", "#336699", "#0a0a0a"] {
            let back = srgb(oklab(parse(hex).unwrap()));
            let again = format!(
                "#{:02x}{:02x}{:02x}",
                to_byte(back[0]),
                to_byte(back[1]),
                to_byte(back[2])
            );
            assert_eq!(again, hex);
        }
    }
}
