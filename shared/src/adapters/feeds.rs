//! Feeds read over HTTP(S), or from a local file (`file://`, the stand-in's local feed);
//! either way at most [`MAX_FEED_BYTES`], and over HTTP within [`FEED_TIMEOUT`].

use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncReadExt;

use crate::domain::news::{FeedLocation, FeedUrl};
use crate::ports::feeds::{FeedError, FeedSource};

/// The largest feed read: a news feed of a few hundred items is far below it.
pub const MAX_FEED_BYTES: usize = 5 * 1024 * 1024;
/// How long a feed's server has to answer in full.
pub const FEED_TIMEOUT: Duration = Duration::from_secs(20);

/// The feed adapter: the URL's scheme chooses HTTP or the file system.
pub struct FeedReader {
    client: reqwest::Client,
    limit: usize,
}

impl Default for FeedReader {
    fn default() -> Self {
        Self::new(MAX_FEED_BYTES)
    }
}

impl FeedReader {
    /// A reader of feeds up to `limit` bytes.
    pub fn new(limit: usize) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FEED_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("AccountCentral/", env!("CARGO_PKG_VERSION"), " news import"))
            .build()
            .unwrap_or_default();
        Self { client, limit }
    }

    async fn fetch_web(&self, url: &FeedUrl) -> Result<Vec<u8>, FeedError> {
        // reqwest's errors name the URL, query string included: leave it out.
        let unreachable = |e: reqwest::Error| FeedError::Unreachable {
            url: url.redacted(),
            reason: e.without_url().to_string(),
        };
        let mut response = self
            .client
            .get(url.as_str())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?;
        if response.content_length().is_some_and(|length| length > self.limit as u64) {
            return Err(self.too_large(url));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > self.limit {
                return Err(self.too_large(url));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn fetch_file(&self, url: &FeedUrl, path: &std::path::Path) -> Result<Vec<u8>, FeedError> {
        let unreachable = |e: std::io::Error| FeedError::Unreachable {
            url: url.redacted(),
            reason: e.to_string(),
        };
        let file = tokio::fs::File::open(path).await.map_err(unreachable)?;
        let mut body = Vec::new();
        file.take(self.limit as u64 + 1).read_to_end(&mut body).await.map_err(unreachable)?;
        if body.len() > self.limit {
            return Err(self.too_large(url));
        }
        Ok(body)
    }

    fn too_large(&self, url: &FeedUrl) -> FeedError {
        FeedError::TooLarge {
            url: url.redacted(),
            limit: self.limit,
        }
    }
}

#[async_trait]
impl FeedSource for FeedReader {
    async fn fetch(&self, url: &FeedUrl) -> Result<Vec<u8>, FeedError> {
        match url.location() {
            FeedLocation::Web => self.fetch_web(url).await,
            FeedLocation::File(path) => self.fetch_file(url, &path).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_file_feed_is_read_whole_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed with space.xml");
        std::fs::write(&path, b"<rss/>").unwrap();
        let url = FeedUrl::from_file_path(&path).unwrap();
        assert_eq!(FeedReader::new(6).fetch(&url).await.unwrap(), b"<rss/>");
        assert!(matches!(
            FeedReader::new(5).fetch(&url).await,
            Err(FeedError::TooLarge { limit: 5, .. })
        ));
        let missing = FeedUrl::from_file_path(&dir.path().join("missing.xml")).unwrap();
        assert!(matches!(
            FeedReader::default().fetch(&missing).await,
            Err(FeedError::Unreachable { .. })
        ));
    }

    /// Serves one HTTP answer on loopback: `status` and `body`.
    async fn serve_once(status: &'static str, body: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 2048];
            let _ = socket.read(&mut request).await;
            let head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&body).await;
        });
        format!("http://{addr}/feed.xml?key=s3cret")
    }

    #[tokio::test]
    async fn a_web_feed_is_read_and_bounded_and_its_errors_hide_the_query() {
        let url = FeedUrl::parse(&serve_once("200 OK", b"<rss/>".to_vec()).await).unwrap();
        assert_eq!(FeedReader::default().fetch(&url).await.unwrap(), b"<rss/>");

        let url = FeedUrl::parse(&serve_once("200 OK", vec![b'x'; 100]).await).unwrap();
        assert!(matches!(FeedReader::new(99).fetch(&url).await, Err(FeedError::TooLarge { .. })));

        let url = FeedUrl::parse(&serve_once("503 Service Unavailable", Vec::new()).await).unwrap();
        let error = FeedReader::default().fetch(&url).await.unwrap_err();
        assert!(matches!(error, FeedError::Unreachable { .. }));
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
