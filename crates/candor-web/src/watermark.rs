//! Watermarks a PDF for the person downloading it: a light diagonal mark across every page and a
//! footer line, both naming the viewer (name, email, company), the date and the grant. The stored
//! original is never changed; this works on a copy in memory (`lopdf`).
//!
//! Each page's existing content is wrapped in `q … Q`, so whatever graphics state it leaves
//! behind cannot move or hide the mark drawn after it.

use lopdf::{dictionary, Dictionary, Document, Object, ObjectId, Stream};

/// Who the copy is for.
pub struct Mark<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub company: &'a str,
    pub date: &'a str,
    pub grant: &'a str,
}

#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be watermarked: {0}")]
pub struct WatermarkError(String);

impl From<lopdf::Error> for WatermarkError {
    fn from(e: lopdf::Error) -> Self {
        WatermarkError(e.to_string())
    }
}

const FONT: &str = "CandorMarkFont";
const STATE: &str = "CandorMarkState";

/// A PDF literal string in WinAnsi (Latin-1 where possible, `?` otherwise), escaped.
fn pdf_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('(');
    for c in s.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push(' '),
            c if (c as u32) < 0x7f => out.push(c),
            c if (0xa0..=0xff).contains(&(c as u32)) => out.push_str(&format!("\\{:03o}", c as u32)),
            _ => out.push('?'),
        }
    }
    out.push(')');
    out
}

/// The page's MediaBox, looked up through its parents; US Letter if none.
fn media_box(doc: &Document, page: ObjectId) -> (f32, f32, f32, f32) {
    let mut id = Some(page);
    while let Some(current) = id {
        let Ok(dict) = doc.get_dictionary(current) else { break };
        if let Ok(Object::Array(a)) = dict.get(b"MediaBox").and_then(|o| doc.dereference(o).map(|(_, o)| o)) {
            let n: Vec<f32> = a.iter().filter_map(|o| o.as_float().ok()).collect();
            if n.len() == 4 {
                return (n[0], n[1], n[2], n[3]);
            }
        }
        id = dict.get(b"Parent").and_then(Object::as_reference).ok();
    }
    (0.0, 0.0, 612.0, 792.0)
}

/// The page's own resource dictionary, made from the inherited one if the page has none (a page
/// without its own would otherwise lose what it inherits once we add ours).
fn own_resources(doc: &mut Document, page: ObjectId) -> Result<Dictionary, WatermarkError> {
    let dict = doc.get_dictionary(page)?;
    if let Ok(res) = dict.get(b"Resources") {
        let (_, res) = doc.dereference(res)?;
        return Ok(res.as_dict()?.clone());
    }
    let mut parent = dict.get(b"Parent").and_then(Object::as_reference).ok();
    while let Some(p) = parent {
        let d = doc.get_dictionary(p)?;
        if let Ok(res) = d.get(b"Resources") {
            let (_, res) = doc.dereference(res)?;
            return Ok(res.as_dict()?.clone());
        }
        parent = d.get(b"Parent").and_then(Object::as_reference).ok();
    }
    Ok(Dictionary::new())
}

/// Adds `name → id` to the sub-dictionary `category` (Font, ExtGState) of `res`, following a
/// reference to a shared sub-dictionary by copying it (the shared one stays as it was).
fn add_resource(
    doc: &Document,
    res: &mut Dictionary,
    category: &[u8],
    name: &str,
    id: ObjectId,
) -> Result<(), WatermarkError> {
    let mut sub = match res.get(category) {
        Ok(o) => doc.dereference(o)?.1.as_dict()?.clone(),
        Err(_) => Dictionary::new(),
    };
    sub.set(name, Object::Reference(id));
    res.set(category, Object::Dictionary(sub));
    Ok(())
}

/// Whether `pdf` can be watermarked: it parses and is not password-protected. Checked at upload,
/// so a viewer never meets a file that cannot be prepared for them.
pub fn check(pdf: &[u8]) -> Result<(), WatermarkError> {
    let doc = Document::load_mem(pdf)?;
    if doc.is_encrypted() {
        return Err(WatermarkError("the PDF is password-protected".into()));
    }
    if doc.get_pages().is_empty() {
        return Err(WatermarkError("the PDF has no pages".into()));
    }
    Ok(())
}

/// Returns a watermarked copy of `pdf`.
pub fn watermark(pdf: &[u8], mark: &Mark) -> Result<Vec<u8>, WatermarkError> {
    let mut doc = Document::load_mem(pdf)?;
    if doc.is_encrypted() {
        return Err(WatermarkError(
            "the PDF is encrypted; upload it without a password".into(),
        ));
    }
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let state = doc.add_object(dictionary! { "Type" => "ExtGState", "ca" => 0.18, "CA" => 0.18 });
    let open = doc.add_object(Stream::new(Dictionary::new(), b"q\n".to_vec()));
    let diagonal_text = pdf_text(&format!("{} · {} · {}", mark.email, mark.company, mark.date));
    let footer_text = pdf_text(&format!(
        "Shared with {} <{}>, {}, on {} under grant {}. Do not redistribute.",
        mark.name, mark.email, mark.company, mark.date, mark.grant
    ));
    for (_, page) in doc.get_pages() {
        let mut res = own_resources(&mut doc, page)?;
        add_resource(&doc, &mut res, b"Font", FONT, font)?;
        add_resource(&doc, &mut res, b"ExtGState", STATE, state)?;
        let (x0, y0, x1, y1) = media_box(&doc, page);
        let (w, h) = (x1 - x0, y1 - y0);
        // Across the page's diagonal, sized to the page.
        let angle = h.atan2(w);
        let (c, s) = (angle.cos(), angle.sin());
        let size = (w.hypot(h) / 40.0).clamp(10.0, 40.0);
        let (cx, cy) = (x0 + w / 2.0, y0 + h / 2.0);
        let half = size * 0.25 * diagonal_text.len() as f32 / 2.0;
        let content = format!(
            "Q\nq /{STATE} gs BT /{FONT} {size:.1} Tf 0.45 0.45 0.45 rg {c:.4} {s:.4} {:.4} {c:.4} {:.2} {:.2} Tm {diagonal_text} Tj ET Q\n\
             q BT /{FONT} 7 Tf 0.25 0.25 0.25 rg 1 0 0 1 {:.2} {:.2} Tm {footer_text} Tj ET Q\n",
            -s,
            cx - half * c,
            cy - half * s,
            x0 + 24.0,
            y0 + 12.0,
        );
        let mark_id = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
        let page_dict = doc.get_dictionary(page)?;
        let mut contents: Vec<Object> = match page_dict.get(b"Contents") {
            Ok(Object::Reference(id)) => vec![Object::Reference(*id)],
            Ok(Object::Array(a)) => a.clone(),
            _ => vec![],
        };
        contents.insert(0, Object::Reference(open));
        contents.push(Object::Reference(mark_id));
        let page_mut = doc.get_object_mut(page).and_then(Object::as_dict_mut)?;
        page_mut.set("Contents", contents);
        page_mut.set("Resources", Object::Dictionary(res));
    }
    let mut out = Vec::with_capacity(pdf.len() + 4096);
    doc.save_to(&mut out).map_err(|e| WatermarkError(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_kept_to_winansi() {
        assert_eq!(pdf_text("a(b)c\\d"), "(a\\(b\\)c\\\\d)");
        assert_eq!(pdf_text("Zoë"), "(Zo\\353)");
        assert_eq!(pdf_text("東京\n"), "(?? )");
    }
}
