//! API tokens: made by a back-office user (shown once, stored as a digest) and revoked.

use crate::{Action, Actor, App, Done, Result};
use candor_crypto::{random_token, token_digest, Secret};
use candor_store::TokenScope;

/// API tokens start with this prefix so that secret scanners can recognise them.
pub const TOKEN_PREFIX: &str = "candor_";

/// A token about to be made, its fields checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub scope: TokenScope,
    /// Unix time it stops working; None for never.
    pub expires_at: Option<i64>,
}

impl NewToken {
    /// Checks the form's fields; the error says which field and how to fix it.
    pub fn parse(name: &str, scope: &str, expires_days: &str, now: i64) -> Result<NewToken, String> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err("Name: describe what the token is for (up to 100 characters).".into());
        }
        let Some(scope) = TokenScope::parse(scope) else {
            return Err("Scope: choose read or read-write.".into());
        };
        let expires_at = match expires_days.trim() {
            "" | "0" => None,
            d => match d.parse::<i64>() {
                Ok(n) if (1..=3650).contains(&n) => Some(now + n * 86_400),
                _ => return Err("Expires after: a number of days from 1 to 3650, or empty for no expiry.".into()),
            },
        };
        Ok(NewToken {
            name: name.to_owned(),
            scope,
            expires_at,
        })
    }
}

impl App {
    /// Makes a token for the user `creator_id`; the answer is the token, to be shown once.
    pub async fn create_api_token(&self, actor: &Actor, creator_id: i64, new: &NewToken) -> Result<Done<Secret>> {
        let token = format!("{TOKEN_PREFIX}{}", random_token().expose());
        let mut work = self.begin().await?;
        let org = work.org();
        work.create_api_token(
            org,
            &new.name,
            &token_digest(&token),
            new.scope,
            creator_id,
            new.expires_at,
        )
        .await?;
        work.audit(
            actor,
            Action::ApiTokenCreate,
            new.name.clone(),
            serde_json::json!({"scope": new.scope.as_str(), "expires_at": new.expires_at}),
        )
        .await?;
        work.finish(Secret::new(token)).await
    }

    /// Revokes a live token; NotFound when it is unknown or revoked already.
    pub async fn revoke_api_token(&self, actor: &Actor, id: i64) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        work.revoke_api_token(org, id).await?;
        work.audit(
            actor,
            Action::ApiTokenRevoke,
            format!("api-token/{id}"),
            serde_json::json!({}),
        )
        .await?;
        work.finish(()).await
    }
}

#[cfg(test)]
mod tests {
    use super::NewToken;
    use candor_store::TokenScope;

    #[test]
    fn token_fields_are_checked() {
        let t = NewToken::parse(" ci ", "read", "30", 1_000).unwrap();
        assert_eq!(
            (t.name.as_str(), t.scope, t.expires_at),
            ("ci", TokenScope::Read, Some(1_000 + 30 * 86_400))
        );
        assert_eq!(NewToken::parse("ci", "read", "", 0).unwrap().expires_at, None);
        assert!(NewToken::parse("", "read", "", 0).unwrap_err().starts_with("Name:"));
        assert!(NewToken::parse(&"x".repeat(101), "read", "", 0).is_err());
        assert!(NewToken::parse("ci", "admin", "", 0).unwrap_err().starts_with("Scope:"));
        for bad in ["3651", "-1", "soon"] {
            assert!(NewToken::parse("ci", "read", bad, 0)
                .unwrap_err()
                .starts_with("Expires after:"));
        }
    }
}
