//! Who acts: one type for every front end, rendered one way in the audit log.

use std::fmt;

/// The person or process behind a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A back-office user, signed in (or signing in) from `ip`.
    User { email: String, ip: String },
    /// An API token; `name` is the label its creator gave it.
    Token { id: i64, name: String, ip: String },
    /// A signed-in viewer of NDA documents.
    Viewer { email: String, ip: String },
    /// A visitor on a public form who gave this address (not yet proven theirs).
    Visitor { email: String, ip: String },
    /// Someone not signed in (a failed sign-in, a refused token).
    Anonymous { ip: String },
    /// An access rule that decided by itself (`auto-approve`).
    Rule { name: &'static str },
    /// Single sign-on acting on the provider's word (an account made just in time, a role set by
    /// the group rules).
    Sso { ip: String },
    /// Someone at the server's command line, as the operating-system user.
    Cli { os_user: String },
    /// A built-in status monitor, by its id and name, changing a component's status or opening
    /// and resolving an incident by itself.
    Monitor { id: i64, name: String },
    /// Candor itself: first start, the demo, scheduled work.
    System,
}

impl Actor {
    /// The client address, where there is one.
    pub fn ip(&self) -> &str {
        match self {
            Actor::User { ip, .. }
            | Actor::Token { ip, .. }
            | Actor::Viewer { ip, .. }
            | Actor::Visitor { ip, .. }
            | Actor::Anonymous { ip }
            | Actor::Sso { ip } => ip,
            Actor::Rule { .. } | Actor::Cli { .. } | Actor::Monitor { .. } | Actor::System => "",
        }
    }

    /// The short name a content revision records as its author.
    pub fn author(&self) -> String {
        match self {
            Actor::User { email, .. } | Actor::Viewer { email, .. } | Actor::Visitor { email, .. } => email.clone(),
            other => other.to_string(),
        }
    }
}

/// The one spelling of an actor in the audit log: `user:EMAIL`, `api-token:ID (NAME)`,
/// `viewer:EMAIL`, `visitor:EMAIL`, `anonymous`, `rule:NAME`, `sso`, `cli:OS-USER`, `monitor:ID (NAME)`, `system`.
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User { email, .. } => write!(f, "user:{email}"),
            Actor::Token { id, name, .. } => write!(f, "api-token:{id} ({name})"),
            Actor::Viewer { email, .. } => write!(f, "viewer:{email}"),
            Actor::Visitor { email, .. } => write!(f, "visitor:{email}"),
            Actor::Anonymous { .. } => f.write_str("anonymous"),
            Actor::Rule { name } => write!(f, "rule:{name}"),
            Actor::Sso { .. } => f.write_str("sso"),
            Actor::Cli { os_user } => write!(f, "cli:{os_user}"),
            Actor::Monitor { id, name } => write!(f, "monitor:{id} ({name})"),
            Actor::System => f.write_str("system"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Actor;

    #[test]
    fn each_actor_has_one_spelling() {
        let ip = String::from("192.0.2.1");
        let cases = [
            (
                Actor::User {
                    email: "a@x.example".into(),
                    ip: ip.clone(),
                },
                "user:a@x.example",
            ),
            (
                Actor::Token {
                    id: 7,
                    name: "ci".into(),
                    ip: ip.clone(),
                },
                "api-token:7 (ci)",
            ),
            (
                Actor::Viewer {
                    email: "v@y.example".into(),
                    ip: ip.clone(),
                },
                "viewer:v@y.example",
            ),
            (
                Actor::Visitor {
                    email: "v@y.example".into(),
                    ip: ip.clone(),
                },
                "visitor:v@y.example",
            ),
            (Actor::Anonymous { ip: ip.clone() }, "anonymous"),
            (Actor::Rule { name: "auto-approve" }, "rule:auto-approve"),
            (Actor::Sso { ip }, "sso"),
            (Actor::Cli { os_user: "root".into() }, "cli:root"),
            (
                Actor::Monitor {
                    id: 3,
                    name: "api".into(),
                },
                "monitor:3 (api)",
            ),
            (Actor::System, "system"),
        ];
        for (actor, spelled) in cases {
            assert_eq!(actor.to_string(), spelled);
        }
    }
}
