//! The SMS port's two adapters deliver what they are given: the embedded outbox as one
//! JSON line per message, SNS (on the emulator at `AWS_ENDPOINT_URL`) as a transactional
//! SMS to the number, read back from what the emulator recorded.

mod support;

use std::sync::Arc;

use serde_json::Value;
use shared::adapters::aws::sns::SnsSms;
use shared::adapters::embedded::sms::SmsOutbox;
use shared::ports::clock::SystemClock;
use shared::ports::sms::SmsSender;

/// A number no other test sends to.
fn phone() -> String {
    format!("+39347{:07}", uuid::Uuid::new_v4().as_u128() % 10_000_000)
}

#[tokio::test]
async fn the_outbox_appends_one_line_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sms-outbox.jsonl");
    let outbox = SmsOutbox::new(path.clone(), Arc::new(SystemClock));
    let to = phone();
    outbox.send(&to, "first: 123456").await.unwrap();
    outbox.send(&to, "second, with \"quotes\"\nand a line break").await.unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["to"], to.as_str());
    assert_eq!(lines[0]["text"], "first: 123456");
    assert_eq!(lines[1]["text"], "second, with \"quotes\"\nand a line break");
    assert!(lines[1]["time"].is_string());
}

/// The SMS the emulator's SNS recorded as sent to `to` (its `/moto-api/data.json`).
/// moto builds that dump from every service's state without a lock, and answers 500 when
/// another test's DynamoDB write changes an item under it (a TypeError on a DynamoType
/// key in its log): such an answer is asked again, a bounded number of times.
async fn recorded_by_moto(to: &str) -> Vec<String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL: the emulator the AWS tests run against");
    let mut attempts = 0;
    let response = loop {
        let response = reqwest::get(format!("{endpoint}/moto-api/data.json")).await.unwrap();
        attempts += 1;
        if response.status().is_success() || attempts == 20 {
            break response;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    let data: Value = response.error_for_status().unwrap().json().await.unwrap();
    data["sns"]["SMS"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|sms| sms["phone_number"] == to)
        .map(|sms| sms["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn sns_publishes_the_text_to_the_number() {
    let sns = SnsSms::new(aws_sdk_sns::Client::new(&support::aws_config().await));
    let to = phone();
    sns.send(&to, "Your AccountCentral verification code is 042042.").await.unwrap();
    sns.send(&to, "Il tuo codice di verifica AccountCentral è 777777.").await.unwrap();
    assert_eq!(
        recorded_by_moto(&to).await,
        [
            "Your AccountCentral verification code is 042042.",
            "Il tuo codice di verifica AccountCentral è 777777."
        ]
    );
}

#[tokio::test]
async fn sns_refuses_a_number_that_is_not_e164() {
    let sns = SnsSms::new(aws_sdk_sns::Client::new(&support::aws_config().await));
    let error = sns.send("not a number", "text").await.unwrap_err();
    assert!(error.to_string().contains("SMS gateway unavailable"), "{error}");
}
