//! The editable fields of each content kind. One table drives the back-office forms, the
//! conversion of form input to JSON, and the JSON Schemas in the OpenAPI document.

use crate::content::Kind;
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// One line of text.
    Line,
    /// Markdown, edited in a text area with preview.
    Markdown,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    Email,
    Url,
    /// `#rrggbb`.
    Color,
    /// A list of short strings, one per line in forms.
    List,
    /// One of fixed values: (value, label).
    Choice(&'static [(&'static str, &'static str)]),
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub ty: FieldType,
    pub required: bool,
    pub help: &'static str,
}

const fn f(name: &'static str, label: &'static str, ty: FieldType, required: bool, help: &'static str) -> Field {
    Field {
        name,
        label,
        ty,
        required,
        help,
    }
}

use FieldType::*;

const CERT_STATUS: &[(&str, &str)] = &[
    ("certified", "Certified"),
    ("compliant", "Compliant"),
    ("aligned", "Aligned"),
    ("in-progress", "In progress"),
];
const VISIBILITY: &[(&str, &str)] = &[
    ("public", "Public"),
    ("nda", "NDA only (signed-in viewers with live access)"),
];
const COOKIE_CATEGORY: &[(&str, &str)] = &[
    ("strictly-necessary", "Strictly necessary"),
    ("functional", "Functional"),
    ("analytics", "Analytics"),
    ("marketing", "Marketing"),
];

const PROFILE: &[Field] = &[
    f("name", "Organization name", Line, true, ""),
    f(
        "tagline",
        "Tagline",
        Line,
        true,
        "One line under the name on the home page.",
    ),
    f("description", "Overview", Markdown, true, "The home page introduction."),
    f("website", "Website", Url, false, ""),
    f(
        "logo_url",
        "Logo URL",
        Url,
        false,
        "An https:// address of a square logo image; or upload the image on the Logo page (/admin/logo).",
    ),
    f(
        "brand_color",
        "Brand colour",
        Color,
        true,
        "#rrggbb. A colour too light for white text is darkened where it is used; this form says to which colour.",
    ),
    f("security_email", "Security contact", Email, true, ""),
    f("privacy_email", "Privacy contact", Email, true, ""),
    f("support_email", "Support contact", Email, true, ""),
    f(
        "hosting_regions",
        "Hosting regions",
        List,
        false,
        "One region per line.",
    ),
    f(
        "status_url",
        "Status page",
        Url,
        false,
        "An https:// address of an external status page for the header's Status link; leave empty to link to this trust center's own status page.",
    ),
];
const SECTION: &[Field] = &[
    f("title", "Title", Line, true, ""),
    f("summary", "Summary", Line, true, "One sentence for the home page card."),
    f("body", "Introduction", Markdown, false, ""),
];
const CONTROL: &[Field] = &[
    f(
        "section",
        "Section",
        Line,
        true,
        "The section that holds this control (over the API and in content files: its slug).",
    ),
    f("title", "Title", Line, true, ""),
    f(
        "body",
        "Description",
        Markdown,
        true,
        "Level-3 headings (###) and below only.",
    ),
    f("visibility", "Visibility", Choice(VISIBILITY), true, ""),
];
const CERTIFICATION: &[Field] = &[
    f("name", "Name", Line, true, "e.g. ISO/IEC 27001:2022"),
    f(
        "status",
        "Status",
        Choice(CERT_STATUS),
        true,
        "Shown as Expired automatically after the expiry date.",
    ),
    f("issuer", "Issuer or auditor", Line, false, ""),
    f("issued", "Issued", Date, false, ""),
    f("expires", "Expires", Date, false, ""),
    f("summary", "Scope and notes", Markdown, false, ""),
    f("url", "Link", Url, false, ""),
];
const SUBPROCESSOR: &[Field] = &[
    f("name", "Name", Line, true, ""),
    f("purpose", "Purpose", Line, true, ""),
    f("data", "Data processed", List, false, "One category per line."),
    f("locations", "Locations", List, false, "One per line."),
    f("website", "Website", Url, false, ""),
    f("added", "Date added", Date, true, ""),
];
const POLICY: &[Field] = &[
    f("title", "Title", Line, true, ""),
    f("summary", "Summary", Line, true, ""),
    f("effective", "Effective date", Date, true, ""),
    f("body", "Body", Markdown, false, ""),
];
const FAQ: &[Field] = &[
    f("question", "Question", Line, true, ""),
    f("answer", "Answer", Markdown, true, ""),
];
const COOKIE: &[Field] = &[
    f("name", "Cookie name", Line, true, ""),
    f(
        "provider",
        "Provider",
        Line,
        true,
        "Who sets it: us or a named third party.",
    ),
    f(
        "service",
        "Service or website",
        Line,
        true,
        "The cookie page groups by this.",
    ),
    f("category", "Category", Choice(COOKIE_CATEGORY), true, ""),
    f(
        "duration",
        "Duration",
        Line,
        true,
        "\"session\", or e.g. \"13 months\".",
    ),
    f("purpose", "Purpose", Line, true, ""),
];
const PAGE: &[Field] = &[
    f("title", "Title", Line, true, ""),
    f("body", "Body", Markdown, true, ""),
];

/// The fields of a kind, in form order.
pub fn fields(kind: Kind) -> &'static [Field] {
    match kind {
        Kind::Profile => PROFILE,
        Kind::Section => SECTION,
        Kind::Control => CONTROL,
        Kind::Certification => CERTIFICATION,
        Kind::Subprocessor => SUBPROCESSOR,
        Kind::Policy => POLICY,
        Kind::Faq => FAQ,
        Kind::Cookie => COOKIE,
        Kind::Page => PAGE,
    }
}

/// Turns submitted form values into the kind's JSON body (not yet validated: pass the result to
/// [`Kind::validate`]). Empty optional fields are left out; lists take one entry per line.
pub fn form_to_json(kind: Kind, get: impl Fn(&str) -> Option<String>) -> Value {
    let mut map = Map::new();
    for field in fields(kind) {
        let raw = get(field.name).unwrap_or_default().replace("\r\n", "\n");
        let value = match field.ty {
            List => Value::Array(
                raw.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.to_owned()))
                    .collect(),
            ),
            Markdown => Value::String(raw.trim().to_owned()),
            _ => {
                let t = raw.trim();
                if t.is_empty() && !field.required {
                    continue;
                }
                Value::String(t.to_owned())
            }
        };
        map.insert(field.name.to_owned(), value);
    }
    Value::Object(map)
}

/// The text to put in a form control for a field of a stored body.
pub fn form_value(field: &Field, body: &Value) -> String {
    match body.get(field.name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n"),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// JSON Schema (2020-12, as OpenAPI 3.1 uses) of a kind's body.
pub fn json_schema(kind: Kind) -> Value {
    let mut props = Map::new();
    let mut required = vec![];
    for field in fields(kind) {
        let schema = match field.ty {
            Line | Markdown => json!({"type": "string"}),
            Date => json!({"type": "string", "format": "date"}),
            Email => json!({"type": "string", "format": "email"}),
            Url => json!({"type": "string", "format": "uri"}),
            Color => json!({"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}),
            List => json!({"type": "array", "items": {"type": "string"}}),
            Choice(values) => {
                json!({"type": "string", "enum": values.iter().map(|(v, _)| *v).collect::<Vec<_>>()})
            }
        };
        let mut schema = schema;
        if !field.label.is_empty() {
            schema["title"] = json!(field.label);
        }
        if !field.help.is_empty() {
            schema["description"] = json!(field.help);
        }
        props.insert(field.name.to_owned(), schema);
        if field.required {
            required.push(field.name);
        }
    }
    json!({"type": "object", "additionalProperties": false, "properties": props, "required": required})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_round_trips_through_validation() {
        let form = |k: &str| match k {
            "name" => Some("Mail relay".to_owned()),
            "purpose" => Some("Sends email".to_owned()),
            "data" => Some("Contact details\r\n\r\n Names \n".to_owned()),
            "locations" => Some("EU".to_owned()),
            "added" => Some("2026-01-02".to_owned()),
            _ => None,
        };
        let json = form_to_json(Kind::Subprocessor, form);
        let ok = Kind::Subprocessor.validate(&json).unwrap();
        assert_eq!(ok["data"], json!(["Contact details", "Names"]));
        assert!(ok.get("website").is_none());
    }

    #[test]
    fn a_form_filling_every_field_validates_for_every_kind() {
        // Catches a form field that the kind's struct does not know, or a missing required one.
        for kind in Kind::ALL {
            let sample = |name: &str| {
                let field = fields(kind).iter().find(|f| f.name == name)?;
                Some(match field.ty {
                    Line | Markdown | List => "sample".to_owned(),
                    Date => "2026-01-01".to_owned(),
                    Email => "a@b.example".to_owned(),
                    Url => "https://b.example".to_owned(),
                    Color => "#112233".to_owned(),
                    Choice(values) => values[0].0.to_owned(),
                })
            };
            let body = form_to_json(kind, sample);
            assert!(kind.validate(&body).is_ok(), "{kind}: {:?}", kind.validate(&body));
        }
    }
}
