//! Errors of HTTP handlers.
