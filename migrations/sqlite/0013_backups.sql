-- Backups and disaster-recovery drills. Each backup run (from `candor backup` or serve's
-- schedule) is recorded, failed ones too, so the back office and /metrics can show the age of
-- the last good backup. A drill restores the latest backup into a scratch location and records
-- what it measured: restore time (RTO) and the backup's age (RPO).
CREATE TABLE backup_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    started_by TEXT NOT NULL,
    destination TEXT NOT NULL,
    archive TEXT NOT NULL,
    ok INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    blob_count INTEGER NOT NULL,
    error TEXT NOT NULL
);
CREATE INDEX backup_runs_started ON backup_runs (org_id, started_at);
CREATE TABLE dr_drills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    ran_at INTEGER NOT NULL,
    archive TEXT NOT NULL,
    backup_taken_at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    rto_ms INTEGER NOT NULL,
    rpo_secs INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    blob_count INTEGER NOT NULL,
    audit_entries INTEGER NOT NULL,
    error TEXT NOT NULL
);
CREATE INDEX dr_drills_ran ON dr_drills (org_id, ran_at);
