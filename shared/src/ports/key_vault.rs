//! Envelope encryption: a fresh data key per secret, wrapped by a master key that
//! never leaves the key vault (KMS, or a local key file).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::secret::SecretBytes;

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

/// What can go wrong with the key vault.
#[derive(Debug, thiserror::Error)]
pub enum KeyVaultError {
    #[error("key vault unavailable: {0}")]
    Unavailable(String),
    #[error("ciphertext rejected: wrong key, wrong context or tampered data")]
    Rejected,
}

/// The key vault port: seals secrets into envelopes and opens them again.
#[async_trait]
pub trait KeyVault: Send + Sync {
    /// Encrypts `plaintext` under a new data key bound to `context`.
    async fn seal(&self, plaintext: &SecretBytes, context: &EncryptionContext) -> Result<Envelope, KeyVaultError>;

    /// Decrypts an envelope made by [`KeyVault::seal`] with the same context.
    async fn open(&self, envelope: &Envelope, context: &EncryptionContext) -> Result<SecretBytes, KeyVaultError>;
}
