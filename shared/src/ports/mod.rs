//! The traits the domain needs from the world. Each has an AWS and an embedded adapter.

pub mod cipher;
pub mod clock;
pub mod queue;
pub mod sms;
pub mod store;
