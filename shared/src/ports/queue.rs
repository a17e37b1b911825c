//! The message queue: at-least-once delivery with a visibility timeout, as SQS.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

/// A message to send: a JSON body and string attributes (the tracing id travels here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub body: String,
    pub attributes: BTreeMap<String, String>,
}

impl OutgoingMessage {
    /// A message with a body and no attributes.
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            attributes: BTreeMap::new(),
        }
    }

    /// Adds a string attribute.
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }
}

/// A message as received: hidden from other receivers until its visibility timeout
/// passes or it is deleted with its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

/// What can go wrong with the queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("unknown or expired receipt")]
    InvalidReceipt,
}

/// The queue port.
#[async_trait]
pub trait MessageQueue: Send + Sync {
    /// Enqueues a message durably and returns its id.
    async fn send(&self, message: OutgoingMessage) -> Result<String, QueueError>;

    /// Receives up to `max` visible messages, waiting at most `wait` for the first one.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError>;

    /// Acknowledges a message so that it is never delivered again.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;
}
