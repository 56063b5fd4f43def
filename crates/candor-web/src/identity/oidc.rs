//! Single sign-on for the back office with OpenID Connect (authorization code flow with PKCE,
//! `state` and `nonce`), using the `openidconnect` crate: the provider is found by discovery, and
//! the ID token's signature (against the provider's JWKS), issuer, audience, expiry and nonce are
//! checked before anything in it is believed.
//!
//! Who may sign in and with which role is decided by [`decide`], a pure function of the verified
//! identity, the settings and the existing user.

use candor_core::access::Role;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use std::time::Duration;

/// The `oidc_*` settings.
#[derive(Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The ID-token claim that lists the user's groups (or app roles).
    pub groups_claim: String,
    /// Group → role rules, checked in order; the first group the user is in decides.
    pub role_map: Vec<(String, Role)>,
    /// The role when no rule matches (none: such users may not sign in).
    pub default_role: Option<Role>,
    /// Create an account on first sign-in (just-in-time provisioning).
    pub jit: bool,
    /// Password sign-in is off: everyone signs in through the provider.
    pub only: bool,
    /// The sign-in button's text.
    pub label: String,
}

/// The client secret never reaches logs.
impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("scopes", &self.scopes)
            .field("groups_claim", &self.groups_claim)
            .field("role_map", &self.role_map)
            .field("default_role", &self.default_role)
            .field("jit", &self.jit)
            .field("only", &self.only)
            .finish()
    }
}

/// The raw `oidc_*` values as configured.
#[derive(Debug, Default)]
pub struct OidcKeys {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scopes: Option<String>,
    pub groups_claim: Option<String>,
    pub role_map: Option<String>,
    pub default_role: Option<String>,
    pub jit: Option<bool>,
    pub only: Option<bool>,
    pub label: Option<String>,
}

impl OidcSettings {
    /// Checks the keys; `Ok(None)` when single sign-on is not configured. Every problem names its
    /// key and the fix.
    pub fn from_keys(k: OidcKeys) -> Result<Option<OidcSettings>, Vec<String>> {
        let Some(issuer) = k.issuer.filter(|i| !i.trim().is_empty()) else {
            let set: Vec<&str> = [
                ("oidc_client_id", k.client_id.is_some()),
                ("oidc_client_secret", k.client_secret.is_some()),
                ("oidc_role_map", k.role_map.is_some()),
                ("oidc_only", k.only == Some(true)),
                ("oidc_jit", k.jit == Some(true)),
            ]
            .into_iter()
            .filter_map(|(key, on)| on.then_some(key))
            .collect();
            if set.is_empty() {
                return Ok(None);
            }
            return Err(vec![format!(
                "{} set but oidc_issuer is not; set oidc_issuer to the identity provider's issuer URL",
                set.join(", ")
            )]);
        };
        let mut problems = vec![];
        let issuer = issuer.trim().trim_end_matches('/').to_owned();
        match url::Url::parse(&issuer) {
            Ok(u) if u.scheme() == "https" => {}
            Ok(u) if u.scheme() == "http" && u.host_str().is_some_and(is_loopback) => {}
            _ => problems.push(format!(
                "oidc_issuer = {issuer:?} is not an https URL; write the provider's issuer, e.g. https://login.microsoftonline.com/TENANT-ID/v2.0"
            )),
        }
        let client_id = k.client_id.unwrap_or_default();
        if client_id.trim().is_empty() {
            problems
                .push("oidc_client_id is not set; copy the client (application) id from the identity provider".into());
        }
        let client_secret = k.client_secret.unwrap_or_default();
        if client_secret.is_empty() {
            problems.push("oidc_client_secret is not set; create a client secret at the identity provider".into());
        }
        let mut role_map = vec![];
        for rule in k
            .role_map
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            match rule.rsplit_once('=').map(|(g, r)| (g.trim(), Role::parse(r.trim()))) {
                Some((group, Some(role))) if !group.is_empty() => role_map.push((group.to_owned(), role)),
                _ => problems.push(format!(
                    "oidc_role_map rule {rule:?} is not GROUP=ROLE; roles are owner, admin, editor, access-manager, triager, auditor"
                )),
            }
        }
        let default_role = match k.default_role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            None => None,
            Some(r) => Role::parse(r).or_else(|| {
                problems.push(format!(
                    "oidc_default_role = {r:?} is not a role; use editor, auditor, ... or leave it empty"
                ));
                None
            }),
        };
        if default_role == Some(Role::Owner) {
            problems.push("oidc_default_role cannot be owner: give owners a group in oidc_role_map instead".into());
        }
        let jit = k.jit.unwrap_or(false);
        if jit && role_map.is_empty() && default_role.is_none() {
            problems.push("oidc_jit needs a role for new users: set oidc_role_map or oidc_default_role".into());
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Some(OidcSettings {
            issuer,
            client_id,
            client_secret,
            scopes: k
                .scopes
                .unwrap_or_else(|| "email profile".into())
                .split([' ', ','])
                .filter(|s| !s.is_empty() && *s != "openid")
                .map(str::to_owned)
                .collect(),
            groups_claim: k.groups_claim.unwrap_or_else(|| "groups".into()),
            role_map,
            default_role,
            jit,
            only: k.only.unwrap_or(false),
            label: k.label.unwrap_or_else(|| "Sign in with single sign-on".into()),
        }))
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What the provider vouched for, after every check passed.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// `issuer sub`: stable, unlike the email.
    pub subject: String,
    pub email: String,
    pub name: String,
    pub groups: Vec<String>,
}

/// The account a verified identity signs in to.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// An existing user, with the role they should have now (changed when the rules say so).
    SignIn { user_id: i64, role: Role, link: bool },
    /// A new user (just-in-time provisioning).
    Create { role: Role },
    /// Refused, with the reason shown to the person.
    Refuse(String),
}

/// What is known about an existing user with the same subject or email.
#[derive(Clone, Debug)]
pub struct Existing {
    pub id: i64,
    pub role: Role,
    pub disabled: bool,
    /// The subject already linked to the account, if any.
    pub subject: Option<String>,
}

/// Who signs in, with which role. With group rules (`oidc_role_map`) the provider is in charge
/// of roles: the role follows the groups at every sign-in, and someone in no mapped group (and no
/// default role) is refused. Without rules, existing users keep the role an owner gave them.
pub fn decide(settings: &OidcSettings, id: &Identity, existing: Option<&Existing>) -> Decision {
    let mapped = settings
        .role_map
        .iter()
        .find(|(group, _)| id.groups.iter().any(|g| g == group))
        .map(|(_, role)| *role)
        .or(settings.default_role);
    match existing {
        Some(u) if u.disabled => Decision::Refuse("This account is disabled in Candor. Ask an owner.".into()),
        Some(u) if u.subject.as_deref().is_some_and(|s| s != id.subject) => Decision::Refuse(
            "This Candor account is linked to a different identity at the provider. Ask an owner.".into(),
        ),
        Some(u) => match (settings.role_map.is_empty(), mapped) {
            (true, _) => Decision::SignIn {
                user_id: u.id,
                role: u.role,
                link: u.subject.is_none(),
            },
            (false, Some(role)) => Decision::SignIn {
                user_id: u.id,
                role,
                link: u.subject.is_none(),
            },
            (false, None) => Decision::Refuse(not_in_a_group(settings)),
        },
        None if !settings.jit => Decision::Refuse(format!(
            "There is no Candor account for {}. Ask an owner to add you.",
            id.email
        )),
        None => match mapped {
            Some(role) => Decision::Create { role },
            None => Decision::Refuse(not_in_a_group(settings)),
        },
    }
}

fn not_in_a_group(settings: &OidcSettings) -> String {
    format!(
        "Your account at the identity provider is not in a group that gives access to Candor ({}). Ask your administrator.",
        settings
            .role_map
            .iter()
            .map(|(g, _)| g.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Talks to the provider.
pub struct OidcClient {
    settings: OidcSettings,
    redirect: RedirectUrl,
    http: reqwest::Client,
}

/// A sign-in about to leave for the provider.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl OidcClient {
    pub fn new(settings: OidcSettings, public_url: &str) -> anyhow::Result<OidcClient> {
        let redirect = RedirectUrl::new(format!("{public_url}/admin/sso/callback"))?;
        // No redirects: a provider's answer is taken as is (and a redirect to an internal address
        // cannot be used to make Candor fetch it).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(OidcClient {
            settings,
            redirect,
            http,
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    async fn metadata(&self) -> Result<CoreProviderMetadata, String> {
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| e.to_string())?;
        CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| format!("the identity provider's discovery document could not be read ({e})"))
    }

    /// Builds the provider's sign-in address with a fresh state, nonce and PKCE challenge.
    pub async fn start(&self) -> Result<Started, String> {
        let client = CoreClient::from_provider_metadata(
            self.metadata().await?,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code (with the PKCE verifier) and checks the ID token: signature against the
    /// provider's keys, issuer, audience, expiry, nonce. Then reads the identity from it.
    pub async fn finish(&self, code: &str, nonce: &str, pkce_verifier: &str) -> Result<Identity, String> {
        let client = CoreClient::from_provider_metadata(
            self.metadata().await?,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone());
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| format!("the provider has no token endpoint ({e})"))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| format!("the provider did not accept the sign-in code ({})", token_error(&e)))?;
        let id_token = tokens
            .id_token()
            .ok_or("the provider sent no ID token (is the openid scope allowed for this client?)")?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
            .map_err(|e| format!("the provider's ID token was refused: {e}"))?;
        if claims.email_verified() == Some(false) {
            return Err("the provider says this email address is not verified".into());
        }
        let email = claims
            .email()
            .map(|e| e.as_str().trim().to_lowercase())
            .filter(|e| e.contains('@'))
            .ok_or("the ID token has no email claim (add the email scope, or an email claim at the provider)")?;
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        // The signature was checked over exactly this payload, so its other claims can be read.
        let groups = claim_strings(&id_token.to_string(), &self.settings.groups_claim);
        Ok(Identity {
            subject: format!("{} {}", claims.issuer().as_str(), claims.subject().as_str()),
            email,
            name,
            groups,
        })
    }
}

fn token_error<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A claim of a (verified) compact JWT as a list of strings: an array of strings, or one string.
fn claim_strings(jwt: &str, claim: &str) -> Vec<String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap_or("");
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')) else {
        return vec![];
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return vec![];
    };
    match json.get(claim) {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(map: &str, default: Option<&str>, jit: bool) -> OidcSettings {
        OidcSettings::from_keys(OidcKeys {
            issuer: Some("https://idp.example.com".into()),
            client_id: Some("candor".into()),
            client_secret: Some("s".into()),
            role_map: Some(map.into()),
            default_role: default.map(str::to_owned),
            jit: Some(jit),
            ..Default::default()
        })
        .unwrap()
        .unwrap()
    }

    fn id(groups: &[&str]) -> Identity {
        Identity {
            subject: "https://idp.example.com alice".into(),
            email: "alice@example.com".into(),
            name: "Alice".into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    fn user(role: Role, subject: Option<&str>) -> Existing {
        Existing {
            id: 7,
            role,
            disabled: false,
            subject: subject.map(str::to_owned),
        }
    }

    #[test]
    fn the_first_matching_group_decides_the_role() {
        let s = settings("owners=owner, admins=admin, editors=editor", None, true);
        assert_eq!(
            decide(&s, &id(&["editors", "admins"]), None),
            Decision::Create { role: Role::Admin }
        );
        assert_eq!(
            decide(&s, &id(&["editors"]), Some(&user(Role::Owner, None))),
            Decision::SignIn {
                user_id: 7,
                role: Role::Editor,
                link: true
            },
            "with rules, the provider's groups set the role at every sign-in"
        );
        assert!(matches!(decide(&s, &id(&["staff"]), None), Decision::Refuse(m) if m.contains("not in a group")));
        assert!(matches!(
            decide(&s, &id(&["staff"]), Some(&user(Role::Admin, None))),
            Decision::Refuse(_)
        ));
    }

    #[test]
    fn without_rules_existing_users_keep_their_role() {
        let s = settings("", Some("auditor"), true);
        assert_eq!(
            decide(
                &s,
                &id(&[]),
                Some(&user(Role::Editor, Some("https://idp.example.com alice")))
            ),
            Decision::SignIn {
                user_id: 7,
                role: Role::Editor,
                link: false
            }
        );
        assert_eq!(decide(&s, &id(&[]), None), Decision::Create { role: Role::Auditor });
    }

    #[test]
    fn refusals() {
        let s = settings("admins=admin", None, false);
        assert!(matches!(decide(&s, &id(&["admins"]), None), Decision::Refuse(m) if m.contains("no Candor account")));
        let mut disabled = user(Role::Admin, None);
        disabled.disabled = true;
        assert!(matches!(decide(&s, &id(&["admins"]), Some(&disabled)), Decision::Refuse(m) if m.contains("disabled")));
        let other = user(Role::Admin, Some("https://idp.example.com mallory"));
        assert!(
            matches!(decide(&s, &id(&["admins"]), Some(&other)), Decision::Refuse(m) if m.contains("different identity"))
        );
    }

    #[test]
    fn settings_problems_are_named() {
        let e = OidcSettings::from_keys(OidcKeys {
            issuer: Some("http://idp.example.com".into()),
            role_map: Some("admins=boss".into()),
            default_role: Some("owner".into()),
            jit: Some(true),
            ..Default::default()
        })
        .unwrap_err()
        .join("\n");
        for part in [
            "oidc_issuer = \"http://idp.example.com\" is not an https URL",
            "oidc_client_id is not set",
            "oidc_client_secret is not set",
            "oidc_role_map rule \"admins=boss\" is not GROUP=ROLE",
            "oidc_default_role cannot be owner",
        ] {
            assert!(e.contains(part), "{part} in {e}");
        }
        let e = OidcSettings::from_keys(OidcKeys {
            only: Some(true),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e[0].contains("oidc_only set but oidc_issuer is not"), "{e:?}");
        assert!(OidcSettings::from_keys(OidcKeys::default()).unwrap().is_none());
    }

    #[test]
    fn groups_claim_may_be_a_list_or_one_string() {
        use base64::Engine;
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!("{}.{}.sig", enc("{}"), enc(r#"{"groups":["a","b",3],"role":"x"}"#));
        assert_eq!(claim_strings(&jwt, "groups"), ["a", "b"]);
        assert_eq!(claim_strings(&jwt, "role"), ["x"]);
        assert!(claim_strings(&jwt, "missing").is_empty());
        assert!(claim_strings("garbage", "groups").is_empty());
    }
}
