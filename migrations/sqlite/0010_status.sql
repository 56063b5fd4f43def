-- The status page: components in groups, incidents (and security notices) with their timeline,
-- scheduled maintenance, built-in monitors and uptime history. Status values are Statuspage's
-- spellings (see candor-core's status module). Flags are 0/1.
CREATE TABLE status_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- `status` is the status as last set (by a person, an incident or a monitor); a running
-- maintenance window shows over it without changing it.
CREATE TABLE status_components (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    group_id INTEGER REFERENCES status_groups(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    showcase INTEGER NOT NULL,
    only_show_if_degraded INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Every change of a component's set status, for its uptime; folded into status_days and
-- pruned with the monitors' raw results.
CREATE TABLE status_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    component_id INTEGER NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX status_changes_at ON status_changes (component_id, at);
-- One row per component per UTC day, kept forever: seconds in each disrupted status and the
-- day's check counts.
CREATE TABLE status_days (
    component_id INTEGER NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    day INTEGER NOT NULL,
    observed_secs INTEGER NOT NULL,
    degraded_secs INTEGER NOT NULL,
    partial_secs INTEGER NOT NULL,
    major_secs INTEGER NOT NULL,
    maintenance_secs INTEGER NOT NULL,
    checks INTEGER NOT NULL,
    failed_checks INTEGER NOT NULL,
    PRIMARY KEY (component_id, day)
);
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    impact TEXT NOT NULL,
    status TEXT NOT NULL,
    postmortem TEXT,
    monitor_id INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX incidents_by_time ON incidents (org_id, kind, created_at);
CREATE TABLE incident_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    display_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    author TEXT NOT NULL
);
CREATE INDEX incident_updates_by_incident ON incident_updates (incident_id, display_at);
-- The components an incident affects, with the status it gives each.
CREATE TABLE incident_components (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    component_id INTEGER NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    PRIMARY KEY (incident_id, component_id)
);
CREATE TABLE maintenances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    scheduled_for INTEGER NOT NULL,
    scheduled_until INTEGER NOT NULL,
    auto INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    completed_at INTEGER
);
CREATE INDEX maintenances_by_window ON maintenances (org_id, status, scheduled_for);
CREATE TABLE maintenance_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    maintenance_id INTEGER NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    display_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    author TEXT NOT NULL
);
CREATE TABLE maintenance_components (
    maintenance_id INTEGER NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
    component_id INTEGER NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    PRIMARY KEY (maintenance_id, component_id)
);
-- Built-in monitors. `settings` is JSON (method, expected status, body text, latency and
-- certificate thresholds, minimum TLS version); the counters carry the consecutive results
-- between checks, so a restart keeps them.
CREATE TABLE monitors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    component_id INTEGER NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    settings TEXT NOT NULL,
    interval_secs INTEGER NOT NULL,
    timeout_ms INTEGER NOT NULL,
    failures_before_down INTEGER NOT NULL,
    down_status TEXT NOT NULL,
    auto_incident INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_checked_at INTEGER,
    last_ok INTEGER,
    last_detail TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE monitor_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX monitor_results_by_monitor ON monitor_results (monitor_id, at);
CREATE INDEX monitor_results_at ON monitor_results (at);
