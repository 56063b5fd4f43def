//! Who may read `/metrics`: with `metrics_token`, whoever sends it as a bearer token; without,
//! only clients on this machine (loopback), never through a proxy that is not trusted.

use super::values::Values;

/// The shortest token accepted: a scrape token is a password that a machine types.
const MIN_TOKEN_CHARS: usize = 24;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct MetricsSettings {
    /// The bearer token a scraper sends; `None` keeps `/metrics` to loopback.
    pub token: Option<String>,
}

/// Never prints the token.
impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

pub(super) fn settings(v: &mut Values, problems: &mut Vec<String>) -> MetricsSettings {
    let token = v.text("metrics_token");
    if let Some(t) = &token {
        if t.chars().count() < MIN_TOKEN_CHARS || t.chars().any(|c| !c.is_ascii_graphic()) {
            problems.push(format!(
                "metrics_token must be at least {MIN_TOKEN_CHARS} printable characters without spaces; \
                 make one with `openssl rand -hex 32`"
            ));
        }
    }
    MetricsSettings { token }
}
