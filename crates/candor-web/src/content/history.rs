//! Revision history: readable diffs between revisions, and restoring an old one.

use super::admin::{item_action, parse_kind};
use crate::http::error::{WebError, WebResult};
use crate::http::layout::{html, AdminLayout};
use crate::http::session::Admin;
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use candor_core::fields::fields;
use candor_core::Kind;
use serde_json::Value;

struct Change {
    field: String,
    lines: Vec<(&'static str, String)>,
}
struct RevisionView {
    number: i64,
    action: String,
    actor: String,
    at: String,
    is_current: bool,
    changes: Vec<Change>,
}

#[derive(Template)]
#[template(path = "admin/history.html")]
struct HistoryPage {
    layout: AdminLayout,
    kind: &'static str,
    kind_label: &'static str,
    slug: String,
    title: String,
    revisions: Vec<RevisionView>,
}

/// A field-by-field line diff between two bodies.
fn diff(kind: Kind, old: &Value, new: &Value) -> Vec<Change> {
    let mut names: Vec<String> = fields(kind).iter().map(|f| f.name.to_owned()).collect();
    for v in [old, new] {
        if let Value::Object(m) = v {
            names.extend(m.keys().filter(|k| !names.contains(k)).cloned().collect::<Vec<_>>());
        }
    }
    let text = |v: &Value, k: &str| match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string()))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    names
        .into_iter()
        .filter_map(|name| {
            let (a, b) = (text(old, &name), text(new, &name));
            if a == b {
                return None;
            }
            let d = similar::TextDiff::from_lines(&a, &b);
            let lines = d
                .iter_all_changes()
                .map(|c| {
                    let tag = match c.tag() {
                        similar::ChangeTag::Insert => "+",
                        similar::ChangeTag::Delete => "-",
                        similar::ChangeTag::Equal => " ",
                    };
                    (tag, c.value().trim_end_matches('\n').to_owned())
                })
                .collect();
            Some(Change { field: name, lines })
        })
        .collect()
}

pub async fn history(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug)): Path<(String, String)>,
) -> WebResult<Response> {
    let kind = parse_kind(&kind)?;
    let item = state
        .store()
        .item(state.org(), kind, &slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let revs = state.store().revisions(item.id).await?;
    let empty = serde_json::json!({});
    let views = revs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let previous = revs.get(i + 1).map(|p| &p.body).unwrap_or(&empty);
            RevisionView {
                number: r.number,
                action: r.action.clone(),
                actor: r.actor.clone(),
                at: crate::http::format::display_time(Some(r.at)),
                is_current: r.body == item.draft,
                changes: diff(kind, previous, &r.body),
            }
        })
        .collect();
    html(HistoryPage {
        layout: AdminLayout::new(&admin, None),
        kind: kind.as_str(),
        kind_label: kind.label(),
        title: item.title(),
        slug,
        revisions: views,
    })
}

pub async fn restore(
    State(state): State<AppState>,
    admin: Admin,
    Path((kind, slug, number)): Path<(String, String, i64)>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    let kind = item_action(&admin, &form, &kind)?;
    let done = state.app().restore(&admin.who(), kind, &slug, number).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to(&format!("/admin/content/{kind}/{slug}?notice=restored")).into_response())
}
