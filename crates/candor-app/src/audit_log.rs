//! Reading the audit log out of the back office: an export is itself recorded.

use crate::{Action, Actor, App, Done, Result};
use candor_core::audit::AuditEntry;
use candor_store::AuditFilter;

/// How an export is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON entry a line, verifiable on its own.
    JsonLines,
    /// For spreadsheets.
    Csv,
}

impl ExportFormat {
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::JsonLines => "jsonl",
            ExportFormat::Csv => "csv",
        }
    }
}

impl App {
    /// The entries that `filter` selects, oldest first, with an `audit.export` entry recording
    /// that they were taken out (it follows them, so it is not among them).
    pub async fn export_audit_log(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        format: ExportFormat,
    ) -> Result<Done<Vec<AuditEntry>>> {
        let mut entries = self.store().audit_entries(self.org(), filter).await?;
        entries.reverse();
        let mut work = self.begin().await?;
        work.audit(
            actor,
            Action::AuditExport,
            "",
            serde_json::json!({"format": format.name(), "entries": entries.len()}),
        )
        .await?;
        work.finish(entries).await
    }
}
