//! What the status back office's forms share: field errors shown under the labels people read,
//! UTC date-times, per-component choices, and the little page models every status page uses.

use crate::http::error::{WebError, WebResult};
use crate::http::layout::html;
use crate::http::FormMap;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use candor_core::content::FieldError;
use candor_core::status::ComponentStatus;
use candor_store::StatusComponent;

/// The errors of one form, each at its field, with the names of the fields as the form labels
/// them (`body` is "Message" to the person who typed it).
#[derive(Default)]
pub(super) struct Errors {
    items: Vec<FieldError>,
    labels: &'static [(&'static str, &'static str)],
    /// What the form's field ids start with (`f-` unless a page has several forms).
    prefix: &'static str,
}

impl Errors {
    pub fn new(items: Vec<FieldError>, labels: &'static [(&'static str, &'static str)]) -> Errors {
        Errors {
            items,
            labels,
            prefix: "f-",
        }
    }

    /// The same errors for a form whose field ids start with `prefix`.
    pub fn prefixed(self, prefix: &'static str) -> Errors {
        Errors { prefix, ..self }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The message to show at `field`, if it has one.
    pub fn at(&self, field: &str) -> Option<&str> {
        self.items.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// The summary above the form: (id of the field to link to, "Label: message").
    pub fn summary(&self) -> Vec<(String, String)> {
        self.items
            .iter()
            .map(|e| match self.labels.iter().find(|(f, _)| *f == e.field) {
                Some((_, label)) => (format!("{}{}", self.prefix, e.field), format!("{label}: {}", e.message)),
                None => (String::new(), e.message.clone()),
            })
            .collect()
    }
}

/// The page again with its errors, answered 422.
pub(super) fn unprocessable<T: Template>(page: T) -> WebResult<Response> {
    let mut res = html(page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// An id from the path; anything but a number is a page that does not exist.
pub(super) fn path_id(s: &str) -> WebResult<i64> {
    s.parse().map_err(|_| WebError::NotFound)
}

/// A field's text, trimmed of nothing (the use cases trim), empty when absent.
pub(super) fn text(form: &FormMap, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
}

/// A checkbox: sent (with any value) when ticked.
pub(super) fn ticked(form: &FormMap, name: &str) -> bool {
    form.get(name).is_some_and(|v| !v.is_empty())
}

/// A choice from a select. The page offers only valid values, so anything else is a hand-made
/// request: 400.
pub(super) fn choice<T>(form: &FormMap, name: &str, parse: impl Fn(&str) -> Option<T>) -> WebResult<T> {
    let value = form.get(name).map(String::as_str).unwrap_or("");
    parse(value).ok_or_else(|| WebError::BadRequest(format!("{name}: {value:?} is not one of the choices")))
}

/// `2026-03-01T14:30` (a `datetime-local` input, read as UTC) as a Unix time.
pub(super) fn parse_utc(field: &str, value: &str) -> Result<i64, FieldError> {
    let value = value.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(value, f).ok())
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| {
            FieldError::new(
                field,
                if value.is_empty() {
                    "give a date and time (UTC)".to_owned()
                } else {
                    format!("{value:?} is not a date and time; write it as 2026-03-01T14:30 (UTC)")
                },
            )
        })
}

/// A Unix time as a `datetime-local` input's value.
pub(super) fn input_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// The component statuses as (value, label), in order of severity.
pub(super) fn status_options() -> Vec<(&'static str, &'static str)> {
    ComponentStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect()
}

/// The pill a status is shown in (the back office's colours: fine, warning, failing).
pub(super) fn status_class(s: ComponentStatus) -> &'static str {
    match s {
        ComponentStatus::Operational => "published",
        ComponentStatus::UnderMaintenance => "",
        ComponentStatus::DegradedPerformance | ComponentStatus::PartialOutage => "changed",
        ComponentStatus::MajorOutage => "failed",
    }
}

/// One component's row in a form that gives each component a status: `component-ID` is empty
/// (left as it is), `none` (not affected) or a status.
pub(super) struct ComponentChoice {
    pub id: i64,
    pub name: String,
    /// The value selected: "" (unchanged), "none" or a status.
    pub selected: String,
    /// What it is now, for the "leave as it is" option's label.
    pub current: Option<&'static str>,
}

/// The rows of such a form: `affected` are the components and statuses it has now.
pub(super) fn component_choices(
    components: &[StatusComponent],
    affected: &[(i64, ComponentStatus)],
    form: Option<&FormMap>,
) -> Vec<ComponentChoice> {
    components
        .iter()
        .map(|c| ComponentChoice {
            id: c.id,
            name: c.name.clone(),
            selected: form
                .and_then(|f| f.get(&format!("component-{}", c.id)).cloned())
                .unwrap_or_default(),
            current: affected.iter().find(|(id, _)| *id == c.id).map(|(_, s)| s.label()),
        })
        .collect()
}

/// Reads the per-component choices against what is affected now: the new list, or None when
/// nothing was changed.
pub(super) fn chosen_components(
    form: &FormMap,
    components: &[StatusComponent],
    affected: &[(i64, ComponentStatus)],
) -> WebResult<Option<Vec<(i64, ComponentStatus)>>> {
    let mut list = vec![];
    let mut changed = false;
    for c in components {
        let now = affected.iter().find(|(id, _)| *id == c.id).map(|(_, s)| *s);
        let value = form
            .get(&format!("component-{}", c.id))
            .map(String::as_str)
            .unwrap_or("");
        let wanted =
            match value {
                "" => now,
                "none" => None,
                s => Some(ComponentStatus::parse(s).ok_or_else(|| {
                    WebError::BadRequest(format!("component-{}: {s:?} is not a component status", c.id))
                })?),
            };
        changed |= wanted != now;
        if let Some(s) = wanted {
            list.push((c.id, s));
        }
    }
    Ok(changed.then_some(list))
}

/// The confirmation page before something is deleted.
#[derive(Template)]
#[template(path = "admin/status/delete.html")]
pub(super) struct DeletePage {
    pub layout: crate::http::layout::AdminLayout,
    pub heading: String,
    pub explain: String,
    pub action: String,
    pub back: String,
    pub button: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_inputs_are_read_and_written_alike() {
        let t = parse_utc("start", "2026-03-01T14:30").unwrap();
        assert_eq!(input_time(t), "2026-03-01T14:30");
        assert_eq!(parse_utc("start", " 2026-03-01T14:30:15 ").unwrap(), t + 15);
        let e = parse_utc("start", "tomorrow").unwrap_err();
        assert_eq!(e.field, "start");
        assert!(e.message.contains("2026-03-01T14:30"), "{}", e.message);
    }

    #[test]
    fn errors_are_shown_under_their_labels() {
        let e = Errors::new(
            vec![FieldError::new("body", "write something"), FieldError::new("x", "odd")],
            &[("body", "Message")],
        );
        assert_eq!(e.at("body"), Some("write something"));
        assert_eq!(
            e.summary(),
            vec![
                ("f-body".to_owned(), "Message: write something".to_owned()),
                (String::new(), "odd".to_owned())
            ]
        );
    }
}
