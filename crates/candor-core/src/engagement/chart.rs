//! A day series drawn as an SVG bar chart, on the server: no script, and readable without the
//! picture (the page puts the same numbers in a table next to it).

use chrono::NaiveDate;
use std::fmt::Write;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 200;
/// Room for the scale on the left and the dates below.
const LEFT: u32 = 44;
const BOTTOM: u32 = 24;
const TOP: u32 = 8;

/// An inline `<svg>` of one bar per day, titled `title` (the accessible name: `role="img"` with
/// `aria-labelledby` pointing at its `<title>`, whose id is `id`), with the largest value and the
/// first and last dates as labels. `id` must be unique on the page and is used as given (callers
/// pass a constant).
pub fn daily_bars_svg(id: &str, title: &str, days: &[(NaiveDate, u64)]) -> String {
    let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let total: u64 = days.iter().map(|(_, n)| *n).sum();
    let plot_w = WIDTH - LEFT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let mut svg = String::with_capacity(256 + days.len() * 96);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-labelledby="{id}"><title id="{id}">{}</title>"##,
        escape(&format!("{title}: {total} in {} days", days.len()))
    );
    let base = TOP + plot_h;
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#555" stroke-width="1"/><text x="{x}" y="{y}" text-anchor="end" font-size="12" fill="#333">{max}</text><text x="{x}" y="{base}" text-anchor="end" font-size="12" fill="#333">0</text>"##,
        x = LEFT - 6,
        y = TOP + 12,
    );
    if !days.is_empty() {
        let slot = f64::from(plot_w) / days.len() as f64;
        let bar = (slot * 0.8).max(1.0);
        for (i, (day, n)) in days.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let h = (*n as f64 / max as f64 * f64::from(plot_h)).max(1.0);
            let x = f64::from(LEFT) + i as f64 * slot + (slot - bar) / 2.0;
            let y = f64::from(base) - h;
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="#1d4ed8"><title>{day}: {n}</title></rect>"##
            );
        }
        let label_y = HEIGHT - 6;
        let (first, last) = (days[0].0, days[days.len() - 1].0);
        let _ = write!(
            svg,
            r##"<text x="{LEFT}" y="{label_y}" font-size="12" fill="#333">{first}</text><text x="{WIDTH}" y="{label_y}" text-anchor="end" font-size="12" fill="#333">{last}</text>"##
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Text for an SVG text node or attribute: the same escaping as HTML's.
fn escape(s: &str) -> String {
    crate::markdown::escape_html(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn one_bar_per_day_with_a_value_scaled_to_the_largest() {
        let days = [(d("2026-03-01"), 4), (d("2026-03-02"), 0), (d("2026-03-03"), 2)];
        let svg = daily_bars_svg("views-chart", "Page views", &days);
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img" aria-labelledby="views-chart""#));
        assert!(svg.contains(r#"<title id="views-chart">Page views: 6 in 3 days</title>"#));
        assert_eq!(svg.matches("<rect ").count(), 2);
        // The tallest bar fills the plot (168 units); half the value, half the height.
        assert!(svg.contains(r#"height="168.0""#));
        assert!(svg.contains(r#"height="84.0""#));
        assert!(svg.contains("<title>2026-03-01: 4</title>"));
        assert!(svg.contains(">2026-03-01</text>") && svg.contains(">2026-03-03</text>"));
        assert!(!svg.contains("<script") && !svg.contains("style="));
    }

    #[test]
    fn empty_and_all_zero_series_draw_no_bars_and_titles_are_escaped() {
        let svg = daily_bars_svg("c", "<b>\"x\" & y", &[]);
        assert!(svg.contains("&lt;b&gt;&quot;x&quot; &amp; y: 0 in 0 days"));
        assert_eq!(svg.matches("<rect ").count(), 0);
        let svg = daily_bars_svg("c", "t", &[(d("2026-03-01"), 0)]);
        assert_eq!(svg.matches("<rect ").count(), 0);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
