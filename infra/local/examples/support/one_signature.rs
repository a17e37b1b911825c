//! One DKIM signature as the signing function makes it per key, for the benchmarks'
//! references: a message parsed, then signed once with a fresh RSA-2048 key (relaxed /
//! relaxed, the recommended headers, `t=`), and the signed message assembled.

use dkim_engine::Algorithm;
use dkim_engine::header_set::HeaderSet;
use dkim_engine::key::DkimKeyPair;
use dkim_engine::message::Message;
use dkim_engine::sign::{SignatureSpec, SigningKey};
use shared::domain::secret::ExposeSecret;

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The key of a benchmark run.
pub struct OneSignature {
    key: SigningKey,
}

impl OneSignature {
    /// A signer with a key of its own.
    pub fn generate() -> Result<Self, Failure> {
        let pair = DkimKeyPair::generate(Algorithm::RsaSha256)?;
        Ok(Self {
            key: SigningKey::from_pkcs8(pair.private_pkcs8().expose_secret())?,
        })
    }

    /// `raw` parsed, signed and returned with its signature.
    pub fn signed(&self, raw: &[u8]) -> Result<Vec<u8>, Failure> {
        let spec = SignatureSpec {
            domain: "acme.test",
            selector: "s2048",
            timestamp: 1_767_259_798,
            headers: HeaderSet::Recommended,
        };
        let message = Message::parse(raw)?;
        let field = message.sign(&self.key, &spec)?;
        Ok(message.with_signatures(&[field]))
    }
}
