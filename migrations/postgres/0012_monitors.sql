-- What the monitors' state machine keeps between checks besides the consecutive failures
-- (candor-core's status::monitor::Streak): the consecutive checks that were not fully up, and
-- what the monitor last made of its component (up, degraded, down), so it acts only when that
-- changes. The last check's outcome (up, degraded, down) and latency, for the back office.
ALTER TABLE monitors ADD COLUMN consecutive_troubled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE monitors ADD COLUMN verdict TEXT NOT NULL DEFAULT 'up';
ALTER TABLE monitors ADD COLUMN last_status TEXT;
ALTER TABLE monitors ADD COLUMN last_latency_ms BIGINT;
