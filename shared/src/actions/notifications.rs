//! Sending a notification: what `enqueueNotification` does for a platform service, and
//! what this deployment's own workers (the provisioning worker) do to notify users.

use crate::app::AppState;
use crate::consumer::enqueue;
use crate::domain::catalogue::Catalogue;
use crate::domain::ids::NotificationId;
use crate::domain::notification::{Destination, NotificationMessage, NotificationRequest};
use crate::error::AppError;
use crate::repositories::accounts::Accounts;
use crate::repositories::customers::Customers;
use crate::repositories::notifications::Notifications;

/// Validates `request` (400 naming each bad field; the application must be one of this
/// deployment's), checks that its destination exists (404 otherwise), gives it an id and
/// queues it for delivery with `tracing_id`. The id is returned once the queue has
/// accepted the message; a queue that refuses is 503.
pub async fn send(state: &AppState, request: &NotificationRequest, tracing_id: &str) -> Result<NotificationId, AppError> {
    request.validate(Catalogue::get().applications(state.stage))?;
    if !exists(state, &request.destination).await? {
        return Err(AppError::NotFound(describe(&request.destination)));
    }
    let id = Notifications::new(state.store.as_ref()).next_id().await?;
    dispatch(state, id, request, tracing_id).await?;
    Ok(id)
}

/// Queues `request`, already checked, as notification `id`. Delivery writes each user's
/// copy once per id, so queueing the same id again (a worker's retry) notifies no one twice.
pub async fn dispatch(state: &AppState, id: NotificationId, request: &NotificationRequest, tracing_id: &str) -> Result<(), AppError> {
    let message = NotificationMessage::new(id, tracing_id, state.clock.now(), request);
    enqueue(state.queues.notifications.as_ref(), &message, tracing_id).await?;
    Ok(())
}

/// Whether the user or customer a destination names exists.
async fn exists(state: &AppState, destination: &Destination) -> Result<bool, AppError> {
    let store = state.store.as_ref();
    Ok(match *destination {
        Destination::User { user_pk } => Accounts::new(store).user(user_pk).await?.is_some(),
        Destination::Customer { group_pk } | Destination::Role { group_pk, .. } => Customers::new(store).get(group_pk).await?.is_some(),
    })
}

/// The user or customer a destination names, as a 404 or a log line names it.
pub fn describe(destination: &Destination) -> String {
    match destination {
        Destination::User { user_pk } => format!("user {user_pk}"),
        Destination::Customer { group_pk } | Destination::Role { group_pk, .. } => format!("customer {group_pk}"),
    }
}
