//! The queue on SQS.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};

use crate::ports::queue::{MessageQueue, OutgoingMessage, QueueError, ReceivedMessage};

/// An SQS queue, by URL.
#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

fn unavailable<E: std::error::Error + 'static>(error: E) -> QueueError {
    QueueError::Unavailable(aws_sdk_sqs::error::DisplayErrorContext(error).to_string())
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }

    /// Creates a queue and its dead-letter queue (redrive after `max_receives`) unless they
    /// exist, and returns the queue's URL (for local emulation and tests; in AWS the template owns them).
    pub async fn ensure(client: &Client, name: &str, visibility: Duration, max_receives: u32) -> Result<String, QueueError> {
        let dead = client
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .send()
            .await
            .map_err(unavailable)?;
        let dead_url = dead
            .queue_url
            .ok_or_else(|| QueueError::Unavailable("no dead-letter queue URL".into()))?;
        let dead_arn = client
            .get_queue_attributes()
            .queue_url(&dead_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(unavailable)?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| QueueError::Unavailable("no dead-letter queue ARN".into()))?;
        let redrive = serde_json::json!({"deadLetterTargetArn": dead_arn, "maxReceiveCount": max_receives}).to_string();
        let queue = client
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::VisibilityTimeout, visibility.as_secs().to_string())
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await
            .map_err(unavailable)?;
        queue.queue_url.ok_or_else(|| QueueError::Unavailable("no queue URL".into()))
    }
}

#[async_trait]
impl MessageQueue for SqsQueue {
    async fn send(&self, message: OutgoingMessage) -> Result<String, QueueError> {
        let mut request = self.client.send_message().queue_url(&self.url).message_body(message.body);
        for (name, value) in message.attributes {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| QueueError::Unavailable(e.to_string()))?;
            request = request.message_attributes(name, value);
        }
        let output = request.send().await.map_err(unavailable)?;
        output.message_id.ok_or_else(|| QueueError::Unavailable("no message id".into()))
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|message| {
                let attributes: BTreeMap<String, String> = message
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(name, value)| Some((name, value.string_value?)))
                    .collect();
                let receive_count = message
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                Some(ReceivedMessage {
                    message_id: message.message_id?,
                    receipt: message.receipt_handle?,
                    body: message.body.unwrap_or_default(),
                    attributes,
                    receive_count,
                })
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        match self
            .client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_receipt_handle_is_invalid()) => Err(QueueError::InvalidReceipt),
            Err(e) => Err(unavailable(e)),
        }
    }
}
