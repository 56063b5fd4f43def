//! Who may do what in the back office. This table is the single source of truth: the back
//! office's route table names a [`Permission`] for every route, a middleware asks [`allows`], and
//! a test walks every route × every role.

use serde::{Deserialize, Serialize};

/// Back-office roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, including users and organization settings.
    Owner,
    /// Everything except managing users and settings.
    Admin,
    /// Writes and publishes trust-center content.
    Editor,
    /// Decides document access requests.
    AccessManager,
    /// Handles vulnerability and incident reports.
    Triager,
    /// Runs the status page: components, incidents, maintenance and monitors.
    StatusManager,
    /// Reads everything, including the audit log; changes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Owner,
        Role::Admin,
        Role::Editor,
        Role::AccessManager,
        Role::Triager,
        Role::StatusManager,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::AccessManager => "access-manager",
            Role::Triager => "triager",
            Role::StatusManager => "status-manager",
            Role::Auditor => "auditor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Editor => "Editor",
            Role::AccessManager => "Access manager",
            Role::Triager => "Triager",
            Role::StatusManager => "Status manager",
            Role::Auditor => "Auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Things a person may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See drafts, history and the back office's content lists.
    ViewContent,
    /// Create, edit, reorder, restore (deleting needs `PublishContent`: it takes content down).
    EditContent,
    /// Make content public or take it down.
    PublishContent,
    /// See the API tokens that exist (never their values).
    ViewApiTokens,
    ManageApiTokens,
    /// See who has back-office access.
    ViewUsers,
    /// Add, disable, re-enable users, change roles, end other people's sessions.
    ManageUsers,
    /// Read and export the audit log.
    ViewAuditLog,
    /// Decide document access requests (gated documents).
    ManageAccessRequests,
    /// Work on vulnerability and incident reports.
    TriageReports,
    /// Download a document's stored file as uploaded: no watermark, whoever may read it. Kept
    /// to the people who decide who sees documents; others see a document's details only.
    DownloadRawDocuments,
    /// See mail that has not gone out (recipients, subjects, errors; never the text, whose links
    /// are credentials), and send it again or drop it.
    ManageOutbox,
    /// Run the status page: components, incidents, maintenance, monitors.
    ManageStatus,
    /// See and remove subscribers, and manage webhook endpoints and their deliveries.
    ManageSubscriptions,
}

/// The permission table.
pub fn allows(role: Role, p: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Owner => true,
        Role::Admin => !matches!(p, ManageUsers),
        Role::Editor => matches!(p, ViewContent | EditContent | PublishContent),
        Role::AccessManager => matches!(p, ViewContent | ManageAccessRequests | DownloadRawDocuments),
        Role::Triager => matches!(p, ViewContent | TriageReports),
        Role::StatusManager => matches!(p, ViewContent | ManageStatus),
        Role::Auditor => matches!(p, ViewContent | ViewApiTokens | ViewUsers | ViewAuditLog),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_manage_users() {
        for r in Role::ALL {
            assert_eq!(allows(r, Permission::ManageUsers), r == Role::Owner, "{r:?}");
        }
    }

    #[test]
    fn auditors_read_everything_and_change_nothing() {
        use Permission::*;
        for p in [ViewContent, ViewApiTokens, ViewUsers, ViewAuditLog] {
            assert!(allows(Role::Auditor, p));
        }
        for p in [
            EditContent,
            PublishContent,
            ManageApiTokens,
            ManageUsers,
            ManageAccessRequests,
            TriageReports,
            DownloadRawDocuments,
            ManageOutbox,
            ManageStatus,
            ManageSubscriptions,
        ] {
            assert!(!allows(Role::Auditor, p), "{p:?}");
        }
    }

    #[test]
    fn raw_documents_go_only_to_owners_admins_and_access_managers() {
        for r in Role::ALL {
            assert_eq!(
                allows(r, Permission::DownloadRawDocuments),
                matches!(r, Role::Owner | Role::Admin | Role::AccessManager),
                "{r:?}"
            );
        }
    }

    #[test]
    fn the_outbox_goes_only_to_owners_and_admins() {
        for r in Role::ALL {
            assert_eq!(
                allows(r, Permission::ManageOutbox),
                matches!(r, Role::Owner | Role::Admin),
                "{r:?}"
            );
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
