//! The local key vault: a 256-bit master key in a file readable by its owner only.
//! Each secret gets a fresh data key, wrapped by the master key, as with KMS.

use std::path::Path;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::secret_file::read_or_create;
use crate::adapters::aead::{self, KEY_LEN, context_bytes, random_bytes};
use crate::domain::secret::{ExposeSecret, SecretBytes};
use crate::ports::key_vault::{EncryptionContext, Envelope, KeyVault, KeyVaultError};

const KEY_ID: &str = "local-master-key";

/// The embedded key vault.
pub struct LocalKeyVault {
    master: SecretBytes,
}

impl LocalKeyVault {
    /// Loads the master key from `path`, creating it (mode 0600) on first start.
    pub fn from_key_file(path: &Path) -> Result<Self, KeyVaultError> {
        let unavailable = |e: std::io::Error| KeyVaultError::Unavailable(format!("{}: {e}", path.display()));
        let text = read_or_create(path, || {
            let key = random_bytes(KEY_LEN).map_err(std::io::Error::other)?;
            Ok(STANDARD.encode(key.expose_secret()))
        })
        .map_err(unavailable)?;
        let master: SecretBytes = STANDARD.decode(text.trim()).map_err(|_| KeyVaultError::Rejected)?.into();
        if master.expose_secret().len() != KEY_LEN {
            return Err(KeyVaultError::Unavailable(format!(
                "{} does not hold a 256-bit key",
                path.display()
            )));
        }
        Ok(Self { master })
    }
}

#[async_trait]
impl KeyVault for LocalKeyVault {
    async fn seal(&self, plaintext: &SecretBytes, context: &EncryptionContext) -> Result<Envelope, KeyVaultError> {
        let aad = context_bytes(context);
        let data_key = random_bytes(KEY_LEN)?;
        let (key_nonce, wrapped) = aead::seal(&self.master, data_key.expose_secret(), &aad)?;
        let (nonce, ciphertext) = aead::seal(&data_key, plaintext.expose_secret(), &aad)?;
        Ok(Envelope {
            key_id: KEY_ID.into(),
            wrapped_key: format!("{key_nonce}.{wrapped}"),
            nonce,
            ciphertext,
        })
    }

    async fn open(&self, envelope: &Envelope, context: &EncryptionContext) -> Result<SecretBytes, KeyVaultError> {
        let aad = context_bytes(context);
        let (key_nonce, wrapped) = envelope.wrapped_key.split_once('.').ok_or(KeyVaultError::Rejected)?;
        let data_key = aead::open(&self.master, key_nonce, wrapped, &aad)?;
        aead::open(&data_key, &envelope.nonce, &envelope.ciphertext, &aad)
    }
}
