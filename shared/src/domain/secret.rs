//! Wrappers for secrets: they never print, in logs or in `Debug` output. And secrets
//! as stored: sealed in an envelope by the key vault.

use std::collections::BTreeMap;

pub use secrecy::{ExposeSecret, SecretBox, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};

/// Secret bytes (keys, plaintext private keys), zeroed on drop.
pub type SecretBytes = SecretSlice<u8>;

/// Name/value pairs bound to a ciphertext: opening with other values fails.
pub type EncryptionContext = BTreeMap<String, String>;

/// An encrypted secret: the wrapped data key and the AES-256-GCM ciphertext it protects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Which master key wrapped the data key.
    pub key_id: String,
    /// The data key, encrypted by the master key (base64).
    pub wrapped_key: String,
    /// The 96-bit nonce (base64).
    pub nonce: String,
    /// Ciphertext with its authentication tag (base64).
    pub ciphertext: String,
}
