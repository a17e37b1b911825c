//! The message queue's conformance suite: every case runs against the local queue
//! (SQLite) and against SQS (moto), so the two cannot drift. Both queues have a
//! one-second visibility timeout and dead-letter a message after two receives. No case
//! depends on how fast the machine is: a message is checked to be hidden on a queue whose
//! visibility timeout no machine outlasts, redelivery is timed from before the receive
//! that hid it, and every wait for a message is generous (a receive returns as soon as
//! one is there).

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use shared::ports::queue::{MessageQueue, OutgoingMessage, QueueError, ReceivedMessage};
use support::{MAX_RECEIVES, QueueFixture, VISIBILITY_TIMEOUT, queue_with};

conformance!(queue =>
    receive_returns_what_was_sent,
    every_message_is_received,
    deleted_message_is_gone,
    received_message_is_hidden_until_its_visibility_timeout,
    undeleted_message_reappears_after_visibility_timeout,
    receive_on_empty_queue_returns_empty,
    delete_with_bogus_receipt_fails,
    message_is_dead_lettered_after_max_receives,
);

// ---------------------------------------------------------------- helpers

/// Long enough for a hidden message to become visible again, with room for a slow machine.
const REDELIVERY_WAIT: Duration = Duration::from_secs(30);

/// A visibility timeout longer than any machine takes between two calls.
const LONG_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(300);

fn notification(n: u32) -> OutgoingMessage {
    OutgoingMessage::new(format!(r#"{{"kind":"notification","n":{n},"text":"Grüße ✉"}}"#))
        .with_attribute("tracingId", format!("trace-{n}"))
        .with_attribute("source", "conformance")
}

/// Receives, expecting exactly one message.
async fn receive_one(queue: &dyn MessageQueue, wait: Duration) -> ReceivedMessage {
    let mut messages = queue.receive(10, wait).await.expect("receive");
    assert_eq!(messages.len(), 1, "expected one message, got {messages:?}");
    messages.remove(0)
}

async fn assert_nothing_delivered(queue: &dyn MessageQueue, wait: Duration, why: &str) {
    let messages = queue.receive(10, wait).await.expect("receive");
    assert!(messages.is_empty(), "{why}, yet received {messages:?}");
}

// ---------------------------------------------------------------- cases

async fn receive_returns_what_was_sent(queue: &dyn MessageQueue) {
    let sent = notification(1);
    let id = queue.send(sent.clone()).await.expect("send");
    assert!(!id.is_empty(), "send returns the message id");

    let received = receive_one(queue, REDELIVERY_WAIT).await;
    assert_eq!(received.message_id, id);
    assert_eq!(received.body, sent.body);
    assert_eq!(received.attributes, sent.attributes);
    assert_eq!(received.receive_count, 1);
    assert!(!received.receipt.is_empty(), "a receipt to delete it with");

    let plain = OutgoingMessage::new("{}");
    queue.send(plain.clone()).await.expect("send without attributes");
    let received = receive_one(queue, REDELIVERY_WAIT).await;
    assert_eq!((received.body, received.attributes), (plain.body, plain.attributes));
}

async fn every_message_is_received(queue: &dyn MessageQueue) {
    let mut sent = BTreeSet::new();
    for n in 0..5 {
        sent.insert(queue.send(notification(n)).await.expect("send"));
    }
    let mut received = BTreeSet::new();
    let deadline = Instant::now() + REDELIVERY_WAIT;
    while received.len() < sent.len() && Instant::now() < deadline {
        for message in queue.receive(2, Duration::from_secs(1)).await.expect("receive") {
            assert!(
                received.insert(message.message_id.clone()),
                "{} delivered twice",
                message.message_id
            );
            assert_eq!(message.receive_count, 1, "first delivery of {message:?}");
            queue.delete(&message.receipt).await.expect("delete");
        }
    }
    assert_eq!(received, sent, "every message sent is received, each once");
}

async fn deleted_message_is_gone(queue: &dyn MessageQueue) {
    queue.send(notification(1)).await.expect("send");
    let received = receive_one(queue, REDELIVERY_WAIT).await;
    queue.delete(&received.receipt).await.expect("delete");
    // Past the visibility timeout an undeleted message would be back.
    assert_nothing_delivered(queue, VISIBILITY_TIMEOUT * 3, "the message was deleted").await;
}

async fn received_message_is_hidden_until_its_visibility_timeout(fixture: &QueueFixture) {
    let hiding = queue_with(fixture.backend, LONG_VISIBILITY_TIMEOUT, MAX_RECEIVES).await;
    let queue: &dyn MessageQueue = (&hiding).into();
    queue.send(notification(1)).await.expect("send");
    receive_one(queue, REDELIVERY_WAIT).await;
    assert_nothing_delivered(queue, Duration::from_secs(1), "the message is hidden until its visibility timeout").await;
}

async fn undeleted_message_reappears_after_visibility_timeout(queue: &dyn MessageQueue) {
    let sent = notification(1);
    queue.send(sent.clone()).await.expect("send");
    // Before the receive: the message is hidden no sooner than this, however slow the call.
    let asked_at = Instant::now();
    let first = receive_one(queue, REDELIVERY_WAIT).await;

    let again = receive_one(queue, REDELIVERY_WAIT).await;
    assert!(
        asked_at.elapsed() >= VISIBILITY_TIMEOUT - Duration::from_millis(200),
        "redelivered after {:?}, before the visibility timeout",
        asked_at.elapsed()
    );
    assert_eq!(again.message_id, first.message_id);
    assert_eq!((&again.body, &again.attributes), (&sent.body, &sent.attributes));
    assert_eq!(again.receive_count, 2);
    assert_ne!(again.receipt, first.receipt, "each receive has its own receipt");

    queue.delete(&again.receipt).await.expect("delete with the latest receipt");
    assert_nothing_delivered(queue, VISIBILITY_TIMEOUT * 3, "the message was deleted").await;
}

async fn receive_on_empty_queue_returns_empty(queue: &dyn MessageQueue) {
    let started = Instant::now();
    assert_nothing_delivered(queue, Duration::from_secs(1), "the queue is empty").await;
    // Well below SQS's longest wait (20 s), whatever the machine.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "a short wait returns soon, took {:?}",
        started.elapsed()
    );
    assert_nothing_delivered(queue, Duration::ZERO, "the queue is empty").await;
}

async fn delete_with_bogus_receipt_fails(queue: &dyn MessageQueue) {
    match queue.delete("bogus-receipt").await {
        Err(QueueError::InvalidReceipt) => {}
        other => panic!("expected InvalidReceipt, got {other:?}"),
    }
    // A real message is unaffected by the failed delete.
    queue.send(notification(1)).await.expect("send");
    let received = receive_one(queue, REDELIVERY_WAIT).await;
    assert_eq!(received.receive_count, 1);
}

async fn message_is_dead_lettered_after_max_receives(fixture: &QueueFixture) {
    let queue: &dyn MessageQueue = fixture.into();
    let sent = notification(1);
    let id = queue.send(sent.clone()).await.expect("send");
    for count in 1..=MAX_RECEIVES {
        let received = receive_one(queue, REDELIVERY_WAIT).await;
        assert_eq!(
            (received.message_id.as_str(), received.receive_count),
            (id.as_str(), count),
            "delivery {count}"
        );
    }
    assert_nothing_delivered(queue, VISIBILITY_TIMEOUT * 3, "the message exhausted its receives").await;
    assert_eq!(
        fixture.dead_letter_bodies().await,
        vec![sent.body],
        "the message went to the dead letters"
    );
}
