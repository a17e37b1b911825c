//! Conversions between domain records and store items.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ports::store::{Item, Key, StoreError};

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
    T::deserialize(&item.data).map_err(|e| StoreError::Corrupt {
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
