//! The back office at `/admin`: server-rendered, no JavaScript, every form CSRF-protected.

mod auth;
mod content;
mod history;
pub mod session;
mod tokens;
mod users;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;
use candor_core::access::{allows, Permission};
use candor_core::Kind;
use session::Admin;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/admin", get(content::dashboard))
        .route("/admin/login", get(auth::login_form).post(auth::login))
        .route("/admin/logout", post(auth::logout))
        .route("/admin/setup/{token}", get(auth::setup_form).post(auth::setup))
        .route("/admin/reset/{token}", get(auth::reset_form).post(auth::reset))
        .route("/admin/content/{kind}", get(content::list).post(content::create))
        .route("/admin/content/{kind}/new", get(content::new_form))
        .route(
            "/admin/content/{kind}/{slug}",
            get(content::edit_form).post(content::save),
        )
        .route("/admin/content/{kind}/{slug}/publish", post(content::publish))
        .route("/admin/content/{kind}/{slug}/unpublish", post(content::unpublish))
        .route("/admin/content/{kind}/{slug}/delete", post(content::delete))
        .route("/admin/content/{kind}/{slug}/move", post(content::move_item))
        .route("/admin/content/{kind}/{slug}/history", get(history::history))
        .route(
            "/admin/content/{kind}/{slug}/history/{number}/restore",
            post(history::restore),
        )
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/{id}/disable", post(users::disable))
        .route("/admin/users/{id}/enable", post(users::enable))
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
        .layer(axum::middleware::map_response(no_store))
        .layer(axum::middleware::from_fn_with_state(state, session::same_origin_writes))
}

/// Back-office pages hold drafts and secrets shown once: never cached by browsers or proxies.
async fn no_store(mut res: axum::response::Response) -> axum::response::Response {
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

/// `?notice=key` after a redirect: which confirmation to show.
#[derive(Default, Debug, serde::Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

/// What every back-office page shows around its content.
pub struct AdminLayout {
    pub user_email: String,
    pub role: &'static str,
    pub csrf: String,
    pub can_manage_users: bool,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub notice: Option<&'static str>,
}

impl AdminLayout {
    pub fn new(admin: &Admin, notice: Option<&str>) -> AdminLayout {
        AdminLayout {
            user_email: admin.0.user.email.clone(),
            role: admin.0.user.role.as_str(),
            csrf: admin.csrf().to_owned(),
            can_manage_users: allows(admin.0.user.role, Permission::ManageUsers),
            kinds: Kind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
            notice: notice.and_then(notice_text),
        }
    }
}

/// Notices are chosen from a fixed list by key, so nothing from the URL is echoed into the page.
fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "saved" => "Draft saved. Visitors see it once you publish.",
        "published" => "Published. The public site shows it now.",
        "unpublished" => "Unpublished. Visitors no longer see it.",
        "created" => "Created as a draft.",
        "deleted" => "Deleted.",
        "restored" => "Revision restored as the draft. Publish it to make it public.",
        "moved" => "Order changed.",
        "user-disabled" => "User disabled; their sessions have ended.",
        "user-enabled" => "User enabled.",
        "token-revoked" => "Token revoked.",
        _ => return None,
    })
}
