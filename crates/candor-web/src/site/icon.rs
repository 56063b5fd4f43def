//! `/favicon.ico`: a small shield in the brand colour, so browsers that ask for an icon (every
//! one does, on every site) get one instead of a 404 and a console error.
//!
//! An ICO file holding one 32×32 image as an uncompressed 32-bit bitmap: a 6-byte directory
//! header, a 16-byte entry, a BITMAPINFOHEADER, the pixels bottom-up in BGRA, and the 1-bit AND
//! mask (all zero: the alpha channel decides).

const SIZE: usize = 32;
const FALLBACK: (u8, u8, u8) = (0x1f, 0x5f, 0x8b);

/// `#rrggbb` as bytes; the fallback colour when it is anything else (no profile yet).
fn rgb(color: &str) -> (u8, u8, u8) {
    let hex = color.strip_prefix('#').unwrap_or("");
    let byte = |i: usize| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok());
    match (hex.len(), byte(0), byte(2), byte(4)) {
        (6, Some(r), Some(g), Some(b)) => (r, g, b),
        _ => FALLBACK,
    }
}

/// Whether pixel (x, y), y from the top, is inside the shield: straight sides for the upper
/// half, then narrowing to a point.
fn in_shield(x: usize, y: usize) -> bool {
    let (cx, top, waist, tip) = (16.0, 3.0, 17.0, 30.0);
    let (x, y) = (x as f32 + 0.5, y as f32 + 0.5);
    let half = if y < top || y > tip {
        return false;
    } else if y <= waist {
        12.0
    } else {
        12.0 * (tip - y) / (tip - waist)
    };
    (x - cx).abs() <= half
}

pub fn favicon_ico(brand_color: &str) -> Vec<u8> {
    let (r, g, b) = rgb(brand_color);
    let pixels = SIZE * SIZE * 4;
    let mask = SIZE * (SIZE / 8).next_multiple_of(4);
    let image_len = 40 + pixels + mask;
    let mut out = Vec::with_capacity(6 + 16 + image_len);
    out.extend_from_slice(&[0, 0, 1, 0, 1, 0]); // reserved, type 1 (icon), one image
    out.extend_from_slice(&[SIZE as u8, SIZE as u8, 0, 0, 1, 0, 32, 0]); // 32×32, 1 plane, 32 bpp
    out.extend_from_slice(&(image_len as u32).to_le_bytes());
    out.extend_from_slice(&22u32.to_le_bytes()); // the image follows the directory
    out.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
    out.extend_from_slice(&(SIZE as i32).to_le_bytes());
    out.extend_from_slice(&(2 * SIZE as i32).to_le_bytes()); // colour bitmap + AND mask
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(&[0; 24]); // no compression, sizes and palette unused
    for y in (0..SIZE).rev() {
        for x in 0..SIZE {
            let px = if in_shield(x, y) { [b, g, r, 0xff] } else { [0; 4] };
            out.extend_from_slice(&px);
        }
    }
    out.resize(out.len() + mask, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icon_is_a_well_formed_ico_in_the_brand_colour() {
        let ico = favicon_ico("#ff8000");
        assert_eq!(&ico[..6], &[0, 0, 1, 0, 1, 0]);
        let len = u32::from_le_bytes(ico[14..18].try_into().unwrap()) as usize;
        assert_eq!(ico.len(), 22 + len);
        // The pixel at the shield's centre, row 16 from the top (rows are stored bottom-up).
        let at = 22 + 40 + ((SIZE - 1 - 16) * SIZE + 16) * 4;
        assert_eq!(&ico[at..at + 4], &[0x00, 0x80, 0xff, 0xff]);
        assert_eq!(&ico[22 + 40..22 + 44], &[0; 4], "corners are transparent");
        assert_eq!(rgb("not a colour"), FALLBACK);
    }
}
