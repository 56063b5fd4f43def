//! What every back-office page shows around its content (the signed-in user, what their role
//! may reach, the confirmation after a redirect), and rendering a page into a response. Shared by
//! every feature with back-office pages.

use crate::http::error::WebResult;
use crate::http::session::Admin;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use candor_core::access::{allows, Permission};
use candor_core::Kind;

/// Renders a page.
pub fn html<T: Template>(t: T) -> WebResult<Response> {
    Ok(Html(t.render()?).into_response())
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
    pub can_manage_tokens: bool,
    pub can_view_users: bool,
    pub can_view_tokens: bool,
    pub can_view_audit: bool,
    pub can_manage_access: bool,
    pub can_manage_outbox: bool,
    /// May change the status page (components, incidents, maintenance); everyone may see it.
    pub can_manage_status: bool,
    pub can_manage_subscriptions: bool,
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
            can_manage_outbox: allows(admin.0.user.role, Permission::ManageOutbox),
            can_manage_status: allows(admin.0.user.role, Permission::ManageStatus),
            can_manage_subscriptions: allows(admin.0.user.role, Permission::ManageSubscriptions),
            kinds: Kind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
            notice: notice.and_then(notice_text),
        }
    }
}

/// Notices are chosen from a fixed list by key, so nothing from the URL is echoed into the page.
pub fn notice_text(key: &str) -> Option<&'static str> {
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
        "document-deleted" => "Document deleted, with every version and its files.",
        "demo-removed" => {
            "The demo was removed: its content and sample documents are gone. Start with your organization's profile."
        }
        "logo-saved" => "Logo saved. The public site shows it now.",
        "logo-removed" => "Logo removed.",
        "version-added" => "New version uploaded. Viewers now get it; older versions are kept.",
        "mail-retried" => "The message is due now; the outbox tries to send it at once.",
        "mail-discarded" => "Message discarded. It will not be sent.",
        "status-set" => "Status changed. The public status page shows it now.",
        "group-added" => "Group added.",
        "group-renamed" => "Group renamed.",
        "group-deleted" => "Group deleted; its components are now ungrouped.",
        "component-added" => "Component added, operational.",
        "component-saved" => "Component saved.",
        "component-deleted" => "Component deleted, with its uptime history.",
        "incident-opened" => "Opened. The status page shows it, and subscribers are told.",
        "incident-updated" => "Update posted. The status page shows it, and subscribers are told.",
        "incident-saved" => "Saved.",
        "incident-deleted" => "Deleted. Its components have their status back.",
        "maintenance-scheduled" => "Maintenance scheduled. The status page announces it.",
        "maintenance-updated" => "Update posted.",
        "maintenance-saved" => "Maintenance saved.",
        "maintenance-deleted" => "Maintenance deleted.",
        "monitor-saved" => "Monitor saved. Its next check runs now.",
        "monitor-deleted" => "Monitor deleted, with its results. Its component keeps the status it has.",
        "subscriber-removed" => "Subscriber removed. They get no more mail.",
        "webhook-saved" => "Endpoint saved.",
        "webhook-deleted" => "Endpoint deleted, with its deliveries.",
        "webhook-enabled" => "Endpoint enabled. Deliveries that waited for it are being sent.",
        "webhook-disabled" => {
            "Endpoint disabled. New events are not queued for it; waiting deliveries are sent once it is enabled again."
        }
        "webhook-resent" => "The delivery is due now; the worker sends it at once.",
        _ => return None,
    })
}
