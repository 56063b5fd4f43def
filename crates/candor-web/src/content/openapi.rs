//! Content's part of the OpenAPI 3.1 document, built from the same kind registry that drives the
//! handlers: one set of paths per content kind, with each kind's JSON Schema from
//! `candor_core::fields`. A test walks every operation of the document against the running
//! server, so the document and the routes cannot drift apart.

use crate::http::openapi::{error_response, ApiDoc};
use candor_core::fields::json_schema;
use candor_core::Kind;
use serde_json::{json, Value};

fn title_case(s: &str) -> String {
    s.split('-').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

fn item_response(name: &str, description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}Item")}}}})
}

/// Operations per kind: (path suffix, method, operation id prefix, summary).
pub const OPERATIONS: &[(&str, &str, &str, &str)] = &[
    ("", "get", "list", "List all items, drafts included"),
    (
        "",
        "post",
        "create",
        "Create an item (unpublished unless ?publish=true)",
    ),
    ("/{slug}", "get", "get", "Get one item"),
    (
        "/{slug}",
        "put",
        "replace",
        "Replace the draft (publish with ?publish=true)",
    ),
    ("/{slug}", "delete", "delete", "Delete an item and its history"),
    ("/{slug}/publish", "post", "publish", "Publish the draft"),
    (
        "/{slug}/unpublish",
        "post",
        "unpublish",
        "Take the item off the public site",
    ),
    (
        "/{slug}/revisions",
        "get",
        "revisions",
        "The item's revision history, newest first",
    ),
];

/// Adds the content kinds' paths and schemas.
pub fn describe(doc: &mut ApiDoc) {
    let ApiDoc { paths, schemas } = doc;
    for kind in Kind::ALL {
        let name = title_case(kind.as_str());
        let body_ref = json!({"$ref": format!("#/components/schemas/{name}Body")});
        schemas.insert(format!("{name}Body"), json_schema(kind));
        schemas.insert(
            format!("{name}Item"),
            json!({"type": "object", "properties": {
                "kind": {"const": kind.as_str()}, "slug": {"type": "string"}, "position": {"type": "integer"},
                "updated": {"type": "string", "format": "date"}, "state": {"enum": ["draft", "published", "changed"]},
                "draft": body_ref, "published": {"oneOf": [body_ref, {"type": "null"}]}
            }}),
        );
        let slug_param = json!({"name": "slug", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}});
        let publish_param = json!({"name": "publish", "in": "query", "required": false, "schema": {"type": "boolean"}});
        for (suffix, method, op, summary) in OPERATIONS {
            if kind == Kind::Profile && matches!(*op, "create" | "delete") {
                continue;
            }
            let path = format!("/api/v1/{}{suffix}", kind.plural());
            let mut operation = json!({
                "operationId": format!("{op}{name}"),
                "summary": summary,
                "tags": [kind.label()],
                "responses": {
                    "401": error_response("Missing, invalid, expired or revoked token, or its creator is disabled"),
                    "404": error_response("No such item"),
                    "429": error_response("Too many failed authentications from this address; retry later"),
                    "500": error_response("The server could not complete the request; it has been logged"),
                }
            });
            let mut params = vec![];
            if suffix.contains("{slug}") {
                params.push(slug_param.clone());
            }
            if *method != "get" {
                operation["responses"]["403"] =
                    error_response("The token is read-only, or its creator's current role does not allow this");
            }
            match *op {
                "list" => {
                    operation["responses"]["200"] = json!({"description": "The items", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}Item")}}}}}}});
                }
                "create" | "replace" => {
                    params.push(publish_param.clone());
                    let mut req = json!({"type": "object", "required": ["body"], "properties": {"body": body_ref}});
                    if *op == "create" {
                        req["properties"]["slug"] = json!({"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"});
                    }
                    operation["requestBody"] =
                        json!({"required": true, "content": {"application/json": {"schema": req}}});
                    let ok = if *op == "create" { "201" } else { "200" };
                    operation["responses"][ok] = item_response(&name, "The item");
                    for (status, why) in [
                        (
                            "400",
                            "The body is not JSON of the expected shape, or a query parameter is not valid",
                        ),
                        ("409", "The slug is taken (or, for the profile, it cannot be created)"),
                        ("413", "The body is larger than 2 MiB"),
                        ("415", "The body is not sent as application/json"),
                        ("422", "The body is not valid; details name each field"),
                    ] {
                        operation["responses"][status] = error_response(why);
                    }
                }
                "delete" => {
                    operation["responses"]["204"] = json!({"description": "Deleted"});
                }
                "revisions" => {
                    operation["responses"]["200"] = json!({"description": "Revisions", "content": {"application/json": {"schema": {"type": "object"}}}});
                }
                _ => {
                    operation["responses"]["200"] = item_response(&name, "The item");
                }
            }
            if !params.is_empty() {
                operation["parameters"] = Value::Array(params);
            }
            let entry = paths.entry(path).or_insert_with(|| json!({}));
            entry[*method] = operation;
        }
    }
}
