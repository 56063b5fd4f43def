//! SVG badges for READMEs and dashboards: a component's status (`/status/badges/{id}.svg`) and its
//! 90-day uptime (`/status/badges/{id}/uptime.svg`). Colours are presentation attributes, not
//! `style`, so the image obeys the site's CSP when opened on its own.

use crate::site::feeds::esc;
use candor_app::status::ComponentView;
use candor_core::status::uptime::format_percent;
use candor_core::status::ComponentStatus;

pub const SVG: &str = "image/svg+xml";

/// Text on a grey background at the left, a coloured value at the right (white text on each
/// colour has at least 4.5:1 contrast).
fn badge(label: &str, value: &str, color: &str) -> String {
    // Verdana-like text at 11 px averages under 7 px a character; pad each side by 6 px.
    let width = |s: &str| s.chars().count() as u32 * 7 + 12;
    let (lw, vw) = (width(label), width(value));
    let total = lw + vw;
    let (label, value) = (esc(label), esc(value));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"20\" role=\"img\" aria-label=\"{label}: {value}\">\
<title>{label}: {value}</title>\
<rect width=\"{lw}\" height=\"20\" fill=\"#4a4f55\"/>\
<rect x=\"{lw}\" width=\"{vw}\" height=\"20\" fill=\"{color}\"/>\
<g fill=\"#ffffff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\" text-anchor=\"middle\">\
<text x=\"{}\" y=\"14\">{label}</text><text x=\"{}\" y=\"14\">{value}</text></g></svg>\n",
        lw / 2,
        lw + vw / 2
    )
}

fn status_color(s: ComponentStatus) -> &'static str {
    match s {
        ComponentStatus::Operational => "#17692f",
        ComponentStatus::UnderMaintenance => "#0b5394",
        ComponentStatus::DegradedPerformance => "#8a5300",
        ComponentStatus::PartialOutage => "#a8420b",
        ComponentStatus::MajorOutage => "#b3191d",
    }
}

/// The component's status as shown on `/status`.
pub fn status(c: &ComponentView) -> String {
    badge(
        &c.component.name,
        &c.shown.label().to_lowercase(),
        status_color(c.shown),
    )
}

/// The component's uptime over the last 90 days.
pub fn uptime(c: &ComponentView) -> String {
    let label = format!("{} uptime", c.component.name);
    match c.uptime {
        None => badge(&label, "no data", "#5f6b76"),
        Some(p) => {
            let color = if p >= 99.9 {
                "#17692f"
            } else if p >= 99.0 {
                "#8a5300"
            } else if p >= 95.0 {
                "#a8420b"
            } else {
                "#b3191d"
            };
            badge(&label, &format_percent(p), color)
        }
    }
}
