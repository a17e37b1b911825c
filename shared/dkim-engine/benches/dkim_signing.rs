//! DKIM signing against its physical limit.
//!
//! The limit of signing a message is one aws-lc-rs signature over a 32-byte digest
//! plus one SHA-256 (sha2) pass over the whole message; `Message::parse` + `sign`
//! is measured against it for RSA-2048 and Ed25519 over three generated messages
//! (2 KB text, 20 KB multipart/alternative HTML, 200 KB with a base64 attachment),
//! and `with_signatures` on its own. After the criterion runs, the same pairs are
//! timed again interleaved, round after round, so that the ratio table is not skewed
//! by whatever else the machine is doing in between.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{Digest as LcDigest, SHA256};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use criterion::{Criterion, Throughput};
use dkim_engine::header_set::HeaderSet;
use dkim_engine::message::Message;
use dkim_engine::sign::{SignatureSpec, SigningKey};
use sha2::{Digest, Sha256};

const SPEC: SignatureSpec<'static> = SignatureSpec {
    domain: "example.com",
    selector: "s2026",
    timestamp: 1_767_259_798,
    headers: HeaderSet::Recommended,
};

/// One key, as the signer holds it and as the limit uses it.
enum Raw {
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

struct Key {
    name: &'static str,
    raw: Raw,
    signing: SigningKey,
}

impl Key {
    fn rsa() -> Key {
        let raw = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        let signing = SigningKey::from_pkcs8(raw.as_der().expect("PKCS#8").as_ref()).expect("signing key");
        Key {
            name: "rsa2048",
            raw: Raw::Rsa(raw),
            signing,
        }
    }

    fn ed25519() -> Key {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("Ed25519 key");
        let raw = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("Ed25519 key");
        Key {
            name: "ed25519",
            raw: Raw::Ed25519(raw),
            signing: SigningKey::from_pkcs8(pkcs8.as_ref()).expect("signing key"),
        }
    }

    /// The limit: hash the whole message once, sign the digest once.
    fn limit(&self, raw: &[u8]) -> usize {
        let digest: [u8; 32] = Sha256::digest(raw).into();
        match &self.raw {
            Raw::Rsa(pair) => {
                let mut signature = [0u8; 256];
                let digest = LcDigest::import_less_safe(&digest, &SHA256).expect("a SHA-256 digest");
                pair.sign_digest(&RSA_PKCS1_SHA256, &digest, &mut signature).expect("signature");
                usize::from(signature[0])
            }
            Raw::Ed25519(pair) => usize::from(pair.sign(&digest).as_ref()[0]),
        }
    }

    /// What the signing Lambda does per message and key.
    fn ours(&self, raw: &[u8]) -> usize {
        let message = Message::parse(raw).expect("parses");
        message.sign(&self.signing, &SPEC).expect("signs").len()
    }
}

fn main() {
    let corpus = corpus();
    let keys = [Key::rsa(), Key::ed25519()];
    let mut criterion = Criterion::default().configure_from_args();
    for (name, raw) in &corpus {
        let mut group = criterion.benchmark_group(*name);
        group.throughput(Throughput::Bytes(raw.len() as u64));
        for key in &keys {
            group.bench_function(format!("limit/{}", key.name), |b| b.iter(|| key.limit(black_box(raw))));
            group.bench_function(format!("parse+sign/{}", key.name), |b| b.iter(|| key.ours(black_box(raw))));
        }
        let message = Message::parse(raw).expect("parses");
        let fields = [message.sign(&keys[0].signing, &SPEC).expect("signs")];
        group.bench_function("with_signatures", |b| b.iter(|| message.with_signatures(black_box(&fields)).len()));
        group.finish();
    }
    criterion.final_summary();
    // cargo bench passes --bench; cargo test --benches runs each benchmark once, without it.
    if std::env::args().any(|arg| arg == "--bench") {
        ratio_table(&corpus, &keys);
    }
}

/// Times limit and ours alternately, round after round, and prints the medians, the
/// median of the per-round ratios and the ratio of the minima.
fn ratio_table(corpus: &[(&str, Vec<u8>)], keys: &[Key]) {
    const ROUNDS: usize = 101;
    println!(
        "\n{:<18} {:<8} {:>10} {:>10} {:>7} {:>9} {:>7}",
        "message", "key", "limit µs", "ours µs", "ratio", "min-ratio", "target"
    );
    for key in keys {
        for (name, raw) in corpus {
            // Batches of about 1 ms, so that the two sides of a round see the same machine.
            let per_batch = (Duration::from_millis(1).as_nanos() / time(1, || key.limit(raw)).as_nanos().max(1)).max(1) as u32;
            let (mut limits, mut ours, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let limit = time(per_batch, || key.limit(raw)).as_secs_f64() * 1e6 / f64::from(per_batch);
                let signed = time(per_batch, || key.ours(raw)).as_secs_f64() * 1e6 / f64::from(per_batch);
                limits.push(limit);
                ours.push(signed);
                ratios.push(signed / limit);
            }
            let min_ratio = ours.iter().copied().fold(f64::MAX, f64::min) / limits.iter().copied().fold(f64::MAX, f64::min);
            let target = if matches!(key.raw, Raw::Rsa(_)) { "≤ 1.05" } else { "≤ 1.2" };
            println!(
                "{name:<18} {:<8} {:>10.1} {:>10.1} {:>7.3} {:>9.3} {target:>7}",
                key.name,
                median(&mut limits),
                median(&mut ours),
                median(&mut ratios),
                min_ratio,
            );
        }
    }
}

fn time(iterations: u32, mut f: impl FnMut() -> usize) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    start.elapsed()
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_unstable_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The three messages, generated the same way every run.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("2KB text", text_message()),
        ("20KB html", html_message()),
        ("200KB attachment", attachment_message()),
    ]
}

/// A deterministic xorshift generator for the message text.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// Sentences of ordinary words, one space apart, wrapped under 76 characters, CRLF.
    fn text(&mut self, bytes: usize) -> String {
        const WORDS: [&str; 24] = [
            "the",
            "order",
            "shipped",
            "today",
            "and",
            "your",
            "account",
            "balance",
            "is",
            "updated",
            "please",
            "review",
            "details",
            "below",
            "we",
            "appreciate",
            "business",
            "with",
            "our",
            "team",
            "new",
            "products",
            "arrive",
            "soon",
        ];
        let mut text = String::with_capacity(bytes + 80);
        let mut line = 0;
        while text.len() < bytes {
            let word = WORDS[self.below(WORDS.len())];
            if line + word.len() + 1 > 72 {
                text.push_str("\r\n");
                line = 0;
            } else if line > 0 {
                text.push(' ');
                line += 1;
            }
            text.push_str(word);
            line += word.len();
        }
        text.push_str("\r\n");
        text
    }
}

fn headers(content_type: &str, encoding: Option<&str>) -> String {
    let mut headers = String::from(
        "Received: from mail-out.example.com (mail-out.example.com [192.0.2.10])\r\n\
         \tby mx.example.org with ESMTPS id 4Xyz12AbCd for <bob@example.org>;\r\n\
         \tThu, 01 Jan 2026 09:30:00 +0000\r\n\
         Received: from app-7.internal.example.com by mail-out.example.com with ESMTP;\r\n\
         \tThu, 01 Jan 2026 09:29:59 +0000\r\n\
         From: \"Example Shop\" <news@example.com>\r\n\
         To: Bob Receiver <bob@example.org>\r\n\
         Reply-To: support@example.com\r\n\
         Subject: Your January newsletter: new arrivals and offers\r\n\
         Date: Thu, 01 Jan 2026 09:29:58 +0000\r\n\
         Message-ID: <20260101092958.4f2a9c@example.com>\r\n\
         List-Unsubscribe: <https://example.com/unsubscribe?u=8812>,\r\n <mailto:unsubscribe@example.com?subject=8812>\r\n\
         List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\
         Feedback-ID: newsletter-2026-01:customer-42:shop:example\r\n\
         MIME-Version: 1.0\r\n",
    );
    headers.push_str(&format!("Content-Type: {content_type}\r\n"));
    if let Some(encoding) = encoding {
        headers.push_str(&format!("Content-Transfer-Encoding: {encoding}\r\n"));
    }
    headers.push_str("\r\n");
    headers
}

fn text_message() -> Vec<u8> {
    let mut message = headers("text/plain; charset=utf-8", Some("7bit"));
    message.push_str(&Rng(1).text(2048 - message.len()));
    message.into_bytes()
}

/// Quoted-printable: '=' and 8-bit encoded, lines soft-broken under 76 characters.
fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 11 / 10);
    for line in text.split("\r\n") {
        let mut width = 0;
        for byte in line.bytes() {
            let encoded = if byte == b'=' || !(b' '..=b'~').contains(&byte) {
                format!("={byte:02X}")
            } else {
                char::from(byte).to_string()
            };
            if width + encoded.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            out.push_str(&encoded);
            width += encoded.len();
        }
        out.push_str("\r\n");
    }
    out.truncate(out.len() - 2);
    out
}

fn html_message() -> Vec<u8> {
    let mut rng = Rng(2);
    let plain = rng.text(5_500);
    let mut html = String::from(
        "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"><title>January</title></head>\r\n<body style=\"margin:0;padding:0\">\r\n",
    );
    while html.len() < 12_900 {
        html.push_str(
            "<table width=\"100%\" cellpadding=\"0\"><tr><td class=\"item\" style=\"font-family:Arial,sans-serif;color:#333333\">\r\n<p>",
        );
        html.push_str(rng.text(300).trim_end());
        html.push_str("</p></td></tr></table>\r\n");
    }
    html.push_str("</body></html>\r\n");
    let boundary = "=_alt_4f2a9c0b1d";
    let mut message = headers(&format!("multipart/alternative; boundary=\"{boundary}\""), None);
    message.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n\
         --{boundary}--\r\n",
        quoted_printable(&plain),
        quoted_printable(&html),
    ));
    message.into_bytes()
}

fn attachment_message() -> Vec<u8> {
    use base64::Engine as _;
    let mut rng = Rng(3);
    let boundary = "=_mixed_8c1e55aa";
    let mut message = headers(&format!("multipart/mixed; boundary=\"{boundary}\""), None);
    message.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Type: application/pdf; name=\"statement.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"statement.pdf\"\r\n\r\n",
        rng.text(1_500)
    ));
    let pdf: Vec<u8> = (0..(200 * 1024 - message.len() - 200) * 3 / 4 * 76 / 78)
        .map(|_| rng.below(256) as u8)
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(pdf);
    for line in encoded.as_bytes().chunks(76) {
        message.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        message.push_str("\r\n");
    }
    message.push_str(&format!("--{boundary}--\r\n"));
    message.into_bytes()
}
