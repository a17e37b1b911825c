//! The `notifications-delivery` function: the notification queue's consumer. Each
//! message (format version 1, docs/notifications.md) is expanded to its destination's
//! users and stored once per user; a destination of more than [`CHUNK`] users is fanned
//! out through the same queue in messages naming at most that many recipients, so that
//! no run writes more than a chunk. Writes are idempotent (keyed by user and
//! notification id), so a redelivered message or chunk never makes a duplicate.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::task::JoinSet;
use tracing::Instrument;

use shared::actions::notifications::describe;
use shared::app::{AppState, Queues, wiring};
use shared::changes::Topic;
use shared::consumer::{Consumer, QueueMessage, enqueue};
use shared::domain::ids::UserPk;
use shared::domain::notification::{CHUNK, Destination, Notification, NotificationMessage};
use shared::error::AppError;
use shared::ports::queue::MessageQueue;
use shared::repositories::accounts::Accounts;
use shared::repositories::customers::Customers;
use shared::repositories::notifications::Notifications;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::QUEUES;

/// The consumer of the notification queue.
pub struct Delivery;

#[async_trait]
impl Consumer for Delivery {
    fn queue(&self, queues: &Queues) -> Arc<dyn MessageQueue> {
        queues.notifications.clone()
    }

    async fn consume(&self, state: &AppState, received: &QueueMessage) -> Result<(), AppError> {
        // A message not of the format fails every time: after five receives it waits
        // in the dead-letter queue, where the alarm points an operator to it.
        let message = NotificationMessage::parse(&received.body).map_err(AppError::internal)?;
        if let Some(recipients) = &message.recipients {
            return deliver(state, message.notification(), recipients).await;
        }
        let Some(users) = recipients(state, &message.destination).await? else {
            // Retrying would not bring it back.
            tracing::warn!(
                notification = message.id.0,
                destination = describe(&message.destination),
                "the destination no longer exists: nothing to deliver"
            );
            return Ok(());
        };
        if users.len() <= CHUNK {
            return deliver(state, message.notification(), &users).await;
        }
        let chunks = message.chunks(&users);
        for chunk in &chunks {
            enqueue(state.queues.notifications.as_ref(), chunk, &message.tracing_id).await?;
        }
        tracing::info!(
            notification = message.id.0,
            users = users.len(),
            chunks = chunks.len(),
            "fanned out"
        );
        Ok(())
    }
}

/// The users a destination names now; `None` when its user or customer no longer exists.
async fn recipients(state: &AppState, destination: &Destination) -> Result<Option<Vec<UserPk>>, AppError> {
    let store = state.store.as_ref();
    let accounts = Accounts::new(store);
    match *destination {
        Destination::User { user_pk } => Ok(accounts.user(user_pk).await?.map(|_| vec![user_pk])),
        Destination::Customer { group_pk } => {
            if Customers::new(store).get(group_pk).await?.is_none() {
                return Ok(None);
            }
            Ok(Some(
                accounts.roster(group_pk).await?.into_iter().map(|entry| entry.user_pk).collect(),
            ))
        }
        Destination::Role { group_pk, role } => {
            let Some(customer) = Customers::new(store).get(group_pk).await? else {
                return Ok(None);
            };
            Ok(Some(accounts.holders(customer.lineage(), role).await?.into_iter().collect()))
        }
    }
}

/// Stores `notification` for each of `users`, concurrently, and wakes each user's
/// streams in this process when it is new to them. Any failed write fails the whole
/// message, to be received again: the writes already made are then found and skipped.
async fn deliver(state: &AppState, notification: Notification, users: &[UserPk]) -> Result<(), AppError> {
    let notification = Arc::new(notification);
    let mut writes = JoinSet::new();
    for user in users.iter().copied() {
        let (state, notification) = (state.clone(), notification.clone());
        writes.spawn(
            async move {
                if Notifications::new(state.store.as_ref()).deliver(user, &notification).await? {
                    state.changes.publish(Topic::Notifications(user));
                }
                Ok::<_, AppError>(())
            }
            .in_current_span(),
        );
    }
    while let Some(written) = writes.join_next().await {
        written.map_err(AppError::internal)??;
    }
    Ok(())
}
