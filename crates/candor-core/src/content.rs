//! The content kinds a trust center publishes, and their validation rules.
//!
//! Each kind is a plain struct serialized as JSON in the store; the slug, position and public
//! `updated` date are item metadata kept beside it (see `candor_store::Item`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every kind of content, in the order the back office lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Profile,
    Section,
    Control,
    Certification,
    Subprocessor,
    Policy,
    Faq,
    Cookie,
    Page,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Profile,
        Kind::Section,
        Kind::Control,
        Kind::Certification,
        Kind::Subprocessor,
        Kind::Policy,
        Kind::Faq,
        Kind::Cookie,
        Kind::Page,
    ];

    /// The name used in URLs, the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Profile => "profile",
            Kind::Section => "section",
            Kind::Control => "control",
            Kind::Certification => "certification",
            Kind::Subprocessor => "subprocessor",
            Kind::Policy => "policy",
            Kind::Faq => "faq",
            Kind::Cookie => "cookie",
            Kind::Page => "page",
        }
    }

    /// Plural used in API paths: `/api/v1/certifications`.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Profile => "profile",
            Kind::Section => "sections",
            Kind::Control => "controls",
            Kind::Certification => "certifications",
            Kind::Subprocessor => "subprocessors",
            Kind::Policy => "policies",
            Kind::Faq => "faq",
            Kind::Cookie => "cookies",
            Kind::Page => "pages",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Profile => "Organization profile",
            Kind::Section => "Sections",
            Kind::Control => "Controls",
            Kind::Certification => "Certifications",
            Kind::Subprocessor => "Subprocessors",
            Kind::Policy => "Policies",
            Kind::Faq => "FAQ",
            Kind::Cookie => "Cookies",
            Kind::Page => "Pages",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s || k.plural() == s)
    }

    /// Whether the back office offers up/down reordering for this kind.
    pub fn is_ordered(self) -> bool {
        matches!(
            self,
            Kind::Section | Kind::Control | Kind::Certification | Kind::Faq | Kind::Subprocessor
        )
    }

    /// Checks a JSON body against this kind's type and rules; returns the normalized JSON.
    pub fn validate(self, body: &serde_json::Value) -> Result<serde_json::Value, Vec<FieldError>> {
        fn check<T: Serialize + for<'de> Deserialize<'de> + Validate>(
            kind: Kind,
            v: &serde_json::Value,
        ) -> Result<serde_json::Value, Vec<FieldError>> {
            let t: T = serde_path_to_error::deserialize(v.clone()).map_err(|e| {
                let field = e.path().to_string();
                let inner = e.into_inner();
                vec![FieldError::from_serde(
                    if field == "." { None } else { Some(field) },
                    &inner,
                )]
            })?;
            let mut errors = t.validate();
            let json = serde_json::to_value(&t).expect("content serializes");
            errors.extend(text_rules(kind, &json));
            if errors.is_empty() {
                Ok(json)
            } else {
                Err(errors)
            }
        }
        match self {
            Kind::Profile => check::<Profile>(self, body),
            Kind::Section => check::<Section>(self, body),
            Kind::Control => check::<Control>(self, body),
            Kind::Certification => check::<Certification>(self, body),
            Kind::Subprocessor => check::<Subprocessor>(self, body),
            Kind::Policy => check::<Policy>(self, body),
            Kind::Faq => check::<Faq>(self, body),
            Kind::Cookie => check::<Cookie>(self, body),
            Kind::Page => check::<Page>(self, body),
        }
    }

    /// The human title of an item of this kind, for lists and search results.
    pub fn title_of(self, body: &serde_json::Value) -> String {
        let key = match self {
            Kind::Faq => "question",
            Kind::Profile | Kind::Certification | Kind::Subprocessor | Kind::Cookie => "name",
            _ => "title",
        };
        body.get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("(untitled)")
            .to_owned()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem with one field, phrased so that the person can fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn from_serde(path: Option<String>, e: &serde_json::Error) -> Self {
        let message = e.to_string();
        // Missing and unknown fields are reported at the top level, named in backticks.
        let field = path.unwrap_or_else(|| message.split('`').nth(1).unwrap_or("").to_owned());
        let field = field.split(['.', '[']).next().unwrap_or("").to_owned();
        FieldError { field, message }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// The rules every text field obeys whatever its kind, driven by the field table: which
/// characters it may hold (see [`crate::text`]) and, for Markdown, how deeply it may nest. One
/// error per field at most.
fn text_rules(kind: Kind, body: &serde_json::Value) -> Vec<FieldError> {
    use crate::fields::FieldType;
    use crate::text::{check, Shape};
    let mut errors = vec![];
    for field in crate::fields::fields(kind) {
        let result = match (field.ty, body.get(field.name)) {
            (FieldType::Markdown, Some(serde_json::Value::String(s))) => {
                check(field.name, s, Shape::MultiLine).and_then(|()| crate::markdown::check_nesting(field.name, s))
            }
            (_, Some(serde_json::Value::String(s))) => check(field.name, s, Shape::Line),
            (_, Some(serde_json::Value::Array(entries))) => entries
                .iter()
                .filter_map(serde_json::Value::as_str)
                .try_for_each(|s| check(field.name, s, Shape::Line)),
            _ => Ok(()),
        };
        errors.extend(result.err());
    }
    errors
}

/// Rules beyond the type: lengths, formats, dates in order.
pub trait Validate {
    fn validate(&self) -> Vec<FieldError>;
}

/// Collects field errors with small reusable checks.
#[derive(Default)]
struct Checks(Vec<FieldError>);

impl Checks {
    fn text(&mut self, field: &str, v: &str, max: usize) -> &mut Self {
        if v.trim().is_empty() {
            self.0.push(FieldError::new(field, "is required; enter some text"));
        } else if v.chars().count() > max {
            self.0.push(FieldError::new(
                field,
                format!("is too long; keep it under {max} characters"),
            ));
        }
        self
    }
    fn optional_text(&mut self, field: &str, v: &str, max: usize) -> &mut Self {
        if v.chars().count() > max {
            self.0.push(FieldError::new(
                field,
                format!("is too long; keep it under {max} characters"),
            ));
        }
        self
    }
    fn email(&mut self, field: &str, v: &str) -> &mut Self {
        let ok = v.len() <= 254
            && v.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
            && !v.contains(char::is_whitespace)
            && !v.contains(['<', '>', '"']);
        if !ok {
            self.0.push(FieldError::new(
                field,
                format!("{v:?} is not an email address; write it as name@example.com"),
            ));
        }
        self
    }
    fn url(&mut self, field: &str, v: Option<&str>) -> &mut Self {
        if let Some(v) = v {
            let ok = (v.starts_with("https://") || v.starts_with("http://"))
                && v.len() <= 2000
                && !v.contains(char::is_whitespace)
                && !v.contains(['<', '>', '"']);
            if !ok {
                self.0.push(FieldError::new(
                    field,
                    format!("{v:?} is not a web address; start it with https://"),
                ));
            }
        }
        self
    }
    /// A web address that must be `https://` (a page visitors are sent to from every page).
    fn https_url(&mut self, field: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(u) if !u.starts_with("https://") || u.len() <= "https://".len() => {
                self.0.push(FieldError::new(
                    field,
                    format!("{u:?} is not an https:// address; write it as https://status.example.com"),
                ));
                self
            }
            _ => self.url(field, v),
        }
    }
    fn list(&mut self, field: &str, v: &[String], max_items: usize) -> &mut Self {
        if v.len() > max_items {
            self.0.push(FieldError::new(
                field,
                format!("has {} entries; at most {max_items} are allowed", v.len()),
            ));
        }
        if v.iter().any(|s| s.trim().is_empty() || s.chars().count() > 200) {
            self.0.push(FieldError::new(
                field,
                "entries must be non-empty and under 200 characters",
            ));
        }
        self
    }
}

const SHORT: usize = 200;
const MEDIUM: usize = 1_000;
const LONG: usize = 100_000;

/// The organization behind the trust center.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub tagline: String,
    /// Markdown shown on the home page.
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// `#rrggbb`, used for the header and buttons.
    pub brand_color: String,
    pub security_email: String,
    pub privacy_email: String,
    pub support_email: String,
    #[serde(default)]
    pub hosting_regions: Vec<String>,
    /// An external status page (`https://`) the header links to instead of Candor's own
    /// `/status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
}

impl Validate for Profile {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.text("name", &self.name, 120)
            .text("tagline", &self.tagline, SHORT)
            .text("description", &self.description, LONG)
            .url("website", self.website.as_deref())
            .url(
                "logo_url",
                self.logo_url.as_deref().filter(|u| !crate::logo::is_logo_path(u)),
            )
            .email("security_email", &self.security_email)
            .email("privacy_email", &self.privacy_email)
            .email("support_email", &self.support_email)
            .list("hosting_regions", &self.hosting_regions, 50)
            .https_url("status_url", self.status_url.as_deref());
        if !is_hex_color(&self.brand_color) {
            c.0.push(FieldError::new(
                "brand_color",
                format!(
                    "{:?} is not a colour; write it as #rrggbb, e.g. #1d4ed8",
                    self.brand_color
                ),
            ));
        }
        c.0
    }
}

fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A group of controls on its own page, `/s/{slug}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub title: String,
    /// One sentence for the home page card.
    pub summary: String,
    /// Markdown introduction shown above the controls.
    #[serde(default)]
    pub body: String,
}

impl Validate for Section {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.text("title", &self.title, 120)
            .text("summary", &self.summary, MEDIUM)
            .optional_text("body", &self.body, LONG);
        c.0
    }
}

/// Who may read a control. NDA-only controls are shown only to signed-in viewers whose access
/// grant is live, marked as confidential; never on public pages, feeds, `trust.json` or exports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    #[default]
    Public,
    Nda,
}

/// One security control or practice inside a section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Slug of the section that holds it.
    pub section: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    #[serde(default)]
    pub visibility: Visibility,
}

impl Validate for Control {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.text("title", &self.title, SHORT).text("body", &self.body, LONG);
        // In the content directory a level-1 or level-2 heading starts the next control.
        if self
            .body
            .lines()
            .any(|l| l.starts_with("# ") || l.starts_with("## ") || l == "#" || l == "##")
        {
            c.0.push(FieldError::new(
                "body",
                "uses a level-1 or level-2 heading; use ### or smaller inside a control",
            ));
        }
        if crate::Slug::parse(&self.section).is_err() {
            c.0.push(FieldError::new(
                "section",
                format!("{:?} is not a section slug", self.section),
            ));
        }
        c.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertStatus {
    Certified,
    Compliant,
    Aligned,
    InProgress,
}

impl CertStatus {
    pub fn label(self) -> &'static str {
        match self {
            CertStatus::Certified => "Certified",
            CertStatus::Compliant => "Compliant",
            CertStatus::Aligned => "Aligned",
            CertStatus::InProgress => "In progress",
        }
    }
}

/// A certification, attestation or framework the organization follows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certification {
    pub name: String,
    pub status: CertStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<NaiveDate>,
    /// Markdown: scope and notes.
    #[serde(default)]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What a visitor is told about a certification on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShownStatus {
    Current(CertStatus),
    Expired,
}

impl ShownStatus {
    pub fn label(self) -> &'static str {
        match self {
            ShownStatus::Current(s) => s.label(),
            ShownStatus::Expired => "Expired",
        }
    }
    /// A stable CSS/JSON token.
    pub fn token(self) -> &'static str {
        match self {
            ShownStatus::Current(CertStatus::Certified) => "certified",
            ShownStatus::Current(CertStatus::Compliant) => "compliant",
            ShownStatus::Current(CertStatus::Aligned) => "aligned",
            ShownStatus::Current(CertStatus::InProgress) => "in-progress",
            ShownStatus::Expired => "expired",
        }
    }
}

impl Certification {
    /// A certification past its expiry date is shown as expired, whatever its stored status.
    pub fn shown_status(&self, today: NaiveDate) -> ShownStatus {
        match self.expires {
            Some(exp) if exp < today => ShownStatus::Expired,
            _ => ShownStatus::Current(self.status),
        }
    }
}

impl Validate for Certification {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.text("name", &self.name, 120)
            .optional_text("issuer", self.issuer.as_deref().unwrap_or(""), SHORT)
            .optional_text("summary", &self.summary, LONG)
            .url("url", self.url.as_deref());
        if let (Some(i), Some(e)) = (self.issued, self.expires) {
            if e < i {
                c.0.push(FieldError::new(
                    "expires",
                    format!("{e} is before the issue date {i}; check the two dates"),
                ));
            }
        }
        c.0
    }
}

/// A third party that processes customer data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subprocessor {
    pub name: String,
    pub purpose: String,
    /// Categories of data it processes.
    #[serde(default)]
    pub data: Vec<String>,
    #[serde(default)]
    pub locations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    pub added: NaiveDate,
}

impl Validate for Subprocessor {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.text("name", &self.name, 120)
            .text("purpose", &self.purpose, MEDIUM)
            .list("data", &self.data, 30)
            .list("locations", &self.locations, 30)
            .url("website", self.website.as_deref());
        c.0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub title: String,
    pub summary: String,
    pub effective: NaiveDate,
    /// Markdown.
    #[serde(default)]
    pub body: String,
}

impl Validate for Policy {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.text("title", &self.title, SHORT)
            .text("summary", &self.summary, MEDIUM)
            .optional_text("body", &self.body, LONG);
        c.0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    pub question: String,
    /// Markdown.
    pub answer: String,
}

impl Validate for Faq {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.text("question", &self.question, 300)
            .text("answer", &self.answer, LONG);
        c.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CookieCategory {
    StrictlyNecessary,
    Functional,
    Analytics,
    Marketing,
}

impl CookieCategory {
    pub fn label(self) -> &'static str {
        match self {
            CookieCategory::StrictlyNecessary => "Strictly necessary",
            CookieCategory::Functional => "Functional",
            CookieCategory::Analytics => "Analytics",
            CookieCategory::Marketing => "Marketing",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cookie {
    pub name: String,
    pub provider: String,
    /// The service or website that sets it; the cookie page groups by this.
    pub service: String,
    pub category: CookieCategory,
    /// "session", or how long it persists, e.g. "13 months".
    pub duration: String,
    pub purpose: String,
}

impl Validate for Cookie {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.text("name", &self.name, SHORT)
            .text("provider", &self.provider, SHORT)
            .text("service", &self.service, SHORT)
            .text("duration", &self.duration, 60)
            .text("purpose", &self.purpose, MEDIUM);
        c.0
    }
}

impl Cookie {
    pub fn is_session(&self) -> bool {
        self.duration.trim().eq_ignore_ascii_case("session")
    }
}

/// A free page: privacy policy, terms, data processing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub title: String,
    /// Markdown.
    pub body: String,
}

impl Validate for Page {
    fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.text("title", &self.title, SHORT).text("body", &self.body, LONG);
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expired_certification_is_shown_expired() {
        let c = Certification {
            name: "X".into(),
            status: CertStatus::Certified,
            issuer: None,
            issued: NaiveDate::from_ymd_opt(2024, 1, 1),
            expires: NaiveDate::from_ymd_opt(2025, 1, 1),
            summary: String::new(),
            url: None,
        };
        assert_eq!(
            c.shown_status(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()),
            ShownStatus::Current(CertStatus::Certified)
        );
        assert_eq!(
            c.shown_status(NaiveDate::from_ymd_opt(2025, 1, 2).unwrap()),
            ShownStatus::Expired
        );
    }

    #[test]
    fn validation_names_fields() {
        let errs = Kind::Profile
            .validate(
                &json!({"name":"", "tagline":"t", "description":"d", "brand_color":"blue",
                "security_email":"nope", "privacy_email":"p@x.io", "support_email":"s@x.io",
                "website":"javascript:alert(1)"}),
            )
            .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "website", "security_email", "brand_color"]);
    }

    #[test]
    fn a_status_page_address_must_be_https() {
        let profile = |status_url: &str| {
            json!({"name":"n", "tagline":"t", "description":"d", "brand_color":"#112233",
                "security_email":"s@x.io", "privacy_email":"p@x.io", "support_email":"s@x.io",
                "status_url": status_url})
        };
        assert!(Kind::Profile.validate(&profile("https://status.example.com")).is_ok());
        for bad in [
            "http://status.example.com",
            "https://",
            "javascript:alert(1)",
            "https://a b",
        ] {
            let errs = Kind::Profile.validate(&profile(bad)).unwrap_err();
            assert_eq!(errs[0].field, "status_url", "{bad}");
        }
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let e = Kind::Faq
            .validate(&json!({"question":"q","answer":"a","extra":1}))
            .unwrap_err();
        assert_eq!(e[0].field, "extra");
        let e = Kind::Faq.validate(&json!({"question":"q"})).unwrap_err();
        assert_eq!(e[0].field, "answer");
    }

    #[test]
    fn control_characters_and_deep_markdown_are_field_errors() {
        let errs = Kind::Page
            .validate(&json!({"title": "Terms\u{0}", "body": "ok"}))
            .unwrap_err();
        assert_eq!((errs.len(), errs[0].field.as_str()), (1, "title"));
        assert!(errs[0].message.contains("U+0000"), "{}", errs[0].message);
        let errs = Kind::Faq
            .validate(&json!({"question": "Why?\nBecause", "answer": "x"}))
            .unwrap_err();
        assert_eq!(errs[0].field, "question");
        assert!(Kind::Page.validate(&json!({"title": "T", "body": "a\tb\r\nc"})).is_ok());
        let errs = Kind::Page
            .validate(&json!({"title": "T", "body": "a\u{1b}b"}))
            .unwrap_err();
        assert_eq!(errs[0].field, "body");
        let errs = Kind::Page
            .validate(&json!({"title": "T", "body": ">".repeat(1000)}))
            .unwrap_err();
        assert_eq!(errs[0].field, "body");
        let errs = Kind::Subprocessor
            .validate(&json!({"name": "N", "purpose": "P", "data": ["ok", "bad\u{7f}"], "added": "2026-01-01"}))
            .unwrap_err();
        assert_eq!(errs[0].field, "data");
    }

    #[test]
    fn kinds_parse_from_both_names() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(Kind::parse(k.plural()), Some(k));
        }
    }
}
