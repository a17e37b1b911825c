//! Text messages through SNS.

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::ports::sms::{SmsError, SmsSender};

/// Sends transactional SMS with SNS `Publish`.
#[derive(Clone)]
pub struct SnsSms {
    client: Client,
}

impl SnsSms {
    /// A sender through `client`.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl SmsSender for SnsSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let transactional = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| SmsError::Unavailable(e.to_string()))?;
        self.client
            .publish()
            .phone_number(to)
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", transactional)
            .send()
            .await
            .map_err(|e| SmsError::Unavailable(aws_sdk_sns::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
