//! Candor's use cases: every change of state, whichever front end asks for it.
//!
//! The back office, the API, the public forms and the CLI parse their input, check the route's
//! access rule and call one function here. Each function names who acts ([`Actor`]), runs in one
//! database transaction that also carries its audit entry and its mail ([`Work`]), and returns
//! what happened with its [`Effects`] (the public site changed, mail was queued), which the
//! caller hands to one place that applies them.
//!
//! This crate knows nothing of HTTP or HTML.

mod actor;
pub mod audit;
pub mod content;
mod error;
mod work;

pub use actor::Actor;
pub use audit::Action;
pub use error::{Error, Result};
pub use work::{Done, Effects, SiteChange, Work};

use candor_store::{OrgId, Store};

/// The use cases, over one organization's data. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    store: Store,
    org: OrgId,
}

impl App {
    pub fn new(store: Store, org: OrgId) -> App {
        App { store, org }
    }

    /// The database, for reads. Writes go through [`App::begin`] inside a use case.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn org(&self) -> OrgId {
        self.org
    }

    /// Starts the transaction of one use case.
    pub async fn begin(&self) -> Result<Work> {
        Ok(Work::new(self.store.begin().await?, self.org))
    }
}
