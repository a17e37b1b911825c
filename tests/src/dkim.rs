//! DKIM request bodies for the tests: keys generated once per test process, never shipped.

use std::sync::OnceLock;

use dkim_engine::Algorithm;
use dkim_engine::key::DkimKeyPair;
use serde_json::{Value, json};

use crate::TestApp;
use shared::domain::secret::ExposeSecret;

/// A message the signing tests send: From acme.test, To gmail.com (which has the demo FBL).
pub const SAMPLE_MESSAGE: &str = "From: Acme News <news@acme.test>\r\nTo: someone@gmail.com\r\nSubject: Hello\r\n\
Date: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <hello-1@acme.test>\r\nFeedback-ID: 1:news:acme\r\n\r\nHello, world.\r\n";

/// A key pair of `algorithm`, generated once per process.
pub fn key_pair(algorithm: Algorithm) -> &'static DkimKeyPair {
    static RSA: OnceLock<DkimKeyPair> = OnceLock::new();
    static ED25519: OnceLock<DkimKeyPair> = OnceLock::new();
    let cell = match algorithm {
        Algorithm::RsaSha256 => &RSA,
        Algorithm::Ed25519Sha256 => &ED25519,
    };
    cell.get_or_init(|| DkimKeyPair::generate(algorithm).expect("a key pair"))
}

/// A `DkimRequest` with a new Ed25519 key for `domain` and `selector`.
pub fn key_body(domain: &str, selector: &str, active: bool) -> Value {
    key_body_of(key_pair(Algorithm::Ed25519Sha256), domain, selector, active)
}

/// A `DkimRequest` with `pair` for `domain` and `selector`.
pub fn key_body_of(pair: &DkimKeyPair, domain: &str, selector: &str, active: bool) -> Value {
    json!({
        "domain": domain,
        "selector": selector,
        "publicKey": pair.public_key().p_value(),
        "privateKey": pair.private_pem().expose_secret(),
        "active": active,
    })
}

/// The `DkimRequest` that keeps `key` (a `Dkim` answer) as it is: null keeps the private key.
pub fn kept_key_body(key: &Value) -> Value {
    json!({
        "domain": key["domain"],
        "selector": key["selector"],
        "publicKey": key["publicKey"],
        "privateKey": null,
        "active": key["active"],
    })
}

/// The base64 DER of an RSA public key of 2048 bits whose public exponent is `exponent`
/// (PKCS#1 `RSAPublicKey`), as a client would paste a key made with a small exponent.
pub fn rsa_public_key_with_exponent(exponent: u8) -> String {
    use base64::Engine;
    // SEQUENCE { INTEGER modulus (a 0 byte, then 256 bytes with the top bit set), INTEGER exponent }
    let mut der = vec![0x30, 0x82, 0x01, 0x08, 0x02, 0x82, 0x01, 0x01, 0x00];
    der.extend([0xC1; 256]);
    der.extend([0x02, 0x01, exponent]);
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// An `FblRequest` for `recipient_domain`, with a new Ed25519 key.
pub fn fbl_body(recipient_domain: &str) -> Value {
    json!({
        "esp": "platform",
        "recipientDomain": recipient_domain,
        "signableHeaders": ["Feedback-ID", "From", "To", "Subject", "Date"],
        "dkim": key_body("fbl.platform.test", "fbl2", true),
    })
}

/// The `FblRequest` that keeps `fbl` (an `Fbl` answer) as it is.
pub fn kept_fbl_body(fbl: &Value) -> Value {
    let mut dkim = kept_key_body(&fbl["dkim"]);
    dkim.as_object_mut().expect("a key").remove("active");
    json!({
        "esp": fbl["esp"],
        "recipientDomain": fbl["recipientDomain"],
        "signableHeaders": fbl["signableHeaders"],
        "dkim": dkim,
    })
}

/// Deactivates, as care, the (first) key of customer `group` for `domain`.
pub async fn deactivate(app: &TestApp, group: i64, domain: &str) {
    let (_, keys) = app.get_as("care", &format!("/v1/customers/{group}/dkims?domain={domain}")).await;
    let key = &keys["elements"][0];
    let mut inactive = kept_key_body(key);
    inactive["active"] = json!(false);
    let (status, answer) = app
        .put_as("care", &format!("/v1/customers/{group}/dkims/{}", key["id"]), &inactive)
        .await;
    assert_eq!(status, 200, "care deactivates {domain}: {answer}");
}
