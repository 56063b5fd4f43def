//! Integration tests: the real server on 127.0.0.1:0, spoken to over HTTP, on SQLite and on
//! PostgreSQL. One test binary, organised by area.

mod access;
mod admin;
mod api;
mod audit;
mod cli;
mod documents;
mod gated;
mod harness;
mod keys;
mod mail;
mod mfa;
mod passkeys;
mod public;
mod services;
mod sessions;
mod sso;
mod watermark;

pub use harness::{Db, TestApp};
