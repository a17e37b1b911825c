//! The DKIM engine: signing keys, message parsing, relaxed canonicalization and
//! signatures (RFC 6376, RFC 8463), and the names DKIM uses (signing domains,
//! selectors, DMARC alignment). It knows nothing of customers, storage or HTTP.
//!
//! Module dependencies run one way: `sign` builds on `message`, which builds on
//! `header_set`, `canon` and `scan`.

mod canon;
pub mod header_set;
pub mod key;
pub mod message;
pub mod names;
mod scan;
pub mod sign;

use serde::{Deserialize, Serialize};

/// A signature algorithm, fixed by the key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    #[serde(rename = "rsa-sha256")]
    RsaSha256,
    #[serde(rename = "ed25519-sha256")]
    Ed25519Sha256,
}

impl Algorithm {
    /// The `a=` tag value of a signature.
    pub fn tag(self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa-sha256",
            Self::Ed25519Sha256 => "ed25519-sha256",
        }
    }

    /// The `k=` tag value of the DNS key record.
    pub fn key_type(self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa",
            Self::Ed25519Sha256 => "ed25519",
        }
    }
}
