//! The status page's back office, its API, and its clock. (The public status pages are part of
//! the rendered site: `crate::site`.)

pub mod jobs;
