//! DKIM keys over HTTP: validation, secrecy, the default key, selection, the
//! platform key and FBLs, as a user of the key-management operations relies on them.

use accountcentral_e2e::dkim::{deactivate, fbl_body, kept_fbl_body, kept_key_body, key_body, key_body_of, key_pair};
use accountcentral_e2e::{TestApp, error_paths, on_both_backends, unique};
use base64::Engine;
use dkim_engine::Algorithm;
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::secret::ExposeSecret;

on_both_backends!(
    a_new_key_is_answered_with_its_dns_record_and_never_in_clear,
    the_first_key_is_the_default_and_the_default_is_kept_consistent,
    bad_keys_are_refused_naming_the_field,
    the_signing_key_follows_the_selection_rules,
    all_keys_are_listed_by_customer_then_domain,
    fbls_are_unique_per_recipient_domain_and_cover_from,
    the_platform_key_is_replaced_by_the_dkim_role_only,
);

/// Creates a key of `group` as `user`: its answer.
async fn create(app: &TestApp, user: &str, group: i64, body: &Value) -> Value {
    let (status, key) = app.post_as(user, &format!("/v1/customers/{group}/dkims"), body).await;
    assert_eq!(status, 201, "{user} creates a key of {group}: {key}");
    key
}

async fn a_new_key_is_answered_with_its_dns_record_and_never_in_clear(app: TestApp) {
    let domain = format!("{}.test", unique("mail"));
    let pair = key_pair(Algorithm::RsaSha256);
    let key = create(&app, "acme.admin", 101, &key_body_of(pair, &domain, "s1", true)).await;
    assert_eq!(key["algorithm"], "rsa-sha256");
    assert_eq!(key["dnsRecord"]["name"], format!("s1._domainkey.{domain}"));
    assert_eq!(
        key["dnsRecord"]["value"],
        format!("v=DKIM1; k=rsa; p={}", pair.public_key().p_value())
    );
    assert_eq!(key["privateKey"], Value::Null, "an admin never sees the private key");
    let path = format!("/v1/customers/101/dkims/{}", key["id"]);
    let (status, as_operator) = app.get_as("dkimops", &path).await;
    assert_eq!(status, 200, "{as_operator}");
    let sealed = as_operator["privateKey"].as_str().expect("the DKIM role sees the sealed key");
    let envelope: Value = serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(sealed).unwrap()).unwrap();
    assert!(
        envelope["ciphertext"].is_string() && envelope["wrappedKey"].is_string(),
        "{envelope}"
    );
    let pem = pair.private_pem();
    assert!(!sealed.contains(pem.expose_secret()), "the sealed form is not the key");
    for user in ["care", "acme.admin"] {
        let (status, key) = app.get_as(user, &path).await;
        assert_eq!((status, &key["privateKey"]), (200, &Value::Null), "{user}: {key}");
    }

    // Nothing the stand-in keeps holds the key in clear, in no file of the embedded backend
    // and no item of the emulator's table: no line of the PEM, no slice of the DER. Pieces
    // of the private half (the first half holds the modulus, published in the DNS record),
    // rather than the whole key, so that a key split over two of SQLite's pages is found too.
    let pem_lines: Vec<&str> = pem.expose_secret().lines().filter(|line| !line.starts_with("-----")).collect();
    let der = pair.private_pkcs8().expose_secret().to_vec();
    let mut pieces: Vec<&[u8]> = pem_lines[pem_lines.len() / 2..].iter().map(|line| line.as_bytes()).collect();
    pieces.extend(der[der.len() / 2..].chunks_exact(48));
    let kept = match &app.environment.aws_resources {
        None => walk(app.data_dir())
            .into_iter()
            .map(|file| (file.display().to_string(), std::fs::read(&file).unwrap()))
            .collect(),
        Some(resources) => table_items(&resources.table).await,
    };
    let ciphertext = envelope["ciphertext"].as_str().unwrap().as_bytes();
    assert!(
        ciphertext
            .chunks(48)
            .any(|piece| kept.iter().any(|(_, bytes)| contains(bytes, piece))),
        "the scan reads where the key is kept: the sealed key is there"
    );
    for (place, bytes) in &kept {
        assert!(
            !pieces.iter().any(|piece| contains(bytes, piece)),
            "{place} holds the private key in clear"
        );
    }
}

/// Every item of the emulator's `table`, by its key: the bytes of its string and binary
/// values (nested ones too), one after another.
async fn table_items(table: &str) -> Vec<(String, Vec<u8>)> {
    let config = shared::adapters::aws::environment_config().expect("the emulator's settings");
    let client = aws_sdk_dynamodb::Client::new(&config);
    let pages: Vec<_> = client
        .scan()
        .table_name(table)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .expect("the emulator scans the table");
    pages
        .into_iter()
        .map(|item| {
            let place = format!("item {:?} {:?}", item.get("pk"), item.get("sk"));
            let mut bytes = Vec::new();
            for value in item.values() {
                value_bytes(value, &mut bytes);
            }
            (place, bytes)
        })
        .collect()
}

fn value_bytes(value: &aws_sdk_dynamodb::types::AttributeValue, out: &mut Vec<u8>) {
    use aws_sdk_dynamodb::types::AttributeValue::*;
    match value {
        S(text) => out.extend_from_slice(text.as_bytes()),
        B(blob) => out.extend_from_slice(blob.as_ref()),
        Ss(texts) => texts.iter().for_each(|text| out.extend_from_slice(text.as_bytes())),
        Bs(blobs) => blobs.iter().for_each(|blob| out.extend_from_slice(blob.as_ref())),
        L(values) => values.iter().for_each(|value| value_bytes(value, out)),
        M(values) => values.values().for_each(|value| value_bytes(value, out)),
        _ => {}
    }
    // A separator, so that no match spans two values.
    out.push(0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path))
        } else {
            files.push(path)
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

async fn the_first_key_is_the_default_and_the_default_is_kept_consistent(app: TestApp) {
    // Customer 102 starts without keys.
    let first = create(&app, "care", 102, &key_body("one.test", "s1", true)).await;
    let second = create(&app, "dkimops", 102, &key_body("two.test", "s1", true)).await;
    assert_eq!(first["default"], true);
    assert_eq!(second["default"], false);
    let (first_id, second_id) = (first["id"].clone(), second["id"].clone());
    let key_path = |id: &Value| format!("/v1/customers/102/dkims/{id}");

    // The default cannot go while others exist, nor be deactivated.
    let (status, _) = app.delete_as("care", &key_path(&first_id)).await;
    assert_eq!(status, 409);
    let mut inactive = kept_key_body(&first);
    inactive["active"] = json!(false);
    let (status, body) = app.put_as("care", &key_path(&first_id), &inactive).await;
    assert_eq!((status, error_paths(&body)), (409, vec!["/active".to_owned()]));
    let (_, stored) = app.get_as("care", &key_path(&first_id)).await;
    assert_eq!(stored["active"], true, "the default stays active");

    // Switching the default moves the flag: exactly one key is the default.
    let (status, _) = app
        .put_as("care", "/v1/customers/102/dkims/default", &json!({"id": second_id}))
        .await;
    assert_eq!(status, 200);
    let (_, defaults) = app.get_as("care", "/v1/customers/102/dkims?default=true").await;
    let ids: Vec<&Value> = defaults["elements"].as_array().unwrap().iter().map(|key| &key["id"]).collect();
    assert_eq!(ids, [&second_id]);

    // An inactive key cannot become the default.
    let (status, _) = app.put_as("care", &key_path(&first_id), &inactive).await;
    assert_eq!(status, 200);
    let (status, body) = app
        .put_as("care", "/v1/customers/102/dkims/default", &json!({"id": first_id}))
        .await;
    assert_eq!(
        (status, error_paths(&body)),
        (409, vec!["/id".to_owned()]),
        "an inactive key cannot become the default"
    );
    let (_, active) = app.get_as("care", "/v1/customers/102/dkims?active=true").await;
    assert_eq!(active["page"]["totalElements"], 1);

    // The same domain and selector twice is a conflict, also by renaming.
    let (status, _) = app
        .post_as("care", "/v1/customers/102/dkims", &key_body("two.test", "s1", true))
        .await;
    assert_eq!(status, 409);
    let mut renamed = kept_key_body(&first);
    renamed["domain"] = json!("two.test");
    let (status, _) = app.put_as("care", &key_path(&first_id), &renamed).await;
    assert_eq!(status, 409);

    // A null private key keeps the stored key: another public key contradicts it (409), and the key stays.
    let mut other_public = kept_key_body(&first);
    other_public["publicKey"] = json!(key_pair(Algorithm::RsaSha256).public_key().p_value());
    let (status, body) = app.put_as("care", &key_path(&first_id), &other_public).await;
    assert_eq!((status, error_paths(&body)), (409, vec!["/publicKey".to_owned()]));
    let (_, stored) = app.get_as("care", &key_path(&first_id)).await;
    assert_eq!(stored["publicKey"], first["publicKey"]);

    // Non-default keys go; the last key goes even as the default.
    assert_eq!(app.delete_as("care", &key_path(&first_id)).await.0, 200);
    assert_eq!(app.delete_as("care", &key_path(&second_id)).await.0, 200);
    let (_, left) = app.get_as("care", "/v1/customers/102/dkims").await;
    assert_eq!(left["page"]["totalElements"], 0);
    let third = create(&app, "care", 102, &key_body("three.test", "s1", true)).await;
    assert_eq!(third["default"], true, "after the last key went, the next is the default again");
}

async fn bad_keys_are_refused_naming_the_field(app: TestApp) {
    let other = key_pair(Algorithm::RsaSha256);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"domain": "not a host"}), "/domain"),
        (json!({"domain": "-bad.test"}), "/domain"),
        (json!({"selector": "bad selector"}), "/selector"),
        (json!({"privateKey": "not a key"}), "/privateKey"),
        (json!({"privateKey": null}), "/privateKey"),
        (json!({"publicKey": "!!!"}), "/publicKey"),
        (json!({"publicKey": other.public_key().p_value()}), "/publicKey"),
    ];
    for (change, field) in cases {
        let mut body = key_body(&format!("{}.test", unique("bad")), "s1", true);
        for (name, value) in change.as_object().unwrap() {
            body[name] = value.clone();
        }
        let (status, answer) = app.post_as("care", "/v1/customers/101/dkims", &body).await;
        assert_eq!(status, 400, "{change}: {answer}");
        assert_eq!(error_paths(&answer), [field], "{change}");
    }
    let (_, keys) = app.get_as("care", "/v1/customers/101/dkims").await;
    assert_eq!(keys["page"]["totalElements"], 0, "nothing was written");
}

async fn the_signing_key_follows_the_selection_rules(app: TestApp) {
    let signing = |domain: &str| format!("/v1/customers/100/signing-dkim?domain={domain}");
    let cases = [
        ("acme.test", "s2048", "EXACT"),
        ("news.acme.test", "ed1", "EXACT"),
        ("shop.acme.test", "s2048", "RELAXED"),
        ("globex.test", "s2048", "NONE"),
    ];
    for (domain, selector, alignment) in cases {
        let (status, key) = app.get_as("mta", &signing(domain)).await;
        assert_eq!(status, 200, "{domain}: {key}");
        assert_eq!(
            (key["selector"].as_str(), key["alignment"].as_str()),
            (Some(selector), Some(alignment)),
            "{domain}"
        );
        assert_eq!(key["platform"], false);
        assert_eq!(key["privateKey"], Value::Null, "a service never sees the private key");
    }
    // A customer without keys signs with the platform key.
    let (status, platform) = app.get_as("dkimops", "/v1/customers/200/signing-dkim?domain=globex.test").await;
    assert_eq!(status, 200, "{platform}");
    assert_eq!(
        (&platform["platform"], &platform["domain"], &platform["alignment"], &platform["id"]),
        (&json!(true), &json!("mail.platform.test"), &json!("NONE"), &Value::Null)
    );
    assert!(platform["privateKey"].is_string(), "the DKIM role sees the sealed key");
    // An inactive key is never chosen: the default signs instead.
    deactivate(&app, 100, "news.acme.test").await;
    let (status, key) = app.get_as("mta", &signing("news.acme.test")).await;
    assert_eq!(
        (status, &key["selector"], &key["alignment"]),
        (200, &json!("s2048"), &json!("RELAXED"))
    );
    let (status, body) = app.get_as("mta", "/v1/customers/100/signing-dkim?domain=no%20domain").await;
    assert_eq!((status, error_paths(&body)), (400, vec!["domain".to_owned()]));
}

async fn all_keys_are_listed_by_customer_then_domain(app: TestApp) {
    create(&app, "care", 200, &key_body("b.globex.test", "s1", true)).await;
    create(&app, "care", 200, &key_body("a.globex.test", "s1", true)).await;
    let (status, page) = app.get_as("care", "/v1/dkims?size=100").await;
    assert_eq!(status, 200);
    let listed: Vec<(i64, String)> = page["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| (key["groupPk"].as_i64().unwrap(), key["domain"].as_str().unwrap().to_owned()))
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    assert_eq!(
        page["page"]["totalElements"], 4,
        "Acme's two demo keys and Globex's two: {listed:?}"
    );
    let (_, second) = app.get_as("care", "/v1/dkims?size=1&page=1").await;
    assert_eq!(second["elements"][0]["domain"], json!(listed[1].1));
    assert!(page["elements"].as_array().unwrap().iter().all(|key| key["privateKey"].is_null()));
}

async fn fbls_are_unique_per_recipient_domain_and_cover_from(app: TestApp) {
    let recipient = format!("{}.test", unique("inbox"));
    let (status, fbl) = app.post_as("dkimops", "/v1/fbls", &fbl_body(&recipient)).await;
    assert_eq!(status, 201, "{fbl}");
    assert!(uuid::Uuid::parse_str(fbl["id"].as_str().unwrap()).is_ok());
    assert!(fbl["dkim"]["privateKey"].is_string());
    let (status, _) = app.post_as("dkimops", "/v1/fbls", &fbl_body(&recipient)).await;
    assert_eq!(status, 409, "one FBL per recipient domain");
    let mut without_from = fbl_body(&format!("{}.test", unique("inbox")));
    without_from["signableHeaders"] = json!(["To", "Subject"]);
    let (status, body) = app.post_as("dkimops", "/v1/fbls", &without_from).await;
    assert_eq!((status, error_paths(&body)), (400, vec!["/signableHeaders".to_owned()]));

    // Moving it onto gmail.com (the demo FBL's domain) is a conflict; other changes stay.
    let path = format!("/v1/fbls/{}", fbl["id"].as_str().unwrap());
    let mut moved = kept_fbl_body(&fbl);
    moved["recipientDomain"] = json!("gmail.com");
    assert_eq!(app.put_as("dkimops", &path, &moved).await.0, 409);
    let mut changed = kept_fbl_body(&fbl);
    changed["esp"] = json!("other");
    // Header names ignore case: one listed again in another case is kept once.
    changed["signableHeaders"] = json!(["From", "To", "FROM", "to", "Subject"]);
    let (status, updated) = app.put_as("dkimops", &path, &changed).await;
    assert_eq!((status, &updated["esp"]), (200, &json!("other")));
    assert_eq!(updated["signableHeaders"], json!(["From", "To", "Subject"]));
    let (status, list) = app.get_as("care", "/v1/fbls").await;
    assert_eq!((status, &list["page"]["totalElements"]), (200, &json!(2)), "{list}");
    assert!(
        list["elements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|fbl| fbl["dkim"]["privateKey"].is_null())
    );

    let (status, _, _) = app.send_as("dkimops", Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    assert_eq!(app.put_as("dkimops", &path, &changed).await.0, 404);
    let (_, list) = app.get_as("dkimops", "/v1/fbls").await;
    assert_eq!(list["page"]["totalElements"], 1);
}

async fn the_platform_key_is_replaced_by_the_dkim_role_only(app: TestApp) {
    let (status, before) = app.get_as("care", "/v1/platform/dkim").await;
    assert_eq!((status, &before["privateKey"]), (200, &Value::Null), "{before}");
    let pair = key_pair(Algorithm::RsaSha256);
    let mut body = key_body_of(pair, "mail.platform.test", "pf2", true);
    body.as_object_mut().unwrap().remove("active");
    let (status, replaced) = app.put_as("dkimops", "/v1/platform/dkim", &body).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(
        (&replaced["selector"], &replaced["publicKey"]),
        (&json!("pf2"), &json!(pair.public_key().p_value()))
    );
    assert!(replaced["privateKey"].is_string());
    let (_, after) = app.get_as("care", "/v1/platform/dkim").await;
    assert_eq!(after["selector"], "pf2");
    assert_eq!(app.put_as("care", "/v1/platform/dkim", &body).await.0, 403);
}
