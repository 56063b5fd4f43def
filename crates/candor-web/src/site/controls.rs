//! `/controls`: every section and its controls on one page, the way into the controls from the
//! header (a reviewer scans the whole list before reading a section).

use super::content::Published;
use super::pages::{is_confidential, Layout};
use askama::Template;

pub struct ControlLink {
    pub slug: String,
    pub title: String,
    /// An NDA-only control (only in a signed-in viewer's page).
    pub confidential: bool,
}

pub struct SectionControls {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub controls: Vec<ControlLink>,
}

#[derive(Template)]
#[template(path = "site/controls.html")]
struct ControlsPage<'a> {
    layout: &'a Layout,
    current: &'a str,
    query: &'a str,
    control_count: usize,
    sections: Vec<SectionControls>,
}

/// The overview of `p`'s sections and controls.
pub fn page(layout: &Layout, p: &Published) -> String {
    let sections: Vec<SectionControls> = p
        .sections
        .iter()
        .map(|s| SectionControls {
            slug: s.section.slug.clone(),
            title: s.section.body.title.clone(),
            summary: s.section.body.summary.clone(),
            controls: s
                .controls
                .iter()
                .map(|c| ControlLink {
                    slug: c.slug.clone(),
                    title: c.body.title.clone(),
                    confidential: is_confidential(c),
                })
                .collect(),
        })
        .collect();
    ControlsPage {
        layout,
        current: "/controls",
        query: "",
        control_count: sections.iter().map(|s| s.controls.len()).sum(),
        sections,
    }
    .render()
    .expect("renders")
}
