//! What one DKIM signature costs on its own, for scripts/bench-signing to subtract from
//! signMessage's time: parsing the message of a signMessage request body (BODY_FILE)
//! and signing it once with a fresh RSA-2048 key (what the signing function does per
//! key), timed in a loop; prints the median in microseconds.
//!   signature-time BODY_FILE

use std::time::{Duration, Instant};

use dkim_engine::Algorithm;
use dkim_engine::header_set::HeaderSet;
use dkim_engine::key::DkimKeyPair;
use dkim_engine::message::Message;
use dkim_engine::sign::{SignatureSpec, SigningKey};
use shared::domain::secret::ExposeSecret;

const ROUNDS: usize = 2_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: signature-time BODY_FILE")?;
    let body: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let raw = body["message"].as_str().ok_or("the body has no message")?.as_bytes();
    let pair = DkimKeyPair::generate(Algorithm::RsaSha256)?;
    let key = SigningKey::from_pkcs8(pair.private_pkcs8().expose_secret())?;
    let spec = SignatureSpec {
        domain: "acme.test",
        selector: "s2048",
        timestamp: 1_767_259_798,
        headers: HeaderSet::Recommended,
    };
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            let message = Message::parse(raw).expect("the message parses");
            std::hint::black_box(message.sign(&key, &spec).expect("the message signs"));
            started.elapsed()
        })
        .collect();
    times.sort();
    println!("{:.1}", times[ROUNDS / 2].as_secs_f64() * 1e6);
    Ok(())
}
