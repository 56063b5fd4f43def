//! An incremental update (PDF 1.7, §7.5.6): new and replaced objects, a cross-reference section
//! for them alone and a trailer whose `/Prev` points at the original's, appended to the original
//! bytes, which stay as they are. Readers take the newest version of each object.
//!
//! lopdf writes whole documents only, so the few object kinds written here are serialised here.

use super::WatermarkError;
use lopdf::{Dictionary, Object, ObjectId};
use std::io::Write;

pub(super) struct Update {
    /// The bytes to append; offsets below count from the start of the original.
    out: Vec<u8>,
    base_len: usize,
    offsets: Vec<(ObjectId, usize)>,
    next_id: u32,
}

impl Update {
    /// An update to a file of `base_len` bytes whose highest object number is `max_id`.
    pub fn new(base_len: usize, max_id: u32) -> Update {
        Update {
            // A line break first, in case the original does not end with one.
            out: b"\n".to_vec(),
            base_len,
            offsets: Vec::new(),
            next_id: max_id + 1,
        }
    }

    /// Writes `dict` as a new object; returns its reference.
    pub fn add(&mut self, dict: &Dictionary) -> Result<ObjectId, WatermarkError> {
        let id = self.new_id()?;
        self.replace(id, dict)?;
        Ok(id)
    }

    /// Writes a new stream holding `content`, uncompressed; returns its reference.
    pub fn add_stream(&mut self, content: &[u8]) -> Result<ObjectId, WatermarkError> {
        let id = self.new_id()?;
        self.begin(id);
        write!(self.out, "<< /Length {} >>\nstream\n", content.len()).map_err(io)?;
        self.out.extend_from_slice(content);
        self.out.extend_from_slice(b"\nendstream\nendobj\n");
        Ok(id)
    }

    /// Writes `dict` as the new version of object `id`.
    pub fn replace(&mut self, id: ObjectId, dict: &Dictionary) -> Result<(), WatermarkError> {
        self.begin(id);
        write_dictionary(&mut self.out, dict)?;
        self.out.extend_from_slice(b"\nendobj\n");
        Ok(())
    }

    fn new_id(&mut self) -> Result<ObjectId, WatermarkError> {
        let id = self.next_id;
        self.next_id = id
            .checked_add(1)
            .ok_or_else(|| WatermarkError::Damaged("its object numbers are exhausted".into()))?;
        Ok((id, 0))
    }

    fn begin(&mut self, id: ObjectId) {
        self.offsets.push((id, self.base_len + self.out.len()));
        self.out
            .extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
    }

    /// The cross-reference section and trailer; returns the bytes to append to the original.
    /// `trailer` is the original's (for /Root, /Info and /ID), `prev` where its xref starts.
    pub fn finish(mut self, trailer: &Dictionary, prev: usize) -> Result<Vec<u8>, WatermarkError> {
        let xref_at = self.base_len + self.out.len();
        self.offsets.sort_unstable();
        self.offsets.dedup_by_key(|(id, _)| *id);
        self.out.extend_from_slice(b"xref\n");
        let mut run_start = 0;
        while run_start < self.offsets.len() {
            let first = self.offsets[run_start].0 .0;
            let run_len = self.offsets[run_start..]
                .iter()
                .enumerate()
                .take_while(|(i, ((n, _), _))| *n == first + *i as u32)
                .count();
            writeln!(self.out, "{first} {run_len}").map_err(io)?;
            for ((_, generation), offset) in &self.offsets[run_start..run_start + run_len] {
                writeln!(self.out, "{offset:010} {generation:05} n ").map_err(io)?;
            }
            run_start += run_len;
        }
        let mut new_trailer = Dictionary::new();
        new_trailer.set("Size", Object::Integer(i64::from(self.next_id)));
        for key in [&b"Root"[..], b"Info", b"ID"] {
            if let Ok(value) = trailer.get(key) {
                new_trailer.set(key, value.clone());
            }
        }
        new_trailer.set("Prev", Object::Integer(prev as i64));
        self.out.extend_from_slice(b"trailer\n");
        write_dictionary(&mut self.out, &new_trailer)?;
        write!(self.out, "\nstartxref\n{xref_at}\n%%EOF\n").map_err(io)?;
        Ok(self.out)
    }
}

fn io(e: std::io::Error) -> WatermarkError {
    WatermarkError::Damaged(e.to_string())
}

fn write_dictionary(out: &mut Vec<u8>, dict: &Dictionary) -> Result<(), WatermarkError> {
    out.extend_from_slice(b"<<");
    for (key, value) in dict.iter() {
        out.push(b' ');
        write_name(out, key);
        out.push(b' ');
        write_object(out, value)?;
    }
    out.extend_from_slice(b" >>");
    Ok(())
}

/// PDF syntax for `object`. Strings are written in hexadecimal (nothing to escape); a stream
/// cannot appear inside a dictionary, so meeting one means the file is damaged.
fn write_object(out: &mut Vec<u8>, object: &Object) -> Result<(), WatermarkError> {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => {
            let r = if r.is_finite() { *r } else { 0.0 };
            out.extend_from_slice(format!("{r:.6}").trim_end_matches('0').trim_end_matches('.').as_bytes());
            if out.last() == Some(&b'-') {
                out.push(b'0');
            }
        }
        Object::Name(n) => write_name(out, n),
        Object::String(s, _) => {
            out.push(b'<');
            for b in s {
                out.extend_from_slice(format!("{b:02X}").as_bytes());
            }
            out.push(b'>');
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, item)?;
            }
            out.push(b']');
        }
        Object::Dictionary(d) => write_dictionary(out, d)?,
        Object::Reference((n, g)) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
        Object::Stream(_) => {
            return Err(WatermarkError::Damaged(
                "a page dictionary holds a stream directly".into(),
            ))
        }
    }
    Ok(())
}

/// `/name`, with `#xx` for bytes that are not regular characters (§7.3.5).
fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        let regular = (b'!'..=b'~').contains(&b) && !b"#()<>[]{}/%".contains(&b);
        if regular {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(o: &Object) -> String {
        let mut out = vec![];
        write_object(&mut out, o).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn objects_are_written_in_pdf_syntax() {
        assert_eq!(written(&Object::Real(0.5)), "0.5");
        assert_eq!(written(&Object::Real(612.0)), "612");
        assert_eq!(written(&Object::Real(-0.0000001)), "-0");
        assert_eq!(written(&Object::Real(f32::NAN)), "0");
        assert_eq!(written(&Object::Name(b"A B#(".to_vec())), "/A#20B#23#28");
        assert_eq!(
            written(&Object::String(b"a)".to_vec(), lopdf::StringFormat::Literal)),
            "<6129>"
        );
        assert_eq!(
            written(&Object::Array(vec![
                Object::Reference((3, 1)),
                Object::Null,
                Object::Boolean(true)
            ])),
            "[3 1 R null true]"
        );
    }

    #[test]
    fn the_xref_lists_runs_of_consecutive_objects() {
        let mut u = Update::new(100, 9);
        let d = Dictionary::new();
        u.replace((4, 0), &d).unwrap();
        u.replace((5, 2), &d).unwrap();
        assert_eq!(u.add(&d).unwrap(), (10, 0));
        let mut trailer = Dictionary::new();
        trailer.set("Root", Object::Reference((1, 0)));
        trailer.set("W", Object::Integer(1));
        let out = String::from_utf8(u.finish(&trailer, 42).unwrap()).unwrap();
        assert!(out.contains("xref\n4 2\n0000000101 00000 n \n"), "{out}");
        assert!(out.contains("10 1\n"), "{out}");
        assert!(out.contains("<< /Size 11 /Root 1 0 R /Prev 42 >>"), "{out}");
        assert!(!out.contains("/W"), "{out}");
    }
}
