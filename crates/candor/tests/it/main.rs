//! Integration tests: the real server on 127.0.0.1:0, spoken to over HTTP, on SQLite and on
//! PostgreSQL. One test binary, organised by area.

mod access;
mod access_team;
mod admin;
mod api;
mod audit;
mod backup;
mod cli;
mod defects;
mod deploy;
mod documents;
mod documents_delete;
mod engagement;
mod faults;
mod first_start;
mod gated;
mod harness;
mod keys;
mod links;
mod listener;
mod mail;
mod metrics;
mod mfa;
mod monitors;
mod nda_controls;
mod onboarding;
mod origin;
mod outbox;
mod passkeys;
mod public;
mod scale_out;
mod services;
mod sessions;
mod site_cache;
mod sso;
mod startup;
mod status_admin;
mod status_clock;
mod status_public;
mod subscriptions;
mod text;
mod watermark;
mod webhooks;

pub use harness::{Db, TestApp};
