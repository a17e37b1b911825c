//! AES-256-GCM sealing shared by both key vault adapters: the data key encrypts the
//! secret locally, with the encryption context as associated data.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::secret::{ExposeSecret, SecretBytes};
use crate::ports::key_vault::{EncryptionContext, KeyVaultError};

/// Length of an AES-256 key.
pub const KEY_LEN: usize = 32;

/// Fresh random bytes from the system CSPRNG.
pub fn random_bytes(len: usize) -> Result<SecretBytes, KeyVaultError> {
    let mut bytes = vec![0u8; len];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| KeyVaultError::Unavailable("no randomness".into()))?;
    Ok(bytes.into())
}

/// The context as stable bytes: sorted `name=value` pairs joined by newlines.
pub fn context_bytes(context: &EncryptionContext) -> Vec<u8> {
    context
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

fn key(bytes: &[u8]) -> Result<LessSafeKey, KeyVaultError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| KeyVaultError::Rejected)
}

/// Encrypts `plaintext` under `key_bytes`; returns (nonce, ciphertext with tag), base64.
pub fn seal(key_bytes: &SecretBytes, plaintext: &[u8], aad: &[u8]) -> Result<(String, String), KeyVaultError> {
    let key = key(key_bytes.expose_secret())?;
    let nonce_bytes = random_bytes(NONCE_LEN)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce_bytes.expose_secret()).map_err(|_| KeyVaultError::Rejected)?;
    let mut buffer = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| KeyVaultError::Rejected)?;
    Ok((STANDARD.encode(nonce_bytes.expose_secret()), STANDARD.encode(buffer)))
}

/// Decrypts what [`seal`] produced; any tampering or wrong key/context is `Rejected`.
pub fn open(key_bytes: &SecretBytes, nonce: &str, ciphertext: &str, aad: &[u8]) -> Result<SecretBytes, KeyVaultError> {
    let key = key(key_bytes.expose_secret())?;
    let nonce = STANDARD.decode(nonce).map_err(|_| KeyVaultError::Rejected)?;
    let nonce = Nonce::try_assume_unique_for_key(&nonce).map_err(|_| KeyVaultError::Rejected)?;
    let mut buffer = STANDARD.decode(ciphertext).map_err(|_| KeyVaultError::Rejected)?;
    let plaintext = key
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| KeyVaultError::Rejected)?;
    Ok(plaintext.to_vec().into())
}
