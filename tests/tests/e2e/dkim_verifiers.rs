//! Every signature made here is checked by two independent verifiers: mail-auth (Rust)
//! and dkimpy (Python), with DNS answered from memory (`accountcentral_e2e::verifiers`).

use std::sync::OnceLock;

use accountcentral_e2e::verifiers::{Verdicts, verify as verify_records};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dkim_engine::Algorithm;
use dkim_engine::header_set::HeaderSet;
use dkim_engine::key::DkimKeyPair;
use dkim_engine::message::Message;
use dkim_engine::sign::{SignatureSpec, SigningKey};
use shared::domain::secret::ExposeSecret;

const DOMAIN: &str = "example.com";
const TIMESTAMP: i64 = 1_767_225_600;

/// A signing key and the DNS record that publishes it.
struct TestKey {
    key: SigningKey,
    domain: &'static str,
    selector: &'static str,
    record: String,
}

impl TestKey {
    fn rsa(size: KeySize, domain: &'static str, selector: &'static str) -> TestKey {
        let pair = RsaKeyPair::generate(size).expect("RSA key generation");
        let pkcs8 = pair.as_der().expect("PKCS#8 encoding");
        let spki = pair.public_key().as_der().expect("SubjectPublicKeyInfo encoding");
        TestKey {
            key: SigningKey::from_pkcs8(pkcs8.as_ref()).expect("an RSA key"),
            domain,
            selector,
            record: format!("v=DKIM1; k=rsa; p={}", STANDARD.encode(spki.as_ref())),
        }
    }

    fn ed25519(domain: &'static str, selector: &'static str) -> TestKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("Ed25519 key generation");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("an Ed25519 key");
        TestKey {
            key: SigningKey::from_pkcs8(pkcs8.as_ref()).expect("an Ed25519 key"),
            domain,
            selector,
            record: format!("v=DKIM1; k=ed25519; p={}", STANDARD.encode(pair.public_key().as_ref())),
        }
    }

    fn dns_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    fn spec<'a>(&'a self, headers: HeaderSet<'a>) -> SignatureSpec<'a> {
        SignatureSpec {
            domain: self.domain,
            selector: self.selector,
            timestamp: TIMESTAMP,
            headers,
        }
    }
}

fn rsa2048() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::rsa(KeySize::Rsa2048, DOMAIN, "rsa2048"))
}

fn ed25519() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::ed25519(DOMAIN, "ed25519"))
}

/// Verifies each message with both verifiers, the keys' records in DNS.
fn verify(messages: &[Vec<u8>], keys: &[&TestKey]) -> Vec<Verdicts> {
    let records: Vec<(String, String)> = keys.iter().map(|key| (key.dns_name(), key.record.clone())).collect();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(verify_records(messages, &records))
}

/// Signs with the recommended header set and returns the message to send.
fn signed(raw: &[u8], key: &TestKey) -> Vec<u8> {
    let message = Message::parse(raw).expect("the message parses");
    let field = message
        .sign(&key.key, &key.spec(HeaderSet::Recommended))
        .expect("the message signs");
    message.with_signatures(&[field])
}

/// The messages every case is built from: CRLF line ends.
fn with_crlf(headers: &[&str], body: Option<&str>) -> Vec<u8> {
    let mut raw = String::new();
    for header in headers {
        raw.push_str(header);
        raw.push_str("\r\n");
    }
    if let Some(body) = body {
        raw.push_str("\r\n");
        raw.push_str(body);
    }
    raw.into_bytes()
}

const HEADERS: [&str; 8] = [
    "Received: from mx.example.net by mx.example.com; Thu, 1 Jan 2026 00:00:00 +0000",
    "From: Alice Example <alice@example.com>",
    "To: bob@example.org",
    "Subject: Quarterly report",
    "Date: Thu, 1 Jan 2026 00:00:00 +0000",
    "Message-ID: <report-1@example.com>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
];

const BODY: &str = "Hello Bob,\r\n\r\nThe numbers are in.\r\n\r\n-- \r\nAlice\r\n";

/// The edge cases every signer must get past both verifiers, by name.
fn edge_cases() -> Vec<(&'static str, Vec<u8>)> {
    let plain = with_crlf(&HEADERS, Some(BODY));
    let lf_only = String::from_utf8(plain.clone()).unwrap().replace("\r\n", "\n").into_bytes();
    let cr_only = String::from_utf8(plain.clone()).unwrap().replace("\r\n", "\r").into_bytes();
    let mut mixed = with_crlf(&HEADERS[..4], None);
    mixed.extend_from_slice(b"Date: Thu, 1 Jan 2026 00:00:00 +0000\nMessage-ID: <m@example.com>\r\rOne\nTwo\rThree\r\nFour\n\r\n");
    let long_line = format!("{}\r\nshort\r\n{}\r\n", "x".repeat(20_000), "word ".repeat(4_000).trim_end());
    let trailing_blank = format!("Text\r\n{}", "\r\n".repeat(500));
    let mut big = String::new();
    for i in 0..3_000 {
        // Mostly clean text with sparse dirt, so clean and dirty stretches alternate.
        big.push_str(&format!("Line {i} of a long message with ordinary words in it"));
        big.push_str(match i % 97 {
            0 => "  \t \r\n",
            13 => "\tand a tab\r\n",
            50 => " double  space\r\n",
            _ => "\r\n",
        });
    }
    vec![
        ("crlf", plain),
        ("lf only", lf_only),
        ("cr only", cr_only),
        ("mixed line ends", mixed),
        (
            "folded headers",
            with_crlf(
                &[
                    "From: Alice Example\r\n <alice@example.com>",
                    "To: bob@example.org,\r\n\tcarol@example.org,\r\n  dave@example.org",
                    "Subject: a subject\r\n\tfolded\r\n over three lines",
                ],
                Some(BODY),
            ),
        ),
        (
            "trailing white space",
            with_crlf(
                &["From: alice@example.com \t", "Subject: spaces after \t ", "To:  bob@example.org\t"],
                Some("line one  \r\nline two\t\r\nline three \t \r\n"),
            ),
        ),
        (
            "runs of white space",
            with_crlf(
                &["From:   alice@example.com", "Subject: many \t  spaces\t\tand tabs"],
                Some("a  b\t\tc \t d\r\n\t leading\r\n    \r\nend\r\n"),
            ),
        ),
        ("empty body", with_crlf(&HEADERS, Some(""))),
        ("body without final newline", with_crlf(&HEADERS, Some("no newline at the end"))),
        (
            "body without final newline, ending in white space",
            with_crlf(&HEADERS, Some("Text\r\nlast line \t")),
        ),
        ("headers only", with_crlf(&HEADERS, None)),
        (
            "headers only, last line unterminated",
            b"From: alice@example.com\r\nSubject: nothing else".to_vec(),
        ),
        ("very long lines", with_crlf(&HEADERS, Some(&long_line))),
        ("many trailing blank lines", with_crlf(&HEADERS, Some(&trailing_blank))),
        (
            "duplicate headers",
            with_crlf(
                &[
                    "Received: from a.example.net by b.example.net",
                    "Received: from b.example.net by mx.example.com",
                    "From: alice@example.com",
                    "To: bob@example.org",
                    "Subject: first",
                    "To: carol@example.org",
                    "Subject: second",
                ],
                Some(BODY),
            ),
        ),
        (
            "8-bit UTF-8",
            with_crlf(
                &["From: Zoë Ångström <zoe@example.com>", "Subject: Grüße aus Köln — 東京 🚀"],
                Some("Ça va? Ünïcödé bödy\r\n日本語のテキスト\r\n"),
            ),
        ),
        (
            "odd case names",
            with_crlf(
                &["fROM: alice@example.com", "sUbJeCt: case", "MESSAGE-id: <x@example.com>"],
                Some(BODY),
            ),
        ),
        (
            "empty values",
            with_crlf(&["From: alice@example.com", "Subject:", "Cc: ", "To:\t"], Some(BODY)),
        ),
        ("long body with sparse dirt", with_crlf(&HEADERS, Some(&big))),
        // Verifiers disagree on such lines; the message sent leaves them out.
        (
            "white-space lines at the end of the body",
            with_crlf(&HEADERS, Some("Text\r\n  \r\n\t\r\n \t\r\n")),
        ),
        (
            "a very long header line",
            with_crlf(
                &["From: alice@example.com", &format!("Subject: {}", "long ".repeat(4_000).trim_end())],
                Some(BODY),
            ),
        ),
        ("body of white space only", with_crlf(&HEADERS, Some("   \t"))),
        (
            "leading blank lines and white space",
            with_crlf(&HEADERS, Some("\r\n\r\n  indented\r\n\tTabbed\r\n")),
        ),
    ]
}

fn assert_all_pass(key: &TestKey) {
    let cases = edge_cases();
    let messages: Vec<Vec<u8>> = cases.iter().map(|(_, raw)| signed(raw, key)).collect();
    let verdicts = verify(&messages, &[key]);
    let failures: Vec<String> = cases
        .iter()
        .zip(&verdicts)
        .filter(|(_, verdicts)| !verdicts.all_pass(1))
        .map(|((name, _), verdicts)| format!("{name}: {verdicts:?}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{:?} signatures rejected:\n{}",
        key.key.algorithm(),
        failures.join("\n")
    );
}

#[test]
fn edge_cases_pass_both_verifiers_with_rsa_2048() {
    assert_all_pass(rsa2048());
}

#[test]
fn edge_cases_pass_both_verifiers_with_ed25519() {
    assert_all_pass(ed25519());
}

#[test]
fn rsa_4096_passes_both_verifiers() {
    let key = TestKey::rsa(KeySize::Rsa4096, DOMAIN, "rsa4096");
    let messages = [signed(&with_crlf(&HEADERS, Some(BODY)), &key)];
    let verdicts = verify(&messages, &[&key]);
    assert!(verdicts[0].all_pass(1), "{verdicts:?}");
}

#[test]
fn legacy_rsa_1024_signs_and_both_verifiers_accept_it() {
    // aws-lc-rs signs with 2048 bits and more; RFC 8301 still has verifiers take 1024.
    let pair = DkimKeyPair::generate_rsa(1024).expect("a 1024-bit key");
    let key = TestKey {
        key: SigningKey::from_pkcs8(pair.private_pkcs8().expose_secret()).expect("a legacy key signs"),
        domain: DOMAIN,
        selector: "rsa1024",
        record: pair.public_key().txt_record(),
    };
    let verdicts = verify(&[signed(&with_crlf(&HEADERS, Some(BODY)), &key)], &[&key]);
    assert!(verdicts[0].all_pass(1), "{verdicts:?}");
}

#[test]
fn dkim_and_feedback_loop_signatures_both_pass() {
    let fbl = {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        KEY.get_or_init(|| TestKey::ed25519("fbl.example.net", "fbl"))
    };
    let listed: Vec<String> = ["Subject", "feedback-id", "X-Campaign", "x-campaign", "List-Id", "TO"]
        .iter()
        .map(|name| name.to_string())
        .collect();
    let mut headers = HEADERS.to_vec();
    headers.extend(["Feedback-ID: campaign-7:customer-3:mailer:example", "X-Campaign: spring"]);
    for dkim in [rsa2048(), ed25519()] {
        let raw = with_crlf(&headers, Some(BODY));
        let message = Message::parse(&raw).expect("parses");
        let first = message.sign(&dkim.key, &dkim.spec(HeaderSet::Recommended)).expect("DKIM signature");
        let second = message
            .sign(&fbl.key, &fbl.spec(HeaderSet::Listed(&listed)))
            .expect("FBL signature");
        let unfolded: String = second.split_whitespace().collect();
        assert!(unfolded.contains(";h=x-campaign:feedback-id:subject:to:from:from;"), "{second}");
        let verdicts = verify(&[message.with_signatures(&[first, second])], &[dkim, fbl]);
        assert!(verdicts[0].all_pass(2), "{:?}: {verdicts:?}", dkim.key.algorithm());
    }
}

/// Signs `raw`, applies `tamper` to the message to send, and expects every verifier to reject it.
fn assert_tampering_fails(raw: &[u8], what: &str, tamper: impl Fn(&mut Vec<u8>)) {
    for key in [rsa2048(), ed25519()] {
        let mut message = signed(raw, key);
        let verdicts = verify(std::slice::from_ref(&message), &[key]);
        assert!(
            verdicts[0].all_pass(1),
            "untouched, {what} with {:?}: {verdicts:?}",
            key.key.algorithm()
        );
        tamper(&mut message);
        let verdicts = verify(&[message], &[key]);
        assert!(verdicts[0].all_fail(), "{what} with {:?}: {verdicts:?}", key.key.algorithm());
    }
}

fn replace_once(message: &mut Vec<u8>, from: &str, to: &str) {
    let at = message
        .windows(from.len())
        .position(|window| window == from.as_bytes())
        .expect("the text to replace");
    message.splice(at..at + from.len(), to.bytes());
}

#[test]
fn a_changed_body_byte_fails_both_verifiers() {
    assert_tampering_fails(&with_crlf(&HEADERS, Some(BODY)), "changed body byte", |message| {
        replace_once(message, "numbers", "Numbers")
    });
}

#[test]
fn a_changed_signed_header_fails_both_verifiers() {
    assert_tampering_fails(&with_crlf(&HEADERS, Some(BODY)), "changed subject", |message| {
        replace_once(message, "Subject: Quarterly report", "Subject: Quarterly rep0rt")
    });
}

#[test]
fn an_added_from_fails_both_verifiers() {
    let raw = with_crlf(&HEADERS, Some(BODY));
    assert_tampering_fails(&raw, "From added above", |message| {
        replace_once(message, "From: Alice", "From: mallory@example.net\r\nFrom: Alice")
    });
    assert_tampering_fails(&raw, "From added below", |message| {
        replace_once(
            message,
            "MIME-Version: 1.0\r\n",
            "MIME-Version: 1.0\r\nFrom: mallory@example.net\r\n",
        )
    });
}

#[test]
fn keys_report_their_algorithm() {
    assert_eq!(rsa2048().key.algorithm(), Algorithm::RsaSha256);
    assert_eq!(ed25519().key.algorithm(), Algorithm::Ed25519Sha256);
    assert_eq!(format!("{:?}", ed25519().key), "SigningKey { algorithm: Ed25519Sha256, .. }");
    fn shareable<T: Send + Sync>() {}
    shareable::<SigningKey>();
}
