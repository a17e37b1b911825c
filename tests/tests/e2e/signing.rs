//! signMessage over HTTP: every signature the service makes verifies with mail-auth and
//! dkimpy, against the keys the key-management operations publish; the warm key cache
//! follows key changes within its TTL, holds a bounded number of entries, opens a key
//! once however many requests ask for it at once, and keeps signing while the key vault
//! is down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use accountcentral_e2e::dkim::{SAMPLE_MESSAGE, deactivate, key_body, key_body_of};
use accountcentral_e2e::verifiers::verify;
use accountcentral_e2e::{TestApp, error_paths, on_both_backends, read};
use accountcentral_signing::keys::{KeyCache, LIMITS, Limits, OPENED_KEY_AGE, SealedKey};
use async_trait::async_trait;
use axum::response::IntoResponse;
use dkim_engine::key::DkimKeyPair;
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::{Value, json};
use shared::app::AppState;
use shared::domain::dkim::selection::{Selection, select};
use shared::domain::ids::GroupPk;
use shared::domain::secret::SecretBytes;
use shared::error::AppError;
use shared::ports::key_vault::{EncryptionContext, Envelope, KeyVault, KeyVaultError};
use tokio::sync::Barrier;

on_both_backends!(
    signatures_verify_with_both_verifiers_and_tampering_breaks_them,
    awkward_messages_are_signed_so_that_verifiers_accept_them,
    the_flags_and_the_sender_choose_the_signatures,
    bad_messages_are_refused,
    deleted_and_deactivated_keys_stop_signing_within_the_cache_ttl,
    concurrent_first_requests_open_a_key_once,
    entries_beyond_the_bound_are_evicted,
    opened_keys_no_longer_listed_leave_memory,
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
    // Without a sender or an address in From, the customer's default key signs.
    let (status, default) = app.get_as("care", "/v1/customers/100/signing-dkim").await;
    assert_eq!(status, 200, "{default}");
    let undisclosed = "From: Undisclosed recipients:;\r\n\r\nno address\r\n";
    let (status, answer) = sign(&app, 100, undisclosed, json!({})).await;
    assert_eq!((status, &answer["dkim"]["selector"]), (200, &default["selector"]), "{answer}");
    // A recipient domain without FBL adds none.
    let (status, answer) = sign(&app, 100, SAMPLE_MESSAGE, json!({"recipient": "someone@example.org"})).await;
    assert_eq!((status, &answer["fbl"]), (200, &Value::Null), "{answer}");
}

async fn bad_messages_are_refused(app: TestApp) {
    let cases = [
        (json!({"message": "To: a@example.org\r\n\r\nno From\r\n", "data": {}}), "/message"),
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
        (json!({"message": SAMPLE_MESSAGE, "data": [null, null]}), "/data"),
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

/// Signs the sample message for customer 100 from `sender` as the demo service, with
/// `token`: the selector of the DKIM signature.
async fn selector_for(app: &TestApp, token: &str, sender: &str) -> Value {
    let response = app
        .request(Method::POST, "/v1/customers/100/sign")
        .bearer_auth(token)
        .json(&json!({"message": SAMPLE_MESSAGE, "data": {"sender": sender}}))
        .send()
        .await
        .unwrap();
    let (status, answer) = read(response).await;
    assert_eq!(status, 200, "{answer}");
    answer["dkim"]["selector"].clone()
}

/// The signing function's own cache follows the store within its TTL (15 s), on the
/// handlers' clock: a deactivated key and a deleted one no longer sign.
async fn deleted_and_deactivated_keys_stop_signing_within_the_cache_ttl(app: TestApp) {
    let (status, answer) = app
        .post_as("dkimops", "/v1/customers/100/dkims", &key_body("mail.acme.test", "m1", true))
        .await;
    assert_eq!(status, 201, "{answer}");
    // Issued before the clock moves, so that its not-before stays in the verifier's past.
    let token = app.token("mta").await;
    assert_eq!(selector_for(&app, &token, "news.acme.test").await, "ed1");
    assert_eq!(selector_for(&app, &token, "mail.acme.test").await, "m1");

    deactivate(&app, 100, "news.acme.test").await;
    let (status, answer) = app.delete_as("dkimops", &format!("/v1/customers/100/dkims/{}", answer["id"])).await;
    assert_eq!(status, 200, "{answer}");
    app.clock.advance(SignedDuration::from_secs(15));
    for sender in ["news.acme.test", "mail.acme.test"] {
        assert_eq!(
            selector_for(&app, &token, sender).await,
            "s2048",
            "{sender}: its key no longer signs; the default does"
        );
    }
}

/// The key vault, counting the keys it opens; it can be down, and can hold each open
/// until `together` opens are under way (a second at most), so that requests that miss
/// at once reach it at once unless they share one open.
struct Watched {
    vault: Arc<dyn KeyVault>,
    down: AtomicBool,
    opened: AtomicUsize,
    together: Option<Barrier>,
}

#[async_trait]
impl KeyVault for Watched {
    async fn seal(&self, plaintext: &SecretBytes, context: &EncryptionContext) -> Result<Envelope, KeyVaultError> {
        self.vault.seal(plaintext, context).await
    }

    async fn open(&self, envelope: &Envelope, context: &EncryptionContext) -> Result<SecretBytes, KeyVaultError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(KeyVaultError::Unavailable("the key vault is down".into()));
        }
        self.opened.fetch_add(1, Ordering::SeqCst);
        if let Some(together) = &self.together {
            // Only the failing case waits the full second: it bounds the test's time, not its verdict.
            let _ = tokio::time::timeout(Duration::from_secs(1), together.wait()).await;
        }
        self.vault.open(envelope, context).await
    }
}

/// The app's state with its key vault watched.
fn watched(app: &TestApp, together: Option<usize>) -> (AppState, Arc<Watched>) {
    let mut state = app.environment.state.clone();
    let vault = Arc::new(Watched {
        vault: state.key_vault.clone(),
        down: AtomicBool::new(false),
        opened: AtomicUsize::new(0),
        together: together.map(Barrier::new),
    });
    state.key_vault = vault.clone();
    (state, vault)
}

/// The sealed key that customer 100 signs with for `sender_domain`, as `keys` reads it now.
async fn acme_key(keys: &KeyCache, state: &AppState, sender_domain: &str) -> SealedKey {
    let acme = keys.customer(state, GroupPk(100)).await.unwrap();
    match select(&acme.keys.keys, acme.keys.default_id(), Some(sender_domain)) {
        Selection::Customer { key, .. } => acme.sealed(GroupPk(100), key.value.id).unwrap(),
        Selection::Platform => panic!("customer 100 has a key for {sender_domain}"),
    }
}

async fn concurrent_first_requests_open_a_key_once(app: TestApp) {
    const REQUESTS: usize = 8;
    let (state, vault) = watched(&app, Some(REQUESTS));
    let keys = Arc::new(KeyCache::new(Duration::from_secs(15), LIMITS));
    let requests: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let (keys, state) = (keys.clone(), state.clone());
            tokio::spawn(async move {
                let sealed = acme_key(&keys, &state, "acme.test").await;
                keys.signer(&state, &sealed).await.expect("the key opens")
            })
        })
        .collect();
    let mut signers = Vec::new();
    for request in requests {
        signers.push(request.await.unwrap());
    }
    assert_eq!(vault.opened.load(Ordering::SeqCst), 1, "one decryption for {REQUESTS} requests");
    assert!(signers.iter().all(|signer| Arc::ptr_eq(signer, &signers[0])), "one parsed key");
}

async fn entries_beyond_the_bound_are_evicted(app: TestApp) {
    let (state, vault) = watched(&app, None);
    let two = Limits {
        customers: 2,
        recipient_domains: 2,
        opened_keys: 2,
    };
    let keys = KeyCache::new(Duration::from_secs(15), two);
    let opened = || vault.opened.load(Ordering::SeqCst);

    // Opened keys: a third one evicts the first, which must then be opened again.
    let default = acme_key(&keys, &state, "acme.test").await;
    let news = acme_key(&keys, &state, "news.acme.test").await;
    let platform = keys.platform(&state).await.unwrap().expect("the platform key");
    for sealed in [&default, &news, &platform] {
        keys.signer(&state, sealed).await.unwrap();
    }
    assert_eq!((opened(), keys.opened_keys(&state)), (3, 2));
    keys.signer(&state, &platform).await.unwrap();
    assert_eq!(opened(), 3, "the newest two are still open");
    keys.signer(&state, &default).await.unwrap();
    assert_eq!(opened(), 4, "the oldest was evicted");

    // Customers: with two more read, a change to the first is seen without waiting for the TTL.
    deactivate(&app, 100, "news.acme.test").await;
    assert_eq!(acme_key(&keys, &state, "news.acme.test").await.key.selector, "ed1", "cached");
    keys.customer(&state, GroupPk(101)).await.unwrap();
    keys.customer(&state, GroupPk(102)).await.unwrap();
    assert_eq!(acme_key(&keys, &state, "news.acme.test").await.key.selector, "s2048", "read again");

    // Recipient domains: likewise for a deleted FBL.
    assert!(keys.fbl(&state, "gmail.com").await.unwrap().is_some());
    let (_, fbls) = app.get_as("dkimops", "/v1/fbls?size=100").await;
    let gmail = fbls["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|fbl| fbl["recipientDomain"] == "gmail.com")
        .expect("the demo FBL");
    let (status, answer) = app
        .delete_as("dkimops", &format!("/v1/fbls/{}", gmail["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 204, "{answer}");
    assert!(keys.fbl(&state, "gmail.com").await.unwrap().is_some(), "cached");
    for domain in ["one.example", "two.example"] {
        assert!(keys.fbl(&state, domain).await.unwrap().is_none());
    }
    assert!(keys.fbl(&state, "gmail.com").await.unwrap().is_none(), "read again");
}

/// An opened key stays while the store lists it as one that signs, and leaves memory
/// within `OPENED_KEY_AGE` once it does not (here deactivated).
async fn opened_keys_no_longer_listed_leave_memory(app: TestApp) {
    let (state, vault) = watched(&app, None);
    let keys = KeyCache::new(Duration::from_secs(15), LIMITS);
    let opened = || vault.opened.load(Ordering::SeqCst);
    let news = acme_key(&keys, &state, "news.acme.test").await;
    let default = acme_key(&keys, &state, "acme.test").await;
    keys.signer(&state, &news).await.unwrap();
    keys.signer(&state, &default).await.unwrap();
    assert_eq!(opened(), 2);

    deactivate(&app, 100, "news.acme.test").await;
    app.clock.advance(SignedDuration::from_secs(15));
    assert_eq!(acme_key(&keys, &state, "news.acme.test").await.key.selector, "s2048");
    let age = SignedDuration::try_from(OPENED_KEY_AGE).unwrap();
    app.clock.advance(age - SignedDuration::from_secs(10));
    // Read again (the directory expired), the default key is confirmed; the inactive one is not.
    assert_eq!(acme_key(&keys, &state, "acme.test").await.key.selector, "s2048");
    assert_eq!(keys.opened_keys(&state), 1, "only the key that signs is held");
    keys.signer(&state, &default).await.unwrap();
    assert_eq!(opened(), 2, "the key in use was not opened again");
    keys.signer(&state, &news).await.unwrap();
    assert_eq!(opened(), 3, "the inactive key had left: it needs the vault again");
}

async fn cached_keys_keep_signing_while_the_key_vault_is_down(app: TestApp) {
    let (state, outage) = watched(&app, None);
    let keys = KeyCache::new(Duration::from_secs(15), LIMITS);
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
