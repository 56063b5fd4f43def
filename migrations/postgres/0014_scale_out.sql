-- Rate limits and backoff, shared by every instance on the database: failures per key (an IP,
-- an account, prefixed by what they limit) and until when the key must wait. Times in Unix ms.
CREATE TABLE rate_limits (
    rate_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    last_at BIGINT NOT NULL
);
CREATE INDEX rate_limits_last ON rate_limits (last_at);
