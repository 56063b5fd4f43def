//! Audit actions: one enum with stable names. The names are part of Candor's interface (SIEM
//! rules match on them), so a variant may be added but a name is never changed. docs/SECURITY.md
//! lists every one; a test keeps the two in step.

/// Declares the actions once: variant and stable name.
macro_rules! actions {
    ($($variant:ident = $name:literal,)*) => {
        /// What an audit entry records.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The stable name written to the log (`content.publish`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    // Signing in and out, second factors, passwords, sessions.
    Login = "auth.login",
    LoginPasswordOk = "auth.login.password_ok",
    LoginFailed = "auth.login.failed",
    LoginThrottled = "auth.login.throttled",
    Logout = "auth.logout",
    MfaEnrol = "auth.mfa.enrol",
    MfaFailed = "auth.mfa.failed",
    MfaReset = "auth.mfa.reset",
    PasskeyAdd = "auth.passkey.add",
    PasskeyRemove = "auth.passkey.remove",
    PasswordSet = "auth.password.set",
    PasswordChange = "auth.password.change",
    PasswordChangeFailed = "auth.password.change.failed",
    PermissionDenied = "auth.permission.denied",
    ResetRequested = "auth.reset.requested",
    SessionRevoke = "auth.session.revoke",
    SessionRevokeOthers = "auth.session.revoke_others",
    SessionRevokeUser = "auth.session.revoke_user",
    SsoLogin = "auth.sso.login",
    SsoFailed = "auth.sso.failed",
    // Users and organization settings.
    UserCreate = "user.create",
    UserInvite = "user.invite",
    UserDisable = "user.disable",
    UserEnable = "user.enable",
    UserRoleChange = "user.role.change",
    UserResetLink = "user.reset_link",
    UserNotifications = "user.notifications",
    SettingsRequireMfa = "settings.require_mfa",
    SettingsAccessRules = "settings.access_rules",
    SettingsNda = "settings.nda",
    SettingsLogo = "settings.logo",
    // Content.
    ContentCreate = "content.create",
    ContentEdit = "content.edit",
    ContentPublish = "content.publish",
    ContentUnpublish = "content.unpublish",
    ContentDelete = "content.delete",
    ContentMove = "content.move",
    ContentRestore = "content.restore",
    ContentImport = "content.import",
    ContentExport = "content.export",
    ContentDemoRemove = "content.demo_remove",
    // Documents.
    DocumentCreate = "document.create",
    DocumentEdit = "document.edit",
    DocumentVersion = "document.version",
    DocumentDelete = "document.delete",
    DocumentDownload = "document.download",
    DocumentDamaged = "document.damaged",
    DocumentDenied = "document.denied",
    DocumentViewerDownload = "document.viewer_download",
    DocumentWatermarkFailed = "document.watermark_failed",
    // The visitor's path to NDA documents.
    AccessRequest = "access.request",
    AccessRequestDeniedByRule = "access.request.denied_by_rule",
    AccessVerify = "access.verify",
    AccessNdaSign = "access.nda.sign",
    AccessNdaOnFile = "access.nda.on_file",
    AccessApprove = "access.approve",
    AccessDeny = "access.deny",
    AccessRevoke = "access.revoke",
    AccessLogExport = "access_log.export",
    EngagementExport = "engagement.export",
    ViewerLogin = "viewer.login",
    // API tokens and their use.
    ApiTokenCreate = "api_token.create",
    ApiTokenRevoke = "api_token.revoke",
    ApiRequest = "api.request",
    ApiDenied = "api.denied",
    ApiAuthFailed = "api.auth.failed",
    // Keys, the log itself, mail.
    KeysRotate = "keys.rotate",
    // Backups and disaster-recovery drills.
    BackupCreate = "backup.create",
    BackupFailed = "backup.failed",
    BackupRestore = "backup.restore",
    BackupDrill = "backup.dr_drill",
    AuditExport = "audit.export",
    OutboxRetry = "outbox.retry",
    OutboxDiscard = "outbox.discard",
    // The status page.
    StatusGroupCreate = "status.group.create",
    StatusGroupEdit = "status.group.edit",
    StatusGroupDelete = "status.group.delete",
    StatusComponentCreate = "status.component.create",
    StatusComponentEdit = "status.component.edit",
    StatusComponentDelete = "status.component.delete",
    StatusComponentStatus = "status.component.status",
    StatusIncidentCreate = "status.incident.create",
    StatusIncidentUpdate = "status.incident.update",
    StatusIncidentEdit = "status.incident.edit",
    StatusIncidentDelete = "status.incident.delete",
    StatusMaintenanceCreate = "status.maintenance.create",
    StatusMaintenanceUpdate = "status.maintenance.update",
    StatusMaintenanceEdit = "status.maintenance.edit",
    StatusMaintenanceDelete = "status.maintenance.delete",
    StatusMonitorCreate = "status.monitor.create",
    StatusMonitorEdit = "status.monitor.edit",
    StatusMonitorDelete = "status.monitor.delete",
    // Subscriptions and webhooks.
    SubscriptionRequest = "subscription.request",
    SubscriptionConfirm = "subscription.confirm",
    SubscriptionUnsubscribe = "subscription.unsubscribe",
    SubscriptionChange = "subscription.change",
    SubscriptionRemove = "subscription.remove",
    WebhookCreate = "webhook.create",
    WebhookEdit = "webhook.edit",
    WebhookDelete = "webhook.delete",
    WebhookDisable = "webhook.disable",
    WebhookResend = "webhook.resend",
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Action;
    use std::collections::BTreeSet;

    /// The actions named in the first column of docs/SECURITY.md's audit table.
    fn documented() -> BTreeSet<String> {
        let doc = include_str!("../../../docs/SECURITY.md");
        let table = doc
            .split("### What is recorded")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").find(|block| block.trim_start().starts_with('|')))
            .expect("docs/SECURITY.md has the audit table under \"### What is recorded\"");
        let mut names = BTreeSet::new();
        for row in table.lines().skip(2) {
            let first = row.trim_start_matches('|').split('|').next().unwrap_or("");
            for part in first.split('`').skip(1).step_by(2) {
                names.insert(part.to_owned());
            }
        }
        names
    }

    #[test]
    fn the_security_doc_lists_exactly_the_audit_actions() {
        let documented = documented();
        let declared: BTreeSet<String> = Action::ALL.iter().map(|a| a.name().to_owned()).collect();
        let undocumented: Vec<_> = declared.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&declared).collect();
        assert!(undocumented.is_empty(), "add to docs/SECURITY.md §4: {undocumented:?}");
        assert!(
            unknown.is_empty(),
            "docs/SECURITY.md §4 names actions that do not exist: {unknown:?}"
        );
    }

    #[test]
    fn names_are_unique_and_dotted() {
        let mut seen = BTreeSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a.name()), "{} declared twice", a.name());
            assert!(
                a.name().contains('.') && a.name() == a.name().to_lowercase(),
                "{}",
                a.name()
            );
        }
    }
}
