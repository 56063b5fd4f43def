//! Reading what watermarking needs from a PDF, and nothing more: the object graph without stream
//! contents, and the page tree walked once from the catalog, guarded against loops, depth,
//! size and time.
//!
//! Attributes a page inherits (MediaBox, Resources) are taken from the nodes the walk came
//! through, never by following `/Parent` upwards; a `/Parent` that disagrees with the walk means a
//! damaged tree and the file is refused, so no later reader meets a loop either.

use super::{Budget, WatermarkError};
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};
use std::collections::HashSet;
use std::rc::Rc;

/// Deeper page trees than this are refused (real ones are a handful of levels).
const MAX_DEPTH: usize = 64;

/// Loads `pdf` keeping only what watermarking reads: every object except streams' contents.
/// Streams (page contents, images, fonts) are dropped as they are read, so memory holds the
/// dictionaries alone; object streams are kept, as lopdf unpacks the objects inside them.
pub(super) fn load(pdf: &[u8], budget: &Budget) -> Result<Document, WatermarkError> {
    let options = LoadOptions {
        filter: Some(keep_structure),
        ..Default::default()
    };
    let doc = Document::load_mem_with_options(pdf, options)?;
    budget.check_time()?;
    if doc.objects.len() > budget.max_objects {
        return Err(WatermarkError::TooLarge(format!(
            "it has more than {} objects",
            budget.max_objects
        )));
    }
    Ok(doc)
}

/// The load filter. lopdf keeps `object` itself for objects read from the file but the returned
/// copy for objects unpacked from an object stream, so both must stay whole.
fn keep_structure(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    match object {
        Object::Stream(s) if !s.dict.has_type(b"ObjStm") => None,
        _ => Some((id, object.clone())),
    }
}

/// Where a page's resource dictionary comes from.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum ResourceSource {
    /// An indirect dictionary, possibly shared by many pages.
    Object(ObjectId),
    /// Written inside the dictionary of this page or page-tree node.
    InlineIn(ObjectId),
    /// None anywhere above the page.
    Absent,
}

/// One page, with what it inherits resolved.
pub(super) struct Page {
    pub id: ObjectId,
    pub media_box: [f32; 4],
    pub resources: ResourceSource,
}

struct Inherited {
    media_box: Option<[f32; 4]>,
    resources: ResourceSource,
}

struct Visit {
    id: ObjectId,
    listed_under: Option<ObjectId>,
    inherited: Rc<Inherited>,
    depth: usize,
}

/// Every page in document order, from the catalog's page tree.
pub(super) fn pages(doc: &Document, budget: &Budget) -> Result<Vec<Page>, WatermarkError> {
    let damaged = |why: String| WatermarkError::Damaged(why);
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| damaged("it has no document catalog".into()))?;
    let tree = doc
        .get_dictionary(root)
        .and_then(|catalog| catalog.get(b"Pages"))
        .and_then(Object::as_reference)
        .map_err(|_| damaged("its catalog has no page tree".into()))?;
    let mut stack = vec![Visit {
        id: tree,
        listed_under: None,
        inherited: Rc::new(Inherited {
            media_box: None,
            resources: ResourceSource::Absent,
        }),
        depth: 0,
    }];
    let mut seen = HashSet::new();
    let mut pages = Vec::new();
    while let Some(visit) = stack.pop() {
        budget.check_time()?;
        let id = visit.id;
        if !seen.insert(id) {
            return Err(damaged(format!(
                "its page tree reaches object {} more than once (a loop or a shared page)",
                id.0
            )));
        }
        if visit.depth > MAX_DEPTH {
            return Err(damaged(format!(
                "its page tree is nested more than {MAX_DEPTH} levels deep"
            )));
        }
        let node = doc
            .get_dictionary(id)
            .map_err(|_| damaged(format!("page tree entry {} is missing or not a dictionary", id.0)))?;
        let parent = node.get(b"Parent").ok().map(|p| p.as_reference());
        match (parent, visit.listed_under) {
            (None, _) => {}
            (Some(Ok(p)), Some(under)) if p == under => {}
            (Some(_), Some(under)) => {
                return Err(damaged(format!(
                    "page tree entry {} does not name node {}, which lists it, as its /Parent",
                    id.0, under.0
                )))
            }
            (Some(_), None) => return Err(damaged(format!("the root of its page tree ({}) names a /Parent", id.0))),
        }
        let inherited = Rc::new(Inherited {
            media_box: media_box(doc, node).or(visit.inherited.media_box),
            resources: match node.get(b"Resources") {
                Ok(Object::Reference(r)) => ResourceSource::Object(*r),
                Ok(_) => ResourceSource::InlineIn(id),
                Err(_) => visit.inherited.resources,
            },
        });
        match node.get(b"Kids") {
            Ok(kids) => {
                let kids = doc
                    .dereference(kids)
                    .ok()
                    .and_then(|(_, k)| k.as_array().ok())
                    .ok_or_else(|| damaged(format!("page tree node {} has /Kids that is not a list", id.0)))?;
                for kid in kids.iter().rev() {
                    let kid = kid
                        .as_reference()
                        .map_err(|_| damaged(format!("page tree node {} lists a kid that is not a reference", id.0)))?;
                    stack.push(Visit {
                        id: kid,
                        listed_under: Some(id),
                        inherited: inherited.clone(),
                        depth: visit.depth + 1,
                    });
                }
            }
            // An intermediate node with no kids holds no pages.
            Err(_) if node.has_type(b"Pages") => {}
            Err(_) => {
                if pages.len() == budget.max_pages {
                    return Err(WatermarkError::TooLarge(format!(
                        "it has more than {} pages",
                        budget.max_pages
                    )));
                }
                pages.push(Page {
                    id,
                    media_box: inherited.media_box.unwrap_or(US_LETTER),
                    resources: inherited.resources,
                });
            }
        }
    }
    if pages.is_empty() {
        return Err(WatermarkError::Damaged("it has no pages".into()));
    }
    Ok(pages)
}

const US_LETTER: [f32; 4] = [0.0, 0.0, 612.0, 792.0];

/// The node's own MediaBox, if it has a usable one (four numbers, non-empty).
fn media_box(doc: &Document, node: &Dictionary) -> Option<[f32; 4]> {
    let (_, value) = doc.dereference(node.get(b"MediaBox").ok()?).ok()?;
    let numbers: Vec<f32> = value
        .as_array()
        .ok()?
        .iter()
        .filter_map(|n| doc.dereference(n).ok()?.1.as_float().ok())
        .collect();
    let [x0, y0, x1, y1] = <[f32; 4]>::try_from(numbers).ok()?;
    let sane = [x0, y0, x1, y1].iter().all(|n| n.is_finite() && n.abs() < 1.0e6);
    (sane && x1 != x0 && y1 != y0).then_some([x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)])
}

/// The resource dictionary `source` names, as a copy to extend (empty when there is none).
pub(super) fn resources(doc: &Document, source: ResourceSource) -> Result<Dictionary, WatermarkError> {
    let found = match source {
        ResourceSource::Absent => return Ok(Dictionary::new()),
        ResourceSource::Object(id) => doc.get_dictionary(id),
        ResourceSource::InlineIn(node) => doc
            .get_dictionary(node)
            .and_then(|n| n.get(b"Resources"))
            .and_then(Object::as_dict),
    };
    found
        .cloned()
        .map_err(|_| WatermarkError::Damaged("a page's /Resources is missing or not a dictionary".into()))
}
