//! Envelope encryption: a fresh data key per secret, wrapped by a master key that
//! never leaves the key vault (KMS, or a local key file).

use async_trait::async_trait;

use crate::domain::secret::SecretBytes;
pub use crate::domain::secret::{EncryptionContext, Envelope};

/// What can go wrong with the key vault.
#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("key vault unavailable: {0}")]
    Unavailable(String),
    #[error("ciphertext rejected: wrong key, wrong context or tampered data")]
    Rejected,
}

/// The envelope-cipher port.
#[async_trait]
pub trait EnvelopeCipher: Send + Sync {
    /// Encrypts `plaintext` under a new data key bound to `context`.
    async fn encrypt(&self, plaintext: &SecretBytes, context: &EncryptionContext) -> Result<Envelope, CipherError>;

    /// Decrypts an envelope made by [`EnvelopeCipher::encrypt`] with the same context.
    async fn decrypt(&self, envelope: &Envelope, context: &EncryptionContext) -> Result<SecretBytes, CipherError>;
}
