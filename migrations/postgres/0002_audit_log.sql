-- Tamper-evident audit log: each entry's hash covers the previous entry's hash and the entry's
-- own canonical JSON, so editing, deleting or reordering any row breaks the chain after it.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    ip TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (org_id, seq)
);
CREATE INDEX audit_log_at ON audit_log (org_id, at);
