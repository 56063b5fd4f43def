//! The one error of a use case. Front ends turn it into a page or a JSON envelope; the kind
//! decides the status (Conflict is 409 everywhere).

use candor_core::content::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What was asked for does not exist (or the actor may not know it does).
    #[error("{0} was not found")]
    NotFound(String),
    /// Input that breaks a rule, field by field.
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// Input that cannot be understood at all; the message says how to fix it.
    #[error("{0}")]
    BadRequest(String),
    /// The change clashes with what exists (a duplicate, the one profile).
    #[error("{0}")]
    Conflict(String),
    /// The actor may not do this; the message says what is missing.
    #[error("{0}")]
    Forbidden(String),
    /// The database's disk is full: nothing was saved.
    #[error("the server's storage is full; nothing was saved")]
    StorageFull,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<candor_store::StoreError> for Error {
    fn from(e: candor_store::StoreError) -> Self {
        use candor_store::StoreError as S;
        match e {
            S::NotFound(what) => Error::NotFound(what),
            S::Conflict(what) => Error::Conflict(format!("{what} already exists")),
            S::DiskFull(_) => Error::StorageFull,
            other => Error::Internal(other.into()),
        }
    }
}
