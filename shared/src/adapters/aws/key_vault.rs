//! Envelope encryption with KMS: GenerateDataKey for each secret, Decrypt to read it,
//! both bound to the encryption context.

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::adapters::aead::{self, context_bytes};
use crate::domain::secret::{ExposeSecret, SecretBytes};
use crate::ports::key_vault::{EncryptionContext, Envelope, KeyVault, KeyVaultError};

/// A KMS key, by id, ARN or alias.
#[derive(Clone)]
pub struct KmsKeyVault {
    client: Client,
    key_id: String,
}

fn classify<E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + 'static>(error: E) -> KeyVaultError {
    match error.code() {
        Some("InvalidCiphertextException" | "IncorrectKeyException") => KeyVaultError::Rejected,
        _ => KeyVaultError::Unavailable(aws_sdk_kms::error::DisplayErrorContext(error).to_string()),
    }
}

impl KmsKeyVault {
    /// Encrypts with the key `key_id`.
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }

    /// Creates a symmetric key and returns its id (for local emulation and tests; in AWS the template owns it).
    pub async fn create_key(client: &Client, description: &str) -> Result<String, KeyVaultError> {
        let output = client.create_key().description(description).send().await.map_err(classify)?;
        output
            .key_metadata
            .map(|m| m.key_id)
            .ok_or_else(|| KeyVaultError::Unavailable("no key id".into()))
    }
}

#[async_trait]
impl KeyVault for KmsKeyVault {
    async fn seal(&self, plaintext: &SecretBytes, context: &EncryptionContext) -> Result<Envelope, KeyVaultError> {
        let output = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(context.clone().into_iter().collect()))
            .send()
            .await
            .map_err(classify)?;
        let (Some(data_key), Some(wrapped), Some(key_id)) = (output.plaintext, output.ciphertext_blob, output.key_id) else {
            return Err(KeyVaultError::Unavailable("GenerateDataKey returned no key".into()));
        };
        let data_key: SecretBytes = data_key.into_inner().into();
        let (nonce, ciphertext) = aead::seal(&data_key, plaintext.expose_secret(), &context_bytes(context))?;
        Ok(Envelope {
            key_id,
            wrapped_key: STANDARD.encode(wrapped.as_ref()),
            nonce,
            ciphertext,
        })
    }

    async fn open(&self, envelope: &Envelope, context: &EncryptionContext) -> Result<SecretBytes, KeyVaultError> {
        let wrapped = STANDARD.decode(&envelope.wrapped_key).map_err(|_| KeyVaultError::Rejected)?;
        let output = self
            .client
            .decrypt()
            .key_id(&envelope.key_id)
            .ciphertext_blob(Blob::new(wrapped))
            .set_encryption_context(Some(context.clone().into_iter().collect()))
            .send()
            .await
            .map_err(classify)?;
        let data_key: SecretBytes = output.plaintext.ok_or(KeyVaultError::Rejected)?.into_inner().into();
        aead::open(&data_key, &envelope.nonce, &envelope.ciphertext, &context_bytes(context))
    }
}
