//! Envelope encryption: a fresh data key per secret, wrapped by a master key that
//! never leaves the key vault (KMS, or a local key file).

use async_trait::async_trait;

use crate::domain::secret::SecretBytes;
pub use crate::domain::secret::{EncryptionContext, Envelope};

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
