//! Queue consumers over both queue adapters (the embedded queue, and SQS on the
//! emulator): a message is deleted only when its consumer succeeded, one that keeps
//! failing (or whose consumer panics) is dead-lettered after five receives, the tracing
//! id travels with the message, and an SQS batch reports exactly its failed records.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use serde_json::json;
use shared::app::{AppState, Queues};
use shared::auth::tokens::DevTokenIssuer;
use shared::consumer::{Consumer, QueueMessage, TRACING_ATTRIBUTE, enqueue, spawn_local};
use shared::domain::catalogue::Stage;
use shared::error::AppError;
use shared::lambda::consume_event;
use shared::ports::queue::MessageQueue;
use support::{Backend, queue_dead_lettering_after};

/// As the template's redrive policy.
const MAX_RECEIVES: u32 = 5;

/// Fails messages whose `outcome` is "fail", panics on "panic", and records every message it sees.
struct Recording {
    queue: Arc<dyn MessageQueue>,
    seen: Mutex<Vec<QueueMessage>>,
}

#[async_trait]
impl Consumer for Recording {
    fn queue(&self, _queues: &Queues) -> Arc<dyn MessageQueue> {
        self.queue.clone()
    }

    async fn consume(&self, _state: &AppState, message: &QueueMessage) -> Result<(), AppError> {
        self.seen.lock().unwrap().push(message.clone());
        let body: serde_json::Value = serde_json::from_str(&message.body).expect("a JSON body");
        match body["outcome"].as_str() {
            Some("fail") => Err(AppError::Dependency("the work cannot be done".into())),
            Some("panic") => panic!("a consumer bug"),
            _ => Ok(()),
        }
    }
}

impl Recording {
    /// How many times each outcome's message was received, with the receive counts seen.
    fn receives(&self, outcome: &str) -> Vec<u32> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|message| message.body.contains(&format!("\"{outcome}\"")))
            .map(|message| message.receive_count)
            .collect()
    }
}

fn state(dir: &std::path::Path) -> AppState {
    let issuer = DevTokenIssuer::new("test", "test", &DevTokenIssuer::generate_key()).expect("a development issuer");
    AppState::embedded(dir, Stage::Dev, issuer.verifier()).expect("the embedded state")
}

async fn failing_messages_are_dead_lettered_after_five_receives(backend: Backend) {
    let fixture = queue_dead_lettering_after(backend, MAX_RECEIVES).await;
    let dir = tempfile::tempdir().unwrap();
    let consumer = Arc::new(Recording {
        queue: fixture.queue(),
        seen: Mutex::default(),
    });
    for outcome in ["succeed", "fail", "panic"] {
        enqueue(&*fixture.queue(), &json!({ "outcome": outcome }), &format!("trace-{outcome}"))
            .await
            .expect("queued");
    }
    let worker = spawn_local(state(dir.path()), consumer.clone());

    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut dead = Vec::new();
    while dead.len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "not dead-lettered: {dead:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        dead.extend(fixture.dead_letter_bodies().await);
    }
    worker.abort();

    dead.sort();
    assert_eq!(
        dead,
        [json!({"outcome": "fail"}).to_string(), json!({"outcome": "panic"}).to_string()]
    );
    let every_receive: Vec<u32> = (1..=MAX_RECEIVES).collect();
    assert_eq!(consumer.receives("fail"), every_receive, "received until dead-lettered");
    assert_eq!(
        consumer.receives("panic"),
        every_receive,
        "a panic does not acknowledge its message"
    );
    assert_eq!(consumer.receives("succeed"), [1], "acknowledged once, never received again");
    let seen = consumer.seen.lock().unwrap();
    assert!(
        seen.iter()
            .all(|message| message.tracing_id.as_deref() == Some(&format!("trace-{}", message_outcome(message)))),
        "each message carries the tracing id it was queued with: {seen:?}"
    );
}

fn message_outcome(message: &QueueMessage) -> String {
    let body: serde_json::Value = serde_json::from_str(&message.body).unwrap();
    body["outcome"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_failing_messages_are_dead_lettered_after_five_receives() {
    failing_messages_are_dead_lettered_after_five_receives(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aws_failing_messages_are_dead_lettered_after_five_receives() {
    failing_messages_are_dead_lettered_after_five_receives(Backend::Aws).await;
}

fn record(id: &str, body: Option<&str>) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(id.into());
    record.body = body.map(Into::into);
    record.attributes.insert("ApproximateReceiveCount".into(), "3".into());
    let mut tracing = SqsMessageAttribute::default();
    tracing.string_value = Some(format!("trace-{id}"));
    tracing.data_type = Some("String".into());
    record.message_attributes.insert(TRACING_ATTRIBUTE.into(), tracing);
    record
}

#[tokio::test]
async fn an_sqs_batch_reports_exactly_its_failed_records() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path());
    let recording = Arc::new(Recording {
        queue: state.queues.notifications.clone(),
        seen: Mutex::default(),
    });
    let consumer: Arc<dyn Consumer> = recording.clone();
    let mut event = SqsEvent::default();
    event.records = vec![
        record("m-ok", Some(r#"{"outcome": "succeed"}"#)),
        record("m-fail", Some(r#"{"outcome": "fail"}"#)),
        record("m-panic", Some(r#"{"outcome": "panic"}"#)),
        record("m-empty", None),
        record("m-ok-2", Some(r#"{"outcome": "succeed"}"#)),
    ];

    let response = consume_event(&state, &consumer, event).await;

    let mut failed: Vec<String> = response
        .batch_item_failures
        .into_iter()
        .map(|failure| failure.item_identifier)
        .collect();
    failed.sort();
    assert_eq!(failed, ["m-empty", "m-fail", "m-panic"]);
    let seen = recording.seen.lock().unwrap();
    assert_eq!(seen.len(), 4, "every record with a body is consumed");
    assert!(seen.iter().all(|message| message.receive_count == 3));
    assert!(
        seen.iter()
            .all(|message| message.tracing_id.as_deref() == Some(&format!("trace-{}", message.id)))
    );
}
