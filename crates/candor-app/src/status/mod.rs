//! The status page's use cases: components and their groups, incidents and security notices,
//! scheduled maintenance and its clock, uptime roll-ups, and the snapshot the public pages and
//! the Statuspage-compatible JSON are rendered from.
//!
//! Every change runs in one [`crate::Work`] with its audit entry and the notifications it sends
//! subscribers (queued in the same transaction), and reports `SiteChange::Status`.

pub mod components;
mod demo;
pub mod incidents;
pub mod maintenance;
pub mod monitors;
pub mod page;
pub mod uptime;

pub use components::ComponentDraft;
pub use incidents::{IncidentDraft, UpdateDraft};
pub use maintenance::MaintenanceDraft;
pub use monitors::{CheckResult, Recorded};
pub use page::{ComponentView, StatusPage};

use crate::{Error, Result};
use candor_core::content::FieldError;

/// Longest title of an incident or maintenance window, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest update or postmortem, in characters.
pub const MAX_BODY: usize = 50_000;

/// Checks a title and a Markdown body; the errors name the field and say how to fix it.
fn check_text(errors: &mut Vec<FieldError>, title: Option<&str>, body_field: &str, body: &str, body_required: bool) {
    if let Some(title) = title {
        let n = title.trim().chars().count();
        if n == 0 || n > MAX_TITLE {
            errors.push(FieldError::new(
                "title",
                format!("give a title of 1 to {MAX_TITLE} characters"),
            ));
        }
    }
    let n = body.trim().chars().count();
    if body_required && n == 0 {
        errors.push(FieldError::new(body_field, "write what is happening (Markdown)"));
    } else if n > MAX_BODY {
        errors.push(FieldError::new(
            body_field,
            format!("{n} characters is too long; keep it under {MAX_BODY}"),
        ));
    } else if let Err(e) = candor_core::markdown::check_nesting(body_field, body) {
        errors.push(e);
    }
}

fn invalid_if_any(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}
