//! The key vault's conformance suite: every case runs against the local key
//! vault (a key file) and against KMS (moto), so the two cannot drift.

mod support;

use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use shared::domain::secret::{ExposeSecret, SecretBytes};
use shared::ports::key_vault::{EncryptionContext, Envelope, KeyVault, KeyVaultError};
use support::{Backend, KeyVaultFixture};

conformance!(key_vault =>
    round_trip,
    wrong_context_is_rejected,
    tampered_envelope_is_rejected,
    seals_of_the_same_plaintext_differ,
    debug_never_prints_the_secret,
    opens_after_a_restart,
);

// ---------------------------------------------------------------- helpers

const SECRET: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIL9sUQ4ZxJ0pSecretDkimKey\n-----END PRIVATE KEY-----\n";

fn secret(text: &str) -> SecretBytes {
    text.as_bytes().to_vec().into()
}

fn context(group: &str, dkim: &str) -> EncryptionContext {
    EncryptionContext::from([("groupPk".to_owned(), group.to_owned()), ("dkimId".to_owned(), dkim.to_owned())])
}

async fn seal(vault: &dyn KeyVault, plaintext: &SecretBytes, context: &EncryptionContext) -> Envelope {
    vault.seal(plaintext, context).await.expect("seal")
}

async fn open(vault: &dyn KeyVault, envelope: &Envelope, context: &EncryptionContext) -> Vec<u8> {
    vault.open(envelope, context).await.expect("open").expose_secret().to_vec()
}

async fn assert_rejected(vault: &dyn KeyVault, envelope: &Envelope, context: &EncryptionContext, what: &str) {
    match vault.open(envelope, context).await {
        Err(KeyVaultError::Rejected) => {}
        Ok(_) => panic!("{what}: opened, expected Rejected"),
        Err(other) => panic!("{what}: expected Rejected, got {other:?}"),
    }
}

/// Changes one character in the middle of a base64 text, so that the bytes it
/// stands for change (the last characters may only carry padding bits).
fn tamper(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let position = (chars.len() / 2..chars.len())
        .find(|&i| chars[i].is_ascii_alphanumeric())
        .expect("a base64 character");
    chars[position] = if chars[position] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// Flips a bit of the last decoded byte (the authentication tag of a ciphertext).
fn flip_last_bit(text: &str) -> String {
    let mut bytes = STANDARD.decode(text).expect("base64");
    *bytes.last_mut().expect("not empty") ^= 1;
    STANDARD.encode(bytes)
}

// ---------------------------------------------------------------- cases

async fn round_trip(vault: &dyn KeyVault) {
    let context = context("group-1", "dkim-1");
    let binary: Vec<u8> = (0..=255).collect();
    // Larger than KMS encrypts directly: the envelope carries it, not the key vault.
    let large: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    for plaintext in [SECRET.as_bytes().to_vec(), binary, large, Vec::new()] {
        let envelope = seal(vault, &plaintext.clone().into(), &context).await;
        assert!(
            !envelope.key_id.is_empty() && !envelope.wrapped_key.is_empty(),
            "the envelope names and wraps its key"
        );
        assert_eq!(open(vault, &envelope, &context).await, plaintext, "{} bytes", plaintext.len());

        // The envelope is stored as JSON and read back.
        let stored = serde_json::to_string(&envelope).expect("serialize");
        let read: Envelope = serde_json::from_str(&stored).expect("deserialize");
        assert_eq!(open(vault, &read, &context).await, plaintext, "after a JSON round trip");
    }
}

async fn wrong_context_is_rejected(vault: &dyn KeyVault) {
    let right = context("group-1", "dkim-1");
    let envelope = seal(vault, &secret(SECRET), &right).await;
    let mut extra = right.clone();
    extra.insert("extra".into(), "value".into());
    let mut missing = right.clone();
    missing.remove("dkimId");
    let wrong = [
        ("another dkim id", context("group-1", "dkim-2")),
        ("another group", context("group-2", "dkim-1")),
        ("values swapped", context("dkim-1", "group-1")),
        ("an extra pair", extra),
        ("a pair missing", missing),
        ("no context", EncryptionContext::new()),
    ];
    for (what, context) in wrong {
        assert_rejected(vault, &envelope, &context, what).await;
    }
    assert_eq!(
        open(vault, &envelope, &right).await,
        SECRET.as_bytes(),
        "the right context still works"
    );
}

async fn tampered_envelope_is_rejected(vault: &dyn KeyVault) {
    let context = context("group-1", "dkim-1");
    let envelope = seal(vault, &secret(SECRET), &context).await;
    let truncated = {
        let bytes = STANDARD.decode(&envelope.ciphertext).expect("base64");
        STANDARD.encode(&bytes[..bytes.len() - 16])
    };
    let tampered = [
        (
            "ciphertext changed",
            Envelope {
                ciphertext: tamper(&envelope.ciphertext),
                ..envelope.clone()
            },
        ),
        (
            "ciphertext tag changed",
            Envelope {
                ciphertext: flip_last_bit(&envelope.ciphertext),
                ..envelope.clone()
            },
        ),
        (
            "ciphertext without its tag",
            Envelope {
                ciphertext: truncated,
                ..envelope.clone()
            },
        ),
        (
            "ciphertext not base64",
            Envelope {
                ciphertext: "not base64!".into(),
                ..envelope.clone()
            },
        ),
        (
            "nonce changed",
            Envelope {
                nonce: tamper(&envelope.nonce),
                ..envelope.clone()
            },
        ),
        (
            "wrapped key changed",
            Envelope {
                wrapped_key: tamper(&envelope.wrapped_key),
                ..envelope.clone()
            },
        ),
    ];
    for (what, envelope) in tampered {
        assert_rejected(vault, &envelope, &context, what).await;
    }

    // Another envelope's parts do not fit together.
    let other = seal(vault, &secret(SECRET), &context).await;
    let mixed = Envelope {
        wrapped_key: other.wrapped_key,
        ..envelope.clone()
    };
    assert_rejected(vault, &mixed, &context, "data key of another envelope").await;
    assert_eq!(
        open(vault, &envelope, &context).await,
        SECRET.as_bytes(),
        "the original still opens"
    );
}

async fn seals_of_the_same_plaintext_differ(vault: &dyn KeyVault) {
    let context = context("group-1", "dkim-1");
    let plaintext = secret(SECRET);
    let first = seal(vault, &plaintext, &context).await;
    let second = seal(vault, &plaintext, &context).await;
    assert_ne!(first.ciphertext, second.ciphertext, "ciphertexts");
    assert_ne!(first.wrapped_key, second.wrapped_key, "a fresh data key each time");
    assert_ne!(first.nonce, second.nonce, "nonces");
    for envelope in [&first, &second] {
        assert_eq!(open(vault, envelope, &context).await, SECRET.as_bytes());
    }
}

async fn debug_never_prints_the_secret(vault: &dyn KeyVault) {
    let context = context("group-1", "dkim-1");
    let plaintext = secret(SECRET);
    let envelope = seal(vault, &plaintext, &context).await;
    let opened = vault.open(&envelope, &context).await.expect("open");

    let bytes = SECRET.as_bytes();
    let renderings = [
        format!("{bytes:?}"),
        STANDARD.encode(bytes),
        "SecretDkimKey".to_owned(),
        "PRIVATE KEY".to_owned(),
    ];
    let printed = [
        ("plaintext", format!("{plaintext:?}")),
        ("plaintext, pretty", format!("{plaintext:#?}")),
        ("opened", format!("{opened:?}")),
        ("envelope", format!("{envelope:?}")),
    ];
    for (what, text) in printed {
        for rendering in &renderings {
            assert!(!text.contains(rendering.as_str()), "{what} prints the secret: {text}");
        }
        assert!(!text.contains("45, 45, 45, 45, 45"), "{what} prints the secret's bytes: {text}");
    }
}

async fn opens_after_a_restart(fixture: &KeyVaultFixture) {
    let vault: &dyn KeyVault = fixture.into();
    let context = context("group-1", "dkim-1");
    let before = seal(vault, &secret(SECRET), &context).await;
    let restarted = fixture.restart().await;
    assert_eq!(
        open(&*restarted, &before, &context).await,
        SECRET.as_bytes(),
        "sealed before, opened after"
    );
    let after = seal(&*restarted, &secret(SECRET), &context).await;
    assert_eq!(
        open(vault, &after, &context).await,
        SECRET.as_bytes(),
        "sealed after, opened by the first vault"
    );
}

/// Only the embedded vault has a key file: created owner-only, and left as it was on a restart.
#[tokio::test]
async fn embedded_key_file_is_owner_only_and_kept() {
    let fixture = support::key_vault(Backend::Embedded).await;
    let path = fixture.key_file().expect("the embedded vault has a key file");
    let mode = std::fs::metadata(path).expect("key file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "key file mode is {mode:o}");

    let key = std::fs::read(path).expect("read the key file");
    let context = context("group-1", "dkim-1");
    let envelope = seal((&fixture).into(), &secret(SECRET), &context).await;
    let restarted = fixture.restart().await;
    assert_eq!(std::fs::read(path).expect("read the key file"), key, "a restart keeps the key");
    assert_eq!(
        std::fs::metadata(path).expect("key file").permissions().mode() & 0o777,
        0o600,
        "and its mode"
    );
    assert_eq!(open(&*restarted, &envelope, &context).await, SECRET.as_bytes());
}
