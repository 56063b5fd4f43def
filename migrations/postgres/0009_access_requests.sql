-- Gated documents. A visitor's access request is verified by a single-use emailed link, then
-- the visitor signs the current NDA (each NDA text is a version with its SHA-256; a signature
-- records which), then the request is approved (by a person or a rule) into a grant: the
-- documents, until when, revocable. Approved viewers sign in by emailed link into a viewer
-- session, separate from back-office sessions. Every view and download is logged.
CREATE TABLE nda_versions (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    number BIGINT NOT NULL,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, number)
);
CREATE TABLE access_requests (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    company TEXT NOT NULL,
    reason TEXT NOT NULL,
    documents TEXT NOT NULL,
    status TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    verified_at BIGINT,
    signed_at BIGINT,
    decided_at BIGINT,
    decided_by TEXT,
    decision_message TEXT,
    step_token_hash TEXT,
    step_token_expires BIGINT
);
CREATE INDEX access_requests_status ON access_requests (org_id, status);
CREATE TABLE magic_links (
    token_hash TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    purpose TEXT NOT NULL,
    request_id BIGINT REFERENCES access_requests(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE TABLE nda_signatures (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    request_id BIGINT REFERENCES access_requests(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    company TEXT NOT NULL,
    nda_number BIGINT NOT NULL,
    nda_sha256 TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX nda_signatures_email ON nda_signatures (org_id, email);
CREATE TABLE grants (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    public_id TEXT NOT NULL UNIQUE,
    request_id BIGINT REFERENCES access_requests(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    company TEXT NOT NULL,
    documents TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_by TEXT
);
CREATE INDEX grants_email ON grants (org_id, email);
CREATE TABLE viewer_sessions (
    id_hash TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE TABLE document_access_log (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    grant_id TEXT NOT NULL,
    email TEXT NOT NULL,
    company TEXT NOT NULL,
    document TEXT NOT NULL,
    version BIGINT NOT NULL,
    action TEXT NOT NULL,
    at BIGINT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX document_access_log_doc ON document_access_log (org_id, document);
