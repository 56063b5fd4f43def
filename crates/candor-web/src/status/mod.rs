//! The status page's back office, its API, and its clock. (The public status pages are part of
//! the rendered site: `crate::site`.)
//!
//! The back office (`/admin/status`) and the API (`/api/v1/status/...`) are two front ends over
//! the same use cases in `candor_app::status`: they parse, call one use case, apply its effects
//! and render. Reads go through `Store`.

pub(crate) mod api;
mod forms;
pub(crate) mod incidents;
pub mod jobs;
pub(crate) mod maintenance;
pub(crate) mod openapi;
pub(crate) mod overview;
