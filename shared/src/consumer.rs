//! Queue consumers: the functions that do a queue's work (deliver notifications,
//! import news, run provisioning jobs). One consumer serves both deployments: on AWS
//! Lambda the SQS event source hands it batches (`lambda::consume`); in the local
//! stand-in a worker task drains the embedded queue (`spawn_local`). Either way a
//! message is deleted only when its consumer succeeded, so nothing acknowledged is lost:
//! a failed message is received again, and after five receives it goes to the
//! dead-letter queue.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::app::{AppState, Queues};
use crate::error::AppError;
use crate::ports::queue::{MessageQueue, OutgoingMessage};

/// The message attribute that carries the tracing id of the request that queued it.
pub const TRACING_ATTRIBUTE: &str = "X-Tracing-ID";

/// Messages a local worker takes at once, as an SQS event source's batch.
const BATCH: usize = 10;
/// How long a local worker's receive waits for a message (long polling).
const RECEIVE_WAIT: Duration = Duration::from_secs(10);
/// The pause after the queue itself failed, so that a worker does not spin.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// A message handed to a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    pub body: String,
    pub tracing_id: Option<String>,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

/// A queue's consumer.
#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// The queue it drains in the local stand-in (on AWS the SQS event source says so).
    fn queue(&self, queues: &Queues) -> Arc<dyn MessageQueue>;

    /// Handles one message. Ok deletes it; an error leaves it on the queue to be received
    /// again (SQS partial batch failure), and after 5 receives it goes to the dead-letter queue.
    async fn consume(&self, state: &AppState, message: &QueueMessage) -> Result<(), AppError>;
}

/// Sends `body` as JSON, with `tracing_id` as the message's `X-Tracing-ID` attribute.
/// A queue that refuses is an error (503), so nothing is answered 202 and then lost.
pub async fn enqueue(queue: &dyn MessageQueue, body: &impl Serialize, tracing_id: &str) -> Result<String, AppError> {
    let body = serde_json::to_string(body).map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok(queue
        .send(OutgoingMessage::new(body).with_attribute(TRACING_ATTRIBUTE, tracing_id))
        .await?)
}

/// Consumes a batch, its messages concurrently, and returns the ids of those that
/// succeeded: every other message (failed, or its consumer panicked) stays on the queue.
pub async fn consume_batch(state: &AppState, consumer: &Arc<dyn Consumer>, messages: Vec<QueueMessage>) -> HashSet<String> {
    let mut running = JoinSet::new();
    for message in messages {
        let (state, consumer) = (state.clone(), consumer.clone());
        let span = tracing::info_span!(
            "message",
            message_id = %message.id,
            tracing_id = message.tracing_id.as_deref().unwrap_or(""),
            receive_count = message.receive_count,
        );
        running.spawn(
            async move {
                match consumer.consume(&state, &message).await {
                    Ok(()) => Some(message.id),
                    Err(error) => {
                        tracing::warn!(%error, "message failed; it will be received again or dead-lettered");
                        None
                    }
                }
            }
            .instrument(span),
        );
    }
    let mut succeeded = HashSet::new();
    while let Some(outcome) = running.join_next().await {
        match outcome {
            Ok(Some(id)) => {
                succeeded.insert(id);
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "a consumer panicked; its message stays on the queue"),
        }
    }
    succeeded
}

/// Runs `consumer` on its queue in this process until the runtime stops: the local
/// stand-in's equivalent of an SQS event source.
pub fn spawn_local(state: AppState, consumer: Arc<dyn Consumer>) -> tokio::task::JoinHandle<()> {
    let queue = consumer.queue(&state.queues);
    spawn_draining(queue, state, consumer)
}

/// Runs `consumer` on the messages of `queue` (the event source: on Lambda a service apart
/// from the function's code, with the function's role) until the runtime stops.
pub fn spawn_draining(queue: Arc<dyn MessageQueue>, state: AppState, consumer: Arc<dyn Consumer>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let received = match queue.receive(BATCH, RECEIVE_WAIT).await {
                Ok(received) => received,
                Err(error) => {
                    tracing::warn!(%error, "cannot receive from the queue");
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
            };
            let messages = received
                .iter()
                .map(|message| QueueMessage {
                    id: message.message_id.clone(),
                    body: message.body.clone(),
                    tracing_id: message.attributes.get(TRACING_ATTRIBUTE).cloned(),
                    receive_count: message.receive_count,
                })
                .collect();
            let succeeded = consume_batch(&state, &consumer, messages).await;
            for message in received.iter().filter(|message| succeeded.contains(&message.message_id)) {
                if let Err(error) = queue.delete(&message.receipt).await {
                    // Received again after its visibility timeout: consumers are idempotent.
                    tracing::warn!(%error, message_id = %message.message_id, "cannot delete a consumed message");
                }
            }
        }
    })
}
