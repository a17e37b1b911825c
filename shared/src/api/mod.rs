//! Wire representations shared by several functions, as the API document shows them.

pub mod action;
pub mod credentials;
pub mod customers;
pub mod dkim;
pub mod provisioning;
pub mod security;
pub mod users;
