//! DKIM keys: each customer's keys, the platform key and the feedback-loop (FBL) keys.
//! Private keys are stored only as envelopes made by the cipher port.

use std::collections::{BTreeMap, BTreeSet};

use dkim_engine::Algorithm;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Versioned;
use super::record::{add, delete, from_item, put, to_item, transact, versioned};
use crate::domain::dkim::selection::Candidate;
use crate::domain::ids::GroupPk;
use crate::error::AppError;
use crate::ports::key_vault::{EncryptionContext, Envelope};
use crate::ports::store::{Condition, Index, Item, ItemStore, Key, Query, StoreError, WriteOp, query_all};

const KEY: &str = "DKIM#KEY#";
const NAME: &str = "DKIM#NAME#";
const SET: &str = "DKIM#SET";
const ALL_KEYS: &str = "DKIMS";
const ALL_FBLS: &str = "FBLS";
const COUNT: &str = "COUNT";

/// A signing identity: domain, selector, public key and the encrypted private key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredKey {
    pub domain: String,
    pub selector: String,
    /// The DNS record's `p=` value.
    pub public_key: String,
    pub algorithm: Algorithm,
    pub private_key: Envelope,
}

/// One of a customer's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDkim {
    pub id: i64,
    pub group_pk: GroupPk,
    #[serde(flatten)]
    pub key: StoredKey,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Candidate for Versioned<CustomerDkim> {
    fn id(&self) -> i64 {
        self.value.id
    }
    fn domain(&self) -> &str {
        &self.value.key.domain
    }
    fn active(&self) -> bool {
        self.value.active
    }
}

/// The platform's key, which signs for customers without keys of their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformDkim {
    #[serde(flatten)]
    pub key: StoredKey,
    pub updated_at: Timestamp,
}

/// A feedback-loop configuration: messages to `recipient_domain` get a second
/// signature, over `signable_headers`, with the FBL's own key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fbl {
    pub id: Uuid,
    pub esp: String,
    pub recipient_domain: String,
    pub signable_headers: Vec<String>,
    pub dkim: StoredKey,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The customer's key set: which key is the default and how many there are. Every
/// change to the set writes it, conditioned on its version, so that the default is
/// switched atomically and "the last key" is decided on a consistent count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct KeySet {
    default: Option<i64>,
    count: u32,
}

/// A customer's keys as read together, to select one or to change the set.
#[derive(Debug, Clone, Default)]
pub struct CustomerKeys {
    pub keys: Vec<Versioned<CustomerDkim>>,
    set: Option<Versioned<KeySet>>,
}

impl CustomerKeys {
    /// The default key's id.
    pub fn default_id(&self) -> Option<i64> {
        self.set.as_ref().and_then(|set| set.value.default)
    }

    /// The key `id`.
    pub fn get(&self, id: i64) -> Option<&Versioned<CustomerDkim>> {
        self.keys.iter().find(|key| key.value.id == id)
    }

    fn header(&self) -> KeySet {
        self.set.as_ref().map(|set| set.value).unwrap_or_default()
    }

    /// Writes `set` over the one read (or where none was).
    fn write_set(&self, group: GroupPk, set: KeySet) -> Result<WriteOp, StoreError> {
        let item = to_item(set_key(group), &set)?;
        Ok(match &self.set {
            Some(read) => put(item.with_version(read.version + 1), Condition::VersionIs(read.version)),
            None => put(item, Condition::NotExists),
        })
    }

    /// Checks that the set is still as read.
    fn check_set(&self, group: GroupPk) -> WriteOp {
        WriteOp::Check {
            key: set_key(group),
            condition: self
                .set
                .as_ref()
                .map_or(Condition::NotExists, |read| Condition::VersionIs(read.version)),
        }
    }
}

/// The encryption context that binds a customer key's envelope to the key.
pub fn customer_key_context(group: GroupPk, id: i64) -> EncryptionContext {
    context(&group.to_string(), &id.to_string())
}

/// The encryption context of the platform key's envelope.
pub fn platform_key_context() -> EncryptionContext {
    context("platform", "platform")
}

/// The encryption context of an FBL key's envelope.
pub fn fbl_key_context(id: Uuid) -> EncryptionContext {
    context("platform", &format!("fbl:{id}"))
}

fn context(group: &str, dkim: &str) -> EncryptionContext {
    EncryptionContext::from([("groupPk".to_owned(), group.to_owned()), ("dkimId".to_owned(), dkim.to_owned())])
}

fn partition(group: GroupPk) -> String {
    format!("CUSTOMER#{group}")
}

fn key_key(group: GroupPk, id: i64) -> Key {
    Key::new(partition(group), format!("{KEY}{id:012}"))
}

fn name_key(group: GroupPk, key: &StoredKey) -> Key {
    Key::new(partition(group), format!("{NAME}{}#{}", key.domain, key.selector))
}

fn set_key(group: GroupPk) -> Key {
    Key::new(partition(group), SET)
}

fn platform_key() -> Key {
    Key::new("PLATFORM", "DKIM")
}

fn fbl_key(id: Uuid) -> Key {
    Key::new(format!("FBL#{id}"), "FBL")
}

fn fbl_domain_key(recipient_domain: &str) -> Key {
    Key::new(format!("FBL_DOMAIN#{recipient_domain}"), "UNIQUE")
}

fn customer_key_item(key: &CustomerDkim) -> Result<Item, StoreError> {
    Ok(to_item(key_key(key.group_pk, key.id), key)?.with_index(
        Index::Gsi3,
        ALL_KEYS,
        format!("{:012}#{}#{}#{:012}", key.group_pk.0, key.key.domain, key.key.selector, key.id),
    ))
}

fn fbl_item(fbl: &Fbl) -> Result<Item, StoreError> {
    Ok(to_item(fbl_key(fbl.id), fbl)?.with_index(Index::Gsi3, ALL_FBLS, format!("{}#{}", fbl.recipient_domain, fbl.id)))
}

fn guard(key: Key) -> WriteOp {
    put(Item::new(key, serde_json::Map::new()), Condition::NotExists)
}

/// The size of a collection, from its counter.
async fn counter(store: &dyn ItemStore, collection: &str) -> Result<u64, StoreError> {
    Ok(store.get(&Key::new(collection, COUNT)).await?.map_or(0, |counter| counter.version))
}

/// One page of an index collection, in sort-key order, and the collection's size.
async fn page<T: serde::de::DeserializeOwned>(
    store: &dyn ItemStore,
    collection: &str,
    offset: usize,
    size: usize,
) -> Result<(Vec<T>, u64), StoreError> {
    let total = counter(store, collection).await?;
    if offset as u64 >= total {
        return Ok((Vec::new(), total));
    }
    let items = query_all(store, &Query::index(Index::Gsi3, collection).limit(offset + size)).await?;
    let page = items.iter().skip(offset).map(from_item).collect::<Result<_, _>>()?;
    Ok((page, total))
}

/// Which operation of a transaction failed its condition, if one did.
fn failed_at(error: &StoreError) -> Option<&[usize]> {
    match error {
        StoreError::TransactionCancelled { failed } => Some(failed),
        _ => None,
    }
}

fn changed_meanwhile(what: &str) -> AppError {
    AppError::Conflict(format!("{what} changed meanwhile; read again and retry"))
}

/// The DKIM repository.
pub struct Dkims<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> Dkims<'a> {
    /// The repository over `store`.
    pub fn new(store: &'a dyn ItemStore) -> Self {
        Self { store }
    }

    /// The next free customer key id.
    pub async fn next_id(&self) -> Result<i64, StoreError> {
        let value = self.store.increment(&Key::new("SEQUENCE", "dkimId"), 1).await?;
        i64::try_from(value).map_err(|_| StoreError::Invalid("sequence dkimId overflowed".into()))
    }

    /// The customer's keys and which is the default, in one query.
    pub async fn customer_keys(&self, group: GroupPk) -> Result<CustomerKeys, StoreError> {
        let items = query_all(self.store, &Query::partition(partition(group)).prefix("DKIM#")).await?;
        let mut keys = CustomerKeys::default();
        for item in &items {
            if item.key.sk.starts_with(KEY) {
                keys.keys.push(versioned(item)?);
            } else if item.key.sk == SET {
                keys.set = Some(versioned(item)?);
            }
        }
        Ok(keys)
    }

    /// Adds `key` to the customer's keys; the first key becomes the default (the answer
    /// tells whether it did). A taken domain and selector is a conflict.
    pub async fn create(&self, key: &CustomerDkim) -> Result<bool, AppError> {
        // A concurrent change to the set only moves its version: read it again and retry.
        const ATTEMPTS: u32 = 4;
        let group = key.group_pk;
        let mut attempt = 1;
        loop {
            let keys = CustomerKeys {
                keys: Vec::new(),
                set: self.store.get(&set_key(group)).await?.as_ref().map(versioned).transpose()?,
            };
            let set = keys.header();
            let default = set.default.unwrap_or(key.id);
            let ops = vec![
                put(customer_key_item(key)?, Condition::NotExists),
                guard(name_key(group, &key.key)),
                keys.write_set(
                    group,
                    KeySet {
                        default: Some(default),
                        count: set.count + 1,
                    },
                )?,
                add(Key::new(ALL_KEYS, COUNT), 1),
            ];
            match transact(self.store, ops).await {
                Ok(()) => return Ok(default == key.id),
                Err(error) => match failed_at(&error) {
                    Some(failed) if failed.contains(&1) => return Err(taken(&key.key)),
                    Some(failed) if failed == [2] && attempt < ATTEMPTS => attempt += 1,
                    Some(_) => return Err(changed_meanwhile(&format!("the keys of customer {group}"))),
                    None => return Err(error.into()),
                },
            }
        }
    }

    /// Replaces the key read as `before` with `after`, provided the key set is still as
    /// read in `keys` (the caller decided on its default).
    pub async fn update(&self, keys: &CustomerKeys, before: &Versioned<CustomerDkim>, after: &CustomerDkim) -> Result<(), AppError> {
        let group = after.group_pk;
        let mut ops = vec![
            put(
                customer_key_item(after)?.with_version(before.version + 1),
                Condition::VersionIs(before.version),
            ),
            keys.check_set(group),
        ];
        let renamed = name_key(group, &before.value.key) != name_key(group, &after.key);
        if renamed {
            ops.push(delete(name_key(group, &before.value.key), Condition::Exists));
            ops.push(guard(name_key(group, &after.key)));
        }
        transact(self.store, ops).await.map_err(|error| match failed_at(&error) {
            Some(failed) if renamed && failed.contains(&3) => taken(&after.key),
            Some(_) => changed_meanwhile(&format!("key {}", after.id)),
            None => error.into(),
        })
    }

    /// Removes the key read as `key`; `keys` decides whether the set loses its default.
    pub async fn delete(&self, keys: &CustomerKeys, key: &Versioned<CustomerDkim>) -> Result<(), AppError> {
        let group = key.value.group_pk;
        let set = keys.header();
        let remaining = set.count.saturating_sub(1);
        let ops = vec![
            delete(key_key(group, key.value.id), Condition::VersionIs(key.version)),
            delete(name_key(group, &key.value.key), Condition::Exists),
            keys.write_set(
                group,
                KeySet {
                    default: set.default.filter(|id| *id != key.value.id),
                    count: remaining,
                },
            )?,
            add(Key::new(ALL_KEYS, COUNT), -1),
        ];
        transact(self.store, ops).await.map_err(|error| {
            if failed_at(&error).is_some() {
                changed_meanwhile(&format!("key {}", key.value.id))
            } else {
                error.into()
            }
        })
    }

    /// Makes `key` the customer's default, provided it is unchanged since read.
    pub async fn set_default(&self, keys: &CustomerKeys, key: &Versioned<CustomerDkim>) -> Result<(), AppError> {
        let group = key.value.group_pk;
        let ops = vec![
            WriteOp::Check {
                key: key_key(group, key.value.id),
                condition: Condition::VersionIs(key.version),
            },
            keys.write_set(
                group,
                KeySet {
                    default: Some(key.value.id),
                    ..keys.header()
                },
            )?,
        ];
        transact(self.store, ops).await.map_err(|error| {
            if failed_at(&error).is_some() {
                changed_meanwhile(&format!("the keys of customer {group}"))
            } else {
                error.into()
            }
        })
    }

    /// One page of every customer's keys, by customer then domain, and their number.
    pub async fn all_keys(&self, offset: usize, size: usize) -> Result<(Vec<CustomerDkim>, u64), StoreError> {
        page(self.store, ALL_KEYS, offset, size).await
    }

    /// The default key of each of `groups` that has one, in one batch read.
    pub async fn default_ids(&self, groups: impl IntoIterator<Item = GroupPk>) -> Result<BTreeMap<GroupPk, i64>, StoreError> {
        let groups: BTreeSet<GroupPk> = groups.into_iter().collect();
        let keys: Vec<Key> = groups.iter().map(|group| set_key(*group)).collect();
        let mut defaults = BTreeMap::new();
        for item in self.store.batch_get(&keys).await? {
            let set: KeySet = from_item(&item)?;
            if let (Some(group), Some(default)) = (groups.iter().find(|group| set_key(**group) == item.key), set.default) {
                defaults.insert(*group, default);
            }
        }
        Ok(defaults)
    }

    /// The platform key, with its version.
    pub async fn platform_key(&self) -> Result<Option<Versioned<PlatformDkim>>, StoreError> {
        self.store.get(&platform_key()).await?.as_ref().map(versioned).transpose()
    }

    /// Replaces the platform key read at `read` (`None`: there was none).
    pub async fn put_platform_key(&self, key: &PlatformDkim, read: Option<u64>) -> Result<(), AppError> {
        let item = to_item(platform_key(), key)?;
        let write = match read {
            Some(version) => self.store.put(item.with_version(version + 1), Condition::VersionIs(version)).await,
            None => self.store.put(item, Condition::NotExists).await,
        };
        write.map_err(|error| match error {
            StoreError::ConditionFailed => changed_meanwhile("the platform key"),
            error => error.into(),
        })
    }

    /// One page of the FBLs, by recipient domain, and their number.
    pub async fn fbls(&self, offset: usize, size: usize) -> Result<(Vec<Fbl>, u64), StoreError> {
        page(self.store, ALL_FBLS, offset, size).await
    }

    /// The FBL `id`, with its version.
    pub async fn fbl(&self, id: Uuid) -> Result<Option<Versioned<Fbl>>, StoreError> {
        self.store.get(&fbl_key(id)).await?.as_ref().map(versioned).transpose()
    }

    /// The FBL of a recipient domain, if it has one.
    pub async fn fbl_for_recipient(&self, recipient_domain: &str) -> Result<Option<Fbl>, StoreError> {
        let query = Query::index(Index::Gsi3, ALL_FBLS).prefix(format!("{recipient_domain}#")).limit(1);
        let items = self.store.query(&query).await?.items;
        items.first().map(from_item).transpose()
    }

    /// Stores a new FBL; a recipient domain that already has one is a conflict.
    pub async fn create_fbl(&self, fbl: &Fbl) -> Result<(), AppError> {
        let ops = vec![
            put(fbl_item(fbl)?, Condition::NotExists),
            guard(fbl_domain_key(&fbl.recipient_domain)),
            add(Key::new(ALL_FBLS, COUNT), 1),
        ];
        transact(self.store, ops).await.map_err(|error| match failed_at(&error) {
            Some(failed) if failed.contains(&1) => recipient_taken(&fbl.recipient_domain),
            Some(_) => AppError::Conflict(format!("FBL {} already exists", fbl.id)),
            None => error.into(),
        })
    }

    /// Replaces the FBL read as `before` with `after`.
    pub async fn update_fbl(&self, before: &Versioned<Fbl>, after: &Fbl) -> Result<(), AppError> {
        let mut ops = vec![put(
            fbl_item(after)?.with_version(before.version + 1),
            Condition::VersionIs(before.version),
        )];
        let moved = before.value.recipient_domain != after.recipient_domain;
        if moved {
            ops.push(delete(fbl_domain_key(&before.value.recipient_domain), Condition::Exists));
            ops.push(guard(fbl_domain_key(&after.recipient_domain)));
        }
        transact(self.store, ops).await.map_err(|error| match failed_at(&error) {
            Some(failed) if moved && failed.contains(&2) => recipient_taken(&after.recipient_domain),
            Some(_) => changed_meanwhile(&format!("FBL {}", after.id)),
            None => error.into(),
        })
    }

    /// Removes the FBL read as `fbl`.
    pub async fn delete_fbl(&self, fbl: &Versioned<Fbl>) -> Result<(), AppError> {
        let ops = vec![
            delete(fbl_key(fbl.value.id), Condition::VersionIs(fbl.version)),
            delete(fbl_domain_key(&fbl.value.recipient_domain), Condition::Exists),
            add(Key::new(ALL_FBLS, COUNT), -1),
        ];
        transact(self.store, ops).await.map_err(|error| {
            if failed_at(&error).is_some() {
                changed_meanwhile(&format!("FBL {}", fbl.value.id))
            } else {
                error.into()
            }
        })
    }
}

fn taken(key: &StoredKey) -> AppError {
    AppError::Conflict(format!(
        "the customer already has a key for domain {} and selector {}",
        key.domain, key.selector
    ))
}

fn recipient_taken(domain: &str) -> AppError {
    AppError::Conflict(format!("recipient domain {domain} already has an FBL"))
}
