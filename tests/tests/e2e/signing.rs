//! signMessage over HTTP: every signature the service makes verifies with mail-auth and
//! dkimpy, against the keys the key-management operations publish; the warm key cache
//! follows key changes within its TTL and keeps signing while the key vault is down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use accountcentral_e2e::dkim::{SAMPLE_MESSAGE, deactivate, key_body_of};
use accountcentral_e2e::verifiers::verify;
use accountcentral_e2e::{TestApp, error_paths, on_both_backends};
use accountcentral_signing::keys::KeyCache;
use async_trait::async_trait;
use axum::response::IntoResponse;
use dkim_engine::key::DkimKeyPair;
use serde_json::{Value, json};
use shared::domain::dkim::selection::{Selection, select};
use shared::domain::ids::GroupPk;
use shared::domain::secret::SecretBytes;
use shared::error::AppError;
use shared::ports::key_vault::{EncryptionContext, Envelope, KeyVault, KeyVaultError};

on_both_backends!(
    signatures_verify_with_both_verifiers_and_tampering_breaks_them,
    awkward_messages_are_signed_so_that_verifiers_accept_them,
    the_flags_and_the_sender_choose_the_signatures,
    bad_messages_are_refused,
    key_changes_take_effect_within_the_cache_ttl,
    cached_keys_keep_signing_while_the_key_vault_is_down,
    legacy_rsa_keys_of_1024_to_2047_bits_sign_too,
);

/// Signs `message` for `group` as the demo service: status and answer.
async fn sign(app: &TestApp, group: i64, message: &str, data: Value) -> (u16, Value) {
    app.post_as(
        "mta",
        &format!("/v1/customers/{group}/sign"),
        &json!({"message": message, "data": data}),
    )
    .await
}

/// The DNS records of every key the demo tenant may sign with: the customers' and the
/// platform key as the DKIM role reads them, and the FBLs'.
async fn published_records(app: &TestApp) -> Vec<(String, String)> {
    let mut records = Vec::new();
    let mut push = |key: &Value| {
        records.push((
            key["dnsRecord"]["name"].as_str().unwrap().to_owned(),
            key["dnsRecord"]["value"].as_str().unwrap().to_owned(),
        ))
    };
    for key in app.get_as("dkimops", "/v1/dkims?size=100").await.1["elements"].as_array().unwrap() {
        push(key);
    }
    push(&app.get_as("dkimops", "/v1/platform/dkim").await.1);
    for fbl in app.get_as("dkimops", "/v1/fbls?size=100").await.1["elements"].as_array().unwrap() {
        push(&fbl["dkim"]);
    }
    records
}

/// `message` with its first occurrence of `from` replaced by `to`.
fn tampered(message: &str, from: &str, to: &str) -> Vec<u8> {
    assert!(message.contains(from), "{from:?} is in the message");
    message.replacen(from, to, 1).into_bytes()
}

async fn signatures_verify_with_both_verifiers_and_tampering_breaks_them(app: TestApp) {
    let records = published_records(&app).await;
    let cases = [
        (100, "acme.test", "acme.test", "s2048", "rsa-sha256"),
        (100, "news.acme.test", "news.acme.test", "ed1", "ed25519-sha256"),
        (101, "acme.test", "mail.platform.test", "pf1", "rsa-sha256"),
        (200, "globex.test", "mail.platform.test", "pf1", "rsa-sha256"),
    ];
    for (group, sender, domain, selector, algorithm) in cases {
        let (status, answer) = sign(
            &app,
            group,
            SAMPLE_MESSAGE,
            json!({"sender": format!("bounce@{sender}"), "recipient": "someone@gmail.com"}),
        )
        .await;
        assert_eq!(status, 200, "{group} {sender}: {answer}");
        assert_eq!(
            answer["dkim"],
            json!({"domain": domain, "selector": selector, "algorithm": algorithm})
        );
        assert_eq!(answer["fbl"]["recipientDomain"], "gmail.com");
        let signed = answer["message"].as_str().unwrap();
        assert!(signed.ends_with(SAMPLE_MESSAGE), "the message follows its signatures unchanged");
        let verdicts = verify(
            &[
                signed.as_bytes().to_vec(),
                tampered(signed, "Hello, world.", "Hello, world!"),
                tampered(signed, "Subject: Hello", "Subject: Hellp"),
                tampered(signed, "From: Acme News", "From: Acme Newz"),
            ],
            &records,
        )
        .await;
        assert!(verdicts[0].all_pass(2), "{group} {sender}: {:?}", verdicts[0]);
        for (verdict, change) in verdicts[1..].iter().zip(["a body byte", "a signed header", "From"]) {
            assert!(verdict.all_fail(), "{group} {sender}, {change} changed: {verdict:?}");
        }
    }
}

async fn awkward_messages_are_signed_so_that_verifiers_accept_them(app: TestApp) {
    let records = published_records(&app).await;
    let head = "From: news@acme.test\r\nTo: a@example.org\r\nSubject: Edge\r\n";
    let messages = [
        SAMPLE_MESSAGE.replace("\r\n", "\n"),
        format!("{head}Cc: one@example.org,\r\n\ttwo@example.org\r\n\r\nfolded\r\n"),
        format!("{head}\r\nno final newline"),
        format!("{head}\r\n"),
        format!("{head}\r\ntrailing   \t\r\nspaces  and\ttabs\r\n\r\n\r\n"),
        format!("{head}Subject: Twice\r\n\r\n{}\r\n", "long ".repeat(3_000)),
        format!("{head}X-Note: Grüße, ça va\r\n\r\nCiao, è già l'ora — 你好\r\n"),
    ];
    for sender in ["acme.test", "news.acme.test"] {
        let mut signed = Vec::new();
        for message in &messages {
            let (status, answer) = sign(&app, 100, message, json!({"sender": sender})).await;
            assert_eq!(status, 200, "{message:?}: {answer}");
            assert_eq!(answer["fbl"], Value::Null, "no recipient, no FBL");
            signed.push(answer["message"].as_str().unwrap().as_bytes().to_vec());
        }
        for (verdict, message) in verify(&signed, &records).await.iter().zip(&messages) {
            assert!(verdict.all_pass(1), "{sender}, {message:?}: {verdict:?}");
        }
    }
}

async fn the_flags_and_the_sender_choose_the_signatures(app: TestApp) {
    let records = published_records(&app).await;
    // Without a sender, the From header's domain selects the key (news.acme.test: ed1).
    let from_news = SAMPLE_MESSAGE.replace("news@acme.test", "editor@news.acme.test");
    let (status, answer) = sign(&app, 100, &from_news, json!({"recipient": "gmail.com"})).await;
    assert_eq!((status, &answer["dkim"]["selector"]), (200, &json!("ed1")), "{answer}");
    let body = |apply_dkim: bool, apply_fbl: bool| json!({"message": SAMPLE_MESSAGE, "data": {"recipient": "x@gmail.com"}, "applyDkim": apply_dkim, "applyFbl": apply_fbl});
    let (status, fbl_only) = app.post_as("mta", "/v1/customers/100/sign", &body(false, true)).await;
    assert_eq!(
        (status, &fbl_only["dkim"], &fbl_only["fbl"]["recipientDomain"]),
        (200, &Value::Null, &json!("gmail.com")),
        "{fbl_only}"
    );
    let (status, dkim_only) = app.post_as("mta", "/v1/customers/100/sign", &body(true, false)).await;
    assert_eq!(
        (status, dkim_only["dkim"].is_object(), &dkim_only["fbl"]),
        (200, true, &Value::Null),
        "{dkim_only}"
    );
    let (status, neither) = app.post_as("mta", "/v1/customers/100/sign", &body(false, false)).await;
    assert_eq!((status, &neither["message"]), (200, &json!(SAMPLE_MESSAGE)), "{neither}");
    let verdicts = verify(
        &[
            fbl_only["message"].as_str().unwrap().into(),
            dkim_only["message"].as_str().unwrap().into(),
        ],
        &records,
    )
    .await;
    assert!(verdicts.iter().all(|verdict| verdict.all_pass(1)), "{verdicts:?}");
    // A recipient domain without FBL adds none.
    let (status, answer) = sign(&app, 100, SAMPLE_MESSAGE, json!({"recipient": "someone@example.org"})).await;
    assert_eq!((status, &answer["fbl"]), (200, &Value::Null), "{answer}");
}

async fn bad_messages_are_refused(app: TestApp) {
    let cases = [
        (json!({"message": "To: a@example.org\r\n\r\nno From\r\n", "data": {}}), "/message"),
        (
            json!({"message": "From: Undisclosed recipients:;\r\n\r\nno address\r\n", "data": {}}),
            "/data/sender",
        ),
        (
            json!({"message": "From news@acme.test\r\n\r\nno colon\r\n", "data": {}}),
            "/message",
        ),
        (
            json!({"message": SAMPLE_MESSAGE, "data": {"sender": "not a domain"}}),
            "/data/sender",
        ),
        (json!({"message": SAMPLE_MESSAGE, "data": {"recipient": "@"}}), "/data/recipient"),
        (json!({"message": SAMPLE_MESSAGE}), "/data"),
        (json!({"message": 42, "data": {}}), "/message"),
        (json!({"message": SAMPLE_MESSAGE, "data": {}, "applyDkim": "yes"}), "/applyDkim"),
    ];
    for (body, field) in cases {
        let (status, answer) = app.post_as("mta", "/v1/customers/100/sign", &body).await;
        assert_eq!((status, error_paths(&answer)), (400, vec![field.to_owned()]), "{body}");
    }
    let huge = format!("{}{}", SAMPLE_MESSAGE, "x".repeat(10 * 1024 * 1024));
    let (status, answer) = sign(&app, 100, &huge, json!({})).await;
    assert_eq!(status, 413, "{answer}");
    error_paths(&answer);
}

async fn key_changes_take_effect_within_the_cache_ttl(app: TestApp) {
    let state = app.environment.state.clone();
    let keys = KeyCache::new(Duration::from_millis(200));
    let chosen = |directory: &accountcentral_signing::keys::CustomerDirectory| match select(
        &directory.keys.keys,
        directory.keys.default_id(),
        Some("news.acme.test"),
    ) {
        Selection::Customer { key, .. } => Some((key.value.key.selector.clone(), key.version)),
        Selection::Platform => None,
    };
    let before = chosen(&keys.customer(&state, GroupPk(100)).await.unwrap()).unwrap();
    assert_eq!(before.0, "ed1");

    // Deactivated: until the TTL passes the cache still says ed1; then the default signs.
    deactivate(&app, 100, "news.acme.test").await;
    assert_eq!(chosen(&keys.customer(&state, GroupPk(100)).await.unwrap()).unwrap(), before);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let after = chosen(&keys.customer(&state, GroupPk(100)).await.unwrap()).unwrap();
    assert_eq!(after.0, "s2048", "the inactive key no longer signs");
}

/// The key vault, or an outage of it.
struct Outage {
    vault: Arc<dyn KeyVault>,
    down: AtomicBool,
}

#[async_trait]
impl KeyVault for Outage {
    async fn seal(&self, plaintext: &SecretBytes, context: &EncryptionContext) -> Result<Envelope, KeyVaultError> {
        self.vault.seal(plaintext, context).await
    }

    async fn open(&self, envelope: &Envelope, context: &EncryptionContext) -> Result<SecretBytes, KeyVaultError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(KeyVaultError::Unavailable("the key vault is down".into()));
        }
        self.vault.open(envelope, context).await
    }
}

async fn cached_keys_keep_signing_while_the_key_vault_is_down(app: TestApp) {
    let mut state = app.environment.state.clone();
    let outage = Arc::new(Outage {
        vault: state.key_vault.clone(),
        down: AtomicBool::new(false),
    });
    state.key_vault = outage.clone();
    let keys = KeyCache::new(Duration::from_secs(15));
    let acme = keys.customer(&state, GroupPk(100)).await.unwrap();
    let default = acme.sealed(GroupPk(100), acme.keys.default_id().unwrap()).unwrap();
    let warm = keys.signer(&state, &default).await.expect("opened while the vault is up");

    outage.down.store(true, Ordering::SeqCst);
    let again = keys.signer(&state, &default).await.expect("a cached key signs without the vault");
    assert!(Arc::ptr_eq(&warm, &again), "no second parse");
    let platform = keys.platform(&state).await.unwrap().expect("the platform key");
    let refused = keys.signer(&state, &platform).await.expect_err("an unopened key needs the vault");
    assert!(matches!(refused, AppError::KeyVault(KeyVaultError::Unavailable(_))));
    let response = refused.into_response();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
}

/// Keys below 2048 bits are accepted (RFC 8301 allows 1024 and up) and sign like the others.
async fn legacy_rsa_keys_of_1024_to_2047_bits_sign_too(app: TestApp) {
    let legacy = DkimKeyPair::generate_rsa(1024).expect("a 1024-bit key");
    let (status, key) = app
        .post_as(
            "care",
            "/v1/customers/102/dkims",
            &key_body_of(&legacy, "legacy.test", "old1", true),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let (status, answer) = sign(&app, 102, SAMPLE_MESSAGE, json!({"sender": "legacy.test"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["dkim"],
        json!({"domain": "legacy.test", "selector": "old1", "algorithm": "rsa-sha256"})
    );
    let records = published_records(&app).await;
    let signed = answer["message"].as_str().unwrap();
    let verdicts = verify(&[signed.into(), tampered(signed, "Hello, world.", "Hello, World.")], &records).await;
    assert!(verdicts[0].all_pass(1), "{:?}", verdicts[0]);
    assert!(verdicts[1].all_fail(), "{:?}", verdicts[1]);
}
