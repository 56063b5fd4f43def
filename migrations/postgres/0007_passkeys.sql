-- Passkeys (WebAuthn). Each user gets a random WebAuthn user handle (a UUID) when they add their
-- first passkey; authenticators store it with discoverable credentials, and sign-in without a
-- username finds the account through it. A passkey row holds webauthn-rs's serialised
-- credential (public key, counter); credential ids are unique across all accounts. A ceremony in
-- progress (its challenge state) waits server-side and is used once.
ALTER TABLE users ADD COLUMN webauthn_id TEXT;
CREATE UNIQUE INDEX users_webauthn_id ON users (webauthn_id);
CREATE TABLE passkeys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);
CREATE TABLE webauthn_ceremonies (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
