//! The end-to-end suites, one module each, in one test executable: linking the whole
//! service once instead of once per suite is most of what an incremental test build costs.

mod auth;
mod authorization;
mod bad_input;
mod concurrency;
mod configuration;
mod contract;
mod conventions;
mod credentials;
mod customers;
mod dkim;
mod dkim_verifiers;
mod handlers;
mod iam;
mod lambda_emulator;
mod limits;
mod news;
mod notifications;
mod options;
mod provisioning;
mod queue_refusals;
mod secrets_in_logs;
mod security_events;
mod security_reports;
mod service;
mod signing;
mod status;
mod streams;
mod team;
mod user;
mod users;
