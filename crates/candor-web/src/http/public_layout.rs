//! The frame of every public page (header, navigation, footer), shared by the public site and
//! by the features that render public pages of their own (the visitor's path to documents).
//! The site feature builds it from published content (`site::pages`).

#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub href: String,
    pub label: String,
}

/// What every public page shares: header, navigation and footer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub org_name: String,
    pub tagline: String,
    pub logo_url: Option<String>,
    pub website: Option<String>,
    pub security_email: String,
    pub privacy_email: String,
    pub support_email: String,
    pub nav: Vec<Link>,
    pub footer_links: Vec<Link>,
    /// The stylesheets' URLs, named by their content's hash (cached for a year).
    pub site_css: String,
    pub brand_css: String,
    pub favicon: String,
    /// Where "Status" goes: the owner's external status page, or Candor's own `/status` once it
    /// has something to show; None until then (no link to an empty page).
    pub status_href: Option<String>,
}

impl Layout {
    /// This frame for a signed-in viewer with a live grant: the header also links to their
    /// documents. Pages with it are rendered per request and never cached.
    pub fn for_viewer(&self) -> Layout {
        let mut layout = self.clone();
        layout.nav.push(Link {
            href: "/viewer".into(),
            label: "Your documents".into(),
        });
        layout
    }
}

impl Layout {
    /// "Northwind Labs'" or "Corvellan's", for sentences about what the organization has.
    pub fn org_possessive(&self) -> String {
        candor_core::grammar::possessive(&self.org_name)
    }
}
