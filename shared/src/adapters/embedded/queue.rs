//! The local queue: messages persisted in SQLite, delivered at least once with a
//! visibility timeout and moved to a dead-letter table after too many receives, as SQS does.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use tokio::sync::Notify;

use crate::ports::queue::{MessageQueue, OutgoingMessage, QueueError, ReceivedMessage};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL,
    attributes TEXT NOT NULL, visible_at INTEGER NOT NULL, receive_count INTEGER NOT NULL,
    receipt TEXT UNIQUE
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id TEXT PRIMARY KEY, body TEXT NOT NULL, attributes TEXT NOT NULL, receive_count INTEGER NOT NULL
);
";

/// Delivery settings, as an SQS queue's attributes.
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    pub visibility_timeout: Duration,
    /// Receives after which a message goes to the dead-letter table.
    pub max_receives: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(60),
            max_receives: 5,
        }
    }
}

/// The embedded queue.
pub struct LocalQueue {
    connection: Arc<Mutex<Connection>>,
    settings: QueueSettings,
    arrived: Arc<Notify>,
}

fn unavailable(e: impl std::fmt::Display) -> QueueError {
    QueueError::Unavailable(e.to_string())
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl LocalQueue {
    /// Opens (creating if needed) the queue file at `path`.
    pub fn open(path: &Path, settings: QueueSettings) -> Result<Self, QueueError> {
        let connection = Connection::open(path).map_err(unavailable)?;
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
            .map_err(unavailable)?;
        connection.execute_batch(SCHEMA).map_err(unavailable)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            settings,
            arrived: Arc::new(Notify::new()),
        })
    }

    /// Messages that exhausted their receives, as (id, body).
    pub async fn dead_letters(&self) -> Result<Vec<(String, String)>, QueueError> {
        self.run(|connection| {
            let mut statement = connection
                .prepare("SELECT id, body FROM dead_letters ORDER BY rowid")
                .map_err(unavailable)?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).map_err(unavailable)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(unavailable)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let connection = self.connection.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().map_err(|_| unavailable("queue lock poisoned"))?;
            work(&mut connection)
        })
        .await
        .map_err(unavailable)?
    }

    async fn take_visible(&self, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        let settings = self.settings;
        self.run(move |connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let now = now_ms();
            tx.execute(
                "INSERT INTO dead_letters (id, body, attributes, receive_count)
                 SELECT id, body, attributes, receive_count FROM messages WHERE visible_at <= ?1 AND receive_count >= ?2",
                rusqlite::params![now, settings.max_receives],
            )
            .map_err(unavailable)?;
            tx.execute(
                "DELETE FROM messages WHERE visible_at <= ?1 AND receive_count >= ?2",
                rusqlite::params![now, settings.max_receives],
            )
            .map_err(unavailable)?;
            let rows: Vec<(i64, String, String, String, u32)> = {
                let mut statement = tx
                    .prepare("SELECT seq, id, body, attributes, receive_count FROM messages WHERE visible_at <= ?1 ORDER BY seq LIMIT ?2")
                    .map_err(unavailable)?;
                let rows = statement
                    .query_map(rusqlite::params![now, max as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .map_err(unavailable)?;
                rows.collect::<Result<_, _>>().map_err(unavailable)?
            };
            let hidden_until = now + settings.visibility_timeout.as_millis() as i64;
            let mut received = Vec::with_capacity(rows.len());
            for (seq, id, body, attributes, count) in rows {
                let receipt = uuid::Uuid::new_v4().to_string();
                tx.execute(
                    "UPDATE messages SET visible_at = ?1, receive_count = ?2, receipt = ?3 WHERE seq = ?4",
                    rusqlite::params![hidden_until, count + 1, receipt, seq],
                )
                .map_err(unavailable)?;
                let attributes = serde_json::from_str(&attributes).map_err(unavailable)?;
                received.push(ReceivedMessage {
                    message_id: id,
                    receipt,
                    body,
                    attributes,
                    receive_count: count + 1,
                });
            }
            tx.commit().map_err(unavailable)?;
            Ok(received)
        })
        .await
    }
}

#[async_trait]
impl MessageQueue for LocalQueue {
    async fn send(&self, message: OutgoingMessage) -> Result<String, QueueError> {
        let id = uuid::Uuid::new_v4().to_string();
        let attributes = serde_json::to_string(&message.attributes).map_err(unavailable)?;
        let row_id = id.clone();
        self.run(move |connection| {
            connection
                .execute(
                    "INSERT INTO messages (id, body, attributes, visible_at, receive_count) VALUES (?1, ?2, ?3, ?4, 0)",
                    rusqlite::params![row_id, message.body, attributes, now_ms()],
                )
                .map_err(unavailable)?;
            Ok(())
        })
        .await?;
        self.arrived.notify_waiters();
        Ok(id)
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.arrived.notified();
            let messages = self.take_visible(max.clamp(1, 10)).await?;
            if !messages.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(messages);
            }
            // Wake on a new message, or poll again soon for ones whose visibility timeout ran out.
            let _ = tokio::time::timeout_at(deadline.min(tokio::time::Instant::now() + Duration::from_millis(200)), arrived).await;
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let receipt = receipt.to_owned();
        self.run(move |connection| {
            let found: Option<i64> = connection
                .query_row("SELECT seq FROM messages WHERE receipt = ?1", [&receipt], |r| r.get(0))
                .optional()
                .map_err(unavailable)?;
            let seq = found.ok_or(QueueError::InvalidReceipt)?;
            connection
                .execute("DELETE FROM messages WHERE seq = ?1", [seq])
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }
}
