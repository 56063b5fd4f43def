//! The team's mail settings: kinds of mail a back-office user turned off for themselves.

use crate::{get, now, OrgId, Role, Store, StoreError, StoreResult, Tx};

/// Mail about document access requests waiting for a decision.
pub const ACCESS_REQUESTS_MAIL: &str = "access-requests";

impl Store {
    /// Whether `user` turned off mail of `kind`.
    pub async fn mail_turned_off(&self, user: i64, kind: &str) -> StoreResult<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM notification_optouts WHERE user_id = $1 AND kind = $2")
            .bind(user)
            .bind(kind)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

impl Tx {
    /// Turns mail of `kind` off (`off`) or back on for `user` of `org`. `false` when it was so
    /// already.
    pub async fn set_mail_turned_off(&mut self, org: OrgId, user: i64, kind: &str, off: bool) -> StoreResult<bool> {
        let changed = if off {
            sqlx::query(
                "INSERT INTO notification_optouts (user_id, org_id, kind, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, kind) DO NOTHING",
            )
            .bind(user)
            .bind(org)
            .bind(kind)
            .bind(now())
            .execute(&mut **self)
            .await?
        } else {
            sqlx::query("DELETE FROM notification_optouts WHERE user_id = $1 AND org_id = $2 AND kind = $3")
                .bind(user)
                .bind(org)
                .bind(kind)
                .execute(&mut **self)
                .await?
        };
        Ok(changed.rows_affected() > 0)
    }

    /// The enabled users of `org` who have not turned off mail of `kind`: address and role (the
    /// caller picks the roles concerned).
    pub async fn team_wanting_mail(&mut self, org: OrgId, kind: &str) -> StoreResult<Vec<(String, Role)>> {
        let rows = sqlx::query(
            "SELECT u.email, u.role FROM users u WHERE u.org_id = $1 AND u.disabled_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM notification_optouts o WHERE o.user_id = u.id AND o.kind = $2) ORDER BY u.id",
        )
        .bind(org)
        .bind(kind)
        .fetch_all(&mut **self)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = get(r, "role")?;
                let role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?;
                Ok((get(r, "email")?, role))
            })
            .collect()
    }
}
