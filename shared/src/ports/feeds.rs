//! Reading a news feed: the bytes at a feed's URL.

use async_trait::async_trait;

use crate::domain::news::FeedUrl;

/// Why a feed could not be read. The messages name the feed by its redacted URL only.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The feed's server or file could not be reached or read, or answered an error.
    #[error("cannot read {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The feed is larger than a feed may be.
    #[error("{url} is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
}

/// The feed port.
#[async_trait]
pub trait FeedSource: Send + Sync {
    /// The whole document at `url`, within the adapter's size and time bounds.
    async fn fetch(&self, url: &FeedUrl) -> Result<Vec<u8>, FeedError>;
}
