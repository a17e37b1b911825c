//! Plain types and rules: no I/O, no AWS types.

pub mod access;
pub mod capability;
pub mod catalogue;
pub mod configuration;
pub mod customer;
pub mod dkim;
#[cfg(test)]
mod fixtures;
pub mod ids;
pub mod news;
pub mod notification;
pub mod password;
pub mod preferences;
pub mod provisioning;
pub mod reports;
pub mod roles;
pub mod search;
pub mod secret;
pub mod security;
pub mod status;
pub mod user;
pub mod validation;
pub mod verification;
