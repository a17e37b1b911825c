//! What one DKIM signature costs on its own, for scripts/bench-signing to subtract from
//! signMessage's time: parsing the message of a signMessage request body (BODY_FILE),
//! signing it once with a fresh RSA-2048 key and assembling the signed message (what the
//! signing function does per key), timed in a loop; prints the median in microseconds.
//!   signature-time BODY_FILE

#[path = "support/one_signature.rs"]
mod one_signature;

use std::time::Instant;

use one_signature::{Failure, OneSignature};

const ROUNDS: usize = 2_000;

fn main() -> Result<(), Failure> {
    let path = std::env::args().nth(1).ok_or("usage: signature-time BODY_FILE")?;
    let body: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let raw = body["message"].as_str().ok_or("the body has no message")?.as_bytes();
    let signer = OneSignature::generate()?;
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        std::hint::black_box(signer.signed(raw)?);
        times.push(started.elapsed());
    }
    times.sort();
    println!("{:.1}", times[ROUNDS / 2].as_secs_f64() * 1e6);
    Ok(())
}
