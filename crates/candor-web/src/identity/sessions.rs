//! "Your sessions": every device signed in as you, with revoke one / revoke all others.

use crate::http::error::WebResult;
use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::http::session::Admin;
use crate::http::FormMap;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;

struct Row {
    public_id: String,
    device: String,
    ip: String,
    created: String,
    last_used: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "admin/sessions.html")]
struct SessionsPage {
    layout: AdminLayout,
    rows: Vec<Row>,
}

fn when(t: i64) -> String {
    crate::http::format::display_time(Some(t))
}

pub async fn list(State(state): State<AppState>, admin: Admin, Query(q): Query<NoticeQuery>) -> WebResult<Response> {
    let rows = state
        .store()
        .user_sessions(admin.0.user.id)
        .await?
        .into_iter()
        .map(|s| Row {
            current: s.public_id == admin.0.public_id,
            device: if s.user_agent.is_empty() {
                "Unknown device".into()
            } else {
                s.user_agent
            },
            public_id: s.public_id,
            ip: s.ip,
            created: when(s.created_at),
            last_used: when(s.last_seen_at),
        })
        .collect();
    let page = SessionsPage {
        layout: AdminLayout::new(&admin, q.notice.as_deref()),
        rows,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    // Scoped to the signed-in user: someone else's session id is simply not found.
    let done = state.app().revoke_session(&admin.who(), admin.0.user.id, &id).await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/sessions?notice=session-revoked").into_response())
}

pub async fn revoke_others(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<FormMap>,
) -> WebResult<Response> {
    admin.check_csrf(&form)?;
    let done = state
        .app()
        .revoke_other_sessions(&admin.who(), admin.0.user.id, &admin.0.public_id)
        .await?;
    state.apply(done.effects).await;
    Ok(Redirect::to("/admin/sessions?notice=sessions-revoked").into_response())
}
