//! Delivered notifications: one item per user and notification, in a partition of the
//! user's own (`NOTIFICATIONS#<userPk>`, sorted by id, so newest last), expiring after
//! the retention period. The ids come from a counter (`SEQUENCE` / `notificationId`).

use std::collections::{BTreeMap, BTreeSet};

use super::RepositoryError;
use super::record::{Transaction, TransactionFailure, from_item, put, to_item};
use crate::domain::ids::{NotificationId, UserPk};
use crate::domain::notification::{MAX_ID, Notification, NotificationFilter};
use crate::ports::store::{Condition, ItemStore, Key, Query, StoreError};

/// How many items a filtered listing reads per store call.
const READ_BATCH: usize = 100;

fn partition(user: UserPk) -> String {
    format!("NOTIFICATIONS#{user}")
}

/// Ids stay below 2^53, 16 digits: zero-padded, their order is the sort keys' order.
fn sort_key(id: NotificationId) -> String {
    format!("{:016}", id.0)
}

fn key(user: UserPk, id: NotificationId) -> Key {
    Key::new(partition(user), sort_key(id))
}

/// The notifications repository.
pub struct Notifications<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> Notifications<'a> {
    /// The repository over `store`.
    pub fn new(store: &'a dyn ItemStore) -> Self {
        Self { store }
    }

    /// A new notification id, greater than every one before it.
    pub async fn next_id(&self) -> Result<NotificationId, StoreError> {
        let value = self.store.increment(&Key::new("SEQUENCE", "notificationId"), 1).await?;
        i64::try_from(value)
            .map(NotificationId)
            .map_err(|_| StoreError::Invalid("sequence notificationId overflowed".into()))
    }

    /// Stores `notification` for `user` unless the user already has it (a redelivered
    /// message), which is left as it is, read or not. True when it was stored now.
    pub async fn deliver(&self, user: UserPk, notification: &Notification) -> Result<bool, StoreError> {
        let item = to_item(key(user, notification.id), notification)?.with_expiry(Notification::expiry(notification.date).as_second());
        match self.store.put(item, Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The user's notifications that `filter` admits, newest first: those from `offset`,
    /// at most `size`. Reads the user's notifications only as far as the page ends.
    pub async fn list(
        &self,
        user: UserPk,
        filter: &NotificationFilter,
        offset: usize,
        size: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        let wanted = offset.saturating_add(size);
        let mut query = Query::partition(partition(user)).backward().limit(READ_BATCH.min(wanted).max(1));
        let mut matching = Vec::new();
        while matching.len() < wanted {
            let page = self.store.query(&query).await?;
            for item in &page.items {
                let notification: Notification = from_item(item)?;
                if filter.admits(&notification) {
                    matching.push(notification);
                }
            }
            match page.next {
                Some(cursor) => query.start_after = Some(cursor),
                None => break,
            }
        }
        Ok(matching.into_iter().skip(offset).take(size).collect())
    }

    /// Marks the user's notifications `ids` read, all in one write, or none of them: when
    /// any is not a notification of the user, `NotFound` names those. Notifications
    /// already read are left as they are.
    pub async fn mark_read(&self, user: UserPk, ids: &BTreeSet<NotificationId>) -> Result<(), RepositoryError> {
        let keys: Vec<Key> = ids.iter().map(|id| key(user, *id)).collect();
        let mut found = BTreeMap::new();
        for item in self.store.batch_get(&keys).await? {
            let notification: Notification = from_item(&item)?;
            found.insert(notification.id, (item, notification));
        }
        let missing: Vec<String> = ids.iter().filter(|id| !found.contains_key(id)).map(ToString::to_string).collect();
        if !missing.is_empty() {
            return Err(not_found(&missing));
        }
        let mut transaction = Transaction::new();
        for (id, (item, notification)) in found {
            if notification.read {
                continue;
            }
            let mut read = to_item(
                item.key.clone(),
                &Notification {
                    read: true,
                    ..notification
                },
            )?;
            read.expires_at = item.expires_at;
            transaction.push(id, put(read, Condition::Exists));
        }
        if transaction.len() == 0 {
            return Ok(());
        }
        transaction.commit(self.store).await.map_err(|failure| match failure {
            // Expired since it was read.
            TransactionFailure::Conditions(gone) => not_found(&gone.iter().map(ToString::to_string).collect::<Vec<_>>()),
            TransactionFailure::Store(error) => error.into(),
        })
    }

    /// The user's notifications with ids greater than `after` (all of them for `None`),
    /// oldest first, at most `limit`: what a stream has not sent yet.
    pub async fn after(&self, user: UserPk, after: Option<NotificationId>, limit: usize) -> Result<Vec<Notification>, StoreError> {
        let from = after.map_or(0, |id| id.0.saturating_add(1));
        let query = Query::partition(partition(user))
            .between(sort_key(NotificationId(from)), sort_key(NotificationId(MAX_ID)))
            .limit(limit);
        let page = self.store.query(&query).await?;
        page.items.iter().map(from_item).collect()
    }

    /// The id of the user's newest notification, if it has any.
    pub async fn latest(&self, user: UserPk) -> Result<Option<NotificationId>, StoreError> {
        let page = self.store.query(&Query::partition(partition(user)).backward().limit(1)).await?;
        Ok(page.items.first().map(from_item::<Notification>).transpose()?.map(|n| n.id))
    }
}

fn not_found(ids: &[String]) -> RepositoryError {
    RepositoryError::NotFound(format!("notifications {} of the caller", ids.join(", ")))
}
