-- Which parts of the status page came with the demo trust center (1) rather than from a person
-- (0), so that removing the demo takes them too. The demo seeds them at first start. Databases
-- seeded before this migration are recognised from the audit log: the demo is the only thing
-- that creates groups, components, incidents and maintenance as `system` (monitors open their
-- incidents as `monitor:…`). Each table reads the log once (an id list from the entries'
-- targets), not once per row: at a million entries that is 0.06 s against minutes.
ALTER TABLE status_groups ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
ALTER TABLE status_components ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
ALTER TABLE maintenances ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
UPDATE status_groups SET demo = 1 WHERE id IN (SELECT CAST(substr(a.target, length('status-group/') + 1) AS INTEGER)
    FROM audit_log a WHERE a.actor = 'system' AND a.action = 'status.group.create' AND a.target LIKE 'status-group/%');
UPDATE status_components SET demo = 1 WHERE id IN (SELECT CAST(substr(a.target, length('status-component/') + 1) AS INTEGER)
    FROM audit_log a WHERE a.actor = 'system' AND a.action = 'status.component.create' AND a.target LIKE 'status-component/%');
UPDATE incidents SET demo = 1 WHERE monitor_id IS NULL AND id IN (SELECT CAST(substr(a.target, length('incident/') + 1) AS INTEGER)
    FROM audit_log a WHERE a.actor = 'system' AND a.action = 'status.incident.create' AND a.target LIKE 'incident/%');
UPDATE maintenances SET demo = 1 WHERE id IN (SELECT CAST(substr(a.target, length('maintenance/') + 1) AS INTEGER)
    FROM audit_log a WHERE a.actor = 'system' AND a.action = 'status.maintenance.create' AND a.target LIKE 'maintenance/%');
