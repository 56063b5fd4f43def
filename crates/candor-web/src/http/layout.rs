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
        "saved" => "Draft saved. The public site changes only when you publish.",
        "published" => "Published. The public site shows it now.",
        "unpublished" => "Unpublished. Visitors no longer see it.",
        "created" => "Created as a draft. The public site shows it once you publish it.",
        // Documents have no draft: what is saved is live at once, at the document's access level.
        "document-created-public" => "Document created. It is public now: anyone can download it from the documents page.",
        "document-created-nda" => {
            "Document created. It is listed now; viewers with approved access can download it, and others can request it."
        }
        "document-created-private" => "Document created. It is private: only back-office users can see it.",
        "document-saved" => "Document saved. The change is live now, at the access level shown.",
        "access-settings-saved" => {
            "Rules and NDA saved. They apply at once: to the next request, and to the next NDA signed."
        }
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
        "mfa-required" => {
            "Two-factor sign-in is now required: every back-office user without it must set it up at their next sign-in."
        }
        "mfa-not-required" => "Two-factor sign-in is no longer required. Users who turned it on keep it.",
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
        "profile-saved" => "Saved. Your email notifications are as shown.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::notice_text;

    /// Every `?notice=KEY` a back-office action redirects with has a text, so no action ends on a
    /// page that says nothing (or, worse, someone else's confirmation). Keys built at run time
    /// (`notice={notice}`) are listed by hand beside the code that picks them.
    #[test]
    fn every_notice_an_action_sets_has_a_text() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![root];
        let mut keys = vec![];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for part in text.split("\"/admin").skip(1) {
                    let Some(after) = part.split('"').next().and_then(|s| s.split("notice=").nth(1)) else {
                        continue;
                    };
                    let key: String = after
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                        .collect();
                    if !key.is_empty() {
                        keys.push(key);
                    }
                }
            }
        }
        assert!(keys.len() > 30, "{keys:?}");
        keys.extend(
            [
                "created",
                "saved",
                "published",
                "approved",
                "denied",
                "nothing-decided",
                "document-created-public",
                "document-created-nda",
                "document-created-private",
                "mfa-required",
                "mfa-not-required",
                "user-disabled",
                "user-enabled",
                "status-set",
            ]
            .map(String::from),
        );
        for key in keys {
            assert!(notice_text(&key).is_some(), "?notice={key} has no text");
        }
    }

    #[test]
    fn documents_and_rules_do_not_speak_of_publishing() {
        for key in [
            "document-created-public",
            "document-created-nda",
            "document-created-private",
            "document-saved",
            "access-settings-saved",
        ] {
            assert!(!notice_text(key).unwrap().contains("publish"), "{key}");
        }
    }
}
