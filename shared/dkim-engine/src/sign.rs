//! Signing keys and DKIM-Signature fields: RFC 6376 rsa-sha256 and RFC 8463
//! ed25519-sha256, always `c=relaxed/relaxed`.

use std::fmt;

use aws_lc_rs::digest::{Digest as LcDigest, SHA256};
use aws_lc_rs::signature::{Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use memchr::memchr;
use rsa::Pkcs1v15Sign;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest as _, Sha256};

use crate::Algorithm;
use crate::canon;
use crate::header_set::{FROM, HeaderSet, RECOMMENDED};
use crate::message::Message;

/// A private key that signs DKIM signatures; shareable between threads.
pub struct SigningKey {
    signer: Signer,
}

/// The library object that signs with the key.
enum Signer {
    Rsa(RsaKeyPair),
    /// RSA of 1024 to 2047 bits, which aws-lc-rs refuses to sign with: legacy keys
    /// customers still publish, signed by the rsa crate (about ten times slower).
    LegacyRsa(Box<rsa::PrivateKey>),
    Ed25519(Ed25519KeyPair),
}

/// The smallest RSA key that signs (RFC 8301: verifiers may refuse smaller ones).
const MIN_RSA_BITS: usize = 1024;

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is a secret: the algorithm only.
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

/// Why bytes are not a usable signing key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a usable DKIM signing key: {reason}")]
pub struct InvalidKey {
    reason: &'static str,
}

/// Why a signature could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    #[error(
        "signing domain {domain:?} is not a domain name: dot-separated labels of ASCII letters, digits, hyphens \
         and underscores, each at most 63 characters (an internationalized domain goes in its punycode form)"
    )]
    InvalidDomain { domain: String },
    #[error(
        "selector {selector:?} is not a valid selector: dot-separated labels of ASCII letters, digits, hyphens \
         and underscores, each at most 63 characters"
    )]
    InvalidSelector { selector: String },
    #[error("{name:?} is not a header field name: a name is printable ASCII characters, without spaces or colons")]
    InvalidHeaderName { name: String },
    #[error("signature timestamp {timestamp} is before 1970")]
    InvalidTimestamp { timestamp: i64 },
    #[error("the signing key failed to sign")]
    Crypto,
}

/// What one signature covers and says.
#[derive(Debug, Clone, Copy)]
pub struct SignatureSpec<'a> {
    /// The signing domain, `d=`.
    pub domain: &'a str,
    /// The selector, `s=`: the key's record is `<selector>._domainkey.<domain>`.
    pub selector: &'a str,
    /// The signing time, `t=`, in Unix seconds.
    pub timestamp: i64,
    pub headers: HeaderSet<'a>,
}

/// Folded lines of the generated field stay within this many characters (RFC 5322 asks for 78).
const LINE: usize = 76;

impl SigningKey {
    /// Reads an unencrypted PKCS#8 DER private key: RSA of 1024 to 8192 bits, or
    /// Ed25519 (PKCS#8 v1 or v2).
    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, InvalidKey> {
        let rsa = match RsaKeyPair::from_pkcs8(der) {
            Ok(pair) => return Ok(SigningKey { signer: Signer::Rsa(pair) }),
            Err(rejected) => rejected.description_(),
        };
        if rsa == "TooSmall"
            && let Ok(key) = rsa::PrivateKey::from_pkcs8_der(der)
            && key.size() * 8 >= MIN_RSA_BITS
            && key.validate().is_ok()
        {
            return Ok(SigningKey {
                signer: Signer::LegacyRsa(Box::new(key)),
            });
        }
        let ed25519 = match Ed25519KeyPair::from_pkcs8(der) {
            Ok(pair) => {
                return Ok(SigningKey {
                    signer: Signer::Ed25519(pair),
                });
            }
            Err(rejected) => rejected.description_(),
        };
        // The reader that recognized the algorithm knows what is wrong with the key.
        let reason = match if rsa == "WrongAlgorithm" { ed25519 } else { rsa } {
            "WrongAlgorithm" => "the key is neither RSA nor Ed25519",
            "InvalidEncoding" => "the bytes are not an unencrypted PKCS#8 DER private key",
            "TooSmall" => "the RSA key is shorter than 1024 bits",
            "TooLarge" => "the RSA key is longer than 8192 bits",
            "InconsistentComponents" => "the key's public part does not match its private part",
            _ => "the key is malformed",
        };
        Err(InvalidKey { reason })
    }

    /// The signature algorithm, fixed by the key type.
    pub fn algorithm(&self) -> Algorithm {
        match self.signer {
            Signer::Rsa(_) | Signer::LegacyRsa(_) => Algorithm::RsaSha256,
            Signer::Ed25519(_) => Algorithm::Ed25519Sha256,
        }
    }

    /// The signature's length in bytes.
    fn signature_len(&self) -> usize {
        match &self.signer {
            Signer::Rsa(pair) => pair.public_modulus_len(),
            Signer::LegacyRsa(key) => key.size(),
            Signer::Ed25519(_) => 64,
        }
    }

    /// Signs the SHA-256 `digest` of the canonical header data: PKCS#1 v1.5 for RSA,
    /// pure Ed25519 over the digest for Ed25519 (RFC 8463).
    fn sign_digest(&self, digest: [u8; 32]) -> Result<Vec<u8>, SignError> {
        match &self.signer {
            Signer::Rsa(pair) => {
                let digest = LcDigest::import_less_safe(&digest, &SHA256).map_err(|_| SignError::Crypto)?;
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign_digest(&RSA_PKCS1_SHA256, &digest, &mut signature)
                    .map_err(|_| SignError::Crypto)?;
                Ok(signature)
            }
            Signer::LegacyRsa(key) => key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).map_err(|_| SignError::Crypto),
            Signer::Ed25519(pair) => Ok(pair.try_sign(&digest).map_err(|_| SignError::Crypto)?.as_ref().to_vec()),
        }
    }
}

impl Message<'_> {
    /// One DKIM-Signature header field, folded, ending in CRLF, ready to prepend.
    pub fn sign(&self, key: &SigningKey, spec: &SignatureSpec<'_>) -> Result<String, SignError> {
        signature_field(self, key, spec)
    }
}

/// Builds one DKIM-Signature field for `message`: see `Message::sign`.
fn signature_field(message: &Message<'_>, key: &SigningKey, spec: &SignatureSpec<'_>) -> Result<String, SignError> {
    check(spec)?;
    let signature_len = key.signature_len();
    let mut digits = [0u8; 20];
    let mut field = Folder::new(512 + signature_len * 2);
    field.push(b"DKIM-Signature: v=1; a=");
    field.push(key.algorithm().tag().as_bytes());
    field.push(b"; c=relaxed/relaxed;");
    field.tag("d", spec.domain);
    field.tag("s", spec.selector);
    field.tag("t", decimal(spec.timestamp.unsigned_abs(), &mut digits));

    // One walk up from the bottom field gives h= and the canonical header data: each
    // name's instances are then listed bottom-up, as verifiers take them (RFC 6376
    // 5.4.2). From once more at the end, so that no From can be added. (Typical
    // signed data fits 1000 bytes; under 1 KiB the allocator is fastest.)
    let mut data = Vec::with_capacity(1000);
    for header in message.fields().iter().rev() {
        if spec.headers.covers(header.name, header.recommended) {
            field.list_item("h", header.name, header.recommended);
            canon::relaxed_header(header.name, header.value, header.folded, &mut data);
        }
    }
    field.list_item("h", b"from", Some(FROM));
    field.push_byte(b';');

    let body_hash = message.body_hash().digest;
    field.open("bh", body_hash.len().div_ceil(3) * 4 + 1);
    field.base64_value(&body_hash, ";");
    field.open("b", signature_len.div_ceil(3) * 4);
    // The field as sent with an empty b= closes the signed data, without its CRLF.
    field.push_relaxed(&mut data);
    let signature = key.sign_digest(Sha256::digest(&data).into())?;
    field.base64_value(&signature, "");
    field.push(b"\r\n");
    Ok(field.into_string())
}

fn check(spec: &SignatureSpec<'_>) -> Result<(), SignError> {
    if !is_dns_name(spec.domain) {
        return Err(SignError::InvalidDomain {
            domain: spec.domain.to_owned(),
        });
    }
    if !is_dns_name(spec.selector) {
        return Err(SignError::InvalidSelector {
            selector: spec.selector.to_owned(),
        });
    }
    if spec.timestamp < 0 {
        return Err(SignError::InvalidTimestamp { timestamp: spec.timestamp });
    }
    if let HeaderSet::Listed(names) = spec.headers
        && let Some(name) = names.iter().find(|name| !is_field_name(name))
    {
        return Err(SignError::InvalidHeaderName { name: name.clone() });
    }
    Ok(())
}

fn is_dns_name(name: &str) -> bool {
    let label_ok = |label: &[u8]| {
        (1..=63).contains(&label.len())
            && label.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && label[0] != b'-'
            && label[label.len() - 1] != b'-'
    };
    name.len() <= 253 && name.as_bytes().split(|&b| b == b'.').all(label_ok)
}

fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (b'!'..=b'~').contains(&b) && b != b':')
}

fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[start..]).expect("ASCII digits")
}

/// Writes the field, folding with CRLF TAB so that lines stay within `LINE` characters.
struct Folder {
    /// ASCII only: field names, tag values and base64.
    text: Vec<u8>,
    line: usize,
    /// Whether a list tag is open (its first item written).
    in_list: bool,
}

impl Folder {
    fn new(capacity: usize) -> Folder {
        Folder {
            text: Vec::with_capacity(capacity),
            line: 0,
            in_list: false,
        }
    }

    fn push(&mut self, s: &[u8]) {
        self.text.extend_from_slice(s);
        self.line += s.len();
    }

    fn push_byte(&mut self, b: u8) {
        self.text.push(b);
        self.line += 1;
    }

    fn fold(&mut self) {
        self.text.extend_from_slice(b"\r\n\t");
        self.line = 1;
    }

    /// Starts a tag whose rest takes `len` characters: after a space, or on a new line.
    fn open(&mut self, tag: &str, len: usize) {
        if self.line + 1 + tag.len() + 1 + len > LINE {
            self.fold();
        } else {
            self.push_byte(b' ');
        }
        self.push(tag.as_bytes());
        self.push_byte(b'=');
    }

    /// ` tag=value;`
    fn tag(&mut self, tag: &str, value: &str) {
        self.open(tag, value.len() + 1);
        self.push(value.as_bytes());
        self.push_byte(b';');
    }

    /// One name of a colon-separated list, lowercased (the recommended spelling when
    /// `recommended` gives it); the first opens the tag, and lines fold after colons.
    /// The caller closes the list with ';'.
    fn list_item(&mut self, tag: &str, name: &[u8], recommended: Option<u8>) {
        if self.in_list {
            self.push_byte(b':');
            if self.line + name.len() + 1 > LINE {
                self.fold();
            }
        } else {
            self.open(tag, name.len() + 1);
            self.in_list = true;
        }
        match recommended {
            Some(index) => self.push(RECOMMENDED[usize::from(index)].as_bytes()),
            None => {
                let start = self.text.len();
                self.push(name);
                self.text[start..].make_ascii_lowercase();
            }
        }
    }

    /// Continues an opened tag with `bytes` in base64 and then `end`, filling each
    /// line with whole base64 groups.
    fn base64_value(&mut self, bytes: &[u8], end: &str) {
        let mut rest = bytes;
        loop {
            let room = LINE.saturating_sub(self.line);
            // Whole groups only, so that padding can only come last; and the last group
            // goes to the next line with `end` if `end` does not fit after it.
            let take = if rest.len().div_ceil(3) * 4 + end.len() <= room {
                rest.len()
            } else {
                (room / 4 * 3).min(rest.len().saturating_sub(1) / 3 * 3)
            };
            let start = self.text.len();
            self.text.resize(start + take.div_ceil(3) * 4, 0);
            let len = STANDARD
                .encode_slice(&rest[..take], &mut self.text[start..])
                .expect("sized for the base64 of what is taken");
            self.line += len;
            rest = &rest[take..];
            if rest.is_empty() {
                self.push(end.as_bytes());
                return;
            }
            self.fold();
        }
    }

    /// Appends the field written so far in relaxed form, without a final CRLF. The
    /// text has single spaces and no white space at line ends, so relaxed
    /// canonicalization only lowercases the name, drops the space after the colon and
    /// makes each fold one space.
    fn push_relaxed(&self, out: &mut Vec<u8>) {
        const NAME: &[u8] = b"DKIM-Signature: ";
        out.extend_from_slice(b"dkim-signature:");
        let mut rest = &self.text[NAME.len()..];
        while let Some(fold) = memchr(b'\r', rest) {
            out.extend_from_slice(&rest[..fold]);
            out.push(b' ');
            rest = &rest[fold + 3..];
        }
        out.extend_from_slice(rest);
    }

    /// The field text, which is ASCII.
    fn into_string(self) -> String {
        String::from_utf8(self.text).expect("the field is ASCII")
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ED25519, KeyPair as _, UnparsedPublicKey};

    use super::*;

    fn ed25519() -> (SigningKey, Vec<u8>) {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let public = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap().public_key().as_ref().to_vec();
        (SigningKey::from_pkcs8(pkcs8.as_ref()).unwrap(), public)
    }

    fn spec(headers: HeaderSet<'_>) -> SignatureSpec<'_> {
        SignatureSpec {
            domain: "example.com",
            selector: "s1",
            timestamp: 1_767_225_600,
            headers,
        }
    }

    /// The tags of a field, unfolded, values without white space.
    fn tags(field: &str) -> Vec<(String, String)> {
        let value = field.strip_prefix("DKIM-Signature:").unwrap();
        value
            .split(';')
            .filter(|tag| !tag.trim().is_empty())
            .map(|tag| {
                let (name, value) = tag.split_once('=').unwrap();
                (name.trim().to_owned(), value.chars().filter(|c| !c.is_ascii_whitespace()).collect())
            })
            .collect()
    }

    fn tag(field: &str, name: &str) -> String {
        tags(field)
            .into_iter()
            .find(|(tag, _)| tag == name)
            .map(|(_, value)| value)
            .unwrap()
    }

    const MESSAGE: &[u8] = b"Received: from a by b\r\nFrom: a@example.com\r\nTo: b@example.org\r\nSubject: one\r\n\
        X-Other: not signed\r\nTo: c@example.org\r\nsubject: two\r\nReceived: from b by c\r\n\r\nBody\r\n";

    #[test]
    fn recommended_headers_every_instance_and_from_once_more() {
        let message = Message::parse(MESSAGE).unwrap();
        let field = message.sign(&ed25519().0, &spec(HeaderSet::Recommended)).unwrap();
        assert_eq!(tag(&field, "h"), "subject:to:subject:to:from:from");
        let names: Vec<String> = tags(&field).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["v", "a", "c", "d", "s", "t", "h", "bh", "b"]);
        assert_eq!(tag(&field, "v"), "1");
        assert_eq!(tag(&field, "a"), "ed25519-sha256");
        assert_eq!(tag(&field, "c"), "relaxed/relaxed");
        assert_eq!(tag(&field, "d"), "example.com");
        assert_eq!(tag(&field, "s"), "s1");
        assert_eq!(tag(&field, "t"), "1767225600");
        assert_eq!(tag(&field, "bh"), STANDARD.encode(Sha256::digest(b"Body\r\n")));
    }

    #[test]
    fn listed_headers_are_signed_once_each_whatever_their_case() {
        let message = Message::parse(MESSAGE).unwrap();
        let listed: Vec<String> = ["X-OTHER", "Subject", "received", "x-other", "List-Id", "FROM"]
            .map(String::from)
            .to_vec();
        let field = message.sign(&ed25519().0, &spec(HeaderSet::Listed(&listed))).unwrap();
        assert_eq!(tag(&field, "h"), "received:subject:x-other:subject:from:received:from");
        let field = message.sign(&ed25519().0, &spec(HeaderSet::Listed(&[]))).unwrap();
        assert_eq!(tag(&field, "h"), "from:from");
    }

    #[test]
    fn instances_are_hashed_bottom_up() {
        // The signature covers the relaxed fields in h= order, each name's instances from the bottom.
        let (key, public) = ed25519();
        let message = Message::parse(MESSAGE).unwrap();
        let field = message.sign(&key, &spec(HeaderSet::Recommended)).unwrap();
        let unsigned = &field[..field.find("b=").unwrap() + 2];
        let mut data = b"subject:two\r\nto:c@example.org\r\nsubject:one\r\nto:b@example.org\r\nfrom:a@example.com\r\n".to_vec();
        canon::relaxed_header(b"DKIM-Signature", &unsigned.as_bytes()[15..], true, &mut data);
        data.truncate(data.len() - 2);
        let signature = STANDARD.decode(tag(&field, "b")).unwrap();
        UnparsedPublicKey::new(&ED25519, public)
            .verify(&Sha256::digest(&data), &signature)
            .unwrap();
    }

    #[test]
    fn long_name_lists_fold_and_the_signature_covers_the_field_as_sent() {
        let (key, public) = ed25519();
        let names: Vec<String> = (0..30).map(|i| format!("X-Long-Header-Name-{i}")).collect();
        let mut raw = b"From: a@example.com\r\n".to_vec();
        for name in &names {
            raw.extend_from_slice(format!("{name}: value {name}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\nBody\r\n");
        let message = Message::parse(&raw).unwrap();
        let field = message.sign(&key, &spec(HeaderSet::Listed(&names))).unwrap();
        assert!(field.split("\r\n").all(|line| line.len() <= LINE), "{field}");
        assert!(
            field.split("\r\n").filter(|line| line.contains("x-long-header-name")).count() > 10,
            "{field}"
        );
        let mut data = Vec::new();
        for name in names.iter().rev() {
            canon::relaxed_header(name.as_bytes(), format!(" value {name}").as_bytes(), false, &mut data);
        }
        canon::relaxed_header(b"From", b" a@example.com", false, &mut data);
        let unsigned = &field[..field.find("b=").unwrap() + 2];
        canon::relaxed_header(b"DKIM-Signature", &unsigned.as_bytes()[15..], true, &mut data);
        data.truncate(data.len() - 2);
        let signature = STANDARD.decode(tag(&field, "b")).unwrap();
        UnparsedPublicKey::new(&ED25519, public)
            .verify(&Sha256::digest(&data), &signature)
            .unwrap();
    }

    #[test]
    fn the_field_is_folded_under_78_characters() {
        let pkcs8 = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa4096).unwrap();
        let rsa = SigningKey::from_pkcs8(aws_lc_rs::encoding::AsDer::as_der(&pkcs8).unwrap().as_ref()).unwrap();
        let message = Message::parse(MESSAGE).unwrap();
        let long: Vec<String> = (0..30).map(|i| format!("X-Long-Header-Name-{i}")).collect();
        for (key, headers) in [(&rsa, HeaderSet::Recommended), (&ed25519().0, HeaderSet::Listed(&long))] {
            let field = message.sign(key, &spec(headers)).unwrap();
            assert!(field.ends_with("\r\n") && !field.ends_with("\r\n\r\n"));
            let lines: Vec<&str> = field.trim_end_matches("\r\n").split("\r\n").collect();
            assert!(lines.len() > 3);
            assert!(lines.iter().all(|line| line.len() <= LINE), "{field}");
            assert!(lines[1..].iter().all(|line| line.starts_with('\t')), "{field}");
            assert_eq!(STANDARD.decode(tag(&field, "b")).unwrap().len(), key.signature_len());
        }
    }

    #[test]
    fn spec_values_are_checked() {
        let message = Message::parse(MESSAGE).unwrap();
        let key = ed25519().0;
        let sign = |spec: SignatureSpec<'_>| message.sign(&key, &spec);
        let base = spec(HeaderSet::Recommended);
        assert_eq!(
            sign(SignatureSpec {
                domain: "exa mple.com",
                ..base
            }),
            Err(SignError::InvalidDomain {
                domain: "exa mple.com".into()
            })
        );
        assert_eq!(
            sign(SignatureSpec {
                domain: "bücher.example",
                ..base
            }),
            Err(SignError::InvalidDomain {
                domain: "bücher.example".into()
            })
        );
        assert_eq!(
            sign(SignatureSpec {
                domain: "example.com.",
                ..base
            }),
            Err(SignError::InvalidDomain {
                domain: "example.com.".into()
            })
        );
        assert_eq!(
            sign(SignatureSpec { selector: "", ..base }),
            Err(SignError::InvalidSelector { selector: String::new() })
        );
        assert_eq!(
            sign(SignatureSpec { selector: "a;b", ..base }),
            Err(SignError::InvalidSelector { selector: "a;b".into() })
        );
        assert_eq!(
            sign(SignatureSpec { timestamp: -1, ..base }),
            Err(SignError::InvalidTimestamp { timestamp: -1 })
        );
        let listed = ["Sub ject".to_owned()];
        assert_eq!(
            sign(spec(HeaderSet::Listed(&listed))),
            Err(SignError::InvalidHeaderName { name: "Sub ject".into() })
        );
        assert!(
            sign(SignatureSpec {
                selector: "2026-01._k1",
                timestamp: 0,
                ..base
            })
            .is_ok()
        );
    }

    #[test]
    fn keys_are_read_or_refused_with_a_reason() {
        let pkcs8_v1 = Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new()).unwrap();
        assert_eq!(
            SigningKey::from_pkcs8(pkcs8_v1.as_ref()).unwrap().algorithm(),
            Algorithm::Ed25519Sha256
        );
        let refused = |der: &[u8]| SigningKey::from_pkcs8(der).unwrap_err().to_string();
        assert_eq!(
            refused(b"not a key"),
            "not a usable DKIM signing key: the bytes are not an unencrypted PKCS#8 DER private key"
        );
        let p256 =
            aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(&aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                .unwrap();
        assert_eq!(
            refused(p256.as_ref()),
            "not a usable DKIM signing key: the key is neither RSA nor Ed25519"
        );
    }

    #[test]
    fn decimal_digits() {
        let mut buf = [0; 20];
        assert_eq!(decimal(0, &mut buf), "0");
        assert_eq!(decimal(1_767_225_600, &mut buf), "1767225600");
        assert_eq!(decimal(u64::MAX, &mut buf), "18446744073709551615");
    }
}
