//! Server-Sent Events: the one way this service pushes (subscribeNotifications,
//! subscribeApplicationStatus). A stream re-reads its feed from the store when a change
//! signal wakes it (in-process: the local stand-in) or when its poll interval passes
//! (AWS, where the writer runs in another function), so its cost while idle is one
//! store read per poll interval. Every event has an `id:`; a client reconnecting with
//! `Last-Event-ID` resumes after it. A heartbeat comment keeps idle connections open,
//! and the stream ends before the Lambda time limit so that the client reconnects.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use crate::adapters::metered::count_store_calls;
use crate::app::{AppState, StartupError};
use crate::changes::{ChangeWatch, Topic};
use crate::error::AppError;
use crate::http::service::Produces;

/// What the stream routes produce.
pub const EVENT_STREAM: Produces = Produces(&["text/event-stream"]);

/// The header a reconnecting EventSource sends with the last id it received.
pub const LAST_EVENT_ID: &str = "Last-Event-ID";

/// How long a client waits before reconnecting after the stream ends.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// How streams pace themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    /// Idle time after which a comment line is sent.
    pub heartbeat: Duration,
    /// How often the feed is re-read without a change signal.
    pub poll: Duration,
    /// How long a stream lasts before it ends and the client reconnects.
    pub lifetime: Duration,
}

impl Default for StreamSettings {
    /// A heartbeat every 15 s; a poll a second, so that a change written by another
    /// function reaches the client within 2 s; 14 minutes, under Lambda's 15.
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(15),
            poll: Duration::from_secs(1),
            lifetime: Duration::from_secs(14 * 60),
        }
    }
}

impl StreamSettings {
    /// The defaults, with `STREAM_POLL_MILLIS` and `STREAM_LIFETIME_SECONDS` where `lookup` finds them.
    pub fn configured(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StartupError> {
        let number = |name: &'static str, range: std::ops::RangeInclusive<u64>| -> Result<Option<u64>, StartupError> {
            lookup(name)
                .map(|text| match text.trim().parse::<u64>() {
                    Ok(value) if range.contains(&value) => Ok(value),
                    _ => Err(StartupError::Invalid {
                        name,
                        reason: format!("{text:?} is not a whole number from {} to {}", range.start(), range.end()),
                    }),
                })
                .transpose()
        };
        let defaults = Self::default();
        Ok(Self {
            heartbeat: defaults.heartbeat,
            poll: number("STREAM_POLL_MILLIS", 100..=10_000)?.map_or(defaults.poll, Duration::from_millis),
            lifetime: number("STREAM_LIFETIME_SECONDS", 1..=890)?.map_or(defaults.lifetime, Duration::from_secs),
        })
    }
}

/// One event of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    /// What the client sends back as `Last-Event-ID` to resume after this event.
    pub id: String,
    /// The event's name (`event:`), which the client listens for.
    pub name: &'static str,
    /// The JSON payload (`data:`).
    pub data: String,
}

/// What a stream sends, read from the store; one per connection, keeping its cursor.
#[async_trait]
pub trait EventFeed: Send + 'static {
    /// The topic whose change signals wake the stream.
    fn topic(&self) -> Topic;

    /// The events the client has not received yet, oldest first.
    async fn next(&mut self, state: &AppState) -> Result<Vec<StreamEvent>, AppError>;
}

/// The `Last-Event-ID` a reconnecting client sent, if any.
pub fn last_event_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(LAST_EVENT_ID)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// A connection's progress through its feed.
struct Connection<F> {
    state: AppState,
    feed: F,
    watch: ChangeWatch,
    pending: VecDeque<StreamEvent>,
    opened_at: Instant,
    ends_at: Instant,
    greeted: bool,
    /// What the stream cost, for its closing log line.
    events_sent: u64,
    store_calls: u64,
    span: tracing::Span,
}

impl<F> Drop for Connection<F> {
    /// One line per stream, as a request has one: how long it lasted and what it cost.
    fn drop(&mut self) {
        self.span.in_scope(|| {
            tracing::info!(
                seconds = self.opened_at.elapsed().as_secs(),
                events = self.events_sent,
                store_calls = self.store_calls,
                "stream closed"
            )
        });
    }
}

impl<F: EventFeed> Connection<F> {
    /// The next frame to send, or `None` when the stream ends.
    async fn next_frame(&mut self) -> Option<Event> {
        if !self.greeted {
            // Sent at once so the client knows it is connected, and how soon to come back.
            self.greeted = true;
            return Some(Event::default().retry(RECONNECT_AFTER).comment("connected"));
        }
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.events_sent += 1;
                return Some(Event::default().id(event.id).event(event.name).data(event.data));
            }
            if Instant::now() >= self.ends_at {
                return None;
            }
            let (next, store_calls) = count_store_calls(self.feed.next(&self.state)).await;
            self.store_calls += u64::from(store_calls);
            match next {
                Ok(events) if !events.is_empty() => {
                    self.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(error) => {
                    // The client reconnects with its Last-Event-ID and misses nothing.
                    self.span
                        .in_scope(|| tracing::warn!(%error, "the stream's feed failed; closing it"));
                    return None;
                }
            }
            let poll = Instant::now() + self.state.streams.poll;
            tokio::select! {
                () = self.watch.changed() => {}
                () = tokio::time::sleep_until(poll.min(self.ends_at)) => {}
            }
        }
    }
}

/// The Server-Sent-Events response that follows `feed` until the stream's lifetime ends.
pub fn event_stream(state: AppState, feed: impl EventFeed) -> Response {
    let settings = state.streams;
    let now = Instant::now();
    let connection = Connection {
        watch: state.changes.watch(feed.topic()),
        opened_at: now,
        ends_at: now + settings.lifetime,
        state,
        feed,
        pending: VecDeque::new(),
        greeted: false,
        events_sent: 0,
        store_calls: 0,
        // The request's span (tracing id, path), which the body outlives.
        span: tracing::Span::current(),
    };
    let frames = futures_util::stream::unfold(connection, |mut connection| async move {
        let frame = connection.next_frame().await?;
        Some((Ok::<_, Infallible>(frame), connection))
    });
    Sse::new(frames)
        .keep_alive(KeepAlive::new().interval(settings.heartbeat).text("heartbeat"))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_environment_within_bounds() {
        let settings = StreamSettings::configured(|name| match name {
            "STREAM_POLL_MILLIS" => Some("250".into()),
            "STREAM_LIFETIME_SECONDS" => Some("60".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(settings.poll, Duration::from_millis(250));
        assert_eq!(settings.lifetime, Duration::from_secs(60));
        assert_eq!(StreamSettings::configured(|_| None).unwrap(), StreamSettings::default());
        for (name, value) in [
            ("STREAM_LIFETIME_SECONDS", "900"),
            ("STREAM_POLL_MILLIS", "0"),
            ("STREAM_POLL_MILLIS", "soon"),
        ] {
            let refused = StreamSettings::configured(|asked| (asked == name).then(|| value.to_owned()));
            assert!(
                matches!(refused, Err(StartupError::Invalid { name: n, .. }) if n == name),
                "{name}={value}"
            );
        }
    }
}
