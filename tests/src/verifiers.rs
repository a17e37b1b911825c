//! Two independent DKIM verifiers for the tests: mail-auth (Rust, RustCrypto) and
//! dkimpy (Python, `dkimpy_verify.py`), with DNS answered from memory. dkimpy must be
//! importable by the `python3` on PATH (scripts/test installs it); without it the
//! tests that verify fail.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt};

/// What each verifier says of each signature of a message, top first.
#[derive(Debug)]
pub struct Verdicts {
    pub mail_auth: Vec<Result<(), String>>,
    pub dkimpy: Vec<Result<(), String>>,
}

impl Verdicts {
    /// Both verifiers pass each of `signatures` signatures.
    pub fn all_pass(&self, signatures: usize) -> bool {
        self.mail_auth.len() == signatures
            && self.dkimpy.len() == signatures
            && self.mail_auth.iter().chain(&self.dkimpy).all(Result::is_ok)
    }

    /// Both verifiers fail every signature.
    pub fn all_fail(&self) -> bool {
        !self.mail_auth.is_empty() && !self.dkimpy.is_empty() && self.mail_auth.iter().chain(&self.dkimpy).all(Result::is_err)
    }
}

/// Verifies each message with both verifiers, DNS answering `records`
/// (`<selector>._domainkey.<domain>`, `v=DKIM1; k=…; p=…`) from memory.
pub async fn verify(messages: &[Vec<u8>], records: &[(String, String)]) -> Vec<Verdicts> {
    let dkimpy = dkimpy_verdicts(messages, records);
    let mut verdicts = Vec::with_capacity(messages.len());
    for (message, dkimpy) in messages.iter().zip(dkimpy) {
        verdicts.push(Verdicts {
            mail_auth: mail_auth_verdicts(message, records).await,
            dkimpy,
        });
    }
    verdicts
}

/// mail-auth's TXT cache, seeded with the records so that it never asks the network.
#[derive(Default)]
struct Records(Mutex<HashMap<Box<str>, Txt>>);

impl ResolverCache<Box<str>, Txt> for Records {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().get(name).cloned()
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().remove(name)
    }

    fn insert(&self, name: Box<str>, value: Txt, _: std::time::Instant) {
        self.0.lock().unwrap().insert(name, value);
    }
}

async fn mail_auth_verdicts(message: &[u8], records: &[(String, String)]) -> Vec<Result<(), String>> {
    let cache = Records::default();
    for (name, record) in records {
        let key = DomainKey::parse(record.as_bytes()).expect("mail-auth reads the key record");
        // Looked up as a fully qualified name; both spellings, to be safe.
        cache.insert(format!("{name}.").into(), Txt::from(key), std::time::Instant::now());
        let key = DomainKey::parse(record.as_bytes()).expect("mail-auth reads the key record");
        cache.insert(name.as_str().into(), Txt::from(key), std::time::Instant::now());
    }
    let authenticator = MessageAuthenticator::new_cloudflare().expect("a resolver (never used: the cache answers)");
    let Some(parsed) = AuthenticatedMessage::parse(message) else {
        return vec![Err("mail-auth cannot parse the message".to_owned())];
    };
    authenticator
        .verify_dkim(Parameters::new(&parsed).with_txt_cache(&cache))
        .await
        .iter()
        .map(|output| match output.result() {
            DkimResult::Pass => Ok(()),
            other => Err(format!("{other:?}")),
        })
        .collect()
}

fn dkimpy_verdicts(messages: &[Vec<u8>], records: &[(String, String)]) -> Vec<Vec<Result<(), String>>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("dkimpy_verify.py");
    let request = serde_json::json!({
        "records": records.iter().cloned().collect::<HashMap<_, _>>(),
        "messages": messages.iter().map(|message| STANDARD.encode(message)).collect::<Vec<_>>(),
    });
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 on PATH, with dkimpy installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("request written");
    let output = child.wait_with_output().expect("dkimpy verifier ran");
    assert!(
        output.status.success(),
        "dkimpy verifier failed (is dkimpy installed?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Vec<serde_json::Value>> = serde_json::from_slice(&output.stdout).expect("dkimpy verifier's JSON");
    results
        .into_iter()
        .map(|outcomes| {
            outcomes
                .into_iter()
                .map(|outcome| match outcome["pass"].as_bool() {
                    Some(true) => Ok(()),
                    _ => Err(outcome["detail"].as_str().unwrap_or_default().to_owned()),
                })
                .collect()
        })
        .collect()
}
