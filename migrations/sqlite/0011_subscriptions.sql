-- Subscriptions: people told by email of what happens on the trust center (double opt-in), and
-- webhook endpoints that receive the same events, signed per the Standard Webhooks
-- specification. Topics and components are JSON arrays (`["status","policies"]`, `[3,7]`); no
-- components means all of them. Flags are 0/1.
--
-- A subscriber's link token (in every mail: manage and one-click unsubscribe) is stored twice:
-- its SHA-256 to find the row, and sealed under the master key so that notification mail can
-- carry it. The confirmation link's token is stored as its SHA-256 only.
CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    email TEXT NOT NULL,
    topics TEXT NOT NULL,
    components TEXT NOT NULL,
    confirmed_at INTEGER,
    confirm_digest TEXT,
    confirm_expires_at INTEGER,
    unsubscribe_digest TEXT NOT NULL,
    unsubscribe_sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (org_id, email)
);
CREATE UNIQUE INDEX subscribers_unsubscribe ON subscribers (unsubscribe_digest);
CREATE INDEX subscribers_confirm ON subscribers (confirm_digest);
-- The signing secret (`whsec_...`) is sealed under the master key, bound to the row's id.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    topics TEXT NOT NULL,
    components TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    disabled_at INTEGER,
    disabled_reason TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- The webhook outbox: one row per event per endpoint, written in the transaction of the change
-- it reports, delivered by a worker that leases rows (next_attempt_at) so that two instances
-- never send one twice. The message id stays the same across retries and re-sends.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    failed_at INTEGER,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);
-- Every attempt of a delivery: the receiver's HTTP status (none when it did not answer), or why
-- it failed.
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);
-- Extra mail headers as a JSON array of [name, value] pairs (List-Unsubscribe and
-- List-Unsubscribe-Post on notification mail).
ALTER TABLE outbox ADD COLUMN headers TEXT;
