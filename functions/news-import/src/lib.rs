//! The news import, the news queue's consumer: for each language it reads the configured
//! feed, parses it and upserts its items (`triggerNewsUpdate` queues the request).
//! Importing is idempotent, so a request received twice imports the feeds twice to the
//! effect of once.

use std::sync::Arc;

use async_trait::async_trait;

use shared::app::{AppState, Queues, wiring};
use shared::consumer::{Consumer, QueueMessage};
use shared::domain::news::{NewsImportRequest, NewsLanguage, NotAFeed, parse_feed};
use shared::error::AppError;
use shared::ports::feeds::FeedError;
use shared::ports::queue::MessageQueue;
use shared::repositories::RepositoryError;
use shared::repositories::news::{ImportOutcome, News};

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::FEEDS;

/// The news queue's consumer.
pub struct NewsImport;

/// Why one language's feed was not imported.
#[derive(Debug, thiserror::Error)]
enum ImportFailure {
    #[error("no feed is configured ({0} is not set)")]
    NotConfigured(&'static str),
    #[error(transparent)]
    Unreadable(#[from] FeedError),
    #[error("{url}: {source}")]
    NotAFeed { url: String, source: NotAFeed },
    #[error("storing its news: {0}")]
    Store(#[from] RepositoryError),
}

/// Reads, parses and upserts `language`'s feed.
async fn import_feed(state: &AppState, language: NewsLanguage) -> Result<ImportOutcome, ImportFailure> {
    let url = state
        .news_feeds
        .url(language)
        .ok_or(ImportFailure::NotConfigured(language.feed_variable()))?;
    let document = state.feeds.fetch(url).await?;
    let parsed = parse_feed(&document).map_err(|source| ImportFailure::NotAFeed {
        url: url.redacted(),
        source,
    })?;
    for (entry, reason) in &parsed.skipped {
        tracing::info!(%language, feed = %url.redacted(), entry, reason, "feed entry skipped");
    }
    let outcome = News::new(state.store.as_ref()).import(language, parsed.entries).await?;
    tracing::info!(
        %language,
        feed = %url.redacted(),
        added = outcome.added,
        updated = outcome.updated,
        unchanged = outcome.unchanged,
        skipped = parsed.skipped.len(),
        "news feed imported"
    );
    Ok(outcome)
}

#[async_trait]
impl Consumer for NewsImport {
    fn queue(&self, queues: &Queues) -> Arc<dyn MessageQueue> {
        queues.news.clone()
    }

    /// Imports every language's feed, each whatever became of the others; the message
    /// fails (to be received again, then dead-lettered) when any feed could not be read,
    /// parsed or stored.
    async fn consume(&self, state: &AppState, message: &QueueMessage) -> Result<(), AppError> {
        let request: NewsImportRequest =
            serde_json::from_str(&message.body).map_err(|e| AppError::internal(format!("unreadable news import request: {e}")))?;
        if request.version != NewsImportRequest::VERSION {
            return Err(AppError::internal(format!(
                "news import request of version {}; this consumer reads version {}",
                request.version,
                NewsImportRequest::VERSION
            )));
        }
        tracing::info!(requested_by = %request.requested_by, requested_at = %request.requested_at, "importing news");
        let mut failures = Vec::new();
        for language in NewsLanguage::ALL {
            if let Err(failure) = import_feed(state, language).await {
                tracing::warn!(%language, error = %failure, "news feed not imported");
                failures.push(format!("{language}: {failure}"));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(AppError::Dependency(format!("news feeds not imported: {}", failures.join("; "))))
        }
    }
}
