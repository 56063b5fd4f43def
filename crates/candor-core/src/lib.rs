//! Candor's domain: the content a trust center publishes and the rules about it.
//!
//! Nothing here does I/O or is async. The web layer and the store call these types and functions;
//! tests exercise them without a database.

pub mod access;
pub mod audit;
pub mod color;
pub mod content;
pub mod contentdir;
pub mod documents;
pub mod engagement;
pub mod events;
pub mod fields;
pub mod grammar;
pub mod items;
pub mod logo;
pub mod markdown;
pub mod outbound;
pub mod password;
pub mod requests;
pub mod site_change;
pub mod slug;
pub mod status;
pub mod text;

pub use content::{
    CertStatus, Certification, Control, Cookie, CookieCategory, Faq, Kind, Page, Policy, Profile, Section,
    Subprocessor, Visibility,
};
pub use site_change::{SiteChange, SiteReads};
pub use slug::Slug;
