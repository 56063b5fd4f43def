-- Session ids rotate on a timer; the previous id stays valid for a short grace period so that
-- requests already in flight with it are not signed out. public_id names a session in the UI
-- without revealing anything that could be used as a credential.
ALTER TABLE sessions ADD COLUMN public_id TEXT;
ALTER TABLE sessions ADD COLUMN rotated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN prev_id_hash TEXT;
ALTER TABLE sessions ADD COLUMN prev_valid_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sessions_prev ON sessions (prev_id_hash);
