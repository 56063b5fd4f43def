//! Change notices between instances on PostgreSQL.
//!
//! After a use case changes the public site, the instance that ran it tells the others which
//! parts changed (over LISTEN/NOTIFY, see [`candor_store::ChangeFeed`]); each brings its own
//! rendered copy up to date with the same incremental update it would run for a local change.
//! Queued mail and webhook deliveries are announced too, so the leader, which runs the delivery
//! workers, sends them now rather than at its next poll. A notice is one line per change after a
//! first line naming the sender, so an instance skips its own. A lost notice is not fatal: the
//! content poll (`content_poll_seconds`) and the workers' polls catch up.

use candor_core::{Kind, SiteChange};

/// What one instance tells the others.
#[derive(Debug, Default, PartialEq)]
pub struct Change {
    /// Parts of the public site to render again.
    pub site: Vec<SiteChange>,
    /// Mail was queued.
    pub mail: bool,
    /// Webhook deliveries were queued.
    pub webhooks: bool,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.site.is_empty() && !self.mail && !self.webhooks
    }
}

/// What arrived.
#[derive(Debug, PartialEq)]
pub enum Notice {
    /// Another instance changed this.
    Changes(Change),
    /// Sent by this instance: already applied.
    Own,
    /// The feed was interrupted, or the notice is unreadable: look at the database itself.
    Unknown,
}

/// The notice for `change`, sent by `instance`. Too long a notice asks for everything.
pub fn encode(instance: u64, change: &Change) -> String {
    let mut head = format!("{instance:x}");
    if change.mail {
        head.push_str("\nmail");
    }
    if change.webhooks {
        head.push_str("\nwebhooks");
    }
    let mut out = head.clone();
    for change in &change.site {
        out.push('\n');
        match change {
            SiteChange::Item { kind, slug } => {
                out.push_str("item ");
                out.push_str(kind.as_str());
                out.push(' ');
                out.push_str(slug);
            }
            SiteChange::Order { kind } => {
                out.push_str("order ");
                out.push_str(kind.as_str());
            }
            SiteChange::Documents => out.push_str("documents"),
            SiteChange::Status => out.push_str("status"),
            SiteChange::Everything => out.push_str("everything"),
        }
    }
    if out.len() > candor_store::MAX_NOTICE {
        return format!("{head}\neverything");
    }
    out
}

/// Reads a notice received by `instance`.
pub fn decode(instance: u64, payload: &str) -> Notice {
    let mut lines = payload.split('\n');
    let Some(sender) = lines.next().and_then(|s| u64::from_str_radix(s, 16).ok()) else {
        return Notice::Unknown;
    };
    if sender == instance {
        return Notice::Own;
    }
    let mut change = Change::default();
    for line in lines {
        if line == "mail" {
            change.mail = true;
            continue;
        }
        if line == "webhooks" {
            change.webhooks = true;
            continue;
        }
        let site = match line.split_once(' ') {
            Some(("item", rest)) => rest
                .split_once(' ')
                .and_then(|(kind, slug)| Some(SiteChange::item(Kind::parse(kind)?, slug))),
            Some(("order", kind)) => Kind::parse(kind).map(|kind| SiteChange::Order { kind }),
            None if line == "documents" => Some(SiteChange::Documents),
            None if line == "status" => Some(SiteChange::Status),
            None if line == "everything" => Some(SiteChange::Everything),
            _ => None,
        };
        match site {
            Some(c) => change.site.push(c),
            None => return Notice::Unknown,
        }
    }
    Notice::Changes(change)
}

/// A number that tells this instance's notices from the others'.
pub fn instance_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Feeds notices into `sink` until the receiver goes away, reconnecting after failures.
pub async fn listen(url: String, instance: u64, sink: tokio::sync::mpsc::Sender<Notice>) {
    loop {
        let mut feed = match candor_store::ChangeFeed::connect(&url).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "could not listen for other instances' changes; polling meanwhile");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                continue;
            }
        };
        // Anything may have been missed while not listening.
        if sink.send(Notice::Unknown).await.is_err() {
            return;
        }
        loop {
            let notice = match feed.next().await {
                Ok(Some(payload)) => decode(instance, &payload),
                Ok(None) => Notice::Unknown,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the feed of other instances' changes; listening again");
                    break;
                }
            };
            if sink.send(notice).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_and_an_instance_skips_its_own() {
        let change = Change {
            site: vec![
                SiteChange::item(Kind::Faq, "what is it"),
                SiteChange::Order { kind: Kind::Policy },
                SiteChange::Documents,
                SiteChange::Status,
                SiteChange::Everything,
            ],
            mail: true,
            webhooks: false,
        };
        let notice = encode(7, &change);
        assert_eq!(decode(8, &notice), Notice::Changes(change));
        let mail_only = Change {
            mail: true,
            ..Change::default()
        };
        assert_eq!(decode(8, &encode(7, &mail_only)), Notice::Changes(mail_only));
        assert_eq!(decode(7, &notice), Notice::Own);
        assert_eq!(decode(8, "zz\nstatus"), Notice::Unknown);
        assert_eq!(decode(8, "1\nitem nokind x"), Notice::Unknown);
    }

    #[test]
    fn a_notice_too_long_asks_for_everything() {
        let change = Change {
            site: (0..2000)
                .map(|i| SiteChange::item(Kind::Faq, format!("faq-{i}")))
                .collect(),
            mail: false,
            webhooks: true,
        };
        let expected = Change {
            site: vec![SiteChange::Everything],
            mail: false,
            webhooks: true,
        };
        assert_eq!(decode(2, &encode(1, &change)), Notice::Changes(expected));
    }
}
