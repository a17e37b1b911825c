//! Counts the store calls each request makes, so that the request's log line says
//! what it cost: the number that bounds a request's latency and its DynamoDB bill.

use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;

use crate::ports::store::{Condition, Item, ItemStore, Key, Query, QueryPage, StoreError, WriteOp};

tokio::task_local! {
    static STORE_CALLS: Cell<u32>;
}

/// Runs `work` counting the store calls it makes through a [`MeteredStore`].
pub async fn count_store_calls<T>(work: impl Future<Output = T>) -> (T, u32) {
    STORE_CALLS
        .scope(Cell::new(0), async {
            let output = work.await;
            (output, STORE_CALLS.with(Cell::get))
        })
        .await
}

fn tally() {
    // Outside a counted request (start-up, seeding) there is nothing to count.
    let _ = STORE_CALLS.try_with(|calls| calls.set(calls.get() + 1));
}

/// A store that counts each call into the current request's tally.
pub struct MeteredStore(Arc<dyn ItemStore>);

impl MeteredStore {
    /// Meters `inner`.
    pub fn new(inner: Arc<dyn ItemStore>) -> Self {
        Self(inner)
    }
}

#[async_trait]
impl ItemStore for MeteredStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        tally();
        self.0.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        tally();
        self.0.batch_get(keys).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        tally();
        self.0.put(item, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        tally();
        self.0.delete(key, condition).await
    }

    async fn query(&self, query: &Query) -> Result<QueryPage, StoreError> {
        tally();
        self.0.query(query).await
    }

    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        tally();
        self.0.count(query).await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        tally();
        self.0.transact(ops).await
    }

    async fn increment(&self, key: &Key, by: u64) -> Result<u64, StoreError> {
        tally();
        self.0.increment(key, by).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        tally();
        self.0.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::store::EmbeddedStore;
    use crate::ports::clock::SystemClock;

    #[tokio::test]
    async fn each_call_of_a_request_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(&dir.path().join("store.sqlite"), Arc::new(SystemClock)).unwrap();
        let metered = MeteredStore::new(Arc::new(store));
        let ((), calls) = count_store_calls(async {
            metered.get(&Key::new("a", "b")).await.unwrap();
            metered.query(&Query::partition("a")).await.unwrap();
        })
        .await;
        assert_eq!(calls, 2);
        // Outside a counted scope, calls still work.
        metered.ping().await.unwrap();
    }
}
