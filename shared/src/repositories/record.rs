//! Conversions between domain records and store items.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ports::store::{Condition, Item, ItemStore, Key, StoreError, WriteOp};

/// A record with the version it was read at, for optimistic locking.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

/// The record as an item's data.
pub fn to_item<T: Serialize>(key: Key, record: &T) -> Result<Item, StoreError> {
    match serde_json::to_value(record) {
        Ok(Value::Object(data)) => Ok(Item::new(key, data)),
        Ok(_) => Err(StoreError::Invalid("a record must serialize to an object".into())),
        Err(e) => Err(StoreError::Invalid(e.to_string())),
    }
}

/// The item's data as a record.
pub fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    borrow_item(item)
}

/// The item's data as a record that borrows its strings from the item where it can.
pub fn borrow_item<'a, T: Deserialize<'a>>(item: &'a Item) -> Result<T, StoreError> {
    item.data.decode().map_err(|e| StoreError::Corrupt {
        pk: item.key.pk.clone(),
        sk: item.key.sk.clone(),
        reason: e.to_string(),
    })
}

/// The item's data as a record, with its version.
pub fn versioned<T: DeserializeOwned>(item: &Item) -> Result<Versioned<T>, StoreError> {
    Ok(Versioned {
        value: from_item(item)?,
        version: item.version,
    })
}

/// Transactions that lost a race without any condition failing (DynamoDB cancels
/// concurrent transactions on the same item, such as a roster counter) applied
/// nothing, so they are retried a few times, their conditions checked again.
pub async fn transact(store: &dyn ItemStore, ops: Vec<WriteOp>) -> Result<(), StoreError> {
    const ATTEMPTS: u32 = 4;
    let mut attempt = 1;
    loop {
        match store.transact(ops.clone()).await {
            Err(StoreError::Conflict) if attempt < ATTEMPTS => {
                // Spread the retries of racing writers apart.
                let jitter = u64::from(uuid::Uuid::new_v4().as_fields().0 % 10);
                tokio::time::sleep(std::time::Duration::from_millis(u64::from(attempt) * 10 + jitter)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// The operations of one transaction, each under a name saying what it is for, so that
/// a cancelled transaction tells which of them failed by name rather than by index.
pub struct Transaction<P> {
    ops: Vec<WriteOp>,
    names: Vec<P>,
}

/// Why a transaction applied nothing.
#[derive(Debug)]
pub enum TransactionFailure<P> {
    /// Conditions failed: the names of the operations whose conditions did not hold.
    Conditions(Vec<P>),
    /// The store failed otherwise (including a race lost more often than retried).
    Store(StoreError),
}

impl<P: Copy + PartialEq> Transaction<P> {
    /// An empty transaction.
    pub fn new() -> Self {
        Self {
            ops: Vec::new(),
            names: Vec::new(),
        }
    }

    /// Adds `op` under `name`; several operations may share one.
    pub fn push(&mut self, name: P, op: WriteOp) {
        self.ops.push(op);
        self.names.push(name);
    }

    /// How many operations there are.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// The operations, to apply with others.
    pub fn into_ops(self) -> Vec<WriteOp> {
        self.ops
    }

    /// Applies the operations, retrying a lost race (see [`transact`]).
    pub async fn commit(self, store: &dyn ItemStore) -> Result<(), TransactionFailure<P>> {
        let names = self.names;
        transact(store, self.ops).await.map_err(|error| Self::failure(&names, error))
    }

    /// Applies the operations once; a lost race is reported as the store's `Conflict`.
    pub async fn commit_once(self, store: &dyn ItemStore) -> Result<(), TransactionFailure<P>> {
        let names = self.names;
        store.transact(self.ops).await.map_err(|error| Self::failure(&names, error))
    }

    fn failure(names: &[P], error: StoreError) -> TransactionFailure<P> {
        match error {
            StoreError::TransactionCancelled { failed } => {
                let mut failed_names: Vec<P> = Vec::new();
                for name in failed.iter().filter_map(|index| names.get(*index)) {
                    if !failed_names.contains(name) {
                        failed_names.push(*name);
                    }
                }
                TransactionFailure::Conditions(failed_names)
            }
            error => TransactionFailure::Store(error),
        }
    }
}

impl<P: Copy + PartialEq> Default for Transaction<P> {
    fn default() -> Self {
        Self::new()
    }
}

/// The operations with the counter additions on one key merged into one: a DynamoDB
/// transaction takes one operation per item, and changes of several records that each
/// count (several users leaving one roster) are applied in one transaction.
pub fn merge_counters(ops: Vec<WriteOp>) -> Vec<WriteOp> {
    let mut merged: Vec<WriteOp> = Vec::with_capacity(ops.len());
    for op in ops {
        if let WriteOp::Add { key, by } = &op
            && let Some(WriteOp::Add { by: total, .. }) = merged
                .iter_mut()
                .find(|earlier| matches!(earlier, WriteOp::Add { key: other, .. } if other == key))
        {
            *total += by;
            continue;
        }
        merged.push(op);
    }
    merged
}

pub fn put(item: Item, condition: Condition) -> WriteOp {
    WriteOp::Put { item, condition }
}

pub fn delete(key: Key, condition: Condition) -> WriteOp {
    WriteOp::Delete { key, condition }
}

pub fn add(key: Key, by: i64) -> WriteOp {
    WriteOp::Add { key, by }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn additions_to_one_counter_become_one() {
        let counter = |pk: &str| Key::new(pk, "COUNT");
        let ops = vec![
            add(counter("ROSTER#101"), -1),
            delete(Key::new("USER#1", "CUSTOMER#101"), Condition::Always),
            add(counter("ROSTER#100"), -1),
            add(counter("ROSTER#101"), -1),
        ];
        let merged = merge_counters(ops);
        assert_eq!(merged.len(), 3);
        assert!(matches!(&merged[0], WriteOp::Add { key, by: -2 } if *key == counter("ROSTER#101")));
        assert!(matches!(&merged[2], WriteOp::Add { key, by: -1 } if *key == counter("ROSTER#100")));
    }
}
