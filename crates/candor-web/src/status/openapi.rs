//! The status page's part of the OpenAPI document: every `/api/v1/status/...` operation with
//! its request and response schemas. The value sets come from candor-core's enums, so the
//! document names exactly the spellings the handlers accept.

use crate::http::openapi::{error_response, json_response, ApiDoc};
use candor_core::status::{ComponentStatus, Impact, IncidentKind, IncidentStatus, MaintenanceStatus};
use serde_json::{json, Value};

fn spellings<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Value {
    json!(all.iter().map(|t| as_str(*t)).collect::<Vec<_>>())
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn nullable_time() -> Value {
    json!({"type": ["string", "null"], "format": "date-time"})
}

/// The schemas of what the endpoints send and take.
fn schemas(doc: &mut ApiDoc) {
    let component_status = json!({"enum": spellings(ComponentStatus::ALL, ComponentStatus::as_str)});
    let impact = json!({"enum": spellings(Impact::ALL, Impact::as_str)});
    let incident_status = json!({"enum": spellings(IncidentStatus::ALL, IncidentStatus::as_str)});
    let kind = json!({"enum": spellings(IncidentKind::ALL, IncidentKind::as_str), "description": "`advisory` is a security notice"});
    let maintenance_status = json!({"enum": spellings(MaintenanceStatus::ALL, MaintenanceStatus::as_str)});
    let title = json!({"type": "string", "minLength": 1, "maxLength": 200});
    let markdown = json!({"type": "string", "maxLength": 50000, "description": "Markdown"});
    let affected = json!({"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["id", "status"],
        "properties": {"id": {"type": "integer"}, "status": component_status}}});
    let ids = json!({"type": "array", "items": {"type": "integer"}});
    let all = [
        (
            "StatusComponent",
            json!({"type": "object", "required": ["id", "name", "description", "group_id", "position", "status", "showcase", "only_show_if_degraded", "created_at", "updated_at"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
                "group_id": {"type": ["integer", "null"]}, "position": {"type": "integer"}, "status": component_status,
                "showcase": {"type": "boolean"}, "only_show_if_degraded": {"type": "boolean"},
                "created_at": time(), "updated_at": time()}}),
        ),
        (
            "StatusGroup",
            json!({"type": "object", "required": ["id", "name", "position"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "position": {"type": "integer"}}}),
        ),
        (
            "TimelineEntry",
            json!({"type": "object", "required": ["id", "status", "body", "display_at", "created_at", "author"],
                "properties": {"id": {"type": "integer"}, "status": {"type": "string"}, "body": {"type": "string"},
                "display_at": time(), "created_at": time(), "author": {"type": "string"}}}),
        ),
        (
            "Incident",
            json!({"type": "object", "required": ["id", "kind", "title", "status", "impact", "postmortem", "monitor_id", "created_at", "updated_at", "resolved_at", "components", "updates"],
                "properties": {"id": {"type": "integer"}, "kind": kind, "title": {"type": "string"}, "status": incident_status,
                "impact": impact, "postmortem": {"type": ["string", "null"]}, "monitor_id": {"type": ["integer", "null"]},
                "created_at": time(), "updated_at": time(), "resolved_at": nullable_time(),
                "components": affected, "updates": {"type": "array", "items": schema_ref("TimelineEntry")}}}),
        ),
        (
            "Maintenance",
            json!({"type": "object", "required": ["id", "title", "status", "scheduled_for", "scheduled_until", "auto", "created_at", "updated_at", "started_at", "completed_at", "components", "updates"],
                "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "status": maintenance_status,
                "scheduled_for": time(), "scheduled_until": time(), "auto": {"type": "boolean"},
                "created_at": time(), "updated_at": time(), "started_at": nullable_time(), "completed_at": nullable_time(),
                "components": ids, "updates": {"type": "array", "items": schema_ref("TimelineEntry")}}}),
        ),
        (
            "NewStatusComponent",
            json!({"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100}, "description": {"type": "string", "maxLength": 1000},
                "group_id": {"type": ["integer", "null"]}, "showcase": {"type": "boolean", "default": true},
                "only_show_if_degraded": {"type": "boolean", "default": false}}}),
        ),
        (
            "StatusComponentChange",
            json!({"type": "object", "additionalProperties": false, "description": "Fields left out keep their values.", "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100}, "description": {"type": "string", "maxLength": 1000},
                "group_id": {"type": ["integer", "null"]}, "showcase": {"type": "boolean"},
                "only_show_if_degraded": {"type": "boolean"}, "status": component_status}}),
        ),
        (
            "NewIncident",
            json!({"type": "object", "additionalProperties": false, "required": ["title", "body"], "properties": {
                "kind": {"enum": spellings(IncidentKind::ALL, IncidentKind::as_str), "default": "incident"},
                "title": title, "impact": {"enum": spellings(Impact::ALL, Impact::as_str), "default": "none"},
                "status": {"enum": spellings(IncidentStatus::ALL, IncidentStatus::as_str), "default": "investigating"},
                "body": markdown, "components": affected, "display_at": time()}}),
        ),
        (
            "IncidentChange",
            json!({"type": "object", "additionalProperties": false, "description": "Fields left out keep their values; a null postmortem removes it.", "properties": {
                "title": title, "impact": impact, "postmortem": {"type": ["string", "null"], "maxLength": 50000}}}),
        ),
        (
            "NewIncidentUpdate",
            json!({"type": "object", "additionalProperties": false, "required": ["status", "body"], "properties": {
                "status": incident_status, "body": markdown,
                "components": {"description": "Replaces the affected components and their statuses; left out, they stay as they are.", "type": "array", "items": affected["items"].clone()},
                "display_at": time()}}),
        ),
        (
            "NewMaintenance",
            json!({"type": "object", "additionalProperties": false, "required": ["title", "body", "scheduled_for", "scheduled_until"], "properties": {
                "title": title, "body": markdown, "scheduled_for": time(), "scheduled_until": time(),
                "auto": {"type": "boolean", "default": true, "description": "Starts and completes by itself at the window's edges"},
                "components": ids}}),
        ),
        (
            "MaintenanceChange",
            json!({"type": "object", "additionalProperties": false, "description": "Fields left out keep their values.", "properties": {
                "title": title, "scheduled_for": time(), "scheduled_until": time(), "auto": {"type": "boolean"}, "components": ids}}),
        ),
        (
            "NewMaintenanceUpdate",
            json!({"type": "object", "additionalProperties": false, "required": ["status", "body"], "properties": {
                "status": maintenance_status, "body": markdown}}),
        ),
    ];
    // Examples a reader can copy, and that the conformance test sends as they are.
    let examples = [
        (
            "NewStatusComponent",
            json!({"name": "API", "description": "REST and webhooks"}),
        ),
        ("StatusComponentChange", json!({"status": "degraded_performance"})),
        (
            "NewIncident",
            json!({"title": "Elevated API error rates", "impact": "major", "status": "investigating",
                   "body": "Some requests fail with 503. We are looking into it.", "components": []}),
        ),
        (
            "IncidentChange",
            json!({"impact": "minor", "postmortem": "A configuration change exhausted a connection pool."}),
        ),
        (
            "NewIncidentUpdate",
            json!({"status": "identified", "body": "A bad deploy; rolling back."}),
        ),
        (
            "NewMaintenance",
            json!({"title": "Database upgrade", "body": "A few seconds of read-only mode.",
                   "scheduled_for": "2030-01-01T01:00:00Z", "scheduled_until": "2030-01-01T02:00:00Z", "auto": true, "components": []}),
        ),
        ("MaintenanceChange", json!({"scheduled_until": "2030-01-01T03:00:00Z"})),
        (
            "NewMaintenanceUpdate",
            json!({"status": "in_progress", "body": "The upgrade has started."}),
        ),
    ];
    for (name, mut schema) in all {
        if let Some((_, example)) = examples.iter().find(|(n, _)| *n == name) {
            schema["examples"] = json!([example]);
        }
        doc.schemas.insert(name.into(), schema);
    }
}

/// One operation: `ok` is its success status and answer, `body` the schema it takes.
struct Op {
    path: &'static str,
    method: &'static str,
    id: &'static str,
    summary: &'static str,
    ok: (&'static str, Value),
    body: Option<&'static str>,
    query: Vec<Value>,
}

fn query_param(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

fn operations() -> Vec<Op> {
    let one = |name: &str, description: &str| json_response(description, schema_ref(name));
    let list = |key: &str, name: &str, description: &str| {
        json_response(
            description,
            json!({"type": "object", "required": [key], "properties": {key: {"type": "array", "items": schema_ref(name)}}}),
        )
    };
    let limit = query_param(
        "limit",
        json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
        "How many to list",
    );
    let deleted = ("204", json!({"description": "Deleted"}));
    let op = |path, method, id, summary, ok, body| Op {
        path,
        method,
        id,
        summary,
        ok,
        body,
        query: vec![],
    };
    let components_list = json_response(
        "Every component in display order, and the groups",
        json!({"type": "object", "required": ["components", "groups"], "properties": {
            "components": {"type": "array", "items": schema_ref("StatusComponent")},
            "groups": {"type": "array", "items": schema_ref("StatusGroup")}}}),
    );
    vec![
        op(
            "/api/v1/status/components",
            "get",
            "listStatusComponents",
            "List the components and their groups",
            ("200", components_list),
            None,
        ),
        op(
            "/api/v1/status/components",
            "post",
            "createStatusComponent",
            "Add a component (operational, last in the list)",
            ("201", one("StatusComponent", "The component")),
            Some("NewStatusComponent"),
        ),
        op(
            "/api/v1/status/components/{id}",
            "get",
            "getStatusComponent",
            "Get one component",
            ("200", one("StatusComponent", "The component")),
            None,
        ),
        op(
            "/api/v1/status/components/{id}",
            "put",
            "changeStatusComponent",
            "Change a component's fields or set its status",
            ("200", one("StatusComponent", "The component as it is now")),
            Some("StatusComponentChange"),
        ),
        op(
            "/api/v1/status/components/{id}",
            "delete",
            "deleteStatusComponent",
            "Delete a component with its uptime history",
            deleted.clone(),
            None,
        ),
        Op {
            query: vec![
                query_param(
                    "kind",
                    json!({"enum": spellings(IncidentKind::ALL, IncidentKind::as_str)}),
                    "Only incidents, or only security notices (advisory)",
                ),
                query_param(
                    "open",
                    json!({"type": "boolean", "default": false}),
                    "true: only those not resolved",
                ),
                limit.clone(),
            ],
            ..op(
                "/api/v1/status/incidents",
                "get",
                "listIncidents",
                "List incidents and security notices, newest first",
                ("200", list("incidents", "Incident", "The incidents")),
                None,
            )
        },
        op(
            "/api/v1/status/incidents",
            "post",
            "openIncident",
            "Open an incident or security notice",
            ("201", one("Incident", "The incident")),
            Some("NewIncident"),
        ),
        op(
            "/api/v1/status/incidents/{id}",
            "get",
            "getIncident",
            "Get one incident with its timeline",
            ("200", one("Incident", "The incident")),
            None,
        ),
        op(
            "/api/v1/status/incidents/{id}",
            "patch",
            "editIncident",
            "Change the title, impact or postmortem",
            ("200", one("Incident", "The incident")),
            Some("IncidentChange"),
        ),
        op(
            "/api/v1/status/incidents/{id}",
            "delete",
            "deleteIncident",
            "Delete an incident opened by mistake",
            deleted.clone(),
            None,
        ),
        op(
            "/api/v1/status/incidents/{id}/updates",
            "post",
            "postIncidentUpdate",
            "Post an update: a message and the status it moves to",
            ("201", one("Incident", "The incident after the update")),
            Some("NewIncidentUpdate"),
        ),
        Op {
            query: vec![
                query_param(
                    "unfinished",
                    json!({"type": "boolean", "default": false}),
                    "true: only windows not completed, soonest first",
                ),
                limit,
            ],
            ..op(
                "/api/v1/status/maintenances",
                "get",
                "listMaintenances",
                "List maintenance windows, newest first",
                ("200", list("maintenances", "Maintenance", "The windows")),
                None,
            )
        },
        op(
            "/api/v1/status/maintenances",
            "post",
            "scheduleMaintenance",
            "Schedule a maintenance window",
            ("201", one("Maintenance", "The window")),
            Some("NewMaintenance"),
        ),
        op(
            "/api/v1/status/maintenances/{id}",
            "get",
            "getMaintenance",
            "Get one window with its timeline",
            ("200", one("Maintenance", "The window")),
            None,
        ),
        op(
            "/api/v1/status/maintenances/{id}",
            "patch",
            "editMaintenance",
            "Change a window's title, times, clock or components",
            ("200", one("Maintenance", "The window")),
            Some("MaintenanceChange"),
        ),
        op(
            "/api/v1/status/maintenances/{id}",
            "delete",
            "deleteMaintenance",
            "Delete a window",
            deleted,
            None,
        ),
        op(
            "/api/v1/status/maintenances/{id}/updates",
            "post",
            "postMaintenanceUpdate",
            "Post an update: a message and the status it moves to",
            ("201", one("Maintenance", "The window after the update")),
            Some("NewMaintenanceUpdate"),
        ),
    ]
}

/// Adds the status paths and schemas.
pub fn describe(doc: &mut ApiDoc) {
    schemas(doc);
    for o in operations() {
        let mut operation = json!({
            "operationId": o.id,
            "summary": o.summary,
            "tags": ["Status page"],
            "responses": {
                "401": error_response("Missing, invalid, expired or revoked token, or its creator is disabled"),
                "404": error_response("No such component, incident or maintenance window"),
                "429": error_response("Too many failed authentications from this address; retry later"),
                "500": error_response("The server could not complete the request; it has been logged"),
            }
        });
        operation["responses"][o.ok.0] = o.ok.1;
        if o.method != "get" {
            operation["responses"]["403"] =
                error_response("The token is read-only, or its creator's current role does not allow this");
        }
        let mut params = o.query;
        if !params.is_empty() {
            operation["responses"]["400"] = error_response("A query parameter is not valid");
        }
        if o.path.contains("{id}") {
            params.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}));
        }
        if let Some(body) = o.body {
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema_ref(body)}}});
            for (status, why) in [
                ("400", "The body is not a JSON object"),
                ("413", "The body is larger than 2 MiB"),
                ("415", "The body is not sent as application/json"),
                (
                    "422",
                    "The body breaks a rule (a status that cannot follow the current one included); details name each field",
                ),
            ] {
                operation["responses"][status] = error_response(why);
            }
        }
        if !params.is_empty() {
            operation["parameters"] = Value::Array(params);
        }
        doc.operation(o.path, o.method, operation);
    }
}
