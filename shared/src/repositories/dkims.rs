//! DKIM keys: each customer's keys, the platform key and the feedback-loop (FBL) keys.
//! The repository seals each new private key with the key vault as it writes the
//! record, so that no other code holds both a plaintext key and the store, and the
//! table only ever sees envelopes.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use uuid::Uuid;

use super::record::{Transaction, TransactionFailure, add, delete, from_item, put, to_item, versioned};
use super::{RepositoryError, Versioned};
use crate::domain::dkim::records::{
    CustomerDkim, Fbl, KeyMaterial, KeySet, NameTaken, PlatformDkim, StoredKey, ValidFbl, ValidKey, check_fbl_room, customer_key_context,
    fbl_key_context, platform_key_context,
};
use crate::domain::dkim::selection::Candidate;
use crate::domain::ids::{DkimId, GroupPk};
use crate::ports::key_vault::{EncryptionContext, KeyVault, KeyVaultError};
use crate::ports::store::{Condition, Index, Item, ItemStore, Key, Query, StoreError, WriteOp, query_all};

const KEY: &str = "DKIM#KEY#";
const NAME: &str = "DKIM#NAME#";
const SET: &str = "DKIM#SET";
const ALL_KEYS: &str = "DKIMS";
const ALL_FBLS: &str = "FBLS";
const COUNT: &str = "COUNT";

impl Candidate for Versioned<CustomerDkim> {
    fn id(&self) -> DkimId {
        self.value.id
    }
    fn domain(&self) -> &str {
        &self.value.key.domain
    }
    fn active(&self) -> bool {
        self.value.active
    }
}

/// A customer's keys as read together, to select one or to change the set.
#[derive(Debug, Clone, Default)]
pub struct CustomerKeys {
    pub keys: Vec<Versioned<CustomerDkim>>,
    set: Option<Versioned<KeySet>>,
}

impl CustomerKeys {
    /// The default key's id.
    pub fn default_id(&self) -> Option<DkimId> {
        self.set.as_ref().and_then(|set| set.value.default)
    }

    /// The keys' records.
    pub fn records(&self) -> impl Iterator<Item = &CustomerDkim> {
        self.keys.iter().map(|key| &key.value)
    }

    /// The key `id`.
    pub fn get(&self, id: DkimId) -> Option<&Versioned<CustomerDkim>> {
        self.keys.iter().find(|key| key.value.id == id)
    }

    /// The key set as read (empty when there was none).
    pub fn header(&self) -> KeySet {
        self.set.as_ref().map(|set| set.value).unwrap_or_default()
    }

    /// Writes `set` over the one read (or where none was). Every change to the set writes
    /// it, conditioned on its version, so that the default is switched atomically and
    /// "the last key" is decided on a consistent count.
    fn write_set(&self, group: GroupPk, set: KeySet) -> Result<WriteOp, StoreError> {
        let item = to_item(set_key(group), &set)?;
        Ok(match &self.set {
            Some(read) => put(item.with_version(read.version + 1), Condition::VersionIs(read.version)),
            None => put(item, Condition::NotExists),
        })
    }

    /// The writes that deactivate the keys `ids` of customer `group` (those still active),
    /// as of `now`, each conditioned on the version read, with the set's new default when
    /// the default is among them: for a change applied together with others. None when
    /// the keys are inactive already.
    pub fn deactivation_writes(&self, group: GroupPk, ids: &BTreeSet<DkimId>, now: Timestamp) -> Result<Vec<WriteOp>, StoreError> {
        let mut writes = Vec::new();
        for key in self.keys.iter().filter(|key| ids.contains(&key.value.id) && key.value.active) {
            let after = CustomerDkim {
                active: false,
                updated_at: now,
                ..key.value.clone()
            };
            writes.push(put(
                customer_key_item(&after)?.with_version(key.version + 1),
                Condition::VersionIs(key.version),
            ));
        }
        let deactivated = self.header().deactivating(ids);
        if deactivated != self.header() {
            writes.push(self.write_set(group, deactivated)?);
        }
        Ok(writes)
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

fn partition(group: GroupPk) -> String {
    format!("CUSTOMER#{group}")
}

fn key_key(group: GroupPk, id: DkimId) -> Key {
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

/// What each write of a DKIM transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// The key or FBL record itself.
    Record,
    /// The guard of a customer key's domain and selector, or of an FBL's recipient domain.
    NameGuard,
    /// The customer's key set.
    Set,
    /// A collection counter: added to without a condition, or (for a bounded collection)
    /// written conditioned on the count read.
    Count,
}

fn changed_meanwhile(what: &str) -> RepositoryError {
    RepositoryError::ChangedMeanwhile(format!("{what} changed meanwhile; read again and retry"))
}

/// Any failed condition means that something changed since it was read.
fn changed_meanwhile_or_store(failure: TransactionFailure<Write>, what: &str) -> RepositoryError {
    match failure {
        TransactionFailure::Conditions(_) => changed_meanwhile(what),
        TransactionFailure::Store(error) => error.into(),
    }
}

/// The DKIM repository.
pub struct Dkims<'a> {
    store: &'a dyn ItemStore,
    key_vault: &'a dyn KeyVault,
}

impl<'a> Dkims<'a> {
    /// The repository over `store`, sealing private keys with `key_vault`.
    pub fn new(store: &'a dyn ItemStore, key_vault: &'a dyn KeyVault) -> Self {
        Self { store, key_vault }
    }

    /// The key to store: a new private key is sealed under `context`, a kept one stays sealed.
    async fn seal(&self, key: ValidKey, context: &EncryptionContext) -> Result<StoredKey, KeyVaultError> {
        let (public_key, algorithm, private_key) = match key.material {
            KeyMaterial::New(pair) => {
                let envelope = self.key_vault.seal(pair.private_pkcs8(), context).await?;
                (pair.public_key().p_value().to_owned(), pair.algorithm(), envelope)
            }
            KeyMaterial::Kept(public, envelope) => (public.p_value().to_owned(), public.algorithm(), envelope),
        };
        Ok(StoredKey {
            domain: key.domain,
            selector: key.selector,
            public_key,
            algorithm,
            private_key,
        })
    }

    /// The next free customer key id.
    async fn next_id(&self) -> Result<DkimId, StoreError> {
        let value = self.store.increment(&Key::new("SEQUENCE", "dkimId"), 1).await?;
        i64::try_from(value)
            .map(DkimId)
            .map_err(|_| StoreError::Invalid("sequence dkimId overflowed".into()))
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

    /// Adds `key` to the customer's keys under a new id, its private key sealed, created
    /// at `now`; the first key becomes the default (the answer tells whether it did). A
    /// taken domain and selector is refused.
    pub async fn create(
        &self,
        group: GroupPk,
        key: ValidKey,
        active: bool,
        now: Timestamp,
    ) -> Result<(CustomerDkim, bool), RepositoryError> {
        let id = self.next_id().await?;
        let record = CustomerDkim {
            id,
            group_pk: group,
            key: self.seal(key, &customer_key_context(group, id)).await?,
            active,
            created_at: now,
            updated_at: now,
        };
        // A concurrent change to the set only moves its version: read it again and retry.
        const ATTEMPTS: u32 = 4;
        let mut attempt = 1;
        loop {
            let keys = CustomerKeys {
                keys: Vec::new(),
                set: self.store.get(&set_key(group)).await?.as_ref().map(versioned).transpose()?,
            };
            // The set's count decides the bound; its version condition makes two
            // concurrent creates decide on different counts.
            let set = keys.header().adding(id)?;
            let mut transaction = Transaction::new();
            transaction.push(Write::Record, put(customer_key_item(&record)?, Condition::NotExists));
            transaction.push(Write::NameGuard, guard(name_key(group, &record.key)));
            transaction.push(Write::Set, keys.write_set(group, set)?);
            transaction.push(Write::Count, add(Key::new(ALL_KEYS, COUNT), 1));
            match transaction.commit(self.store).await {
                Ok(()) => return Ok((record, set.default == Some(id))),
                Err(TransactionFailure::Conditions(failed)) if failed.contains(&Write::NameGuard) => return Err(taken(&record.key)),
                Err(TransactionFailure::Conditions(failed)) if failed == [Write::Set] && attempt < ATTEMPTS => attempt += 1,
                Err(failure) => return Err(changed_meanwhile_or_store(failure, &format!("the keys of customer {group}"))),
            }
        }
    }

    /// Replaces the key read as `before` with `key` (its private key sealed), active or
    /// not, updated at `now`, provided the key set is still as read in `keys` (the caller
    /// decided on its default).
    pub async fn update(
        &self,
        keys: &CustomerKeys,
        before: &Versioned<CustomerDkim>,
        key: ValidKey,
        active: bool,
        now: Timestamp,
    ) -> Result<CustomerDkim, RepositoryError> {
        let group = before.value.group_pk;
        let after = CustomerDkim {
            key: self.seal(key, &customer_key_context(group, before.value.id)).await?,
            active,
            updated_at: now,
            ..before.value.clone()
        };
        let mut transaction = Transaction::new();
        transaction.push(
            Write::Record,
            put(
                customer_key_item(&after)?.with_version(before.version + 1),
                Condition::VersionIs(before.version),
            ),
        );
        transaction.push(Write::Set, keys.check_set(group));
        if name_key(group, &before.value.key) != name_key(group, &after.key) {
            transaction.push(Write::Record, delete(name_key(group, &before.value.key), Condition::Exists));
            transaction.push(Write::NameGuard, guard(name_key(group, &after.key)));
        }
        match transaction.commit(self.store).await {
            Ok(()) => Ok(after),
            Err(TransactionFailure::Conditions(failed)) if failed.contains(&Write::NameGuard) => Err(taken(&after.key)),
            Err(failure) => Err(changed_meanwhile_or_store(failure, &format!("key {}", after.id))),
        }
    }

    /// Removes the key read as `key`; `keys` decides whether the set loses its default.
    pub async fn delete(&self, keys: &CustomerKeys, key: &Versioned<CustomerDkim>) -> Result<(), RepositoryError> {
        let group = key.value.group_pk;
        let mut transaction = Transaction::new();
        transaction.push(
            Write::Record,
            delete(key_key(group, key.value.id), Condition::VersionIs(key.version)),
        );
        transaction.push(Write::NameGuard, delete(name_key(group, &key.value.key), Condition::Exists));
        transaction.push(Write::Set, keys.write_set(group, keys.header().removing(key.value.id))?);
        transaction.push(Write::Count, add(Key::new(ALL_KEYS, COUNT), -1));
        transaction
            .commit(self.store)
            .await
            .map_err(|failure| changed_meanwhile_or_store(failure, &format!("key {}", key.value.id)))
    }

    /// Makes `key` the customer's default, provided it is unchanged since read.
    pub async fn set_default(&self, keys: &CustomerKeys, key: &Versioned<CustomerDkim>) -> Result<(), RepositoryError> {
        let group = key.value.group_pk;
        let mut transaction = Transaction::new();
        transaction.push(
            Write::Record,
            WriteOp::Check {
                key: key_key(group, key.value.id),
                condition: Condition::VersionIs(key.version),
            },
        );
        transaction.push(Write::Set, keys.write_set(group, keys.header().with_default(key.value.id))?);
        transaction
            .commit(self.store)
            .await
            .map_err(|failure| changed_meanwhile_or_store(failure, &format!("the keys of customer {group}")))
    }

    /// One page of every customer's keys, by customer then domain, and their number.
    pub async fn all_keys(&self, offset: usize, size: usize) -> Result<(Vec<CustomerDkim>, u64), StoreError> {
        page(self.store, ALL_KEYS, offset, size).await
    }

    /// The default key of each of `groups` that has one, in one batch read.
    pub async fn default_ids(&self, groups: impl IntoIterator<Item = GroupPk>) -> Result<BTreeMap<GroupPk, DkimId>, StoreError> {
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

    /// Replaces the platform key read at `read` (`None`: there was none) with `key`, its
    /// private key sealed, updated at `now`.
    pub async fn put_platform_key(&self, key: ValidKey, read: Option<u64>, now: Timestamp) -> Result<PlatformDkim, RepositoryError> {
        let record = PlatformDkim {
            key: self.seal(key, &platform_key_context()).await?,
            updated_at: now,
        };
        let item = to_item(platform_key(), &record)?;
        let write = match read {
            Some(version) => self.store.put(item.with_version(version + 1), Condition::VersionIs(version)).await,
            None => self.store.put(item, Condition::NotExists).await,
        };
        match write {
            Ok(()) => Ok(record),
            Err(StoreError::ConditionFailed) => Err(changed_meanwhile("the platform key")),
            Err(error) => Err(error.into()),
        }
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

    /// Stores `fbl` as the new FBL `id`, its private key sealed, created at `now`; a
    /// recipient domain that already has one is taken.
    pub async fn create_fbl(&self, id: Uuid, fbl: ValidFbl, now: Timestamp) -> Result<Fbl, RepositoryError> {
        let record = Fbl {
            id,
            esp: fbl.esp,
            recipient_domain: fbl.recipient_domain,
            signable_headers: fbl.signable_headers,
            dkim: self.seal(fbl.dkim, &fbl_key_context(id)).await?,
            created_at: now,
            updated_at: now,
        };
        // The count is written conditioned on the value read, so that two concurrent
        // creates cannot both take the last place; a create or delete in between only
        // moves it: read it again and retry.
        const ATTEMPTS: u32 = 4;
        let counter = Key::new(ALL_FBLS, COUNT);
        let mut attempt = 1;
        loop {
            let read = self.store.get(&counter).await?;
            let count = read.as_ref().map_or(0, |counter| counter.version);
            check_fbl_room(count)?;
            let condition = read.map_or(Condition::NotExists, |counter| Condition::VersionIs(counter.version));
            let mut transaction = Transaction::new();
            transaction.push(Write::Record, put(fbl_item(&record)?, Condition::NotExists));
            transaction.push(Write::NameGuard, guard(fbl_domain_key(&record.recipient_domain)));
            transaction.push(
                Write::Count,
                put(
                    Item::new(counter.clone(), serde_json::Map::new()).with_version(count + 1),
                    condition,
                ),
            );
            match transaction.commit(self.store).await {
                Ok(()) => return Ok(record),
                Err(TransactionFailure::Conditions(failed)) if failed.contains(&Write::NameGuard) => {
                    return Err(recipient_taken(&record.recipient_domain));
                }
                Err(TransactionFailure::Conditions(failed)) if failed == [Write::Count] && attempt < ATTEMPTS => attempt += 1,
                Err(TransactionFailure::Conditions(failed)) if failed.contains(&Write::Record) => {
                    return Err(RepositoryError::Taken(format!("FBL {id} already exists")));
                }
                Err(failure) => return Err(changed_meanwhile_or_store(failure, "the FBLs")),
            }
        }
    }

    /// Replaces the FBL read as `before` with `fbl`, its private key sealed, updated at `now`.
    pub async fn update_fbl(&self, before: &Versioned<Fbl>, fbl: ValidFbl, now: Timestamp) -> Result<Fbl, RepositoryError> {
        let after = Fbl {
            id: before.value.id,
            esp: fbl.esp,
            recipient_domain: fbl.recipient_domain,
            signable_headers: fbl.signable_headers,
            dkim: self.seal(fbl.dkim, &fbl_key_context(before.value.id)).await?,
            created_at: before.value.created_at,
            updated_at: now,
        };
        let mut transaction = Transaction::new();
        transaction.push(
            Write::Record,
            put(
                fbl_item(&after)?.with_version(before.version + 1),
                Condition::VersionIs(before.version),
            ),
        );
        if before.value.recipient_domain != after.recipient_domain {
            transaction.push(
                Write::Record,
                delete(fbl_domain_key(&before.value.recipient_domain), Condition::Exists),
            );
            transaction.push(Write::NameGuard, guard(fbl_domain_key(&after.recipient_domain)));
        }
        match transaction.commit(self.store).await {
            Ok(()) => Ok(after),
            Err(TransactionFailure::Conditions(failed)) if failed.contains(&Write::NameGuard) => {
                Err(recipient_taken(&after.recipient_domain))
            }
            Err(failure) => Err(changed_meanwhile_or_store(failure, &format!("FBL {}", after.id))),
        }
    }

    /// Removes the FBL read as `fbl`.
    pub async fn delete_fbl(&self, fbl: &Versioned<Fbl>) -> Result<(), RepositoryError> {
        let mut transaction = Transaction::new();
        transaction.push(Write::Record, delete(fbl_key(fbl.value.id), Condition::VersionIs(fbl.version)));
        transaction.push(
            Write::NameGuard,
            delete(fbl_domain_key(&fbl.value.recipient_domain), Condition::Exists),
        );
        transaction.push(Write::Count, add(Key::new(ALL_FBLS, COUNT), -1));
        transaction
            .commit(self.store)
            .await
            .map_err(|failure| changed_meanwhile_or_store(failure, &format!("FBL {}", fbl.value.id)))
    }
}

fn taken(key: &StoredKey) -> RepositoryError {
    let taken = NameTaken {
        domain: key.domain.clone(),
        selector: key.selector.clone(),
    };
    RepositoryError::Taken(taken.to_string())
}

fn recipient_taken(domain: &str) -> RepositoryError {
    RepositoryError::Taken(format!("recipient domain {domain} already has an FBL"))
}
