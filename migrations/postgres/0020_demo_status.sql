-- Which parts of the status page came with the demo trust center (1) rather than from a person
-- (0), so that removing the demo takes them too. The demo seeds them at first start. Databases
-- seeded before this migration are recognised from the audit log: the demo is the only thing
-- that creates groups, components, incidents and maintenance as `system` (monitors open their
-- incidents as `monitor:…`).
ALTER TABLE status_groups ADD COLUMN demo BIGINT NOT NULL DEFAULT 0;
ALTER TABLE status_components ADD COLUMN demo BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN demo BIGINT NOT NULL DEFAULT 0;
ALTER TABLE maintenances ADD COLUMN demo BIGINT NOT NULL DEFAULT 0;
UPDATE status_groups SET demo = 1 WHERE EXISTS (SELECT 1 FROM audit_log a WHERE a.org_id = status_groups.org_id
    AND a.actor = 'system' AND a.action = 'status.group.create' AND a.target = 'status-group/' || CAST(status_groups.id AS TEXT));
UPDATE status_components SET demo = 1 WHERE EXISTS (SELECT 1 FROM audit_log a WHERE a.org_id = status_components.org_id
    AND a.actor = 'system' AND a.action = 'status.component.create' AND a.target = 'status-component/' || CAST(status_components.id AS TEXT));
UPDATE incidents SET demo = 1 WHERE monitor_id IS NULL AND EXISTS (SELECT 1 FROM audit_log a WHERE a.org_id = incidents.org_id
    AND a.actor = 'system' AND a.action = 'status.incident.create' AND a.target = 'incident/' || CAST(incidents.id AS TEXT));
UPDATE maintenances SET demo = 1 WHERE EXISTS (SELECT 1 FROM audit_log a WHERE a.org_id = maintenances.org_id
    AND a.actor = 'system' AND a.action = 'status.maintenance.create' AND a.target = 'maintenance/' || CAST(maintenances.id AS TEXT));
