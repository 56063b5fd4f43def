//! API tokens: created in the back office, shown once, stored as a SHA-256 digest.

use crate::{get, now, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::access::Role;
use sqlx::any::AnyRow;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenScope {
    Read,
    ReadWrite,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::ReadWrite => "read-write",
        }
    }
    pub fn parse(s: &str) -> Option<TokenScope> {
        match s {
            "read" => Some(TokenScope::Read),
            "read-write" => Some(TokenScope::ReadWrite),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiToken {
    pub id: i64,
    pub org_id: OrgId,
    pub name: String,
    pub scope: TokenScope,
    pub created_by: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

/// A token presented with a request, with its creator's role as it is now: a token never acts
/// with more power than the person who made it currently has.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveToken {
    pub token: ApiToken,
    pub creator_role: Role,
}

const COLUMNS: &str = "id, org_id, name, scope, created_by, created_at, expires_at, last_used_at, revoked_at";

fn token_from_row(row: &AnyRow) -> StoreResult<ApiToken> {
    let scope: String = get(row, "scope")?;
    Ok(ApiToken {
        id: get(row, "id")?,
        org_id: get(row, "org_id")?,
        name: get(row, "name")?,
        scope: TokenScope::parse(&scope).ok_or_else(|| StoreError::Corrupt(format!("unknown scope {scope}")))?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        last_used_at: get(row, "last_used_at")?,
        revoked: get::<Option<i64>>(row, "revoked_at")?.is_some(),
    })
}

impl Store {
    pub async fn api_tokens(&self, org: OrgId) -> StoreResult<Vec<ApiToken>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE org_id = $1 ORDER BY id DESC");
        let rows = sqlx::query(&sql).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(token_from_row).collect()
    }

    /// The live token with this digest (not revoked, not expired, and its creator still enabled:
    /// disabling a person disables the tokens they made), with its creator's current role;
    /// records its use.
    pub async fn use_api_token(&self, token_hash: &str) -> StoreResult<Option<LiveToken>> {
        let t = now();
        let columns = COLUMNS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, u.role AS creator_role FROM api_tokens t JOIN users u ON u.id = t.created_by \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) \
             AND u.disabled_at IS NULL"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(token_hash)
            .bind(t)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let token = token_from_row(&row)?;
        let role: String = get(&row, "creator_role")?;
        let creator_role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?;
        if token.last_used_at.is_none_or(|u| t - u >= 60) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(t)
                .bind(token.id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(LiveToken { token, creator_role }))
    }

    /// How many live (not revoked, not expired) tokens each user made, by user id.
    pub async fn live_api_tokens_by_creator(&self, org: OrgId) -> StoreResult<HashMap<i64, i64>> {
        let rows = sqlx::query(
            "SELECT created_by, COUNT(*) AS n FROM api_tokens WHERE org_id = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2) GROUP BY created_by",
        )
        .bind(org)
        .bind(now())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((get::<i64>(r, "created_by")?, get::<i64>(r, "n")?)))
            .collect()
    }
}

impl Tx {
    pub async fn create_api_token(
        &mut self,
        org: OrgId,
        name: &str,
        token_hash: &str,
        scope: TokenScope,
        created_by: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (org_id, name, token_hash, scope, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(org)
        .bind(name)
        .bind(token_hash)
        .bind(scope.as_str())
        .bind(created_by)
        .bind(now())
        .bind(expires_at)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    pub async fn revoke_api_token(&mut self, org: OrgId, id: i64) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL")
                .bind(now())
                .bind(id)
                .bind(org)
                .execute(&mut **self)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("API token {id}")));
        }
        Ok(())
    }
}
