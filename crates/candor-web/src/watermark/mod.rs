//! Watermarks a PDF for the person downloading it: a light diagonal mark across every page and a
//! footer line, both naming the viewer (name, email, company), the date and the grant. The stored
//! original is never changed.
//!
//! The marked copy is the original's bytes followed by an incremental update ([`update`]): only
//! the page dictionaries change (their content becomes `[q, original…, Q + mark]`, so whatever
//! graphics state a page leaves behind cannot move or hide the mark), plus one font, one
//! transparency state and one mark stream per page size. Reading the file keeps dictionaries
//! only ([`tree`]), so memory stays near the file's own size.
//!
//! A PDF is untrusted input: every walk is guarded against loops and depth, and each job runs
//! under a [`Budget`] of time, pages and objects. Uploads are checked with this same code
//! ([`check`]), so a file that passes is one a download can mark.

mod tree;
mod update;

use lopdf::{dictionary, Dictionary, Object, ObjectId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
/// Who the copy is for.
pub struct Mark<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub company: &'a str,
    pub date: &'a str,
    pub grant: &'a str,
}

/// Why a PDF cannot be marked, in words for the uploader.
#[derive(Debug, thiserror::Error)]
pub enum WatermarkError {
    #[error("it cannot be parsed: {0}")]
    Unreadable(String),
    #[error("it is password-protected")]
    Encrypted,
    #[error("its structure is damaged: {0}")]
    Damaged(String),
    #[error("it is too large to watermark: {0}")]
    TooLarge(String),
    #[error("watermarking it took longer than {0} seconds")]
    TooSlow(u64),
}

impl From<lopdf::Error> for WatermarkError {
    fn from(e: lopdf::Error) -> Self {
        WatermarkError::Unreadable(e.to_string())
    }
}

/// What one watermarking job may spend. Checked inside every loop over the document, so a file
/// that would take too long fails with [`WatermarkError::TooSlow`] instead of holding a core.
pub struct Budget {
    started: Instant,
    limit: Duration,
    pub max_pages: usize,
    pub max_objects: usize,
}

impl Budget {
    /// Limits for a server job: far above what a real report needs (the 60,000-page benchmark
    /// file takes well under a second), far below what would hurt the server.
    pub fn standard() -> Budget {
        Budget::with_time_limit(Duration::from_secs(20))
    }

    pub fn with_time_limit(limit: Duration) -> Budget {
        Budget {
            started: Instant::now(),
            limit,
            max_pages: 100_000,
            max_objects: 2_000_000,
        }
    }

    fn check_time(&self) -> Result<(), WatermarkError> {
        if self.started.elapsed() > self.limit {
            return Err(WatermarkError::TooSlow(self.limit.as_secs().max(1)));
        }
        Ok(())
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

/// Adds `name → id` to the sub-dictionary `category` (Font, ExtGState) of `res`, copying a
/// shared sub-dictionary it refers to (the shared one stays as it was).
fn add_resource(
    doc: &lopdf::Document,
    res: &mut Dictionary,
    category: &[u8],
    name: &str,
    id: ObjectId,
) -> Result<(), WatermarkError> {
    let mut sub = match res.get(category) {
        Ok(o) => doc
            .dereference(o)
            .ok()
            .and_then(|(_, o)| o.as_dict().ok())
            .cloned()
            .ok_or_else(|| WatermarkError::Damaged("a page's resources are not dictionaries".into()))?,
        Err(_) => Dictionary::new(),
    };
    sub.set(name, Object::Reference(id));
    res.set(category, Object::Dictionary(sub));
    Ok(())
}

/// The stream drawn after a page's own content: closes the `q` opened before it, then the
/// diagonal mark and the footer, sized to the page.
fn mark_content([x0, y0, x1, y1]: [f32; 4], diagonal_text: &str, footer_text: &str) -> Vec<u8> {
    let (w, h) = (x1 - x0, y1 - y0);
    let angle = h.atan2(w);
    let (c, s) = (angle.cos(), angle.sin());
    let size = (w.hypot(h) / 40.0).clamp(10.0, 40.0);
    let (cx, cy) = (x0 + w / 2.0, y0 + h / 2.0);
    let half = size * 0.25 * diagonal_text.len() as f32 / 2.0;
    format!(
        "Q\nq /{STATE} gs BT /{FONT} {size:.1} Tf 0.45 0.45 0.45 rg {c:.4} {s:.4} {:.4} {c:.4} {:.2} {:.2} Tm {diagonal_text} Tj ET Q\n\
         q BT /{FONT} 7 Tf 0.25 0.25 0.25 rg 1 0 0 1 {:.2} {:.2} Tm {footer_text} Tj ET Q\n",
        -s,
        cx - half * c,
        cy - half * s,
        x0 + 24.0,
        y0 + 12.0,
    )
    .into_bytes()
}

/// A watermarked copy, as what to append to the original: the copy is `original[keep_from..]`
/// followed by `update` (`keep_from` skips anything before the `%PDF-` header, which offsets in
/// the file do not count).
pub struct MarkedCopy {
    pub keep_from: usize,
    pub update: Vec<u8>,
}

impl MarkedCopy {
    /// The whole copy in one buffer (reusing `original`'s).
    pub fn into_bytes(self, mut original: Vec<u8>) -> Vec<u8> {
        original.drain(..self.keep_from);
        original.reserve_exact(self.update.len());
        original.extend_from_slice(&self.update);
        original
    }
}

/// Whether `pdf` can be watermarked: the very code a download runs, for a made-up viewer.
/// Checked at upload, so a viewer never meets a file that cannot be prepared for them.
pub fn check(pdf: &[u8], budget: &Budget) -> Result<(), WatermarkError> {
    let probe = Mark {
        name: "Upload Check",
        email: "check@candor.invalid",
        company: "Candor",
        date: "2000-01-01",
        grant: "check",
    };
    mark_copy(pdf, &probe, budget).map(|_| ())
}

/// A watermarked copy of `pdf` in one buffer, under the standard budget.
pub fn watermark(pdf: &[u8], mark: &Mark) -> Result<Vec<u8>, WatermarkError> {
    let copy = mark_copy(pdf, mark, &Budget::standard())?;
    let mut out = pdf[copy.keep_from..].to_vec();
    out.extend_from_slice(&copy.update);
    Ok(out)
}

/// Marks every page of `pdf` for `mark`, within `budget`.
pub fn mark_copy(pdf: &[u8], mark: &Mark, budget: &Budget) -> Result<MarkedCopy, WatermarkError> {
    // lopdf reads from the header on and counts offsets from there; so does the copy.
    let keep_from = pdf.windows(5).position(|w| w == b"%PDF-").unwrap_or(0);
    let original = &pdf[keep_from..];
    let doc = tree::load(original, budget)?;
    // Also when lopdf opened it with the empty password: the update would be written in clear.
    if doc.is_encrypted() || doc.was_encrypted() || doc.trailer.has(b"Encrypt") {
        return Err(WatermarkError::Encrypted);
    }
    let pages = tree::pages(&doc, budget)?;
    let mut out = update::Update::new(original.len(), doc.max_id);
    let font = out.add(&dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    })?;
    let state = out.add(&dictionary! { "Type" => "ExtGState", "ca" => 0.18, "CA" => 0.18 })?;
    let open = out.add_stream(b"q\n")?;
    let diagonal_text = pdf_text(&format!("{} · {} · {}", mark.email, mark.company, mark.date));
    let footer_text = pdf_text(&format!(
        "Shared with {} <{}>, {}, on {} under grant {}. Do not redistribute.",
        mark.name, mark.email, mark.company, mark.date, mark.grant
    ));
    // Pages of one size share a mark stream; pages sharing resources share the extended copy.
    let mut marks: HashMap<[u32; 4], ObjectId> = HashMap::new();
    let mut shared_resources: HashMap<tree::ResourceSource, ObjectId> = HashMap::new();
    for page in &pages {
        budget.check_time()?;
        let key = page.media_box.map(f32::to_bits);
        let mark_id = match marks.get(&key) {
            Some(id) => *id,
            None => {
                let id = out.add_stream(&mark_content(page.media_box, &diagonal_text, &footer_text))?;
                *marks.entry(key).or_insert(id)
            }
        };
        let resources = match (page.resources, shared_resources.get(&page.resources).copied()) {
            (_, Some(id)) => Object::Reference(id),
            (source, None) => {
                let mut res = tree::resources(&doc, source)?;
                add_resource(&doc, &mut res, b"Font", FONT, font)?;
                add_resource(&doc, &mut res, b"ExtGState", STATE, state)?;
                if source == tree::ResourceSource::InlineIn(page.id) {
                    // The page's own, written inside it: stays there, extended.
                    Object::Dictionary(res)
                } else {
                    let id = out.add(&res)?;
                    shared_resources.insert(source, id);
                    Object::Reference(id)
                }
            }
        };
        let mut dict = doc
            .get_dictionary(page.id)
            .map_err(|_| WatermarkError::Damaged(format!("page {} is not a dictionary", page.id.0)))?
            .clone();
        let mut contents = vec![Object::Reference(open)];
        match dict.get(b"Contents") {
            Ok(Object::Array(a)) => contents.extend(a.iter().cloned()),
            // A reference to an array of streams (rare) is spliced in; to a stream, kept.
            Ok(Object::Reference(id)) => match doc.get_object(*id) {
                Ok(Object::Array(a)) => contents.extend(a.iter().cloned()),
                _ => contents.push(Object::Reference(*id)),
            },
            _ => {}
        }
        contents.push(Object::Reference(mark_id));
        dict.set("Contents", Object::Array(contents));
        dict.set("Resources", resources);
        out.replace(page.id, &dict)?;
    }
    budget.check_time()?;
    let update = out.finish(&doc.trailer, doc.xref_start)?;
    Ok(MarkedCopy { keep_from, update })
}

/// The slots watermarking jobs queue for: one job runs per slot, the rest wait their turn. Counts
/// the jobs waiting, for `/metrics` (a semaphore does not tell).
#[derive(Clone)]
pub struct Slots {
    semaphore: Arc<Semaphore>,
    size: usize,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl Slots {
    pub fn new(size: usize) -> Slots {
        Slots {
            semaphore: Arc::new(Semaphore::new(size)),
            size,
            waiting: Default::default(),
        }
    }

    /// Slots free now.
    pub fn available_permits(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// How many slots there are.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Jobs waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Counts a job as waiting until dropped: when it gets its slot, or when its request is gone.
struct Waiting(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs a watermarking `job` on the blocking pool once one of `slots` is free (queueing behind
/// the others). The slot is held until the job ends, even if the request that asked for it is
/// gone, so the number of jobs really running never exceeds the slots.
pub async fn in_slot<T: Send + 'static>(slots: Slots, job: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let slot = {
        slots.waiting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _waiting = Waiting(slots.waiting.clone());
        slots.semaphore.clone().acquire_owned().await?
    };
    let done = tokio::task::spawn_blocking(move || {
        let out = job();
        drop(slot);
        out
    })
    .await?;
    Ok(done)
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

    /// Jobs beyond the slots wait their turn; a job whose caller has gone keeps its slot until it
    /// really ends, so abandoned downloads cannot pile up running jobs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_queue_for_slots_and_hold_them_until_done() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let slots = Slots::new(2);
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                in_slot(slots.clone(), move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(30));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for job in futures_util::future::join_all(jobs).await {
            job.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);

        let (release, wait) = std::sync::mpsc::channel::<()>();
        let abandoned = tokio::spawn(in_slot(slots.clone(), move || wait.recv().ok()));
        while slots.available_permits() == 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        abandoned.abort();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(slots.available_permits(), 1, "the running job still holds its slot");
        release.send(()).unwrap();
        while slots.available_permits() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
