//! A form's errors, each tied to its field: the summary above the form names fields as their
//! labels do ("Security contact", never `security_email`) and links to them; each field shows
//! its own message next to it, marked `aria-invalid` and described by that message. Shared by
//! every form, public and back office.
//!
//! The summary (`templates/error_summary.html`) takes the focus when the page loads, with
//! `autofocus` on the summary itself: no script needed, so nothing for the CSP to allow.

use candor_core::content::FieldError;

/// The errors of one form.
#[derive(Default, Debug)]
pub struct FormErrors {
    items: Vec<FieldError>,
    /// `(field, label)`: how the form labels each field.
    labels: Vec<(String, String)>,
    /// What the form's field ids start with (`f-`, `r-`, ...).
    prefix: String,
}

impl FormErrors {
    /// Errors of a form whose field ids are `prefix` + field name, labelled as in `labels`.
    pub fn new<L: Into<String>, M: Into<String>>(
        items: Vec<FieldError>,
        labels: impl IntoIterator<Item = (L, M)>,
        prefix: &str,
    ) -> FormErrors {
        FormErrors {
            items,
            labels: labels.into_iter().map(|(f, l)| (f.into(), l.into())).collect(),
            prefix: prefix.to_owned(),
        }
    }

    /// No errors, for a form shown for the first time.
    pub fn none() -> FormErrors {
        FormErrors::default()
    }

    /// Adds one (a field of `""` is about the whole form).
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.items.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The message to show at `field`, if it has one (several are joined).
    pub fn at(&self, field: &str) -> Option<String> {
        let found: Vec<&str> = self
            .items
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect();
        (!found.is_empty()).then(|| found.join(" "))
    }

    /// The id of the message shown next to `field`, for its `aria-describedby`.
    pub fn message_id(&self, field: &str) -> String {
        format!("{}{field}-error", self.prefix)
    }

    /// How the form labels `field` (the field's own name when it has no label).
    pub fn label<'a>(&'a self, field: &'a str) -> &'a str {
        self.labels
            .iter()
            .find(|(f, _)| f == field)
            .map_or(field, |(_, l)| l.as_str())
    }

    /// The summary above the form: (id of the field to link to, or empty for errors about the
    /// whole form; "Label: message").
    pub fn summary(&self) -> Vec<(String, String)> {
        self.items
            .iter()
            .map(|e| {
                if e.field.is_empty() {
                    (String::new(), e.message.clone())
                } else {
                    (
                        format!("{}{}", self.prefix, e.field),
                        format!("{}: {}", self.label(&e.field), e.message),
                    )
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_uses_labels_and_links_to_the_fields() {
        let mut e = FormErrors::new(
            vec![FieldError::new("security_email", "enter an address")],
            [("security_email", "Security contact")],
            "f-",
        );
        e.push("", "Wait 1 second.");
        e.push("unknown", "odd");
        assert_eq!(
            e.summary(),
            [
                (
                    "f-security_email".to_owned(),
                    "Security contact: enter an address".to_owned()
                ),
                (String::new(), "Wait 1 second.".to_owned()),
                ("f-unknown".to_owned(), "unknown: odd".to_owned()),
            ]
        );
        assert_eq!(e.at("security_email").as_deref(), Some("enter an address"));
        assert_eq!(e.at("name"), None);
        assert_eq!(e.message_id("security_email"), "f-security_email-error");
        assert!(FormErrors::none().is_empty());
    }
}
