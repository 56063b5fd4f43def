//! First start: the demo trust center and the owner's one-time setup link.

use anyhow::Context;
use candor_core::contentdir;
use candor_crypto::{random_token, token_digest, Secret};
use candor_store::{OrgId, Role, Store};
use include_dir::{include_dir, Dir};
use std::collections::BTreeMap;

/// The demo trust center of Corvellan, a fictional company, built into the binary.
static DEMO: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../demo");

/// How long the owner's setup link works.
pub const SETUP_LINK_SECS: i64 = 3600;

/// The demo directory as `path -> contents`.
pub fn demo_files() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    fn walk(dir: &Dir<'static>, out: &mut BTreeMap<String, String>) {
        for f in dir.files() {
            if let Some(text) = f.contents_utf8() {
                out.insert(f.path().to_string_lossy().replace('\\', "/"), text.to_owned());
            }
        }
        for d in dir.dirs() {
            walk(d, out);
        }
    }
    walk(&DEMO, &mut out);
    out
}

/// The organization every single-tenant install uses.
pub const DEFAULT_ORG: &str = "default";

/// What start-up did, for the operator.
pub struct Bootstrapped {
    pub org: OrgId,
    pub demo_loaded: bool,
    /// Present while the owner has not set a password: the token of a fresh setup link.
    pub setup_token: Option<Secret>,
}

/// Prepares an opened store: default organization, demo content into an empty database (when
/// `demo` is on), and an owner account with a setup link until the owner has a password.
pub async fn bootstrap(store: &Store, demo: bool) -> anyhow::Result<Bootstrapped> {
    let org = store.ensure_org(DEFAULT_ORG).await?;
    let mut demo_loaded = false;
    if demo && store.all_items(org).await?.is_empty() {
        let bundle = contentdir::parse(&demo_files()).map_err(|p| {
            anyhow::anyhow!(
                "the built-in demo is invalid: {}",
                p.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            )
        })?;
        store
            .import(org, &bundle.items, candor_store::DEMO_IMPORT_ACTOR)
            .await
            .context("loading the demo trust center")?;
        demo_loaded = true;
    }
    let users = store.users(org).await?;
    let owner = match users.iter().find(|u| u.role == Role::Owner) {
        Some(o) => o.clone(),
        None if users.is_empty() => store.create_user(org, "owner@localhost", "Owner", Role::Owner).await?,
        None => {
            return Ok(Bootstrapped {
                org,
                demo_loaded,
                setup_token: None,
            })
        }
    };
    let setup_token = if owner.has_password {
        None
    } else {
        let token = random_token();
        store
            .create_user_link(owner.id, &token_digest(token.expose()), "setup", SETUP_LINK_SECS)
            .await?;
        Some(token)
    };
    Ok(Bootstrapped {
        org,
        demo_loaded,
        setup_token,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_is_valid_and_complete() {
        let bundle = candor_core::contentdir::parse(&super::demo_files())
            .unwrap_or_else(|p| panic!("{}", p.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")));
        let count = |k| bundle.items.iter().filter(|i| i.kind == k).count();
        use candor_core::Kind::*;
        assert_eq!(count(Profile), 1);
        assert!(count(Section) >= 12 && count(Control) >= 50 && count(Certification) >= 5);
        assert!(
            count(Subprocessor) >= 5 && count(Policy) >= 5 && count(Faq) >= 8 && count(Cookie) >= 8 && count(Page) >= 3
        );
    }
}
