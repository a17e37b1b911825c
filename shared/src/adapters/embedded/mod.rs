//! The embedded adapters: everything on local files, for the stand-in and tests.

pub mod key_vault;
pub mod queue;
pub mod secret_file;
pub mod sms;
pub mod store;
