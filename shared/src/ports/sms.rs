//! Sending text messages to a phone.

use async_trait::async_trait;

/// What can go wrong sending an SMS.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("SMS gateway unavailable: {0}")]
    Unavailable(String),
}

/// The SMS port.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `text` to the phone number `to` (E.164).
    async fn send(&self, to: &str, text: &str) -> Result<(), SmsError>;
}
