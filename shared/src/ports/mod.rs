//! The traits the domain needs from the world. Each has an AWS and an embedded adapter.

pub mod clock;
pub mod feeds;
pub mod key_vault;
pub mod queue;
pub mod sms;
pub mod store;
