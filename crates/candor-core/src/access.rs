//! Who may do what in the back office and the API. This table is the single source of truth:
//! every admin route and API endpoint asks [`allows`].

use serde::{Deserialize, Serialize};

/// Back-office roles. The identity work adds more; these two exist from the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, including managing users.
    Owner,
    /// Everything except managing users.
    Admin,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Owner, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Things a person or token may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See drafts, history and the back office.
    ViewContent,
    /// Create, edit, reorder, delete, restore.
    EditContent,
    /// Make content public or take it down.
    PublishContent,
    ManageApiTokens,
    /// Add, disable and re-enable users.
    ManageUsers,
}

/// The permission table.
pub fn allows(role: Role, p: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Owner => true,
        Role::Admin => matches!(p, ViewContent | EditContent | PublishContent | ManageApiTokens),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_manage_users() {
        assert!(allows(Role::Owner, Permission::ManageUsers));
        assert!(!allows(Role::Admin, Permission::ManageUsers));
        assert!(allows(Role::Admin, Permission::PublishContent));
    }
}
