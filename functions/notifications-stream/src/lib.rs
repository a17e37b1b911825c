//! The `notifications-stream` function: subscribeNotifications, the caller's notifications
//! as they are delivered, as Server-Sent Events (`event: notification`, `id:` the
//! notification's id, `data:` the notification as listNotifications shows it).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use tokio::time::Instant;

use shared::app::{AppState, wiring};
use shared::changes::Topic;
use shared::domain::ids::{NotificationId, UserPk};
use shared::domain::validation::FieldError;
use shared::error::{AppError, AppResult};
use shared::http::caller::StreamCaller;
use shared::http::sse::{EventFeed, LAST_EVENT_ID, StreamEvent, event_stream, last_event_id};
use shared::repositories::notifications::Notifications;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::STORE_ONLY;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/notifications/stream", get(subscribe_notifications))
}

/// Streams the caller's notifications as they are delivered; a client reconnecting with
/// `Last-Event-ID` first receives those delivered after that one.
async fn subscribe_notifications(
    State(state): State<AppState>,
    StreamCaller(caller): StreamCaller,
    headers: HeaderMap,
) -> AppResult<Response> {
    // user: the caller's own notifications.
    let user = caller.user_pk();
    let floor = match last_event_id(&headers) {
        Some(id) => id
            .parse()
            .map(NotificationId)
            .map_err(|_| AppError::field(FieldError::header(LAST_EVENT_ID, "must be a notification id")))?,
        None => Notifications::new(state.store.as_ref())
            .latest(user)
            .await?
            .unwrap_or(NotificationId(0)),
    };
    Ok(event_stream(state, NotificationFeed::new(user, floor)))
}

/// Notification ids are handed out at enqueue, but a notification may be delivered
/// after one enqueued later (another chunk of a large fan-out, a retry): a stream keeps
/// re-reading this far back so that such a one is sent too, if late by less than this.
const LATE_DELIVERY: Duration = Duration::from_secs(30);
/// Notifications read per store call.
const PAGE: usize = 100;

/// One connection's place in the caller's notifications.
struct NotificationFeed {
    user: UserPk,
    /// Every notification up to this id has been sent (or predates the connection).
    floor: NotificationId,
    /// Sent notifications above the floor, with when they were sent.
    sent: BTreeMap<NotificationId, Instant>,
}

impl NotificationFeed {
    fn new(user: UserPk, floor: NotificationId) -> Self {
        Self {
            user,
            floor,
            sent: BTreeMap::new(),
        }
    }

    /// Raises the floor over the notifications sent long enough ago that none enqueued
    /// before them can still arrive, so that a poll re-reads only the recent ones.
    fn settle(&mut self, now: Instant) {
        let settled: Vec<NotificationId> = self
            .sent
            .iter()
            .take_while(|(_, sent_at)| now.duration_since(**sent_at) >= LATE_DELIVERY)
            .map(|(id, _)| *id)
            .collect();
        if let Some(highest) = settled.last() {
            self.floor = *highest;
            self.sent.retain(|id, _| id > highest);
        }
    }
}

#[async_trait]
impl EventFeed for NotificationFeed {
    fn topic(&self) -> Topic {
        Topic::Notifications(self.user)
    }

    async fn next(&mut self, state: &AppState) -> Result<Vec<StreamEvent>, AppError> {
        let now = Instant::now();
        self.settle(now);
        let notifications = Notifications::new(state.store.as_ref());
        let mut events = Vec::new();
        let mut after = self.floor;
        loop {
            let page = notifications.after(self.user, Some(after), PAGE).await?;
            let full = page.len() == PAGE;
            for notification in page {
                after = notification.id;
                if self.sent.insert(notification.id, now).is_none() {
                    events.push(StreamEvent {
                        id: notification.id.to_string(),
                        name: "notification",
                        data: serde_json::to_string(&notification).map_err(AppError::internal)?,
                    });
                }
            }
            if !full {
                return Ok(events);
            }
        }
    }
}
