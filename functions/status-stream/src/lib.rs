//! The `status-stream` function: subscribeApplicationStatus, an application's status as
//! Server-Sent Events (`event: status`, `id:` the change's place in the application's
//! history, `data:` `{"data": {application, status, date}}` as the API document shows it): the status now on connecting, then
//! every change; a client reconnecting with `Last-Event-ID` receives the changes after it.

use async_trait::async_trait;
use axum::Router;
use axum::extract::{RawPathParams, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use jiff::Timestamp;
use serde::Serialize;

use shared::app::{AppState, wiring};
use shared::changes::Topic;
use shared::domain::status::{AppStatus, ChangeId, StatusChange};
use shared::domain::validation::FieldError;
use shared::error::{AppError, AppResult};
use shared::http::caller::StreamCaller;
use shared::http::extract::application_path;
use shared::http::sse::{EventFeed, LAST_EVENT_ID, StreamEvent, event_stream, last_event_id};
use shared::repositories::status::Statuses;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::STORE_ONLY;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/status/{application}/stream", get(subscribe_application_status))
}

/// Streams the application's status: the status now (unless resuming), then each change.
async fn subscribe_application_status(
    State(state): State<AppState>,
    StreamCaller(_caller): StreamCaller,
    params: RawPathParams,
    headers: HeaderMap,
) -> AppResult<Response> {
    // user: any authenticated user.
    let application = application_path(state.stage, &params)?;
    let resume = last_event_id(&headers)
        .map(|id| ChangeId::parse(&id).ok_or_else(|| AppError::field(FieldError::header(LAST_EVENT_ID, "must be a status change id"))))
        .transpose()?;
    Ok(event_stream(
        state,
        StatusFeed {
            application,
            cursor: resume,
        },
    ))
}

/// What a status event carries, as the API document shows it: the status under `data`.
#[derive(Debug, Serialize)]
struct StatusEventData<'a> {
    data: ApplicationStatus<'a>,
}

/// An application's status, and when it was set.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationStatus<'a> {
    application: &'a str,
    status: AppStatus,
    /// When it was set; absent for an application whose status was never set (UP).
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<Timestamp>,
}

/// How many changes one store call reads.
const PAGE: usize = 100;

/// One connection's place in an application's history.
struct StatusFeed {
    application: String,
    /// The last change sent; `None` before the first event.
    cursor: Option<ChangeId>,
}

impl StatusFeed {
    fn event(&self, id: ChangeId, status: AppStatus, date: Option<Timestamp>) -> Result<StreamEvent, AppError> {
        let data = StatusEventData {
            data: ApplicationStatus {
                application: &self.application,
                status,
                date,
            },
        };
        Ok(StreamEvent {
            id: id.to_string(),
            name: "status",
            data: serde_json::to_string(&data).map_err(AppError::internal)?,
        })
    }
}

#[async_trait]
impl EventFeed for StatusFeed {
    fn topic(&self) -> Topic {
        Topic::ApplicationStatus(self.application.clone())
    }

    /// One read of the current status per poll; the history only when it moved.
    async fn next(&mut self, state: &AppState) -> Result<Vec<StreamEvent>, AppError> {
        let statuses = Statuses::new(state.store.as_ref());
        let current = statuses.current(&self.application).await?;
        let last = current.last_change.as_ref().map_or(ChangeId(0), |change| change.id);
        let Some(cursor) = self.cursor else {
            self.cursor = Some(last);
            let date = current.last_change.as_ref().map(|change| change.at);
            return Ok(vec![self.event(last, current.status, date)?]);
        };
        if last <= cursor {
            return Ok(Vec::new());
        }
        let changes: Vec<StatusChange> = statuses.changes_after(&self.application, Some(cursor), PAGE).await?;
        if let Some(newest) = changes.last() {
            self.cursor = Some(newest.id);
        }
        changes
            .iter()
            .map(|change| self.event(change.id, change.status, Some(change.at)))
            .collect()
    }
}
