-- Candor foundation schema (PostgreSQL). Timestamps are Unix seconds (UTC); dates are YYYY-MM-DD text.
CREATE TABLE orgs (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Every content item: a draft always, a published copy once published.
CREATE TABLE items (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    draft TEXT NOT NULL,
    published TEXT,
    updated TEXT NOT NULL,
    draft_changed_at BIGINT NOT NULL,
    published_at BIGINT,
    UNIQUE (org_id, kind, slug)
);
CREATE INDEX items_org_kind ON items (org_id, kind, position);

CREATE TABLE revisions (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    item_id BIGINT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (item_id, number)
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    disabled_at BIGINT,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT,
    UNIQUE (org_id, email)
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    user_agent TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Single-use links: account setup and password reset.
CREATE TABLE user_links (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
