//! Rendering the public pages from published content. Each page is rendered once per publish
//! and kept in memory (see [`super::Site`]).

use super::content::{Entry, Published};
use askama::Template;
use candor_core::content::ShownStatus;
use candor_core::markdown::{to_safe_html, to_safe_html_with_top};
use chrono::NaiveDate;

pub use crate::http::public_layout::{Layout, Link};

pub fn human_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

impl Layout {
    /// The frame of every page of `p`; `status_listed`: Candor's own status page has something
    /// to show ([`super::status::Snapshot::listed`]).
    pub fn new(p: &Published, status_listed: bool) -> Layout {
        let link = |href: &str, label: &str| Link {
            href: href.into(),
            label: label.into(),
        };
        let mut nav = vec![link("/", "Overview")];
        if !p.certifications.is_empty() {
            nav.push(link("/compliance", "Compliance"));
        }
        if !p.sections.is_empty() {
            nav.push(link("/controls", "Controls"));
        }
        if !p.subprocessors.is_empty() {
            nav.push(link("/subprocessors", "Subprocessors"));
        }
        if !p.policies.is_empty() {
            nav.push(link("/policies", "Policies"));
        }
        if !p.documents.is_empty() {
            nav.push(link("/documents", "Documents"));
        }
        if !p.faq.is_empty() {
            nav.push(link("/faq", "FAQ"));
        }
        let status_href = match &p.profile.body.status_url {
            Some(external) => Some(external.clone()),
            None => status_listed.then(|| "/status".to_owned()),
        };
        if let Some(href) = &status_href {
            nav.push(link(href, "Status"));
        }
        let mut footer_links: Vec<Link> = p
            .pages
            .iter()
            .map(|pg| link(&format!("/p/{}", pg.slug), &pg.body.title))
            .collect();
        if !p.cookies.is_empty() {
            footer_links.push(link("/cookies", "Cookies"));
        }
        let prof = &p.profile.body;
        Layout {
            org_name: prof.name.clone(),
            tagline: prof.tagline.clone(),
            logo_url: prof.logo_url.clone(),
            website: prof.website.clone(),
            security_email: prof.security_email.clone(),
            privacy_email: prof.privacy_email.clone(),
            support_email: prof.support_email.clone(),
            nav,
            footer_links,
            site_css: super::assets::site_css_href(),
            brand_css: super::assets::brand_css_href(&prof.brand_color),
            favicon: super::assets::favicon_href(&prof.brand_color),
            status_href,
        }
    }
}

pub struct CertView {
    pub slug: String,
    pub name: String,
    pub status_token: &'static str,
    pub status_label: &'static str,
    pub issuer: Option<String>,
    pub issued: Option<String>,
    pub expires: Option<String>,
    pub summary_html: String,
    pub url: Option<String>,
    pub updated: String,
    /// Documents that back it up (a certificate, an audit report).
    pub documents: Vec<super::library::ListedDocument>,
}

pub fn cert_views(p: &Published, today: NaiveDate) -> Vec<CertView> {
    p.certifications
        .iter()
        .map(|e| {
            let c = &e.body;
            let shown: ShownStatus = c.shown_status(today);
            CertView {
                documents: super::library::related(p, &format!("certification/{}", e.slug)),
                slug: e.slug.clone(),
                name: c.name.clone(),
                status_token: shown.token(),
                status_label: shown.label(),
                issuer: c.issuer.clone(),
                issued: c.issued.map(|d| d.to_string()),
                expires: c.expires.map(|d| d.to_string()),
                summary_html: to_safe_html(&c.summary),
                url: c.url.clone(),
                updated: e.updated.to_string(),
            }
        })
        .collect()
}

pub struct ControlTitle {
    pub title: String,
    /// An NDA-only control (only in a signed-in viewer's pages).
    pub confidential: bool,
}
pub struct SectionCard {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub controls: Vec<ControlTitle>,
}
pub struct Update {
    pub href: String,
    pub title: String,
    pub kind: &'static str,
    pub date: String,
    pub date_human: String,
}

#[derive(Template)]
#[template(path = "site/home.html")]
pub struct HomePage<'a> {
    pub layout: &'a Layout,
    pub current: &'a str,
    pub query: &'a str,
    pub updated: String,
    pub updated_human: String,
    pub description_html: String,
    pub certifications: Vec<CertView>,
    pub sections: Vec<SectionCard>,
    pub subprocessor_count: usize,
    pub hosting_regions: Vec<String>,
    pub recent: Vec<Update>,
    /// The overall status, while the status page is in use.
    pub status: Option<super::status::Banner>,
    /// Titles of the documents shared under NDA: the home page offers to request them in one
    /// step.
    pub nda_titles: Vec<String>,
}

/// Titles of the listed documents shared under NDA, in the library's order.
pub fn nda_titles(p: &Published) -> Vec<String> {
    p.documents
        .iter()
        .filter(|d| !d.public)
        .map(|d| d.title.clone())
        .collect()
}

/// The home page; `status` is the status page's banner, when it is in use.
pub fn home(layout: &Layout, p: &Published, today: NaiveDate, status: Option<&super::status::Banner>) -> String {
    let mut recent: Vec<Update> = vec![];
    let mut push = |href: String, title: &str, kind: &'static str, d: NaiveDate| {
        recent.push(Update {
            href,
            title: title.to_owned(),
            kind,
            date: d.to_string(),
            date_human: human_date(d),
        })
    };
    for s in &p.sections {
        push(
            format!("/s/{}", s.section.slug),
            &s.section.body.title,
            "Controls",
            s.section.updated,
        );
    }
    for c in &p.certifications {
        push(format!("/compliance#{}", c.slug), &c.body.name, "Compliance", c.updated);
    }
    for x in &p.policies {
        push(format!("/policies/{}", x.slug), &x.body.title, "Policy", x.updated);
    }
    for x in &p.subprocessors {
        push(
            format!("/subprocessors#{}", x.slug),
            &x.body.name,
            "Subprocessor",
            x.updated,
        );
    }
    recent.sort_by(|a, b| b.date.cmp(&a.date).then(a.title.cmp(&b.title)));
    recent.truncate(6);
    let updated = p.last_updated();
    HomePage {
        layout,
        current: "/",
        query: "",
        updated: updated.to_string(),
        updated_human: human_date(updated),
        description_html: to_safe_html(&p.profile.body.description),
        certifications: cert_views(p, today),
        sections: p
            .sections
            .iter()
            .map(|s| SectionCard {
                slug: s.section.slug.clone(),
                title: s.section.body.title.clone(),
                summary: s.section.body.summary.clone(),
                controls: s
                    .controls
                    .iter()
                    .map(|c| ControlTitle {
                        title: c.body.title.clone(),
                        confidential: is_confidential(c),
                    })
                    .collect(),
            })
            .collect(),
        subprocessor_count: p.subprocessors.len(),
        hosting_regions: p.profile.body.hosting_regions.clone(),
        recent,
        status: status.cloned(),
        nda_titles: nda_titles(p),
    }
    .render()
    .expect("home renders")
}

pub struct SectionLink {
    pub slug: String,
    pub title: String,
}
pub struct ControlView {
    pub slug: String,
    pub title: String,
    pub body_html: String,
    pub updated: String,
    pub updated_human: String,
    /// An NDA-only control (only in a signed-in viewer's pages).
    pub confidential: bool,
}

/// Whether a control is NDA-only: such controls reach only a signed-in viewer's pages, and are
/// labelled there.
pub fn is_confidential(c: &Entry<candor_core::Control>) -> bool {
    c.body.visibility == candor_core::Visibility::Nda
}

#[derive(Template)]
#[template(path = "site/section.html")]
pub struct SectionPage<'a> {
    pub layout: &'a Layout,
    pub current: &'a str,
    pub query: &'a str,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub updated: String,
    pub updated_human: String,
    pub intro_html: String,
    pub controls: Vec<ControlView>,
    pub all_sections: Vec<SectionLink>,
    pub documents: Vec<super::library::ListedDocument>,
    /// The business-continuity section's status and last recovery drill.
    pub continuity: Option<super::continuity::Continuity>,
}

/// The sidebar of every section page: each section's slug and title, in order.
pub fn section_links(p: &Published) -> Vec<(String, String)> {
    p.sections
        .iter()
        .map(|s| (s.section.slug.clone(), s.section.body.title.clone()))
        .collect()
}

/// Every section page: (slug, html).
pub fn sections(layout: &Layout, p: &Published, status: &super::status::Snapshot) -> Vec<(String, String)> {
    let all = section_links(p);
    p.sections
        .iter()
        .map(|s| (s.section.slug.clone(), section(layout, p, &all, s, status)))
        .collect()
}

/// One section page; `all` is [`section_links`]; `status` feeds the business-continuity
/// section's evidence.
pub fn section(
    layout: &Layout,
    p: &Published,
    all: &[(String, String)],
    s: &super::content::SectionEntry,
    status: &super::status::Snapshot,
) -> String {
    let updated = s
        .controls
        .iter()
        .map(|c| c.updated)
        .fold(s.section.updated, NaiveDate::max);
    SectionPage {
        documents: super::library::related(p, &format!("section/{}", s.section.slug)),
        continuity: super::continuity::of(&s.section.slug, status),
        layout,
        current: "",
        query: "",
        slug: s.section.slug.clone(),
        title: s.section.body.title.clone(),
        summary: s.section.body.summary.clone(),
        updated: updated.to_string(),
        updated_human: human_date(updated),
        intro_html: to_safe_html_with_top(&s.section.body.body, 2),
        controls: s
            .controls
            .iter()
            .map(|c| ControlView {
                slug: c.slug.clone(),
                title: c.body.title.clone(),
                body_html: to_safe_html(&c.body.body),
                updated: c.updated.to_string(),
                updated_human: human_date(c.updated),
                confidential: is_confidential(c),
            })
            .collect(),
        all_sections: all
            .iter()
            .map(|(slug, title)| SectionLink {
                slug: slug.clone(),
                title: title.clone(),
            })
            .collect(),
    }
    .render()
    .expect("section renders")
}

#[derive(Template)]
#[template(path = "site/compliance.html")]
pub struct CompliancePage<'a> {
    pub layout: &'a Layout,
    pub current: &'a str,
    pub query: &'a str,
    pub certifications: Vec<CertView>,
}

pub fn compliance(layout: &Layout, p: &Published, today: NaiveDate) -> String {
    CompliancePage {
        layout,
        current: "/compliance",
        query: "",
        certifications: cert_views(p, today),
    }
    .render()
    .expect("renders")
}

pub struct SubprocessorView {
    pub slug: String,
    pub name: String,
    pub purpose: String,
    pub data: String,
    pub locations: String,
    pub website: Option<String>,
    pub added: String,
}

#[derive(Template)]
#[template(path = "site/subprocessors.html")]
pub struct SubprocessorsPage<'a> {
    pub layout: &'a Layout,
    pub current: &'a str,
    pub query: &'a str,
    pub subprocessors: Vec<SubprocessorView>,
}

pub fn subprocessors(layout: &Layout, p: &Published) -> String {
    let subprocessors = p
        .subprocessors
        .iter()
        .map(|e| SubprocessorView {
            slug: e.slug.clone(),
            name: e.body.name.clone(),
            purpose: e.body.purpose.clone(),
            data: e.body.data.join(", "),
            locations: e.body.locations.join(", "),
            website: e.body.website.clone(),
            added: e.body.added.to_string(),
        })
        .collect();
    SubprocessorsPage {
        layout,
        current: "/subprocessors",
        query: "",
        subprocessors,
    }
    .render()
    .expect("renders")
}

pub struct PolicyView {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub effective: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "site/policies.html")]
pub struct PoliciesPage<'a> {
    pub layout: &'a Layout,
    pub current: &'a str,
    pub query: &'a str,
    pub policies: Vec<PolicyView>,
}

pub fn policies(layout: &Layout, p: &Published) -> String {
    let policies = p
        .policies
        .iter()
        .map(|e| PolicyView {
            slug: e.slug.clone(),
            title: e.body.title.clone(),
            summary: e.body.summary.clone(),
            effective: e.body.effective.to_string(),
            updated: e.updated.to_string(),
        })
        .collect();
    PoliciesPage {
        layout,
        current: "/policies",
        query: "",
        policies,
    }
    .render()
    .expect("renders")
}

#[derive(Template)]
#[template(path = "site/document.html")]
pub struct DocumentPage<'a> {
    pub layout: &'a Layout,
    pub current: &'a str,
    pub query: &'a str,
    pub parent_href: &'a str,
    pub parent_label: &'a str,
    pub title: String,
    pub summary: String,
    pub effective: Option<String>,
    pub updated: String,
    pub body_html: String,
}

/// Policy detail pages and free pages: (path, html).
pub fn documents(layout: &Layout, p: &Published) -> Vec<(String, String)> {
    let mut out = vec![];
    for e in &p.policies {
        out.push((format!("/policies/{}", e.slug), policy(layout, e)));
    }
    for e in &p.pages {
        out.push((format!("/p/{}", e.slug), free_page(layout, e)));
    }
    out
}

/// A policy's own page (`/policies/SLUG`).
pub fn policy(layout: &Layout, e: &Entry<candor_core::Policy>) -> String {
    DocumentPage {
        layout,
        current: "/policies",
        query: "",
        parent_href: "/policies",
        parent_label: "Policies",
        title: e.body.title.clone(),
        summary: e.body.summary.clone(),
        effective: Some(e.body.effective.to_string()),
        updated: e.updated.to_string(),
        body_html: to_safe_html_with_top(&e.body.body, 2),
    }
    .render()
    .expect("renders")
}

/// A free page (`/p/SLUG`).
pub fn free_page(layout: &Layout, e: &Entry<candor_core::Page>) -> String {
    DocumentPage {
        layout,
        current: "",
        query: "",
        parent_href: "/",
        parent_label: "Trust Center",
        title: e.body.title.clone(),
        summary: String::new(),
        effective: None,
        updated: e.updated.to_string(),
        body_html: to_safe_html_with_top(&e.body.body, 2),
    }
    .render()
    .expect("renders")
}

pub struct FaqView {
    pub slug: String,
    pub question: String,
    pub answer_html: String,
}

#[derive(Template)]
#[template(path = "site/faq.html")]
pub struct FaqPage<'a> {
    pub layout: &'a Layout,
    pub current: &'a str,
    pub query: &'a str,
    pub faqs: Vec<FaqView>,
}

pub fn faq(layout: &Layout, p: &Published) -> String {
    let faqs = p
        .faq
        .iter()
        .map(|e| FaqView {
            slug: e.slug.clone(),
            question: e.body.question.clone(),
            answer_html: to_safe_html(&e.body.answer),
        })
        .collect();
    FaqPage {
        layout,
        current: "/faq",
        query: "",
        faqs,
    }
    .render()
    .expect("renders")
}

pub struct CookieView {
    pub slug: String,
    pub name: String,
    pub provider: String,
    pub category: &'static str,
    pub duration: String,
    pub purpose: String,
}
pub struct CookieGroup {
    pub service: String,
    pub cookies: Vec<CookieView>,
}

#[derive(Template)]
#[template(path = "site/cookies.html")]
pub struct CookiesPage<'a> {
    pub layout: &'a Layout,
    pub current: &'a str,
    pub query: &'a str,
    pub groups: Vec<CookieGroup>,
}

/// Cookies grouped by service (services alphabetical), cookies alphabetical within each.
pub fn cookie_groups(p: &Published) -> Vec<CookieGroup> {
    let mut groups: std::collections::BTreeMap<String, Vec<CookieView>> = Default::default();
    for e in &p.cookies {
        let c = &e.body;
        groups.entry(c.service.clone()).or_default().push(CookieView {
            slug: e.slug.clone(),
            name: c.name.clone(),
            provider: c.provider.clone(),
            category: c.category.label(),
            duration: if c.is_session() {
                "Session".into()
            } else {
                c.duration.clone()
            },
            purpose: c.purpose.clone(),
        });
    }
    groups
        .into_iter()
        .map(|(service, mut cookies)| {
            cookies.sort_by_key(|c| c.name.to_lowercase());
            CookieGroup { service, cookies }
        })
        .collect()
}

pub fn cookies(layout: &Layout, p: &Published) -> String {
    CookiesPage {
        layout,
        current: "/cookies",
        query: "",
        groups: cookie_groups(p),
    }
    .render()
    .expect("renders")
}

#[derive(Template)]
#[template(path = "site/not_found.html")]
pub struct NotFoundPage<'a> {
    pub layout: &'a Layout,
    pub current: &'a str,
    pub query: &'a str,
}

pub fn not_found(layout: &Layout) -> String {
    NotFoundPage {
        layout,
        current: "",
        query: "",
    }
    .render()
    .expect("renders")
}
