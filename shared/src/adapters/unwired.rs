//! The adapter of a port that a function does not wire (`app::wiring`): none of its routes
//! use that port and its IAM policy grants nothing for it, so a call is a wiring mistake.
//! It fails the call as the port being unavailable and says which port, rather than
//! linking a client the function has no permission to use.

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::news::FeedUrl;
use crate::domain::secret::SecretBytes;
use crate::ports::feeds::{FeedError, FeedSource};
use crate::ports::key_vault::{EncryptionContext, Envelope, KeyVault, KeyVaultError};
use crate::ports::queue::{MessageQueue, OutgoingMessage, QueueError, ReceivedMessage};
use crate::ports::sms::{SmsError, SmsSender};

/// A port this function does not wire, by its name.
pub struct Unwired(pub &'static str);

impl Unwired {
    fn reason(&self) -> String {
        tracing::error!(port = self.0, "a route used a port its function does not wire (app::wiring)");
        format!("{} is not wired in this function", self.0)
    }
}

#[async_trait]
impl MessageQueue for Unwired {
    async fn send(&self, _: OutgoingMessage) -> Result<String, QueueError> {
        Err(QueueError::Unavailable(self.reason()))
    }

    async fn receive(&self, _: usize, _: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        Err(QueueError::Unavailable(self.reason()))
    }

    async fn delete(&self, _: &str) -> Result<(), QueueError> {
        Err(QueueError::Unavailable(self.reason()))
    }
}

#[async_trait]
impl KeyVault for Unwired {
    async fn seal(&self, _: &SecretBytes, _: &EncryptionContext) -> Result<Envelope, KeyVaultError> {
        Err(KeyVaultError::Unavailable(self.reason()))
    }

    async fn open(&self, _: &Envelope, _: &EncryptionContext) -> Result<SecretBytes, KeyVaultError> {
        Err(KeyVaultError::Unavailable(self.reason()))
    }
}

#[async_trait]
impl SmsSender for Unwired {
    async fn send(&self, _: &str, _: &str) -> Result<(), SmsError> {
        Err(SmsError::Unavailable(self.reason()))
    }
}

#[async_trait]
impl FeedSource for Unwired {
    async fn fetch(&self, url: &FeedUrl) -> Result<Vec<u8>, FeedError> {
        Err(FeedError::Unreachable {
            url: url.redacted(),
            reason: self.reason(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_call_fails_naming_the_port() {
        let unwired = Unwired("the SMS gateway");
        let error = SmsSender::send(&unwired, "+390000000", "hello").await.unwrap_err();
        assert!(error.to_string().contains("the SMS gateway is not wired"), "{error}");
        let error = MessageQueue::send(&unwired, OutgoingMessage::new("{}")).await.unwrap_err();
        assert!(matches!(error, QueueError::Unavailable(_)), "{error}");
    }
}
