-- The status page: components in groups, incidents (and security notices) with their timeline,
-- scheduled maintenance, built-in monitors and uptime history. Status values are Statuspage's
-- spellings (see candor-core's status module). Flags are 0/1.
CREATE TABLE status_groups (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- `status` is the status as last set (by a person, an incident or a monitor); a running
-- maintenance window shows over it without changing it.
CREATE TABLE status_components (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    group_id BIGINT REFERENCES status_groups(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position BIGINT NOT NULL,
    status TEXT NOT NULL,
    showcase BIGINT NOT NULL,
    only_show_if_degraded BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Every change of a component's set status, for its uptime; folded into status_days and
-- pruned with the monitors' raw results.
CREATE TABLE status_changes (
    id BIGSERIAL PRIMARY KEY,
    component_id BIGINT NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX status_changes_at ON status_changes (component_id, at);
-- One row per component per UTC day, kept forever: seconds in each disrupted status and the
-- day's check counts.
CREATE TABLE status_days (
    component_id BIGINT NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    observed_secs BIGINT NOT NULL,
    degraded_secs BIGINT NOT NULL,
    partial_secs BIGINT NOT NULL,
    major_secs BIGINT NOT NULL,
    maintenance_secs BIGINT NOT NULL,
    checks BIGINT NOT NULL,
    failed_checks BIGINT NOT NULL,
    PRIMARY KEY (component_id, day)
);
CREATE TABLE incidents (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    impact TEXT NOT NULL,
    status TEXT NOT NULL,
    postmortem TEXT,
    monitor_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX incidents_by_time ON incidents (org_id, kind, created_at);
CREATE TABLE incident_updates (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    display_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    author TEXT NOT NULL
);
CREATE INDEX incident_updates_by_incident ON incident_updates (incident_id, display_at);
-- The components an incident affects, with the status it gives each.
CREATE TABLE incident_components (
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    component_id BIGINT NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    PRIMARY KEY (incident_id, component_id)
);
CREATE TABLE maintenances (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    scheduled_for BIGINT NOT NULL,
    scheduled_until BIGINT NOT NULL,
    auto BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT
);
CREATE INDEX maintenances_by_window ON maintenances (org_id, status, scheduled_for);
CREATE TABLE maintenance_updates (
    id BIGSERIAL PRIMARY KEY,
    maintenance_id BIGINT NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    display_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    author TEXT NOT NULL
);
CREATE TABLE maintenance_components (
    maintenance_id BIGINT NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
    component_id BIGINT NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    PRIMARY KEY (maintenance_id, component_id)
);
-- Built-in monitors. `settings` is JSON (method, expected status, body text, latency and
-- certificate thresholds, minimum TLS version); the counters carry the consecutive results
-- between checks, so a restart keeps them.
CREATE TABLE monitors (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    component_id BIGINT NOT NULL REFERENCES status_components(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    settings TEXT NOT NULL,
    interval_secs BIGINT NOT NULL,
    timeout_ms BIGINT NOT NULL,
    failures_before_down BIGINT NOT NULL,
    down_status TEXT NOT NULL,
    auto_incident BIGINT NOT NULL,
    enabled BIGINT NOT NULL,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    last_checked_at BIGINT,
    last_ok BIGINT,
    last_detail TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE monitor_results (
    id BIGSERIAL PRIMARY KEY,
    monitor_id BIGINT NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    ok BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX monitor_results_by_monitor ON monitor_results (monitor_id, at);
CREATE INDEX monitor_results_at ON monitor_results (at);
