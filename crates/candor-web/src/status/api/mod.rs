//! The status page over `/api/v1/status/...`, for deploy pipelines and alerting systems: the
//! same use cases as the back office, with the token as actor. Values are spelled as Atlassian
//! Statuspage spells them (`major_outage`, `investigating`, `in_progress`); times are RFC 3339.

pub(crate) mod components;
pub(crate) mod incidents;
pub(crate) mod maintenance;

use crate::http::error::{WebError, WebResult};
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::Json;
use candor_core::content::FieldError;
use candor_core::status::ComponentStatus;
use candor_store::{Incident, Maintenance, StatusComponent, StatusGroup, TimelineEntry};
use serde_json::{json, Map, Value};

/// A Unix time as RFC 3339 (`2026-03-01T14:30:00Z`).
pub(crate) fn time(t: i64) -> Value {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| Value::String(d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .unwrap_or(Value::Null)
}

fn opt_time(t: Option<i64>) -> Value {
    t.map_or(Value::Null, time)
}

pub(crate) fn component_json(c: &StatusComponent) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "group_id": c.group_id,
        "position": c.position,
        "status": c.status.as_str(),
        "showcase": c.showcase,
        "only_show_if_degraded": c.only_show_if_degraded,
        "created_at": time(c.created_at),
        "updated_at": time(c.updated_at),
    })
}

pub(crate) fn group_json(g: &StatusGroup) -> Value {
    json!({"id": g.id, "name": g.name, "position": g.position})
}

fn entry_json(u: &TimelineEntry) -> Value {
    json!({
        "id": u.id,
        "status": u.status,
        "body": u.body,
        "display_at": time(u.display_at),
        "created_at": time(u.created_at),
        "author": u.author,
    })
}

pub(crate) fn incident_json(i: &Incident) -> Value {
    json!({
        "id": i.id,
        "kind": i.kind.as_str(),
        "title": i.title,
        "status": i.status.as_str(),
        "impact": i.impact.as_str(),
        "postmortem": i.postmortem,
        "monitor_id": i.monitor_id,
        "created_at": time(i.created_at),
        "updated_at": time(i.updated_at),
        "resolved_at": opt_time(i.resolved_at),
        "components": i.components.iter().map(|(id, s)| json!({"id": id, "status": s.as_str()})).collect::<Vec<_>>(),
        "updates": i.updates.iter().map(entry_json).collect::<Vec<_>>(),
    })
}

pub(crate) fn maintenance_json(m: &Maintenance) -> Value {
    json!({
        "id": m.id,
        "title": m.title,
        "status": m.status.as_str(),
        "scheduled_for": time(m.scheduled_for),
        "scheduled_until": time(m.scheduled_until),
        "auto": m.auto,
        "created_at": time(m.created_at),
        "updated_at": time(m.updated_at),
        "started_at": opt_time(m.started_at),
        "completed_at": opt_time(m.completed_at),
        "components": m.components,
        "updates": m.updates.iter().map(entry_json).collect::<Vec<_>>(),
    })
}

/// An id from the path; anything but a number names nothing.
pub(crate) fn path_id(what: &str, s: &str) -> WebResult<i64> {
    s.parse()
        .map_err(|_| WebError::Missing(format!("there is no {what} with id {s:?}")))
}

/// A JSON request body, read field by field so that each mistake is reported at its field
/// (422 with `details`), and a field the endpoint does not know is a mistake too (a typo in a
/// pipeline's script should not pass unnoticed).
pub(crate) struct Body {
    fields: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Body {
    /// Reads the body: 400 when it is not a JSON object, 413 and 415 as the rejection says.
    pub fn read(body: Result<Json<Value>, JsonRejection>, known: &[&str]) -> WebResult<Body> {
        let value = body.map(|Json(v)| v).map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                WebError::TooLarge("the request body is larger than 2 MiB; send a smaller body".into())
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => WebError::UnsupportedType(
                "send the body as JSON with the header `Content-Type: application/json`".into(),
            ),
            _ => WebError::BadRequest(format!("the request body is not valid JSON: {}", e.body_text())),
        })?;
        let Value::Object(fields) = value else {
            return Err(WebError::BadRequest("send the body as a JSON object".into()));
        };
        let errors = fields
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .map(|k| FieldError::new(k, format!("unknown field; this endpoint takes {}", known.join(", "))))
            .collect();
        Ok(Body { fields, errors })
    }

    fn wrong(&mut self, key: &str, what: &str) {
        self.errors.push(FieldError::new(key, format!("must be {what}")));
    }

    pub fn has(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    /// True when nothing but `null` or nothing at all was sent for `key`.
    pub fn is_null(&self, key: &str) -> bool {
        self.fields.get(key).is_none_or(Value::is_null)
    }

    pub fn text(&mut self, key: &str) -> Option<String> {
        match self.fields.get(key)? {
            Value::String(s) if s.contains('\0') => {
                self.errors
                    .push(FieldError::new(key, "must not contain NUL characters"));
                None
            }
            Value::String(s) => Some(s.clone()),
            _ => {
                self.wrong(key, "a string");
                None
            }
        }
    }

    pub fn flag(&mut self, key: &str) -> Option<bool> {
        match self.fields.get(key)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.wrong(key, "true or false");
                None
            }
        }
    }

    /// A number, or `null` (Some(None)).
    pub fn nullable_id(&mut self, key: &str) -> Option<Option<i64>> {
        match self.fields.get(key)? {
            Value::Null => Some(None),
            v => match v.as_i64() {
                Some(n) => Some(Some(n)),
                None => {
                    self.wrong(key, "an integer id or null");
                    None
                }
            },
        }
    }

    /// One of a closed set of values, by its spelling.
    pub fn choice<T: Copy>(&mut self, key: &str, all: &[T], as_str: fn(T) -> &'static str) -> Option<T> {
        let v = self.fields.get(key)?;
        if let Some(t) = v.as_str().and_then(|s| all.iter().copied().find(|t| as_str(*t) == s)) {
            return Some(t);
        }
        let names: Vec<&str> = all.iter().map(|t| as_str(*t)).collect();
        self.wrong(key, &format!("one of {}", names.join(", ")));
        None
    }

    /// An RFC 3339 date-time as a Unix time.
    pub fn time(&mut self, key: &str) -> Option<i64> {
        let v = self.fields.get(key)?;
        match v.as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) {
            Some(t) => Some(t.timestamp()),
            None => {
                self.wrong(key, "an RFC 3339 date-time, e.g. 2026-03-01T14:30:00Z");
                None
            }
        }
    }

    /// A list of component ids.
    pub fn ids(&mut self, key: &str) -> Option<Vec<i64>> {
        let v = self.fields.get(key)?;
        match v
            .as_array()
            .map(|a| a.iter().map(Value::as_i64).collect::<Option<Vec<_>>>())
        {
            Some(Some(ids)) => Some(ids),
            _ => {
                self.wrong(key, "a list of component ids");
                None
            }
        }
    }

    /// A list of `{"id": 3, "status": "major_outage"}`.
    pub fn component_statuses(&mut self, key: &str) -> Option<Vec<(i64, ComponentStatus)>> {
        let v = self.fields.get(key)?;
        let read = |c: &Value| {
            let id = c.get("id")?.as_i64()?;
            let status = ComponentStatus::parse(c.get("status")?.as_str()?)?;
            (c.as_object()?.len() == 2).then_some((id, status))
        };
        match v.as_array().map(|a| a.iter().map(read).collect::<Option<Vec<_>>>()) {
            Some(Some(list)) => Some(list),
            _ => {
                let all: Vec<&str> = ComponentStatus::ALL.iter().map(|s| s.as_str()).collect();
                self.wrong(
                    key,
                    &format!(
                        "a list of {{\"id\": component id, \"status\": one of {}}}",
                        all.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// Notes a missing field that the endpoint needs.
    pub fn require<T>(&mut self, key: &str, value: Option<T>) -> Option<T> {
        if value.is_none() && !self.fields.contains_key(key) {
            self.errors.push(FieldError::new(key, "is required"));
        }
        value
    }

    /// 422 with every mistake found, or the values read.
    pub fn finish(self) -> WebResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(WebError::Invalid(self.errors))
        }
    }
}

/// 201 with the JSON.
pub(crate) fn created(v: Value) -> axum::response::Response {
    use axum::response::IntoResponse;
    (StatusCode::CREATED, Json(v)).into_response()
}
