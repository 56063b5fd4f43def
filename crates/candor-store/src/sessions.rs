//! Server-side back-office sessions: stored by the SHA-256 of their id, rotated on a timer,
//! ended by idle and absolute timeouts, listed and revoked by their owner.

use crate::users::{user_from_row, User, USER_COLUMNS};
use crate::{get, now, Store, StoreError, StoreResult, Tx};

/// How long a rotated-away id keeps working, for requests that were already in flight with it.
pub const ROTATION_GRACE_SECS: i64 = 60;

/// A signed-in back-office session.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    /// Names the session in the UI; not a credential.
    pub public_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub rotated_at: i64,
    /// The request presented the previous id (within its grace period), not the current one.
    pub via_previous_id: bool,
    /// Password accepted, second factor not yet given: only the verification page may be used.
    pub mfa_pending: bool,
    /// Signed in through the identity provider (which is then in charge of second factors).
    pub via_sso: bool,
}

/// A session as its owner sees it in the list of their devices.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionInfo {
    pub public_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: String,
    pub ip: String,
}

/// Fields for a new session.
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub public_id: &'a str,
    pub user_id: i64,
    pub csrf_token: &'a str,
    pub user_agent: &'a str,
    pub ip: &'a str,
    pub mfa_pending: bool,
    pub via_sso: bool,
}

impl Store {
    /// The live session for this id digest (current id, or the previous one within its grace
    /// period). Sessions idle longer than `idle_secs` or older than `absolute_secs` are deleted
    /// and not returned; a live one has its last use refreshed.
    pub async fn session(&self, id_hash: &str, idle_secs: i64, absolute_secs: i64) -> StoreResult<Option<Session>> {
        let t = now();
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.id_hash, s.csrf_token, s.public_id, s.created_at AS s_created, s.last_seen_at, s.rotated_at, s.mfa_pending, s.auth_method \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 OR (s.prev_id_hash = $1 AND s.prev_valid_until > $2)"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(id_hash)
            .bind(t)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let current: String = get(&row, "id_hash")?;
        let created: i64 = get(&row, "s_created")?;
        let last_seen: i64 = get(&row, "last_seen_at")?;
        if user.disabled || t - last_seen > idle_secs || t - created > absolute_secs {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(&current)
                .execute(&self.pool)
                .await?;
            return Ok(None);
        }
        // Refresh at most once a minute to keep writes off every request.
        // A full disk must not sign anyone out or stop them reading: the refresh waits for room.
        if t - last_seen >= 60 {
            let refreshed = sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(t)
                .bind(&current)
                .execute(&self.pool)
                .await
                .map_err(StoreError::from);
            match refreshed {
                Ok(_) => {}
                Err(StoreError::DiskFull(e)) => {
                    tracing::warn!(error = %e, "session activity not recorded: the disk is full")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Some(Session {
            user,
            csrf_token: get(&row, "csrf_token")?,
            public_id: get::<Option<String>>(&row, "public_id")?.unwrap_or_default(),
            created_at: created,
            last_seen_at: last_seen,
            rotated_at: get(&row, "rotated_at")?,
            via_previous_id: current != id_hash,
            mfa_pending: get::<i64>(&row, "mfa_pending")? != 0,
            via_sso: get::<String>(&row, "auth_method")? == "sso",
        }))
    }

    /// A user's sessions, most recently used first.
    pub async fn user_sessions(&self, user_id: i64) -> StoreResult<Vec<SessionInfo>> {
        let rows = sqlx::query(
            "SELECT public_id, created_at, last_seen_at, user_agent, ip FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionInfo {
                    public_id: get::<Option<String>>(r, "public_id")?.unwrap_or_default(),
                    created_at: get(r, "created_at")?,
                    last_seen_at: get(r, "last_seen_at")?,
                    user_agent: get(r, "user_agent")?,
                    ip: get(r, "ip")?,
                })
            })
            .collect()
    }
}

impl Tx {
    /// Records a new session under the digest of its id.
    pub async fn create_session(&mut self, s: NewSession<'_>) -> StoreResult<()> {
        let t = now();
        sqlx::query(
            "INSERT INTO sessions (id_hash, public_id, user_id, csrf_token, created_at, last_seen_at, rotated_at, user_agent, ip, mfa_pending, auth_method) \
             VALUES ($1, $2, $3, $4, $5, $5, $5, $6, $7, $8, $9)",
        )
        .bind(s.id_hash)
        .bind(s.public_id)
        .bind(s.user_id)
        .bind(s.csrf_token)
        .bind(t)
        .bind(s.user_agent)
        .bind(s.ip)
        .bind(i64::from(s.mfa_pending))
        .bind(if s.via_sso { "sso" } else { "password" })
        .execute(&mut **self)
        .await?;
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(t)
            .bind(s.user_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Replaces a session's id (by digest), keeping the old one valid for a short grace period.
    /// Returns false when the session no longer exists or was rotated meanwhile.
    pub async fn rotate_session(&mut self, old_hash: &str, new_hash: &str) -> StoreResult<bool> {
        let t = now();
        let done = sqlx::query(
            "UPDATE sessions SET prev_id_hash = id_hash, prev_valid_until = $1, id_hash = $2, rotated_at = $3 WHERE id_hash = $4",
        )
        .bind(t + ROTATION_GRACE_SECS)
        .bind(new_hash)
        .bind(t)
        .bind(old_hash)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends the session presented with this id digest (current or previous id).
    pub async fn delete_session(&mut self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1 OR prev_id_hash = $1")
            .bind(id_hash)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Ends one of a user's sessions by its public id; false if the user has no such session.
    pub async fn revoke_session(&mut self, user_id: i64, public_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND public_id = $2")
            .bind(user_id)
            .bind(public_id)
            .execute(&mut **self)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends all of a user's sessions except, optionally, one; returns how many ended.
    pub async fn revoke_user_sessions(&mut self, user_id: i64, keep_public_id: Option<&str>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND (public_id IS NULL OR public_id <> $2)")
            .bind(user_id)
            .bind(keep_public_id.unwrap_or(""))
            .execute(&mut **self)
            .await?;
        Ok(done.rows_affected())
    }
}
