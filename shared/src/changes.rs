//! Change signals: what wakes a Server-Sent-Events stream as soon as something it
//! follows changes, when the change happens in the same process (the local stand-in,
//! where the consumers run beside the streams). In AWS the writer runs in another
//! function, so a stream also polls the store; a signal only shortens its wait.

use tokio::sync::broadcast;

use crate::domain::ids::UserPk;

/// What a stream follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// A user's notifications.
    Notifications(UserPk),
    /// An application's status.
    ApplicationStatus(String),
}

/// Missed signals are harmless (a stream that lags re-reads the store), so the
/// channel only needs to absorb a burst of changes between two wake-ups.
const CAPACITY: usize = 1024;

/// The in-process change signal; cheap to clone.
#[derive(Debug, Clone)]
pub struct Changes {
    sender: broadcast::Sender<Topic>,
}

impl Default for Changes {
    fn default() -> Self {
        Self {
            sender: broadcast::Sender::new(CAPACITY),
        }
    }
}

impl Changes {
    /// Tells the streams following `topic` in this process that it changed.
    pub fn publish(&self, topic: Topic) {
        // No stream listening is the common case, not an error.
        let _ = self.sender.send(topic);
    }

    /// Starts watching for changes to `topic`.
    pub fn watch(&self, topic: Topic) -> ChangeWatch {
        ChangeWatch {
            topic,
            receiver: self.sender.subscribe(),
        }
    }
}

/// A watch on one topic.
#[derive(Debug)]
pub struct ChangeWatch {
    topic: Topic,
    receiver: broadcast::Receiver<Topic>,
}

impl ChangeWatch {
    /// Waits until the topic may have changed. Returns when it changed, or when
    /// signals were missed (the caller re-reads the store either way); pends forever
    /// if no publisher is left, so that the caller's own timers decide.
    pub async fn changed(&mut self) {
        loop {
            match self.receiver.recv().await {
                Ok(topic) if topic == self.topic => return,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_watch_wakes_for_its_topic_only() {
        let changes = Changes::default();
        let mut watch = changes.watch(Topic::Notifications(UserPk(7)));
        changes.publish(Topic::Notifications(UserPk(8)));
        changes.publish(Topic::ApplicationStatus("hub".into()));
        let early = tokio::time::timeout(Duration::from_millis(50), watch.changed()).await;
        assert!(early.is_err(), "woken by another topic");
        changes.publish(Topic::Notifications(UserPk(7)));
        tokio::time::timeout(Duration::from_secs(5), watch.changed())
            .await
            .expect("woken by its own topic");
    }
}
