//! Application statuses and their history.
//!
//! An application's partition `STATUS#<application>` holds `CURRENT` (the last change,
//! at a version equal to its change id) and `CHANGE#<change id, 12 digits>` (each
//! change, oldest first). A change is written with the current status in one
//! transaction conditioned on the version read, so the history has no gap, no
//! duplicate, and the order in which the changes were made.

use super::RepositoryError;
use super::record::{Transaction, TransactionFailure, from_item, put, to_item};
use crate::domain::status::{ChangeId, CurrentStatus, StatusChange};
use crate::ports::store::{Condition, ItemStore, Key, Query, StoreError, query_all};

const CURRENT: &str = "CURRENT";
const CHANGE: &str = "CHANGE#";

fn partition(application: &str) -> String {
    format!("STATUS#{application}")
}

fn change_sort_key(id: ChangeId) -> String {
    format!("{CHANGE}{:012}", id.0)
}

/// The status repository.
pub struct Statuses<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> Statuses<'a> {
    /// The repository over `store`.
    pub fn new(store: &'a dyn ItemStore) -> Self {
        Self { store }
    }

    /// The application's status now (UP, with no change, when it was never set).
    pub async fn current(&self, application: &str) -> Result<CurrentStatus, StoreError> {
        let item = self.store.get(&Key::new(partition(application), CURRENT)).await?;
        Ok(CurrentStatus::after(item.as_ref().map(from_item).transpose()?))
    }

    /// Records `change`, made on the status it follows: `ChangedMeanwhile` when another
    /// change was recorded since that status was read.
    pub async fn record(&self, change: &StatusChange) -> Result<(), RepositoryError> {
        let application = &change.application;
        let id = change.id.0;
        let condition = match id {
            1 => Condition::NotExists,
            _ => Condition::VersionIs(id - 1),
        };
        let current = to_item(Key::new(partition(application), CURRENT), change)?.with_version(id);
        let history = to_item(Key::new(partition(application), change_sort_key(change.id)), change)?;
        let mut transaction = Transaction::new();
        transaction.push((), put(current, condition));
        transaction.push((), put(history, Condition::NotExists));
        transaction.commit(self.store).await.map_err(|failure| match failure {
            TransactionFailure::Conditions(_) => {
                RepositoryError::ChangedMeanwhile(format!("the status of {application} changed meanwhile"))
            }
            TransactionFailure::Store(error) => error.into(),
        })
    }

    /// At most `limit` changes of the application after change `after` (from the first
    /// when `None`), oldest first.
    pub async fn changes_after(&self, application: &str, after: Option<ChangeId>, limit: usize) -> Result<Vec<StatusChange>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let from = after.map_or(1, |id| id.0.saturating_add(1));
        let query = Query::partition(partition(application))
            .between(change_sort_key(ChangeId(from)), format!("{CHANGE}~"))
            .limit(limit);
        query_all(self.store, &query).await?.iter().map(from_item).collect()
    }
}
