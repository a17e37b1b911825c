//! Wrappers for secrets: they never print, in logs or in `Debug` output.

pub use secrecy::{ExposeSecret, SecretBox, SecretSlice, SecretString};

/// Secret bytes (keys, plaintext private keys), zeroed on drop.
pub type SecretBytes = SecretSlice<u8>;
