//! The `notifications` function: the caller's notifications, newest first, marking
//! them read, and `enqueueNotification`, by which platform services queue a notification
//! for a user, a customer's users or the holders of a role (delivered by the
//! `notifications-delivery` function).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Extension, Json, Router};
use serde::Serialize;

use shared::actions::notifications::send;
use shared::api::action::ActionResult;
use shared::app::{AppState, wiring};
use shared::domain::access::Access;
use shared::domain::ids::NotificationId;
use shared::domain::notification::{MAX_MARKED, Notification, NotificationFilter, NotificationRequest, ids_to_mark};
use shared::domain::validation::Bounded;
use shared::error::AppResult;
use shared::http::caller::Caller;
use shared::http::extract::{JsonArray, JsonBody, QueryParams};
use shared::http::paging::PageRequest;
use shared::http::service::TracingId;
use shared::repositories::notifications::Notifications;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::QUEUES;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/notifications", get(list_notifications).post(enqueue_notification))
        .route("/v1/notifications/read", put(mark_notifications_read))
}

/// The caller's notifications, newest first, a page at a time (a bare array, as the API
/// document shows), filtered by `notRead`, `priority` and `application`.
async fn list_notifications(State(state): State<AppState>, caller: Caller, query: QueryParams) -> AppResult<Json<Vec<Notification>>> {
    let page = PageRequest::from_query(&query)?;
    let filter = NotificationFilter::parse(query.one("notRead")?, query.one("priority")?, query.one("application")?)?;
    let notifications = Notifications::new(state.store.as_ref())
        .list(caller.user_pk(), &filter, page.offset(), page.size)
        .await?;
    Ok(Json(notifications))
}

/// An accepted notification: the request, with the id it was given.
#[derive(Debug, Serialize)]
struct Accepted {
    id: NotificationId,
    #[serde(flatten)]
    request: NotificationRequest,
}

/// Queues a notification for delivery: 202 with its id once the queue has it.
async fn enqueue_notification(
    State(state): State<AppState>,
    caller: Caller,
    Extension(TracingId(tracing_id)): Extension<TracingId>,
    JsonBody(request): JsonBody<NotificationRequest>,
) -> AppResult<(StatusCode, Json<Accepted>)> {
    caller.require(&state, Access::SERVICE, ()).await?;
    let id = send(&state, &request, &tracing_id).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { id, request })))
}

/// Marks the caller's notifications read: all the ids given, or none when any of them
/// is not a notification of the caller (404 naming those).
async fn mark_notifications_read(
    State(state): State<AppState>,
    caller: Caller,
    JsonArray(ids): JsonArray<Bounded<i64, MAX_MARKED>>,
) -> AppResult<Json<ActionResult>> {
    let ids = ids_to_mark(&ids)?;
    Notifications::new(state.store.as_ref()).mark_read(caller.user_pk(), &ids).await?;
    Ok(Json(ActionResult::ok(state.clock.now(), "NOTIFICATIONS_READ")))
}
