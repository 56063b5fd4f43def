-- Backups and disaster-recovery drills. Each backup run (from `candor backup` or serve's
-- schedule) is recorded, failed ones too, so the back office and /metrics can show the age of
-- the last good backup. A drill restores the latest backup into a scratch location and records
-- what it measured: restore time (RTO) and the backup's age (RPO).
CREATE TABLE backup_runs (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    destination TEXT NOT NULL,
    archive TEXT NOT NULL,
    ok BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    blob_count BIGINT NOT NULL,
    error TEXT NOT NULL
);
CREATE INDEX backup_runs_started ON backup_runs (org_id, started_at);
CREATE TABLE dr_drills (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    ran_at BIGINT NOT NULL,
    archive TEXT NOT NULL,
    backup_taken_at BIGINT NOT NULL,
    ok BIGINT NOT NULL,
    rto_ms BIGINT NOT NULL,
    rpo_secs BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    blob_count BIGINT NOT NULL,
    audit_entries BIGINT NOT NULL,
    error TEXT NOT NULL
);
CREATE INDEX dr_drills_ran ON dr_drills (org_id, ran_at);
