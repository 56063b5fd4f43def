-- Single sign-on with OpenID Connect. A user signed in through the identity provider is linked
-- to its subject (issuer and `sub`), so a later change of email at the provider cannot move the
-- account to someone else. Sessions remember how they were signed in. A sign-in in progress
-- (state, nonce, PKCE verifier) waits server-side, found by the digest of a browser cookie,
-- and is used once.
ALTER TABLE users ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX users_sso_subject ON users (org_id, sso_subject);
ALTER TABLE sessions ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'password';
CREATE TABLE sso_logins (
    id_hash TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
