//! Signing keys and DKIM-Signature fields: RFC 6376 rsa-sha256 and RFC 8463
//! ed25519-sha256, always `c=relaxed/relaxed`.

use std::fmt;

use aws_lc_rs::digest::{Digest as LcDigest, SHA256};
use aws_lc_rs::signature::{Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use super::Algorithm;
use super::canon;
use super::message::{HeaderField, Message};

/// A private key that signs DKIM signatures; shareable between threads.
pub struct SigningKey {
    pair: KeyPair,
}

enum KeyPair {
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

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

/// Which header fields a signature covers: every instance present of each name, and
/// From always, once more than present, so that no From can be added.
#[derive(Debug, Clone, Copy)]
pub enum HeaderSet<'a> {
    /// From, To, Cc, Subject, Date, Message-ID, MIME-Version, Content-Type,
    /// Content-Transfer-Encoding, Reply-To, In-Reply-To, References, List-Unsubscribe,
    /// List-Unsubscribe-Post, Feedback-ID.
    Recommended,
    /// The given names (case-insensitive), e.g. a feedback loop's signable headers.
    Listed(&'a [String]),
}

/// The recommended set, lowercase, From first.
const RECOMMENDED: [&str; 15] = [
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "reply-to",
    "in-reply-to",
    "references",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
];

/// The longest signature: RSA-8192, the largest key aws-lc-rs accepts.
const MAX_SIGNATURE_BYTES: usize = 1024;

/// Folded lines of the generated field stay within this many characters (RFC 5322 asks for 78).
const LINE: usize = 76;

impl SigningKey {
    /// Reads an unencrypted PKCS#8 DER private key: RSA of 2048 to 8192 bits, or
    /// Ed25519 (PKCS#8 v1 or v2).
    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, InvalidKey> {
        let rsa = match RsaKeyPair::from_pkcs8(der) {
            Ok(pair) => return Ok(SigningKey { pair: KeyPair::Rsa(pair) }),
            Err(rejected) => rejected.description_(),
        };
        let ed25519 = match Ed25519KeyPair::from_pkcs8(der) {
            Ok(pair) => {
                return Ok(SigningKey {
                    pair: KeyPair::Ed25519(pair),
                });
            }
            Err(rejected) => rejected.description_(),
        };
        // The reader that recognized the algorithm knows what is wrong with the key.
        let reason = match if rsa == "WrongAlgorithm" { ed25519 } else { rsa } {
            "WrongAlgorithm" => "the key is neither RSA nor Ed25519",
            "InvalidEncoding" => "the bytes are not an unencrypted PKCS#8 DER private key",
            "TooSmall" => "the RSA key is shorter than 2048 bits",
            "TooLarge" => "the RSA key is longer than 8192 bits",
            "InconsistentComponents" => "the key's public part does not match its private part",
            _ => "the key is malformed",
        };
        Err(InvalidKey { reason })
    }

    /// The signature algorithm, fixed by the key type.
    pub fn algorithm(&self) -> Algorithm {
        match self.pair {
            KeyPair::Rsa(_) => Algorithm::RsaSha256,
            KeyPair::Ed25519(_) => Algorithm::Ed25519Sha256,
        }
    }

    /// The signature's length in bytes.
    fn signature_len(&self) -> usize {
        match &self.pair {
            KeyPair::Rsa(pair) => pair.public_modulus_len(),
            KeyPair::Ed25519(_) => 64,
        }
    }

    /// Signs the SHA-256 `digest` of the canonical header data into `out`: PKCS#1 v1.5
    /// for RSA, pure Ed25519 over the digest for Ed25519 (RFC 8463).
    fn sign_digest(&self, digest: [u8; 32], out: &mut [u8]) -> Result<(), SignError> {
        match &self.pair {
            KeyPair::Rsa(pair) => {
                let digest = LcDigest::import_less_safe(&digest, &SHA256).map_err(|_| SignError::Crypto)?;
                pair.sign_digest(&RSA_PKCS1_SHA256, &digest, out).map_err(|_| SignError::Crypto)
            }
            KeyPair::Ed25519(pair) => {
                out.copy_from_slice(pair.try_sign(&digest).map_err(|_| SignError::Crypto)?.as_ref());
                Ok(())
            }
        }
    }
}

/// Builds one DKIM-Signature field for `message`: see `Message::sign`.
pub(super) fn signature_field(message: &Message<'_>, key: &SigningKey, spec: &SignatureSpec<'_>) -> Result<String, SignError> {
    check(spec)?;
    let fields = message.fields();
    // The canonical header data, then h=: both follow the same walk over the names.
    let mut data = Vec::with_capacity(2048);
    let mut h = String::with_capacity(256);
    sign_all(fields, "from", &mut h, &mut data);
    push_name(&mut h, "from");
    match spec.headers {
        HeaderSet::Recommended => {
            for name in &RECOMMENDED[1..] {
                sign_all(fields, name, &mut h, &mut data);
            }
        }
        HeaderSet::Listed(names) => {
            for (i, name) in names.iter().enumerate() {
                let seen = name.eq_ignore_ascii_case("from") || names[..i].iter().any(|earlier| earlier.eq_ignore_ascii_case(name));
                if !seen {
                    sign_all(fields, name, &mut h, &mut data);
                }
            }
        }
    }

    let mut digits = [0u8; 20];
    let signature_len = key.signature_len();
    let mut field = Folder::new(256 + h.len() + signature_len * 2);
    field.push("DKIM-Signature:");
    field.tag("v", "1");
    field.tag("a", key.algorithm().tag());
    field.tag("c", "relaxed/relaxed");
    field.tag("d", spec.domain);
    field.tag("s", spec.selector);
    field.tag("t", decimal(spec.timestamp.unsigned_abs(), &mut digits));
    field.list("h", &h);
    let mut encoded = [0u8; MAX_SIGNATURE_BYTES.div_ceil(3) * 4];
    field.base64_tag("bh", base64(&message.body_hash().digest, &mut encoded), ";");
    field.open("b", base64_len(signature_len));

    // The field as sent with an empty b= closes the signed data, without its CRLF.
    canon::relaxed_header(
        b"DKIM-Signature",
        &field.text.as_bytes()[b"DKIM-Signature:".len()..],
        true,
        &mut data,
    );
    data.truncate(data.len() - 2);
    let mut signature = [0u8; MAX_SIGNATURE_BYTES];
    key.sign_digest(Sha256::digest(&data).into(), &mut signature[..signature_len])?;
    field.base64_value(base64(&signature[..signature_len], &mut encoded), "");
    field.push("\r\n");
    Ok(field.text)
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
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (b'!'..=b'~').contains(&b) && b != b':')
}

/// Signs every instance of `name`, bottom-up (RFC 6376 5.4.2): one h= entry and one
/// canonical field each.
fn sign_all(fields: &[HeaderField<'_>], name: &str, h: &mut String, data: &mut Vec<u8>) {
    for field in fields.iter().rev().filter(|field| field.name.eq_ignore_ascii_case(name.as_bytes())) {
        push_name(h, name);
        canon::relaxed_header(field.name, field.value, field.folded, data);
    }
}

fn push_name(h: &mut String, name: &str) {
    if !h.is_empty() {
        h.push(':');
    }
    h.extend(name.chars().map(|c| c.to_ascii_lowercase()));
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

fn base64_len(bytes: usize) -> usize {
    bytes.div_ceil(3) * 4
}

fn base64<'b>(bytes: &[u8], buf: &'b mut [u8]) -> &'b str {
    let len = STANDARD.encode_slice(bytes, buf).expect("the buffer fits the longest signature");
    std::str::from_utf8(&buf[..len]).expect("base64 is ASCII")
}

/// Writes the field, folding with CRLF TAB so that lines stay within `LINE` characters.
struct Folder {
    text: String,
    line: usize,
}

impl Folder {
    fn new(capacity: usize) -> Folder {
        Folder {
            text: String::with_capacity(capacity),
            line: 0,
        }
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.line += s.len();
    }

    fn fold(&mut self) {
        self.text.push_str("\r\n\t");
        self.line = 1;
    }

    /// Starts a tag whose rest takes `len` characters: after a space, or on a new line.
    fn open(&mut self, tag: &str, len: usize) {
        if self.line + 1 + tag.len() + 1 + len > LINE {
            self.fold();
        } else {
            self.push(" ");
        }
        self.push(tag);
        self.push("=");
    }

    /// ` tag=value;`
    fn tag(&mut self, tag: &str, value: &str) {
        self.open(tag, value.len() + 1);
        self.push(value);
        self.push(";");
    }

    /// A colon-separated list, folded after colons.
    fn list(&mut self, tag: &str, list: &str) {
        let mut items = list.split(':');
        let first = items.next().unwrap_or_default();
        self.open(tag, first.len() + 1);
        self.push(first);
        for item in items {
            self.push(":");
            if self.line + item.len() + 1 > LINE {
                self.fold();
            }
            self.push(item);
        }
        self.push(";");
    }

    /// ` tag=value` then `end`, the value broken across lines if need be.
    fn base64_tag(&mut self, tag: &str, value: &str, end: &str) {
        self.open(tag, value.len() + end.len());
        self.base64_value(value, end);
    }

    /// Continues an opened tag with `value` and `end`, filling each line.
    fn base64_value(&mut self, value: &str, end: &str) {
        let mut rest = value;
        loop {
            let room = LINE.saturating_sub(self.line);
            if rest.len() + end.len() <= room {
                self.push(rest);
                self.push(end);
                return;
            }
            let (line, next) = rest.split_at(room.min(rest.len()));
            self.push(line);
            self.fold();
            rest = next;
        }
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
        assert_eq!(tag(&field, "h"), "from:from:to:to:subject:subject");
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
        assert_eq!(tag(&field, "h"), "from:from:x-other:subject:subject:received:received");
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
        let mut data = b"from:a@example.com\r\nto:c@example.org\r\nto:b@example.org\r\nsubject:two\r\nsubject:one\r\n".to_vec();
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
