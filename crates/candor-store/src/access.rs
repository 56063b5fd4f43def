//! Gated documents: NDA versions, access requests, single-use emailed links, signatures, grants,
//! viewer sessions and the access log. Reads are on [`Store`]; every change is on [`Tx`], so a
//! use case writes it with its audit entry and its mail in one transaction.

use crate::{get, now, LinkState, NewEmail, OrgId, Store, StoreError, StoreResult, Tx};
use candor_core::requests::AccessRules;
use candor_core::requests::RequestStatus;
use sqlx::any::AnyRow;

#[derive(Clone, Debug, PartialEq)]
pub struct Nda {
    pub number: i64,
    pub body: String,
    pub sha256: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AccessRequest {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub company: String,
    pub reason: String,
    /// Document slugs; empty means every NDA document.
    pub documents: Vec<String>,
    pub status: RequestStatus,
    pub ip: String,
    pub created_at: i64,
    pub signed_at: Option<i64>,
    pub decided_by: Option<String>,
    pub decision_message: Option<String>,
}

/// A new request.
#[derive(Clone, Debug)]
pub struct NewRequest {
    pub name: String,
    pub email: String,
    pub company: String,
    pub reason: String,
    pub documents: Vec<String>,
    pub status: RequestStatus,
    pub ip: String,
    pub user_agent: String,
}

/// A single-use emailed link to store with the mail that carries it.
#[derive(Clone, Debug)]
pub struct NewLink {
    pub token_hash: String,
    pub purpose: &'static str,
    pub email: String,
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    pub name: String,
    pub email: String,
    pub company: String,
    pub nda_number: i64,
    pub nda_sha256: String,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    pub public_id: String,
    pub request_id: Option<i64>,
    pub name: String,
    pub email: String,
    pub company: String,
    pub documents: Vec<String>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct NewGrant {
    pub public_id: String,
    pub expires_at: i64,
}

/// One line of the access log.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessLogEntry {
    pub grant_id: String,
    pub email: String,
    pub company: String,
    pub document: String,
    pub version: i64,
    pub action: String,
    pub at: i64,
    pub ip: String,
}

const REQUEST_COLUMNS: &str =
    "id, name, email, company, reason, documents, status, ip, created_at, signed_at, decided_by, decision_message";
const GRANT_COLUMNS: &str =
    "public_id, request_id, name, email, company, documents, created_by, created_at, expires_at, revoked_at";

fn slugs(row: &AnyRow) -> StoreResult<Vec<String>> {
    let text: String = get(row, "documents")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("documents list: {e}")))
}

fn request_from_row(row: &AnyRow) -> StoreResult<AccessRequest> {
    let status: String = get(row, "status")?;
    Ok(AccessRequest {
        id: get(row, "id")?,
        name: get(row, "name")?,
        email: get(row, "email")?,
        company: get(row, "company")?,
        reason: get(row, "reason")?,
        documents: slugs(row)?,
        status: RequestStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("request status {status}")))?,
        ip: get(row, "ip")?,
        created_at: get(row, "created_at")?,
        signed_at: get(row, "signed_at")?,
        decided_by: get(row, "decided_by")?,
        decision_message: get(row, "decision_message")?,
    })
}

fn grant_from_row(row: &AnyRow) -> StoreResult<Grant> {
    Ok(Grant {
        public_id: get(row, "public_id")?,
        request_id: get(row, "request_id")?,
        name: get(row, "name")?,
        email: get(row, "email")?,
        company: get(row, "company")?,
        documents: slugs(row)?,
        created_by: get(row, "created_by")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

/// The purpose of viewer sign-in links. A viewer has at most one outstanding: a newer one (asked
/// for on the sign-in page, or sent with an approval) ends the older ones, so only the newest
/// mail in their inbox works. Verification links are not ended this way: each belongs to its own
/// request, perhaps made from another browser.
const VIEWER_LINK: &str = "viewer";

/// Stores a link on `conn` (the caller's transaction); a viewer sign-in link first ends the
/// viewer's older unused ones (by expiring them now, so their page says "expired or replaced").
async fn insert_link(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    request_id: Option<i64>,
    link: &NewLink,
) -> StoreResult<()> {
    if link.purpose == VIEWER_LINK {
        sqlx::query(
            "UPDATE magic_links SET expires_at = $1 WHERE org_id = $2 AND purpose = $3 AND email = $4 \
             AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now())
        .bind(org)
        .bind(VIEWER_LINK)
        .bind(&link.email)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO magic_links (token_hash, org_id, purpose, request_id, email, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&link.token_hash)
    .bind(org)
    .bind(link.purpose)
    .bind(request_id)
    .bind(&link.email)
    .bind(link.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    // --- NDA ---

    pub async fn current_nda(&self, org: OrgId) -> StoreResult<Option<Nda>> {
        let row = sqlx::query(
            "SELECT number, body, sha256, created_at FROM nda_versions WHERE org_id = $1 ORDER BY number DESC LIMIT 1",
        )
        .bind(org)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Nda {
                number: get(&r, "number")?,
                body: get(&r, "body")?,
                sha256: get(&r, "sha256")?,
                created_at: get(&r, "created_at")?,
            })
        })
        .transpose()
    }

    // --- Requests ---

    pub async fn access_request(&self, org: OrgId, id: i64) -> StoreResult<Option<AccessRequest>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM access_requests WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// Requests, newest first; those waiting for a decision when `waiting`.
    pub async fn access_requests(&self, org: OrgId, waiting: bool) -> StoreResult<Vec<AccessRequest>> {
        let filter = if waiting {
            "AND status IN ('verified', 'signed')"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM access_requests WHERE org_id = $1 {filter} ORDER BY id DESC LIMIT 500"
        );
        let rows = sqlx::query(&sql).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(request_from_row).collect()
    }

    /// What an emailed link is (usable, with its request id and email; used; expired; unknown),
    /// without using it up: opening a link only shows a page.
    pub async fn link_state(&self, token_hash: &str, purpose: &str) -> StoreResult<LinkState<(Option<i64>, String)>> {
        let row = sqlx::query(
            "SELECT request_id, email, used_at, expires_at FROM magic_links WHERE token_hash = $1 AND purpose = $2",
        )
        .bind(token_hash)
        .bind(purpose)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(LinkState::Unknown);
        };
        Ok(LinkState::of(
            get(&r, "used_at")?,
            get(&r, "expires_at")?,
            (get(&r, "request_id")?, get(&r, "email")?),
        ))
    }

    /// The request a browser's step token belongs to, while the token lasts.
    pub async fn request_by_step(&self, org: OrgId, step_hash: &str) -> StoreResult<Option<AccessRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM access_requests WHERE org_id = $1 AND step_token_hash = $2 AND step_token_expires > $3"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(step_hash)
            .bind(now())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// Whether `email` signed NDA version `number` before.
    pub async fn signature_on_file(&self, org: OrgId, email: &str, number: i64) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM nda_signatures WHERE org_id = $1 AND email = $2 AND nda_number = $3",
        )
        .bind(org)
        .bind(email)
        .bind(number)
        .fetch_one(&self.pool)
        .await?;
        Ok(get::<i64>(&row, "n")? > 0)
    }

    // --- Grants and viewers ---

    pub async fn grants(&self, org: OrgId) -> StoreResult<Vec<Grant>> {
        let sql = format!("SELECT {GRANT_COLUMNS} FROM grants WHERE org_id = $1 ORDER BY id DESC LIMIT 1000");
        let rows = sqlx::query(&sql).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(grant_from_row).collect()
    }

    /// Grants to this address that are neither revoked nor expired.
    pub async fn live_grants(&self, org: OrgId, email: &str) -> StoreResult<Vec<Grant>> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM grants WHERE org_id = $1 AND email = $2 AND revoked_at IS NULL AND expires_at > $3 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(email)
            .bind(now())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(grant_from_row).collect()
    }

    /// The viewer's email for a live session (ended after `idle_secs` unused or `absolute_secs`).
    pub async fn viewer_session(
        &self,
        id_hash: &str,
        idle_secs: i64,
        absolute_secs: i64,
    ) -> StoreResult<Option<String>> {
        let t = now();
        let row = sqlx::query("SELECT email, created_at, last_seen_at FROM viewer_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (created, seen): (i64, i64) = (get(&row, "created_at")?, get(&row, "last_seen_at")?);
        if t - seen > idle_secs || t - created > absolute_secs {
            sqlx::query("DELETE FROM viewer_sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(&self.pool)
                .await?;
            return Ok(None);
        }
        if t - seen >= 60 {
            sqlx::query("UPDATE viewer_sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(t)
                .bind(id_hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(get(&row, "email")?))
    }

    // --- Access log ---

    /// The access log, newest first, optionally for one document or one company.
    pub async fn document_access_log(
        &self,
        org: OrgId,
        document: Option<&str>,
        company: Option<&str>,
    ) -> StoreResult<Vec<AccessLogEntry>> {
        let rows = sqlx::query(
            "SELECT grant_id, email, company, document, version, action, at, ip FROM document_access_log \
             WHERE org_id = $1 AND ($2 = '' OR document = $2) AND ($3 = '' OR company = $3) ORDER BY id DESC LIMIT 10000",
        )
        .bind(org)
        .bind(document.unwrap_or(""))
        .bind(company.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccessLogEntry {
                    grant_id: get(r, "grant_id")?,
                    email: get(r, "email")?,
                    company: get(r, "company")?,
                    document: get(r, "document")?,
                    version: get(r, "version")?,
                    action: get(r, "action")?,
                    at: get(r, "at")?,
                    ip: get(r, "ip")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// The organization's access rules (defaults for what was never set).
    pub async fn access_rules(&self, org: OrgId) -> StoreResult<AccessRules> {
        let mut stored = std::collections::HashMap::new();
        for key in AccessRules::KEYS {
            if let Some(value) = self.org_setting(org, key).await? {
                stored.insert(key, value);
            }
        }
        Ok(AccessRules::from_settings(|k| stored.get(k).cloned()))
    }

    /// Records a request, in a transaction of its own, without mail (tests; use cases use [`Tx`]).
    pub async fn create_access_request(
        &self,
        org: OrgId,
        r: &NewRequest,
        link: Option<(&NewLink, &NewEmail)>,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let id = tx.create_access_request(org, r).await?;
        if let Some((link, mail)) = link {
            tx.insert_link(org, Some(id), link).await?;
            tx.enqueue_email(org, mail).await?;
        }
        tx.commit().await?;
        Ok(id)
    }
}

impl Tx {
    /// Stores a link (see [`insert_link`]).
    pub async fn insert_link(&mut self, org: OrgId, request_id: Option<i64>, link: &NewLink) -> StoreResult<()> {
        insert_link(self, org, request_id, link).await
    }

    /// Saves the access rules, every key at once.
    pub async fn save_access_rules(&mut self, org: OrgId, rules: &AccessRules) -> StoreResult<()> {
        for (key, value) in rules.to_settings() {
            sqlx::query(
                "INSERT INTO org_settings (org_id, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_id, key) DO UPDATE SET value = $3",
            )
            .bind(org)
            .bind(key)
            .bind(value)
            .execute(&mut **self)
            .await?;
        }
        Ok(())
    }

    /// Publishes a new NDA version (earlier signatures stay tied to the version they signed).
    pub async fn publish_nda(&mut self, org: OrgId, body: &str, sha256: &str, by: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(number), 0) AS n FROM nda_versions WHERE org_id = $1")
            .bind(org)
            .fetch_one(&mut **self)
            .await?;
        let number = get::<i64>(&row, "n")? + 1;
        sqlx::query(
            "INSERT INTO nda_versions (org_id, number, body, sha256, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(org)
        .bind(number)
        .bind(body)
        .bind(sha256)
        .bind(by)
        .bind(now())
        .execute(&mut **self)
        .await?;
        Ok(number)
    }

    /// Records a request; returns its id.
    pub async fn create_access_request(&mut self, org: OrgId, r: &NewRequest) -> StoreResult<i64> {
        let documents =
            serde_json::to_string(&r.documents).map_err(|e| StoreError::Corrupt(format!("documents list: {e}")))?;
        let row = sqlx::query(
            "INSERT INTO access_requests (org_id, name, email, company, reason, documents, status, ip, user_agent, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(org)
        .bind(&r.name)
        .bind(&r.email)
        .bind(&r.company)
        .bind(&r.reason)
        .bind(documents)
        .bind(r.status.as_str())
        .bind(&r.ip)
        .bind(&r.user_agent)
        .bind(now())
        .fetch_one(&mut **self)
        .await?;
        get(&row, "id")
    }

    /// Uses up an emailed link: `(request id, email)` if it exists, has this purpose, is unused
    /// and unexpired. Atomic: a link works once even when followed twice at the same moment.
    pub async fn use_link(&mut self, token_hash: &str, purpose: &str) -> StoreResult<Option<(Option<i64>, String)>> {
        let row = sqlx::query(
            "UPDATE magic_links SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING request_id, email",
        )
        .bind(now())
        .bind(token_hash)
        .bind(purpose)
        .fetch_optional(&mut **self)
        .await?;
        row.map(|r| Ok((get(&r, "request_id")?, get(&r, "email")?))).transpose()
    }

    /// The address is proven: the request moves on, and the browser that followed the link gets a
    /// short-lived step token (by its digest) for the NDA page.
    pub async fn verify_request(&mut self, id: i64, step_hash: &str, expires_at: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE access_requests SET status = CASE WHEN status = 'unverified' THEN 'verified' ELSE status END, \
             verified_at = COALESCE(verified_at, $1), step_token_hash = $2, step_token_expires = $3 WHERE id = $4",
        )
        .bind(now())
        .bind(step_hash)
        .bind(expires_at)
        .bind(id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Records a signature; the request becomes signed.
    pub async fn sign_nda(&mut self, org: OrgId, request_id: i64, s: &Signature) -> StoreResult<()> {
        let t = now();
        sqlx::query(
            "INSERT INTO nda_signatures (org_id, request_id, name, email, company, nda_number, nda_sha256, signed_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(org)
        .bind(request_id)
        .bind(&s.name)
        .bind(&s.email)
        .bind(&s.company)
        .bind(s.nda_number)
        .bind(&s.nda_sha256)
        .bind(t)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .execute(&mut **self)
        .await?;
        self.signed_on_file(request_id).await
    }

    /// The request counts as signed (a signature of the current NDA by the same address is on
    /// file, or was just made).
    pub async fn signed_on_file(&mut self, request_id: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE access_requests SET status = 'signed', signed_at = $1, step_token_hash = NULL WHERE id = $2 AND status = 'verified'",
        )
        .bind(now())
        .bind(request_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Decides a request that is waiting (verified or signed): approval creates the grant and its
    /// sign-in link. `false` if the request was not waiting (decided already, or never verified).
    pub async fn decide_request(
        &mut self,
        org: OrgId,
        id: i64,
        by: &str,
        message: &str,
        approval: Option<(&NewGrant, &NewLink)>,
    ) -> StoreResult<bool> {
        let status = if approval.is_some() { "approved" } else { "denied" };
        let done = sqlx::query(
            "UPDATE access_requests SET status = $1, decided_at = $2, decided_by = $3, decision_message = $4, step_token_hash = NULL \
             WHERE org_id = $5 AND id = $6 AND status IN ('verified', 'signed')",
        )
        .bind(status)
        .bind(now())
        .bind(by)
        .bind(message)
        .bind(org)
        .bind(id)
        .execute(&mut **self)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some((grant, link)) = approval {
            sqlx::query(
                "INSERT INTO grants (org_id, public_id, request_id, name, email, company, documents, created_by, created_at, expires_at) \
                 SELECT org_id, $1, id, name, email, company, documents, $2, $3, $4 FROM access_requests WHERE id = $5",
            )
            .bind(&grant.public_id)
            .bind(by)
            .bind(now())
            .bind(grant.expires_at)
            .bind(id)
            .execute(&mut **self)
            .await?;
            insert_link(self, org, Some(id), link).await?;
        }
        Ok(true)
    }

    pub async fn revoke_grant(&mut self, org: OrgId, public_id: &str, by: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE grants SET revoked_at = $1, revoked_by = $2 WHERE org_id = $3 AND public_id = $4 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(by)
        .bind(org)
        .bind(public_id)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn create_viewer_session(&mut self, org: OrgId, id_hash: &str, email: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO viewer_sessions (id_hash, org_id, email, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(id_hash)
            .bind(org)
            .bind(email)
            .bind(now())
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    pub async fn delete_viewer_session(&mut self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM viewer_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    pub async fn log_document_access(&mut self, org: OrgId, e: &AccessLogEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO document_access_log (org_id, grant_id, email, company, document, version, action, at, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(org)
        .bind(&e.grant_id)
        .bind(&e.email)
        .bind(&e.company)
        .bind(&e.document)
        .bind(e.version)
        .bind(&e.action)
        .bind(e.at)
        .bind(&e.ip)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}
