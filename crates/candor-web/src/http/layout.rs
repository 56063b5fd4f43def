//! What every back-office page shows around its content, and the fixed list of notices a
//! redirect may ask for.

use crate::http::session::Admin;
use candor_core::access::{allows, Permission};
use candor_core::Kind;

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
    pub can_manage_tokens: bool,
    pub can_view_users: bool,
    pub can_view_tokens: bool,
    pub can_view_audit: bool,
    pub can_manage_access: bool,
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
            can_manage_tokens: allows(admin.0.user.role, Permission::ManageApiTokens),
            can_view_users: allows(admin.0.user.role, Permission::ViewUsers),
            can_view_tokens: allows(admin.0.user.role, Permission::ViewApiTokens),
            can_view_audit: allows(admin.0.user.role, Permission::ViewAuditLog),
            can_manage_access: allows(admin.0.user.role, Permission::ManageAccessRequests),
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
        "session-revoked" => "Session ended.",
        "mfa-reset" => "Two-factor sign-in was turned off for that user and their sessions ended.",
        "password-changed" => "Password changed. Your other sessions have ended.",
        "sessions-revoked" => "All your other sessions have ended.",
        "role-changed" => "Role changed. The user's sessions have ended; they sign in again with the new role.",
        "user-sessions-revoked" => "All of the user's sessions have ended.",
        "passkey-added" => "Passkey added. You can use it to sign in, or as your second step after a password.",
        "passkey-removed" => "Passkey removed.",
        "approved" => "Approved. The requester has been emailed a sign-in link.",
        "denied" => "Denied. The requester has been told.",
        "nothing-decided" => "Nothing changed: those requests were decided already.",
        "grant-revoked" => "Access revoked. The viewer can no longer download.",
        "version-added" => "New version uploaded. Viewers now get it; older versions are kept.",
        _ => return None,
    })
}
