//! DKIM key input and output shared by customer keys, the platform key and FBL keys:
//! validation of what a client sends, sealing the private key, and the key as shown.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dkim_engine::Algorithm;
use dkim_engine::key::{DkimKeyPair, KeyError, PublicKey};
use dkim_engine::names;
use serde::{Deserialize, Serialize};

use crate::domain::secret::{ExposeSecret, SecretString};
use crate::domain::validation::{FieldError, Violations};
use crate::ports::key_vault::{EncryptionContext, Envelope, KeyVault, KeyVaultError};
use crate::repositories::dkims::StoredKey;

/// Text that is a secret from the moment it is read: it never prints.
#[derive(Debug, Deserialize)]
#[serde(from = "String")]
pub struct SecretText(pub SecretString);

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self(SecretString::from(text))
    }
}

/// A key as a client sends it (`DkimRequest`, `PlatformDkimRequest`, `FblKeyRequest`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInput {
    pub domain: String,
    pub selector: String,
    pub public_key: String,
    /// PEM; `null` keeps the stored key where there is one.
    #[serde(default)]
    pub private_key: Option<SecretText>,
}

/// The private key of a valid input: a new one, or the stored one kept.
#[derive(Debug)]
pub enum KeyMaterial {
    New(DkimKeyPair),
    /// The stored private key (sealed) and the public key, which matches it.
    Kept(PublicKey, Envelope),
}

/// A key input that passed validation.
#[derive(Debug)]
pub struct ValidKey {
    pub domain: String,
    pub selector: String,
    pub material: KeyMaterial,
}

impl KeyInput {
    /// Validates every field, adding violations under `pointer` (`""`, or `"/dkim"` for
    /// an FBL's key) to those already found. `stored` is the key being replaced: with it,
    /// a null private key keeps the stored one, and the public key must then match it.
    pub fn validate(self, pointer: &str, stored: Option<&StoredKey>, mut violations: Violations) -> Result<ValidKey, Vec<FieldError>> {
        let domain = names::domain_name(&self.domain).map_err(|reason| violations.body(format!("{pointer}/domain"), reason));
        let selector = names::selector(&self.selector).map_err(|reason| violations.body(format!("{pointer}/selector"), reason));
        let material = match (self.private_key, stored) {
            (Some(private), _) => DkimKeyPair::from_pem(private.0.expose_secret(), &self.public_key).map(KeyMaterial::New),
            (None, Some(stored)) => PublicKey::parse(&self.public_key).and_then(|public| {
                if public.algorithm() == stored.algorithm && public.p_value() == stored.public_key {
                    Ok(KeyMaterial::Kept(public, stored.private_key.clone()))
                } else {
                    Err(KeyError::Mismatch)
                }
            }),
            (None, None) => Err(KeyError::PrivateKey("is required".into())),
        }
        .map_err(|error| violations.body(format!("{pointer}/{}", error.field()), error.to_string()));
        match (domain, selector, material) {
            (Ok(domain), Ok(selector), Ok(material)) => violations.into_result(ValidKey {
                domain,
                selector,
                material,
            }),
            _ => Err(violations.into_errors()),
        }
    }
}

impl ValidKey {
    /// The key to store; a new private key is sealed under `context` first.
    pub async fn seal(self, key_vault: &dyn KeyVault, context: &EncryptionContext) -> Result<StoredKey, KeyVaultError> {
        let (public, algorithm, private_key) = match self.material {
            KeyMaterial::New(pair) => {
                let envelope = key_vault.seal(pair.private_pkcs8(), context).await?;
                (pair.public_key().p_value().to_owned(), pair.algorithm(), envelope)
            }
            KeyMaterial::Kept(public, envelope) => (public.p_value().to_owned(), public.algorithm(), envelope),
        };
        Ok(StoredKey {
            domain: self.domain,
            selector: self.selector,
            public_key: public,
            algorithm,
            private_key,
        })
    }
}

/// The DNS record that publishes a key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsRecord {
    /// `<selector>._domainkey.<domain>`
    pub name: String,
    /// `v=DKIM1; k=rsa|ed25519; p=…`
    pub value: String,
}

impl DnsRecord {
    /// The TXT record of `key`.
    pub fn of(key: &StoredKey) -> Self {
        Self {
            name: format!("{}._domainkey.{}", key.selector, key.domain),
            value: format!("v=DKIM1; k={}; p={}", key.algorithm.key_type(), key.public_key),
        }
    }
}

/// A key as shown (`PlatformDkim`, `FblKey`, and the common part of `Dkim`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub domain: String,
    pub selector: String,
    pub public_key: String,
    /// The sealed private key for the DKIM role; `None` (null) for everyone else.
    pub private_key: Option<String>,
    pub algorithm: Algorithm,
    pub dns_record: DnsRecord,
}

impl KeyView {
    /// `key` as shown to a caller who may (`reveal_sealed`) or may not see the sealed private key.
    pub fn of(key: &StoredKey, reveal_sealed: bool) -> Self {
        Self {
            domain: key.domain.clone(),
            selector: key.selector.clone(),
            public_key: key.public_key.clone(),
            private_key: reveal_sealed.then(|| sealed_text(key)),
            algorithm: key.algorithm,
            dns_record: DnsRecord::of(key),
        }
    }
}

/// The sealed private key as text: base64 of the envelope's JSON. Opening it takes the
/// key vault and the encryption context; the plaintext is never shown.
fn sealed_text(key: &StoredKey) -> String {
    STANDARD.encode(serde_json::to_vec(&key.private_key).unwrap_or_default())
}
