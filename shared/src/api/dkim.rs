//! A DKIM key as shown, common to customer keys, the platform key and FBL keys. What a
//! client sends and its validation are the domain's (`domain::dkim::records`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dkim_engine::Algorithm;
use serde::Serialize;

use crate::domain::dkim::records::StoredKey;

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
