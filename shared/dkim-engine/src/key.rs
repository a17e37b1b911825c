//! DKIM key pairs as customers register them: a PEM private key and the public key they
//! publish, each validated, matched against the other and normalized, so that a stored key can
//! sign and the TXT record we show is the one verifiers will read (RFC 6376 §3.6.1, RFC 8463).

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rsa::pkcs1::{self, RsaPrivateKeyRef, RsaPublicKeyRef};
use rsa::pkcs8::der::Decode;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, ObjectIdentifier, PrivateKeyInfoRef, SubjectPublicKeyInfoRef};
use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::Algorithm;

/// RFC 8301 forbids RSA keys below 1024 bits; above 4096 the record outgrows what DNS hosts take.
const MIN_RSA_BITS: u32 = 1024;
const MAX_RSA_BITS: u32 = 4096;
/// aws-lc-rs loads RSA signing keys from 2048 bits only; smaller keys rest on the rsa crate's checks.
const MIN_AWS_LC_RSA_BITS: u32 = 2048;
const ED25519_BITS: u32 = 256;
const ED25519_KEY_LEN: usize = 32;

const RSA_ENCRYPTION: ObjectIdentifier = pkcs1::ALGORITHM_OID;
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Standard alphabet; padding optional on input, because `p=` values are often pasted without it.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const PEM_BEGIN: &str = "-----BEGIN ";
const PEM_DASHES: &str = "-----";
const PKCS8_PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----\n";
const PKCS8_PEM_END: &str = "-----END PRIVATE KEY-----\n";
const PEM_LINE: usize = 64;

/// Why a key was refused. The reasons read after the field name ("privateKey is encrypted; ...").
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The private key is unusable; the reason says why (never echoes key material).
    #[error("{0}")]
    PrivateKey(String),
    /// The public key is unusable; the reason says why.
    #[error("{0}")]
    PublicKey(String),
    /// Both keys are usable, but they are not two halves of one pair.
    #[error("does not match the private key")]
    Mismatch,
    /// Key generation could not get randomness.
    #[error("no random source: {0}")]
    Random(String),
}

impl KeyError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::PrivateKey(_) | Self::Random(_) => "privateKey",
            Self::PublicKey(_) | Self::Mismatch => "publicKey",
        }
    }
}

/// A validated DKIM key pair; the private half stays secret and never prints.
pub struct DkimKeyPair {
    algorithm: Algorithm,
    bits: u32,
    public: PublicKey,
    private: SecretSlice<u8>,
}

impl DkimKeyPair {
    /// Validates a PEM private key and the public key given with it.
    pub fn from_pem(private_pem: &str, public_key: &str) -> Result<DkimKeyPair, KeyError> {
        let pair = private_from_pem(private_pem).map_err(KeyError::PrivateKey)?;
        if PublicKey::parse(public_key)? != pair.public {
            return Err(KeyError::Mismatch);
        }
        Ok(pair)
    }

    /// A fresh key pair (RSA-2048 or Ed25519), for the demo seed and tests.
    pub fn generate(algorithm: Algorithm) -> Result<DkimKeyPair, KeyError> {
        let failed = |_| KeyError::Random("aws-lc-rs could not generate a key".into());
        let pkcs8 = match algorithm {
            Algorithm::RsaSha256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
                SecretSlice::from(pair.as_der().map_err(failed)?.as_ref().to_vec())
            }
            Algorithm::Ed25519Sha256 => SecretSlice::from(
                Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                    .map_err(failed)?
                    .as_ref()
                    .to_vec(),
            ),
        };
        private_from_pkcs8(pkcs8.expose_secret()).map_err(KeyError::Random)
    }

    /// A fresh RSA key pair of `bits` (1024 to 4096). aws-lc-rs generates 2048 bits and
    /// up; smaller (legacy) keys come from the rsa crate, drawing from the same source.
    pub fn generate_rsa(bits: u32) -> Result<DkimKeyPair, KeyError> {
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(KeyError::PrivateKey(format!(
                "RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits"
            )));
        }
        if bits == 2048 {
            return Self::generate(Algorithm::RsaSha256);
        }
        let key = rsa::PrivateKey::new(&mut SystemRng, bits as usize).map_err(|e| KeyError::Random(e.to_string()))?;
        let der = key.to_pkcs8_der().map_err(|e| KeyError::Random(e.to_string()))?;
        private_from_pkcs8(der.as_bytes()).map_err(KeyError::Random)
    }

    /// The signature algorithm the key type fixes.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// RSA modulus bits; 256 for Ed25519.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// The public half, normalized.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The private key as PKCS#8 DER (PKCS#1 input is re-encoded as PKCS#8).
    pub fn private_pkcs8(&self) -> &SecretSlice<u8> {
        &self.private
    }

    /// The private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), for seed and tests to feed the API.
    pub fn private_pem(&self) -> SecretString {
        let body = SecretString::from(BASE64.encode(self.private.expose_secret()));
        let body = body.expose_secret();
        // Exact capacity, so boxing the string does not leave a stray copy of the key behind.
        let mut pem = String::with_capacity(PKCS8_PEM_BEGIN.len() + body.len() + body.len().div_ceil(PEM_LINE) + PKCS8_PEM_END.len());
        pem.push_str(PKCS8_PEM_BEGIN);
        for start in (0..body.len()).step_by(PEM_LINE) {
            pem.push_str(&body[start..body.len().min(start + PEM_LINE)]);
            pem.push('\n');
        }
        pem.push_str(PKCS8_PEM_END);
        SecretString::from(pem)
    }
}

impl fmt::Debug for DkimKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimKeyPair")
            .field("algorithm", &self.algorithm)
            .field("bits", &self.bits)
            .field("public_key", &self.public)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

/// A DKIM public key, normalized to the `p=` value verifiers expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: Algorithm,
    p: String,
}

impl PublicKey {
    /// Parses a public key given as base64 SPKI DER, PEM ("PUBLIC KEY" SPKI, or "RSA PUBLIC KEY" PKCS#1),
    /// the p= value of a TXT record (RSA: base64 SPKI DER or base64 PKCS#1 RSAPublicKey; Ed25519: base64
    /// of the raw 32 bytes), or a whole TXT record "v=DKIM1; k=...; p=..." — tolerating white space, line
    /// breaks and the quotes/"  " splits of multi-string TXT records.
    pub fn parse(input: &str) -> Result<PublicKey, KeyError> {
        public_from_text(input).map_err(KeyError::PublicKey)
    }

    /// The signature algorithm the key type fixes.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The normalized p= value: base64 of SPKI DER for RSA; base64 of the raw 32-byte key for Ed25519 (RFC 8463).
    pub fn p_value(&self) -> &str {
        &self.p
    }

    /// The TXT record to publish: "v=DKIM1; k=rsa; p=..." or "v=DKIM1; k=ed25519; p=...".
    pub fn txt_record(&self) -> String {
        format!("v=DKIM1; k={}; p={}", self.algorithm.key_type(), self.p)
    }

    fn rsa(key: &rsa::PublicKey) -> Result<PublicKey, String> {
        let spki = key
            .to_public_key_der()
            .map_err(|_| "could not be encoded as SubjectPublicKeyInfo")?;
        Ok(PublicKey {
            algorithm: Algorithm::RsaSha256,
            p: BASE64.encode(spki.as_bytes()),
        })
    }

    fn ed25519(raw: &[u8]) -> PublicKey {
        PublicKey {
            algorithm: Algorithm::Ed25519Sha256,
            p: BASE64.encode(raw),
        }
    }
}

/// One PEM block: its label, whether RFC 1421 headers mark it encrypted, and its base64 text.
struct PemBlock<'a> {
    label: &'a str,
    encrypted: bool,
    base64: String,
}

impl PemBlock<'_> {
    fn der(&self) -> Result<SecretSlice<u8>, String> {
        BASE64
            .decode(&self.base64)
            .map(SecretSlice::from)
            .map_err(|_| "is not valid PEM: its body is not base64".into())
    }
}

/// Every PEM block in `text`, leniently: text around the blocks, CRLF, indentation and any line width pass.
fn pem_blocks(text: &str) -> Result<Vec<PemBlock<'_>>, String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find(PEM_BEGIN) {
        let after_begin = &rest[begin + PEM_BEGIN.len()..];
        let label_len = after_begin.find(PEM_DASHES).ok_or("is not valid PEM: its BEGIN line is cut off")?;
        let label = after_begin[..label_len].trim();
        let after_label = &after_begin[label_len + PEM_DASHES.len()..];
        let end = format!("-----END {label}-----");
        let body_len = after_label
            .find(&end)
            .ok_or("is not valid PEM: no END line matches its BEGIN line")?;
        let mut block = PemBlock {
            label,
            encrypted: false,
            base64: String::with_capacity(body_len),
        };
        for line in after_label[..body_len].lines() {
            // Base64 has no ':', so a line with one is an RFC 1421 header such as "Proc-Type: 4,ENCRYPTED".
            if line.contains(':') {
                block.encrypted |= line.contains("ENCRYPTED");
            } else {
                block.base64.extend(line.chars().filter(|c| !c.is_whitespace()));
            }
        }
        blocks.push(block);
        rest = &after_label[body_len + end.len()..];
    }
    Ok(blocks)
}

fn private_from_pem(pem: &str) -> Result<DkimKeyPair, String> {
    if pem.trim().is_empty() {
        return Err("is empty".into());
    }
    let blocks = pem_blocks(pem)?;
    let mut private = blocks.iter().filter(|block| block.label.ends_with("PRIVATE KEY"));
    let Some(block) = private.next() else {
        return Err(match blocks.first().map(|block| block.label) {
            Some("PUBLIC KEY" | "RSA PUBLIC KEY") => "is a public key; give the private key",
            Some("CERTIFICATE") => "is a certificate; give the private key",
            _ => "is not a PEM private key",
        }
        .into());
    };
    if private.next().is_some() {
        return Err("holds more than one private key; give one".into());
    }
    if block.encrypted || block.label == "ENCRYPTED PRIVATE KEY" {
        return Err("is encrypted; give it unencrypted".into());
    }
    match block.label {
        "RSA PRIVATE KEY" => private_from_pkcs1(block.der()?.expose_secret()),
        "PRIVATE KEY" => private_from_pkcs8(block.der()?.expose_secret()),
        "EC PRIVATE KEY" => Err(unsupported("an EC")),
        "DSA PRIVATE KEY" => Err(unsupported("a DSA")),
        "OPENSSH PRIVATE KEY" => Err("is an OpenSSH key; give it as PEM (PKCS#1 or PKCS#8)".into()),
        _ => Err("is not a PEM private key".into()),
    }
}

fn private_from_pkcs8(der: &[u8]) -> Result<DkimKeyPair, String> {
    let info = PrivateKeyInfoRef::from_der(der).map_err(|_| "is not a valid PKCS#8 private key (malformed DER)")?;
    match info.algorithm.oid {
        RSA_ENCRYPTION => private_from_pkcs1(info.private_key.as_bytes()),
        ED25519 => private_from_ed25519_pkcs8(der),
        oid => Err(key_kind(oid)),
    }
}

fn private_from_pkcs1(der: &[u8]) -> Result<DkimKeyPair, String> {
    const INCONSISTENT: &str = "is not a consistent RSA key: its numbers do not fit together";
    let key = RsaPrivateKeyRef::from_der(der).map_err(|_| "is not a valid RSA private key (malformed DER)")?;
    if key.version() != pkcs1::Version::TwoPrime {
        return Err("is a multi-prime RSA key; only two-prime keys sign DKIM".into());
    }
    // Sized before decoding, so the reason names the size rather than a generic decoding failure.
    let bits = rsa_bits(key.modulus.as_bytes())?;
    rsa_exponent(key.public_exponent.as_bytes())?;
    let private = rsa::PrivateKey::try_from(key).map_err(|_| INCONSISTENT)?;
    // Decoding validates as well today; checked here so a stored key does not depend on that.
    private.validate().map_err(|_| INCONSISTENT)?;
    let pkcs8 = private.to_pkcs8_der().map_err(|_| "could not be re-encoded as PKCS#8")?;
    let pkcs8 = SecretSlice::from(pkcs8.as_bytes().to_vec());
    if bits >= MIN_AWS_LC_RSA_BITS {
        RsaKeyPair::from_pkcs8(pkcs8.expose_secret()).map_err(|e| format!("is refused by the signing library ({e})"))?;
    }
    Ok(DkimKeyPair {
        algorithm: Algorithm::RsaSha256,
        bits,
        public: PublicKey::rsa(private.as_public_key())?,
        private: pkcs8,
    })
}

fn private_from_ed25519_pkcs8(der: &[u8]) -> Result<DkimKeyPair, String> {
    // Takes PKCS#8 v1 and v2; a v2 document's public key must match its private key.
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|e| format!("is not a valid Ed25519 private key ({e})"))?;
    let pkcs8 = pair.to_pkcs8v1().map_err(|_| "could not be re-encoded as PKCS#8")?;
    Ok(DkimKeyPair {
        algorithm: Algorithm::Ed25519Sha256,
        bits: ED25519_BITS,
        public: PublicKey::ed25519(pair.public_key().as_ref()),
        private: SecretSlice::from(pkcs8.as_ref().to_vec()),
    })
}

fn public_from_text(input: &str) -> Result<PublicKey, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err("is empty".into());
    }
    if text.contains(PEM_BEGIN) {
        return public_from_pem(text);
    }
    // TXT records arrive quoted, split into strings, wrapped, or from dig with escaped semicolons.
    let compact: String = text
        .replace("\\;", ";")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"')
        .collect();
    // Base64 has '=' only as trailing padding; any other '=' or a ';' makes it a tag list.
    if compact.contains(';') || compact.trim_end_matches('=').contains('=') {
        return public_from_record(&compact);
    }
    let der = BASE64.decode(&compact).map_err(|_| "is not base64, PEM or a DKIM TXT record")?;
    public_from_der(&der)
}

fn public_from_pem(text: &str) -> Result<PublicKey, String> {
    let blocks = pem_blocks(text)?;
    let Some(block) = blocks.first() else {
        return Err("is not a PEM public key".into());
    };
    match block.label {
        "PUBLIC KEY" => public_from_spki(block.der()?.expose_secret()),
        "RSA PUBLIC KEY" => public_from_pkcs1(block.der()?.expose_secret()),
        "CERTIFICATE" => Err("is a certificate; give its public key".into()),
        label if label.ends_with("PRIVATE KEY") => Err("is a private key; give the public key".into()),
        _ => Err("is not a PEM public key".into()),
    }
}

/// A `v=DKIM1; k=...; p=...` tag list (RFC 6376 §3.6.1), white space already removed.
fn public_from_record(record: &str) -> Result<PublicKey, String> {
    let (mut version, mut key_type, mut p) = (None, None, None);
    for tag in record.split(';').filter(|tag| !tag.is_empty()) {
        let (name, value) = tag.split_once('=').ok_or("is not a DKIM key record: a tag has no '='")?;
        let slot = match name {
            "v" => &mut version,
            "k" => &mut key_type,
            "p" => &mut p,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(format!("is not a DKIM key record: it has {name}= twice"));
        }
    }
    if version.is_some_and(|v| v != "DKIM1") {
        return Err("is not a DKIM key record: v= must be DKIM1".into());
    }
    let expected = match key_type {
        None | Some("rsa") => Algorithm::RsaSha256,
        Some("ed25519") => Algorithm::Ed25519Sha256,
        Some(_) => return Err("has a k= other than rsa or ed25519".into()),
    };
    let p = p.ok_or("is not a DKIM key record: it has no p=")?;
    if p.is_empty() {
        return Err("has an empty p=, which revokes the key".into());
    }
    let der = BASE64.decode(p).map_err(|_| "has a p= that is not base64")?;
    let key = match public_from_der(&der) {
        Err(_) if expected == Algorithm::Ed25519Sha256 => {
            return Err(format!("has a {}-byte p=; an Ed25519 key is {ED25519_KEY_LEN} bytes", der.len()));
        }
        parsed => parsed?,
    };
    match (expected, key.algorithm) {
        (Algorithm::RsaSha256, Algorithm::Ed25519Sha256) => Err("says k=rsa (the default without k=) but p= holds an Ed25519 key".into()),
        (Algorithm::Ed25519Sha256, Algorithm::RsaSha256) => Err("says k=ed25519 but p= holds an RSA key".into()),
        _ => Ok(key),
    }
}

/// Decoded base64: a raw Ed25519 key, SubjectPublicKeyInfo, or a PKCS#1 RSAPublicKey.
fn public_from_der(der: &[u8]) -> Result<PublicKey, String> {
    // No RSA encoding is this short, so 32 bytes can only be a raw Ed25519 key.
    if der.len() == ED25519_KEY_LEN {
        return Ok(PublicKey::ed25519(der));
    }
    if SubjectPublicKeyInfoRef::from_der(der).is_ok() {
        return public_from_spki(der);
    }
    if RsaPublicKeyRef::from_der(der).is_ok() {
        return public_from_pkcs1(der);
    }
    if PrivateKeyInfoRef::from_der(der).is_ok() || RsaPrivateKeyRef::from_der(der).is_ok() {
        return Err("is a private key; give the public key".into());
    }
    Err("is not a public key: neither SubjectPublicKeyInfo, an RSA public key nor a 32-byte Ed25519 key".into())
}

fn public_from_spki(der: &[u8]) -> Result<PublicKey, String> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| "is not a valid SubjectPublicKeyInfo (malformed DER)")?;
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or("is not a valid SubjectPublicKeyInfo (the key is not whole bytes)")?;
    match spki.algorithm.oid {
        RSA_ENCRYPTION => public_from_pkcs1(key),
        ED25519 if key.len() == ED25519_KEY_LEN => Ok(PublicKey::ed25519(key)),
        ED25519 => Err(format!(
            "is a {}-byte Ed25519 key; Ed25519 keys are {ED25519_KEY_LEN} bytes",
            key.len()
        )),
        oid => Err(key_kind(oid)),
    }
}

fn public_from_pkcs1(der: &[u8]) -> Result<PublicKey, String> {
    let key = RsaPublicKeyRef::from_der(der).map_err(|_| "is not a valid RSA public key (malformed DER)")?;
    rsa_bits(key.modulus.as_bytes())?;
    rsa_exponent(key.public_exponent.as_bytes())?;
    let key = rsa::PublicKey::try_from(key).map_err(|_| "is not a valid RSA public key (bad modulus or exponent)")?;
    PublicKey::rsa(&key)
}

/// The size of an RSA modulus (big-endian, no leading zeros), if DKIM takes it.
fn rsa_bits(modulus: &[u8]) -> Result<u32, String> {
    let bits = match modulus.first() {
        Some(first) => u32::try_from(modulus.len()).map_or(u32::MAX, |len| len.saturating_mul(8) - first.leading_zeros()),
        None => 0,
    };
    if (MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        Ok(bits)
    } else {
        Err(format!(
            "is an RSA key of {bits} bits; RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits"
        ))
    }
}

/// The public exponent (big-endian, no leading zeros), if it is 65537: every key made
/// today has it, and a small one (3) invites the attacks of low-exponent RSA on a
/// signature scheme's padding (Bleichenbacher's 2006 forgery).
fn rsa_exponent(exponent: &[u8]) -> Result<(), String> {
    const F4: [u8; 3] = [1, 0, 1];
    if exponent == F4 {
        return Ok(());
    }
    let shown = match exponent {
        [] => "0".to_owned(),
        bytes if bytes.len() <= 8 => bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)).to_string(),
        bytes => format!("of {} bits", bytes.len() * 8),
    };
    Err(format!("has the public exponent {shown}; RSA keys must have the exponent 65537"))
}

/// Names the key types people hand in by mistake, so the error says what was given.
fn key_kind(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10045.2.1" => unsupported("an EC"),
        "1.2.840.113549.1.1.10" => "is an RSA-PSS key; DKIM signs with plain RSA (rsaEncryption) or Ed25519 keys".into(),
        "1.2.840.10040.4.1" => unsupported("a DSA"),
        "1.3.101.110" => unsupported("an X25519"),
        "1.3.101.111" => unsupported("an X448"),
        "1.3.101.113" => unsupported("an Ed448"),
        "1.2.840.113549.1.3.1" | "1.2.840.10046.2.1" => unsupported("a Diffie-Hellman"),
        other => format!("is a key of an unknown type (algorithm {other}); only RSA and Ed25519 keys sign DKIM"),
    }
}

fn unsupported(kind: &str) -> String {
    format!("is {kind} key; only RSA and Ed25519 keys sign DKIM")
}

/// The rsa crate draws from a rand_core source; this one is the system source aws-lc-rs uses.
struct SystemRng;

impl rsa::rand_core::TryRng for SystemRng {
    type Error = aws_lc_rs::error::Unspecified;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut bytes = [0; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut bytes = [0; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        aws_lc_rs::rand::fill(dst)
    }
}

impl rsa::rand_core::TryCryptoRng for SystemRng {}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
    use rsa::pkcs1::der::Encode;
    use rsa::pkcs1::der::asn1::UintRef;
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey, RsaPrivateKey};
    use rsa::pkcs8::{DecodePrivateKey, LineEnding};

    use super::*;

    const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

    // Keys are made at test time and shared: no key material in the repository, and one slow 4096-bit key.
    fn rsa_1024() -> &'static rsa::PrivateKey {
        static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
        // aws-lc-rs generates 2048 bits and up only.
        KEY.get_or_init(|| rsa::PrivateKey::new(&mut SystemRng, 1024).unwrap())
    }

    fn rsa_2048() -> &'static rsa::PrivateKey {
        static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| aws_lc_rsa(KeySize::Rsa2048))
    }

    fn rsa_4096() -> &'static rsa::PrivateKey {
        static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| aws_lc_rsa(KeySize::Rsa4096))
    }

    fn aws_lc_rsa(size: KeySize) -> rsa::PrivateKey {
        let pkcs8 = RsaKeyPair::generate(size).unwrap().as_der().unwrap();
        rsa::PrivateKey::from_pkcs8_der(pkcs8.as_ref()).unwrap()
    }

    fn pem(label: &str, der: &[u8]) -> String {
        rsa::pkcs8::der::pem::encode_string(label, LineEnding::LF, der).unwrap()
    }

    fn pkcs1_pem(key: &rsa::PrivateKey) -> String {
        key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string()
    }

    fn pkcs8_pem(key: &rsa::PrivateKey) -> String {
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    }

    fn spki_base64(key: &rsa::PrivateKey) -> String {
        BASE64.encode(key.to_public_key().to_public_key_der().unwrap().as_bytes())
    }

    fn pkcs1_public_der(key: &rsa::PrivateKey) -> Vec<u8> {
        key.to_public_key().to_pkcs1_der().unwrap().as_bytes().to_vec()
    }

    /// An Ed25519 PKCS#8 document (v1 or v2) and the base64 of its raw public key.
    fn ed25519(v2: bool) -> (Vec<u8>, String) {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let der = if v2 {
            pkcs8.as_ref().to_vec()
        } else {
            pair.to_pkcs8v1().unwrap().as_ref().to_vec()
        };
        (der, BASE64.encode(pair.public_key().as_ref()))
    }

    /// A PKCS#1 private key whose every number is 0xC1 repeated: well-formed DER of any modulus size,
    /// for the checks that come before the numbers are used.
    fn pkcs1_filled(modulus_bytes: usize) -> Vec<u8> {
        pkcs1_filled_with_exponent(modulus_bytes, &[1, 0, 1])
    }

    fn pkcs1_filled_with_exponent(modulus_bytes: usize, exponent: &[u8]) -> Vec<u8> {
        let number = vec![0xC1; modulus_bytes];
        let number = UintRef::new(&number).unwrap();
        let key = RsaPrivateKey {
            modulus: number,
            public_exponent: UintRef::new(exponent).unwrap(),
            private_exponent: number,
            prime1: number,
            prime2: number,
            exponent1: number,
            exponent2: number,
            coefficient: number,
            other_prime_infos: None,
        };
        key.to_der().unwrap()
    }

    /// A SubjectPublicKeyInfo without algorithm parameters, as Ed25519 and RSA-PSS keys have.
    fn spki(oid: ObjectIdentifier, key: &[u8]) -> Vec<u8> {
        SubjectPublicKeyInfoRef {
            algorithm: rsa::pkcs8::AlgorithmIdentifierRef { oid, parameters: None },
            subject_public_key: rsa::pkcs8::der::asn1::BitStringRef::from_bytes(key).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    fn rsa_public_filled(modulus_bytes: usize) -> Vec<u8> {
        rsa_public_filled_with_exponent(modulus_bytes, &[1, 0, 1])
    }

    fn rsa_public_filled_with_exponent(modulus_bytes: usize, exponent: &[u8]) -> Vec<u8> {
        let modulus = vec![0xC1; modulus_bytes];
        RsaPublicKeyRef {
            modulus: UintRef::new(&modulus).unwrap(),
            public_exponent: UintRef::new(exponent).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    fn private_error(private_pem: &str) -> String {
        let error = DkimKeyPair::from_pem(private_pem, "not reached").unwrap_err();
        assert_eq!(error.field(), "privateKey", "{error}");
        error.to_string()
    }

    fn public_error(public_key: &str) -> String {
        let error = PublicKey::parse(public_key).unwrap_err();
        assert_eq!(error.field(), "publicKey", "{error}");
        error.to_string()
    }

    #[test]
    fn rsa_keys_of_every_size_are_taken_as_pkcs1_and_pkcs8() {
        for (key, bits) in [(rsa_1024(), 1024), (rsa_2048(), 2048), (rsa_4096(), 4096)] {
            let expected_pkcs8 = key.to_pkcs8_der().unwrap();
            for private_pem in [pkcs1_pem(key), pkcs8_pem(key)] {
                let pair = DkimKeyPair::from_pem(&private_pem, &spki_base64(key)).unwrap();
                assert_eq!(pair.algorithm(), Algorithm::RsaSha256);
                assert_eq!(pair.bits(), bits);
                assert_eq!(pair.public_key().p_value(), spki_base64(key));
                assert_eq!(
                    pair.private_pkcs8().expose_secret(),
                    expected_pkcs8.as_bytes(),
                    "normalized to PKCS#8"
                );
                if bits >= MIN_AWS_LC_RSA_BITS {
                    RsaKeyPair::from_pkcs8(pair.private_pkcs8().expose_secret()).unwrap();
                }
            }
        }
    }

    #[test]
    fn pem_is_taken_with_crlf_surrounding_text_and_any_line_width() {
        let key = rsa_2048();
        let crlf = format!("\r\n  {}\r\n\n", pkcs1_pem(key).replace('\n', "\r\n"));
        let bundle = format!("Bag Attributes\n    localKeyID: 01\n{}", pkcs8_pem(key));
        let body = BASE64.encode(key.to_pkcs8_der().unwrap().as_bytes());
        let one_line = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----");
        for private_pem in [crlf, bundle, one_line] {
            assert_eq!(DkimKeyPair::from_pem(&private_pem, &spki_base64(key)).unwrap().bits(), 2048);
        }
    }

    #[test]
    fn the_p_value_is_the_spki_aws_lc_rs_derives() {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let private_pem = pem("PRIVATE KEY", pair.as_der().unwrap().as_ref());
        let spki = BASE64.encode(pair.public_key().as_der().unwrap().as_ref());
        assert_eq!(DkimKeyPair::from_pem(&private_pem, &spki).unwrap().public_key().p_value(), spki);
    }

    #[test]
    fn ed25519_keys_are_taken_as_pkcs8_v1_and_v2() {
        for v2 in [false, true] {
            let (der, raw_public) = ed25519(v2);
            let pair = DkimKeyPair::from_pem(&pem("PRIVATE KEY", &der), &raw_public).unwrap();
            assert_eq!(pair.algorithm(), Algorithm::Ed25519Sha256);
            assert_eq!(pair.bits(), 256);
            assert_eq!(pair.public_key().p_value(), raw_public);
            let stored = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pair.private_pkcs8().expose_secret()).unwrap();
            assert_eq!(BASE64.encode(stored.public_key().as_ref()), raw_public);
        }
    }

    #[test]
    fn a_v2_ed25519_key_with_a_foreign_public_key_is_refused() {
        let (mut der, _) = ed25519(true);
        // The v2 document ends with the public key.
        *der.last_mut().unwrap() ^= 1;
        assert!(private_error(&pem("PRIVATE KEY", &der)).starts_with("is not a valid Ed25519 private key"));
    }

    #[test]
    fn rsa_public_keys_are_taken_in_every_form() {
        let key = rsa_2048();
        let spki = spki_base64(key);
        let pkcs1 = BASE64.encode(pkcs1_public_der(key));
        let (head, tail) = spki.split_at(200);
        let forms = [
            spki.clone(),
            spki.trim_end_matches('=').to_owned(),
            pkcs1.clone(),
            key.to_public_key().to_public_key_pem(LineEnding::CRLF).unwrap(),
            key.to_public_key().to_pkcs1_pem(LineEnding::LF).unwrap(),
            format!("v=DKIM1; k=rsa; p={spki}"),
            format!("v=DKIM1; p={pkcs1};"),
            format!("\"v=DKIM1; k=rsa; \"\n  \"p={head}\" \"{tail}\""),
            format!("\"v=DKIM1\\; k=rsa\\; p={head}\"\r\n\t\"{tail}\""),
            format!("  {head}\n{tail}\n"),
        ];
        for form in forms {
            let public = PublicKey::parse(&form).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(public.algorithm(), Algorithm::RsaSha256);
            assert_eq!(public.p_value(), spki, "{form}");
        }
    }

    #[test]
    fn ed25519_public_keys_are_taken_in_every_form() {
        let (_, raw) = ed25519(false);
        let spki = spki(ED25519, &BASE64.decode(&raw).unwrap());
        let forms = [
            raw.clone(),
            BASE64.encode(&spki),
            pem("PUBLIC KEY", &spki),
            format!("v=DKIM1; k=ed25519; p={raw}"),
            format!("\"v=DKIM1; k=ed25519; \" \"p={raw}\""),
        ];
        for form in forms {
            let public = PublicKey::parse(&form).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(public.algorithm(), Algorithm::Ed25519Sha256);
            assert_eq!(public.p_value(), raw, "{form}");
        }
    }

    #[test]
    fn txt_records_name_the_key_type() {
        let rsa = PublicKey::parse(&spki_base64(rsa_2048())).unwrap();
        assert_eq!(rsa.txt_record(), format!("v=DKIM1; k=rsa; p={}", spki_base64(rsa_2048())));
        let (_, raw) = ed25519(false);
        assert_eq!(PublicKey::parse(&raw).unwrap().txt_record(), format!("v=DKIM1; k=ed25519; p={raw}"));
        // What we show to publish reads back as the same key.
        assert_eq!(PublicKey::parse(&rsa.txt_record()).unwrap(), rsa);
    }

    #[test]
    fn private_keys_are_refused_with_the_reason() {
        let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let ec_pkcs8 = pem("PRIVATE KEY", ec.to_pkcs8v1().unwrap().as_ref());
        let ec_sec1 = pem("EC PRIVATE KEY", ec.private_key().as_der().unwrap().as_ref());
        let legacy_encrypted = pkcs1_pem(rsa_1024()).replacen(
            "-----\n",
            "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n",
            1,
        );
        let encrypted = pem("ENCRYPTED PRIVATE KEY", &rsa_1024().to_pkcs8_der().unwrap().as_bytes()[..100]);
        let public_pem = rsa_2048().to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
        let pkcs1 = rsa_1024().to_pkcs1_der().unwrap();
        let mut inconsistent = RsaPrivateKeyRef::from_der(pkcs1.as_bytes()).unwrap();
        inconsistent.private_exponent = inconsistent.prime1;
        let two_keys = format!("{}{}", pkcs8_pem(rsa_1024()), pkcs8_pem(rsa_1024()));
        let cases = [
            ("", "is empty"),
            ("  \n", "is empty"),
            ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "is not a PEM private key"),
            (&legacy_encrypted, "is encrypted; give it unencrypted"),
            (&encrypted, "is encrypted; give it unencrypted"),
            (&ec_pkcs8, "is an EC key; only RSA and Ed25519 keys sign DKIM"),
            (&ec_sec1, "is an EC key; only RSA and Ed25519 keys sign DKIM"),
            (&public_pem, "is a public key; give the private key"),
            (&pem("PRIVATE KEY", b"not DER"), "is not a valid PKCS#8 private key (malformed DER)"),
            (
                &pem("RSA PRIVATE KEY", b"not DER"),
                "is not a valid RSA private key (malformed DER)",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\n%%%%\n-----END PRIVATE KEY-----",
                "is not valid PEM: its body is not base64",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nMIIE\n",
                "is not valid PEM: no END line matches its BEGIN line",
            ),
            (
                &pem("RSA PRIVATE KEY", &pkcs1_filled(64)),
                "is an RSA key of 512 bits; RSA keys must have 1024 to 4096 bits",
            ),
            (
                &pem("RSA PRIVATE KEY", &pkcs1_filled(1024)),
                "is an RSA key of 8192 bits; RSA keys must have 1024 to 4096 bits",
            ),
            (
                &pem("RSA PRIVATE KEY", &pkcs1_filled_with_exponent(256, &[3])),
                "has the public exponent 3; RSA keys must have the exponent 65537",
            ),
            (
                &pem("RSA PRIVATE KEY", &pkcs1_filled_with_exponent(256, &[1, 0, 0, 0, 1])),
                "has the public exponent 4294967297; RSA keys must have the exponent 65537",
            ),
            (
                &pem("RSA PRIVATE KEY", &inconsistent.to_der().unwrap()),
                "is not a consistent RSA key: its numbers do not fit together",
            ),
            (&two_keys, "holds more than one private key; give one"),
            (&pem("CERTIFICATE", b"any"), "is a certificate; give the private key"),
            (
                &pem("OPENSSH PRIVATE KEY", b"any"),
                "is an OpenSSH key; give it as PEM (PKCS#1 or PKCS#8)",
            ),
        ];
        for (private_pem, reason) in cases {
            assert_eq!(private_error(private_pem), reason, "{private_pem}");
        }
    }

    #[test]
    fn public_keys_are_refused_with_the_reason() {
        let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let ec_spki = BASE64.encode(ec.public_key().as_der().unwrap().as_ref());
        let rsa = spki_base64(rsa_2048());
        let (ed25519_der, ed25519_raw) = ed25519(false);
        let cases = [
            (String::new(), "is empty".to_owned()),
            ("%%%".into(), "is not base64, PEM or a DKIM TXT record".into()),
            (
                BASE64.encode([7; 40]),
                "is not a public key: neither SubjectPublicKeyInfo, an RSA public key nor a 32-byte Ed25519 key".into(),
            ),
            (ec_spki, "is an EC key; only RSA and Ed25519 keys sign DKIM".into()),
            (
                BASE64.encode(rsa_public_filled(64)),
                "is an RSA key of 512 bits; RSA keys must have 1024 to 4096 bits".into(),
            ),
            (
                BASE64.encode(rsa_public_filled(1024)),
                "is an RSA key of 8192 bits; RSA keys must have 1024 to 4096 bits".into(),
            ),
            (
                BASE64.encode(rsa_public_filled_with_exponent(256, &[3])),
                "has the public exponent 3; RSA keys must have the exponent 65537".into(),
            ),
            (
                BASE64.encode(rsa_public_filled_with_exponent(256, &[17])),
                "has the public exponent 17; RSA keys must have the exponent 65537".into(),
            ),
            (
                format!(
                    "v=DKIM1; k=rsa; p={}",
                    BASE64.encode(rsa_public_filled_with_exponent(512, &[0xC1; 16]))
                ),
                "has the public exponent of 128 bits; RSA keys must have the exponent 65537".into(),
            ),
            (BASE64.encode(&ed25519_der), "is a private key; give the public key".into()),
            (pkcs8_pem(rsa_1024()), "is a private key; give the public key".into()),
            ("v=DKIM1; k=rsa; p=".into(), "has an empty p=, which revokes the key".into()),
            ("v=DKIM1; k=rsa".into(), "is not a DKIM key record: it has no p=".into()),
            (format!("v=DKIM2; p={rsa}"), "is not a DKIM key record: v= must be DKIM1".into()),
            (format!("k=ec; p={rsa}"), "has a k= other than rsa or ed25519".into()),
            (format!("p={rsa}; p={rsa}"), "is not a DKIM key record: it has p= twice".into()),
            ("v=DKIM1; k=rsa; p=%%%".into(), "has a p= that is not base64".into()),
            (
                format!("v=DKIM1; p={ed25519_raw}"),
                "says k=rsa (the default without k=) but p= holds an Ed25519 key".into(),
            ),
            (format!("k=ed25519; p={rsa}"), "says k=ed25519 but p= holds an RSA key".into()),
            (
                format!("k=ed25519; p={}", BASE64.encode([1; 31])),
                "has a 31-byte p=; an Ed25519 key is 32 bytes".into(),
            ),
            (
                BASE64.encode(spki(ED25519, &[1; 31])),
                "is a 31-byte Ed25519 key; Ed25519 keys are 32 bytes".into(),
            ),
            (
                BASE64.encode(spki(RSA_PSS, &pkcs1_public_der(rsa_2048()))),
                "is an RSA-PSS key; DKIM signs with plain RSA (rsaEncryption) or Ed25519 keys".into(),
            ),
            (pem("CERTIFICATE", b"any"), "is a certificate; give its public key".into()),
        ];
        for (public_key, reason) in cases {
            assert_eq!(public_error(&public_key), reason, "{public_key}");
        }
    }

    #[test]
    fn keys_of_different_pairs_do_not_match() {
        let other_rsa = DkimKeyPair::generate(Algorithm::RsaSha256).unwrap();
        let (ed25519_der, ed25519_raw) = ed25519(false);
        let (_, other_ed25519_raw) = ed25519(false);
        let ed25519_pem = pem("PRIVATE KEY", &ed25519_der);
        let cases = [
            (pkcs8_pem(rsa_2048()), other_rsa.public_key().p_value().to_owned()),
            (pkcs1_pem(rsa_1024()), spki_base64(rsa_2048())),
            (pkcs8_pem(rsa_2048()), ed25519_raw),
            (ed25519_pem.clone(), other_ed25519_raw),
            (ed25519_pem, spki_base64(rsa_2048())),
        ];
        for (private_pem, public_key) in cases {
            let error = DkimKeyPair::from_pem(&private_pem, &public_key).unwrap_err();
            assert_eq!(error, KeyError::Mismatch);
            assert_eq!(error.field(), "publicKey");
            assert_eq!(error.to_string(), "does not match the private key");
        }
    }

    #[test]
    fn debug_shows_no_private_key() {
        for algorithm in [Algorithm::RsaSha256, Algorithm::Ed25519Sha256] {
            let pair = DkimKeyPair::generate(algorithm).unwrap();
            let debug = format!("{pair:?}");
            assert!(debug.contains("[redacted]"));
            assert!(debug.contains(pair.public_key().p_value()));
            assert!(!debug.contains(&BASE64.encode(pair.private_pkcs8().expose_secret())));
            let private_pem = pair.private_pem();
            for line in private_pem.expose_secret().lines().filter(|line| !line.starts_with("-----")) {
                assert!(!debug.contains(line), "{algorithm:?} leaks a PEM line");
            }
        }
    }

    #[test]
    fn generated_pairs_round_trip_through_the_api() {
        for (algorithm, bits) in [(Algorithm::RsaSha256, 2048), (Algorithm::Ed25519Sha256, 256)] {
            let pair = DkimKeyPair::generate(algorithm).unwrap();
            let private_pem = pair.private_pem();
            assert!(private_pem.expose_secret().starts_with("-----BEGIN PRIVATE KEY-----\n"));
            assert!(private_pem.expose_secret().lines().all(|line| line.len() <= 64));
            for public_key in [pair.public_key().p_value().to_owned(), pair.public_key().txt_record()] {
                let again = DkimKeyPair::from_pem(private_pem.expose_secret(), &public_key).unwrap();
                assert_eq!((again.algorithm(), again.bits()), (algorithm, bits));
                assert_eq!(again.public_key(), pair.public_key());
                assert_eq!(again.private_pkcs8().expose_secret(), pair.private_pkcs8().expose_secret());
            }
        }
    }

    #[test]
    fn errors_name_their_field() {
        assert_eq!(KeyError::PrivateKey("x".into()).field(), "privateKey");
        assert_eq!(KeyError::Random("x".into()).field(), "privateKey");
        assert_eq!(KeyError::PublicKey("x".into()).field(), "publicKey");
        assert_eq!(KeyError::Random("x".into()).to_string(), "no random source: x");
    }
}
