//! The local SMS outbox: one JSON object a line, for a developer (or a test) to read.

use std::path::PathBuf;

use async_trait::async_trait;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use crate::ports::clock::Clock;
use crate::ports::sms::{SmsError, SmsSender};

/// Appends every message to `sms-outbox.jsonl`.
pub struct SmsOutbox {
    path: PathBuf,
    clock: std::sync::Arc<dyn Clock>,
    // Serialises appends so that lines never interleave.
    lock: Mutex<()>,
}

#[derive(Serialize)]
struct Line<'a> {
    to: &'a str,
    text: &'a str,
    time: String,
}

impl SmsOutbox {
    /// An outbox writing to `path`.
    pub fn new(path: PathBuf, clock: std::sync::Arc<dyn Clock>) -> Self {
        Self {
            path,
            clock,
            lock: Mutex::new(()),
        }
    }
}

#[async_trait]
impl SmsSender for SmsOutbox {
    async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let line = Line {
            to,
            text,
            time: self.clock.now().to_string(),
        };
        let mut bytes = serde_json::to_vec(&line).map_err(|e| SmsError::Unavailable(e.to_string()))?;
        bytes.push(b'\n');
        let _guard = self.lock.lock().await;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| SmsError::Unavailable(e.to_string()))?;
        file.write_all(&bytes).await.map_err(|e| SmsError::Unavailable(e.to_string()))?;
        file.flush().await.map_err(|e| SmsError::Unavailable(e.to_string()))
    }
}
