//! The item store: a small set of primitives mirroring DynamoDB's, so that the
//! repositories are written once and run on DynamoDB and on the embedded store.

use std::borrow::Cow;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Primary key of an item: partition key and sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    /// A key from its partition and sort parts.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// The global secondary indexes of the single table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
}

impl Index {
    /// All indexes, in a fixed order.
    pub const ALL: [Index; 3] = [Index::Gsi1, Index::Gsi2, Index::Gsi3];

    /// The index's name in the table definition.
    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "GSI1",
            Index::Gsi2 => "GSI2",
            Index::Gsi3 => "GSI3",
        }
    }

    /// Names of the index's partition and sort key attributes.
    pub fn attributes(self) -> (&'static str, &'static str) {
        match self {
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
            Index::Gsi2 => ("gsi2pk", "gsi2sk"),
            Index::Gsi3 => ("gsi3pk", "gsi3sk"),
        }
    }

    fn position(self) -> usize {
        match self {
            Index::Gsi1 => 0,
            Index::Gsi2 => 1,
            Index::Gsi3 => 2,
        }
    }
}

/// The record an item holds, a JSON object: decoded, or as the JSON text the embedded
/// store keeps it in, which a reader decodes straight into its record type (no map of
/// every field on the way: reading a large partition is mostly that decoding).
#[derive(Debug, Clone)]
pub enum Data {
    Object(Map<String, Value>),
    Json(String),
}

impl Data {
    /// The record as `T`, which may borrow the record's strings.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        match self {
            Data::Object(object) => T::deserialize(object),
            Data::Json(text) => serde_json::from_str(text),
        }
    }

    /// The record as a JSON object.
    pub fn object(&self) -> Result<Cow<'_, Map<String, Value>>, serde_json::Error> {
        match self {
            Data::Object(object) => Ok(Cow::Borrowed(object)),
            Data::Json(text) => serde_json::from_str(text).map(Cow::Owned),
        }
    }
}

/// Records are equal when their objects are, however they are held.
impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Data::Object(a), Data::Object(b)) => a == b,
            _ => matches!((self.object(), other.object()), (Ok(a), Ok(b)) if a == b),
        }
    }
}

/// One stored item: its key, its index keys, a version for optimistic locking,
/// an optional expiry and the record itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: Key,
    index_keys: [Option<Key>; 3],
    pub version: u64,
    /// Epoch seconds after which the item no longer exists for readers.
    pub expires_at: Option<i64>,
    pub data: Data,
}

impl Item {
    /// A new item at version 1 with no index keys and no expiry.
    pub fn new(key: Key, data: Map<String, Value>) -> Self {
        Self::with_data(key, Data::Object(data))
    }

    /// A new item at version 1 with no index keys and no expiry, holding `data`.
    pub fn with_data(key: Key, data: Data) -> Self {
        Self {
            key,
            index_keys: [None, None, None],
            version: 1,
            expires_at: None,
            data,
        }
    }

    /// Places the item in `index` under the given partition and sort keys.
    pub fn with_index(mut self, index: Index, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.index_keys[index.position()] = Some(Key::new(pk, sk));
        self
    }

    /// Sets the version the item is written with.
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// Makes the item expire at the given epoch second.
    pub fn with_expiry(mut self, epoch_seconds: i64) -> Self {
        self.expires_at = Some(epoch_seconds);
        self
    }

    /// The item's key in `index`, if it is placed there.
    pub fn index_key(&self, index: Index) -> Option<&Key> {
        self.index_keys[index.position()].as_ref()
    }

    /// Whether the item has expired at `now` (epoch seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A structural condition on the item already stored under a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// No condition.
    Always,
    /// No live item exists under the key (an expired one counts as absent).
    NotExists,
    /// An item exists under the key.
    Exists,
    /// The stored item has exactly this version.
    VersionIs(u64),
}

/// Which sort keys a query selects within its partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortRange {
    All,
    Prefix(String),
    /// Inclusive on both ends.
    Between(String, String),
}

/// A query of one partition of the table or of an index.
#[derive(Debug, Clone)]
pub struct Query {
    pub index: Option<Index>,
    pub partition: String,
    pub range: SortRange,
    pub forward: bool,
    pub limit: Option<usize>,
    /// Continue after this item (as returned in [`QueryPage::next`]).
    pub start_after: Option<Cursor>,
}

impl Query {
    /// Every item of a table partition, in ascending sort-key order.
    pub fn partition(pk: impl Into<String>) -> Self {
        Self {
            index: None,
            partition: pk.into(),
            range: SortRange::All,
            forward: true,
            limit: None,
            start_after: None,
        }
    }

    /// Every item of an index partition, in ascending index sort-key order.
    pub fn index(index: Index, pk: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            ..Self::partition(pk)
        }
    }

    /// Restricts the query to sort keys starting with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.range = SortRange::Prefix(prefix.into());
        self
    }

    /// Restricts the query to sort keys in `[from, to]`.
    pub fn between(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.range = SortRange::Between(from.into(), to.into());
        self
    }

    /// Returns items in descending sort-key order.
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    /// Returns at most `limit` items.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues a previous query after `cursor`.
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.start_after = cursor;
        self
    }
}

/// Where a query stopped: the last item's table key and, for an index query, its index key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: Key,
    pub index_key: Option<Key>,
}

/// One page of query results.
#[derive(Debug, Clone, Default)]
pub struct QueryPage {
    pub items: Vec<Item>,
    /// Present when more items may follow.
    pub next: Option<Cursor>,
}

/// One write of a transaction.
#[derive(Debug, Clone)]
pub enum WriteOp {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    /// Checks a condition without writing.
    Check {
        key: Key,
        condition: Condition,
    },
    /// Adds `by` (possibly negative) to the counter under `key`, as
    /// [`ItemStore::increment`] does: a counter kept exact by the transaction it is in.
    Add {
        key: Key,
        by: i64,
    },
}

/// Most operations DynamoDB accepts in one transaction.
pub const MAX_TRANSACTION_OPS: usize = 100;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write's condition did not hold.
    #[error("condition failed")]
    ConditionFailed,
    /// The transaction was refused; `failed` lists the operations whose condition did not hold.
    #[error("transaction cancelled (conditions failed at {failed:?})")]
    TransactionCancelled { failed: Vec<usize> },
    /// Two writes raced on the same item; the caller may retry.
    #[error("conflicting concurrent write")]
    Conflict,
    /// The store cannot be reached or refused the request for reasons of its own.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The request was malformed (a bug on our side, never the client's).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// A stored item could not be read back.
    #[error("corrupt item {pk}/{sk}: {reason}")]
    Corrupt { pk: String, sk: String, reason: String },
}

/// The item store port.
#[async_trait]
pub trait ItemStore: Send + Sync {
    /// The live item under `key`.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// The live items under `keys`, in no particular order; missing keys are skipped
    /// and a key given twice is read once.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError>;

    /// Writes `item` if `condition` holds.
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError>;

    /// Deletes the item under `key` if `condition` holds.
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError>;

    /// Live items of one partition, in sort-key order.
    async fn query(&self, query: &Query) -> Result<QueryPage, StoreError>;

    /// How many live items the query selects (ignores `limit` and `start_after`).
    async fn count(&self, query: &Query) -> Result<u64, StoreError>;

    /// Applies every operation or none of them.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    /// Atomically adds `by` to the version of the item under `key` (a counter item,
    /// created at zero with no data) and returns the new value.
    async fn increment(&self, key: &Key, by: u64) -> Result<u64, StoreError>;

    /// Checks that the store answers.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Reads every page of a query.
pub async fn query_all(store: &dyn ItemStore, query: &Query) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut next = query.clone();
    loop {
        let page = store.query(&next).await?;
        items.extend(page.items);
        match page.next {
            Some(cursor) if query.limit.is_none_or(|limit| items.len() < limit) => next.start_after = Some(cursor),
            _ => break,
        }
    }
    if let Some(limit) = query.limit {
        items.truncate(limit);
    }
    Ok(items)
}
