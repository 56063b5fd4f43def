//! Content, edited in the back office and over the API: the items of a trust center (profile,
//! sections and controls, certifications, subprocessors, policies, FAQ, cookies, pages), their
//! drafts, publishing, order and history.
//!
//! Both front ends parse their input and call the same use cases in `candor_app::content`, which
//! validate bodies, hold the rules and write the `content.*` audit entries; the routes and their
//! access rules are in the back office's route table and the API's router.

pub(crate) mod admin;
pub(crate) mod api;
mod form;
pub(crate) mod history;
pub(crate) mod openapi;
