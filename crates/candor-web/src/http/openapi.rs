//! The OpenAPI 3.1 document of `/api/v1`: its frame (what the API is, how to authenticate, the
//! one error envelope) and the pieces every operation shares. Each feature with API routes
//! describes its own paths and schemas into an [`ApiDoc`]; the composition root (`routes.rs`)
//! joins them, so the document is served whole at `/api/v1/openapi.json`.

use serde_json::{json, Map, Value};

/// The paths and schemas the features describe.
#[derive(Default)]
pub struct ApiDoc {
    pub paths: Map<String, Value>,
    pub schemas: Map<String, Value>,
}

/// An error answer in the envelope, for an operation's `responses`.
pub fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

/// A JSON answer whose body follows `schema`.
pub fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

impl ApiDoc {
    /// Adds an operation at `path` under `method` (`get`, `post`, ...).
    pub fn operation(&mut self, path: &str, method: &str, operation: Value) {
        let entry = self.paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        entry[method] = operation;
    }

    /// The whole document, served from `public_url`.
    pub fn finish(mut self, public_url: &str) -> Value {
        self.schemas.insert(
            "Error".into(),
            json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "examples": ["validation_failed"]},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
            }}}}),
        );
        json!({
            "openapi": "3.1.0",
            "info": {
                "title": "Candor API",
                "version": "1",
                "description": "Manage a Candor trust center's content and its status page (components, incidents, security notices, maintenance). Authenticate with an API token from the back office: `Authorization: Bearer TOKEN`. Read tokens may only GET. Errors share one envelope: `{\"error\": {\"code\", \"message\", \"details\"}}`."
            },
            "servers": [{"url": public_url}],
            "security": [{"bearer": []}],
            "paths": self.paths,
            "components": {
                "schemas": self.schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API token created under API tokens in the back office."}}
            }
        })
    }
}
