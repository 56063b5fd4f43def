//! Rules for document access requests: where a request stands, which rule decides it without a
//! person, and what a grant lets its holder read.

use crate::documents::Access;

/// Where an access request stands. Each step can only move forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestStatus {
    /// Submitted; the email address is not proven yet.
    Unverified,
    /// The emailed link was followed; the NDA is not signed yet.
    Verified,
    /// NDA signed; waiting for an access manager (or a rule).
    Signed,
    Approved,
    Denied,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Unverified => "unverified",
            RequestStatus::Verified => "verified",
            RequestStatus::Signed => "signed",
            RequestStatus::Approved => "approved",
            RequestStatus::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Unverified,
            RequestStatus::Verified,
            RequestStatus::Signed,
            RequestStatus::Approved,
            RequestStatus::Denied,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether a person can decide it now (approve or deny).
    pub fn decidable(self) -> bool {
        matches!(self, RequestStatus::Verified | RequestStatus::Signed)
    }
}

/// Free-mail providers, for the optional rule that refuses requests from them.
pub const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "mail.com",
    "yandex.com",
    "zoho.com",
];

/// The domain of an address, lowercase.
pub fn email_domain(email: &str) -> Option<String> {
    let (local, domain) = email.trim().rsplit_once('@')?;
    (!local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
        .then(|| domain.to_ascii_lowercase())
}

/// A plausible email address (one `@`, a dotted domain, no spaces, at most 254 characters).
pub fn valid_email(email: &str) -> bool {
    email.len() <= 254
        && email.matches('@').count() == 1
        && !email.contains(char::is_whitespace)
        && !email.contains(['<', '>', '"', ',', ';'])
        && email_domain(email).is_some()
}

/// Domains from text: one per line or comma-separated, lowercase, `@` and blanks dropped.
pub fn parse_domains(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split([',', '\n', ' '])
        .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn matches(domain: &str, listed: &str) -> bool {
    domain == listed || domain.ends_with(&format!(".{listed}"))
}

/// What the rules say about an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleOutcome {
    /// An always-deny domain (or free mail, when that rule is on).
    Deny,
    /// An auto-approve domain (a customer).
    Approve,
    /// A person decides.
    Review,
}

/// Deny wins over approve; subdomains count as their domain.
pub fn apply_rules(email: &str, approve: &[String], deny: &[String], deny_free_mail: bool) -> RuleOutcome {
    let Some(domain) = email_domain(email) else {
        return RuleOutcome::Deny;
    };
    if deny.iter().any(|d| matches(&domain, d)) || (deny_free_mail && FREE_MAIL.iter().any(|d| matches(&domain, d))) {
        RuleOutcome::Deny
    } else if approve.iter().any(|d| matches(&domain, d)) {
        RuleOutcome::Approve
    } else {
        RuleOutcome::Review
    }
}

/// Whether a live grant covering `granted` (document slugs; empty means every NDA document)
/// lets its holder read document `slug` with access level `access`. Public documents need no
/// grant; private ones are never granted.
pub fn grant_covers(granted: &[String], slug: &str, access: Access) -> bool {
    match access {
        Access::Public => true,
        Access::Private => false,
        Access::Nda => granted.is_empty() || granted.iter().any(|g| g == slug),
    }
}

/// A grant is live until it expires or is revoked.
pub fn grant_live(now: i64, expires_at: i64, revoked_at: Option<i64>) -> bool {
    revoked_at.is_none() && now < expires_at
}

/// How many days a grant may last: from one day to ten years.
pub const GRANT_DAYS: std::ops::RangeInclusive<i64> = 1..=3650;
/// How long a grant lasts unless the rules or the access manager say otherwise.
pub const DEFAULT_GRANT_DAYS: i64 = 90;
/// What to tell someone who typed a grant length outside [`GRANT_DAYS`].
pub const GRANT_DAYS_HELP: &str = "Days of access: enter a whole number from 1 to 3650.";

/// A grant length typed as text, if it is a whole number within [`GRANT_DAYS`].
pub fn parse_grant_days(text: &str) -> Option<i64> {
    text.trim().parse::<i64>().ok().filter(|d| GRANT_DAYS.contains(d))
}

/// The organization's rules for access requests, as its settings hold them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRules {
    /// Domains approved without a person (customers).
    pub approve: Vec<String>,
    /// Domains always refused.
    pub deny: Vec<String>,
    /// Refuse addresses at free-mail providers.
    pub deny_free_mail: bool,
    /// How long an approval lasts, in days (within [`GRANT_DAYS`]).
    pub grant_days: i64,
}

impl AccessRules {
    /// The settings keys the rules are stored under, in the order of [`AccessRules::to_settings`].
    pub const KEYS: [&'static str; 4] = [
        "access.auto_approve",
        "access.deny",
        "access.deny_free_mail",
        "access.grant_days",
    ];

    /// The rules from their stored settings (`get` reads one key); anything missing or out of
    /// range takes its default.
    pub fn from_settings(get: impl Fn(&str) -> Option<String>) -> AccessRules {
        let [approve, deny, free, days] = AccessRules::KEYS;
        AccessRules {
            approve: parse_domains(&get(approve).unwrap_or_default()),
            deny: parse_domains(&get(deny).unwrap_or_default()),
            deny_free_mail: get(free).as_deref() == Some("true"),
            grant_days: get(days)
                .as_deref()
                .and_then(parse_grant_days)
                .unwrap_or(DEFAULT_GRANT_DAYS),
        }
    }

    /// `(key, value)` pairs to store.
    pub fn to_settings(&self) -> [(&'static str, String); 4] {
        let [approve, deny, free, days] = AccessRules::KEYS;
        [
            (approve, self.approve.join("\n")),
            (deny, self.deny.join("\n")),
            (free, self.deny_free_mail.to_string()),
            (days, self.grant_days.to_string()),
        ]
    }

    /// What the rules say about an address.
    pub fn outcome(&self, email: &str) -> RuleOutcome {
        apply_rules(email, &self.approve, &self.deny, self.deny_free_mail)
    }
}

/// What a visitor is told on the page right after asking for access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestNotice {
    /// The rules refuse the address's domain (listed, or free mail while that rule is on): no
    /// mail goes out, so "check your email" would be untrue.
    Refused,
    /// A free-mail address that the rules do not refuse: a person decides, never a rule.
    FreeMailReview,
    /// Everything else: the same words whether a rule will approve it or a person decides, so
    /// the page never tells which companies are customers.
    Standard,
}

/// Whether an address is at a free-mail provider (see [`FREE_MAIL`]).
pub fn is_free_mail(email: &str) -> bool {
    email_domain(email).is_some_and(|d| FREE_MAIL.iter().any(|f| matches(&d, f)))
}

impl AccessRules {
    /// The notice for a request from `email`. It depends only on the typed address's domain and
    /// on the rules, never on stored requests, grants or users, so it tells nothing about other
    /// addresses or whether this one is known.
    pub fn notice(&self, email: &str) -> RequestNotice {
        match self.outcome(email) {
            RuleOutcome::Deny => RequestNotice::Refused,
            RuleOutcome::Review if is_free_mail(email) => RequestNotice::FreeMailReview,
            _ => RequestNotice::Standard,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_addresses() {
        assert_eq!(email_domain("Dana@Acme.Example"), Some("acme.example".into()));
        assert_eq!(email_domain("nobody"), None);
        assert_eq!(email_domain("a@localhost"), None);
        assert!(valid_email("dana@acme.example"));
        for bad in ["dana", "a@b", "a b@c.de", "a@@c.de", "<a@c.de>", "a@c.de,b@c.de", ""] {
            assert!(!valid_email(bad), "{bad}");
        }
        assert_eq!(
            parse_domains(" Acme.example,\n@beta.example  acme.example"),
            ["acme.example", "beta.example"]
        );
    }

    #[test]
    fn deny_wins_subdomains_count_and_free_mail_is_optional() {
        let approve = parse_domains("acme.example, shared.example");
        let deny = parse_domains("rival.example, shared.example");
        assert_eq!(
            apply_rules("a@acme.example", &approve, &deny, false),
            RuleOutcome::Approve
        );
        assert_eq!(
            apply_rules("a@eu.acme.example", &approve, &deny, false),
            RuleOutcome::Approve
        );
        assert_eq!(
            apply_rules("a@notacme.example", &approve, &deny, false),
            RuleOutcome::Review
        );
        assert_eq!(
            apply_rules("a@rival.example", &approve, &deny, false),
            RuleOutcome::Deny
        );
        assert_eq!(
            apply_rules("a@shared.example", &approve, &deny, false),
            RuleOutcome::Deny
        );
        assert_eq!(apply_rules("a@gmail.com", &approve, &deny, false), RuleOutcome::Review);
        assert_eq!(apply_rules("a@gmail.com", &approve, &deny, true), RuleOutcome::Deny);
    }

    #[test]
    fn grants_cover_nda_documents_only() {
        let some = vec!["soc-2".to_owned()];
        assert!(grant_covers(&some, "soc-2", Access::Nda));
        assert!(!grant_covers(&some, "pen-test", Access::Nda));
        assert!(
            grant_covers(&[], "pen-test", Access::Nda),
            "an empty list is every NDA document"
        );
        assert!(!grant_covers(&[], "minutes", Access::Private));
        assert!(grant_live(10, 11, None) && !grant_live(11, 11, None) && !grant_live(10, 11, Some(5)));
        assert!(RequestStatus::Signed.decidable() && !RequestStatus::Unverified.decidable());
        for s in ["unverified", "verified", "signed", "approved", "denied"] {
            assert_eq!(RequestStatus::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn grant_days_have_one_range_and_rules_round_trip() {
        assert_eq!(parse_grant_days(" 30 "), Some(30));
        for bad in ["0", "3651", "-1", "ten", ""] {
            assert_eq!(parse_grant_days(bad), None, "{bad}");
        }
        let rules = AccessRules {
            approve: vec!["acme.example".into(), "beta.example".into()],
            deny: vec!["rival.example".into()],
            deny_free_mail: true,
            grant_days: 30,
        };
        let stored: std::collections::HashMap<_, _> = rules.to_settings().into_iter().collect();
        let again = AccessRules::from_settings(|k| stored.get(k).cloned());
        assert_eq!(again, rules);
        let empty = AccessRules::from_settings(|_| None);
        assert_eq!(empty.grant_days, DEFAULT_GRANT_DAYS);
        assert!(!empty.deny_free_mail && empty.approve.is_empty());
        assert_eq!(rules.outcome("a@acme.example"), RuleOutcome::Approve);
    }

    #[test]
    fn notices_follow_the_typed_domain_and_never_reveal_customers() {
        let mut rules = AccessRules {
            approve: vec!["acme.example".into(), "gmail.com".into()],
            deny: vec!["rival.example".into()],
            deny_free_mail: false,
            grant_days: 30,
        };
        assert_eq!(rules.notice("a@rival.example"), RequestNotice::Refused);
        assert_eq!(rules.notice("a@outlook.com"), RequestNotice::FreeMailReview);
        assert_eq!(rules.notice("a@eu.hotmail.com"), RequestNotice::FreeMailReview);
        // A customer and an unknown company read the same words.
        assert_eq!(rules.notice("a@acme.example"), RequestNotice::Standard);
        assert_eq!(rules.notice("a@unknown.example"), RequestNotice::Standard);
        // Free mail that an owner chose to approve is not said to need a person.
        assert_eq!(rules.notice("a@gmail.com"), RequestNotice::Standard);
        rules.deny_free_mail = true;
        assert_eq!(rules.notice("a@outlook.com"), RequestNotice::Refused);
        assert!(is_free_mail("x@GMAIL.com") && !is_free_mail("x@notgmail.com") && !is_free_mail("nobody"));
    }
}
