//! Customers and their per-application data.

use serde::{Deserialize, Serialize};

use super::record::{Transaction, TransactionFailure, from_item, put, to_item, versioned};
use super::{RepositoryError, Versioned};
use crate::domain::customer::Customer;
use crate::domain::ids::GroupPk;
use crate::ports::store::{Condition, Index, Item, ItemStore, Key, Query, StoreError, WriteOp, query_all};

const PROFILE: &str = "PROFILE";
/// GSI3 partition listing every customer by name.
const ALL_CUSTOMERS: &str = "CUSTOMERS";

fn partition(group: GroupPk) -> String {
    format!("CUSTOMER#{group}")
}

fn gid_key(gid: &str) -> Key {
    Key::new(format!("GID#{gid}"), "UNIQUE")
}

/// The customer's item with its three index entries: children of its parent (GSI1),
/// its place in its tree (GSI2) and its name among all customers (GSI3).
fn customer_item(customer: &Customer) -> Result<Item, StoreError> {
    let parent = customer.parent_group_pk.map_or_else(|| "ROOT".to_owned(), |p| p.to_string());
    Ok(to_item(Key::new(partition(customer.group_pk), PROFILE), customer)?
        .with_index(
            Index::Gsi1,
            format!("CUSTOMER_CHILDREN#{parent}"),
            format!("CUSTOMER#{:012}", customer.group_pk.0),
        )
        .with_index(Index::Gsi2, format!("CUSTOMER_TREE#{}", customer.root()), customer.tree_path())
        .with_index(
            Index::Gsi3,
            ALL_CUSTOMERS,
            format!("{}#{:012}", customer.name.to_lowercase(), customer.group_pk.0),
        ))
}

/// The customer read as `before` replaced by `after`, provided it is still as read.
fn replacement(before: &Versioned<Customer>, after: &Customer) -> Result<WriteOp, StoreError> {
    Ok(put(
        customer_item(after)?.with_version(before.version + 1),
        Condition::VersionIs(before.version),
    ))
}

/// What each write of a customer's transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Profile,
    GidGuard,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GidOwner {
    group_pk: GroupPk,
}

/// The customers repository.
pub struct Customers<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> Customers<'a> {
    /// The repository over `store`.
    pub fn new(store: &'a dyn ItemStore) -> Self {
        Self { store }
    }

    /// One customer.
    pub async fn get(&self, group: GroupPk) -> Result<Option<Customer>, StoreError> {
        self.store
            .get(&Key::new(partition(group), PROFILE))
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }

    /// The customer's name; `None` when there is no such customer. Only the name is
    /// decoded: every read of the caller's own account asks for it.
    pub async fn name(&self, group: GroupPk) -> Result<Option<String>, StoreError> {
        #[derive(Deserialize)]
        struct Named {
            name: String,
        }
        let item = self.store.get(&Key::new(partition(group), PROFILE)).await?;
        item.map(|item| from_item::<Named>(&item).map(|named| named.name)).transpose()
    }

    /// Several customers in one batch, ordered by key; missing ones are skipped.
    pub async fn get_many(&self, groups: impl IntoIterator<Item = GroupPk>) -> Result<Vec<Customer>, StoreError> {
        let keys: Vec<Key> = groups.into_iter().map(|g| Key::new(partition(g), PROFILE)).collect();
        let mut customers: Vec<Customer> = self.store.batch_get(&keys).await?.iter().map(from_item).collect::<Result<_, _>>()?;
        customers.sort_by_key(|c| c.group_pk);
        Ok(customers)
    }

    /// One customer with the version it was read at.
    pub async fn get_versioned(&self, group: GroupPk) -> Result<Option<Versioned<Customer>>, StoreError> {
        self.store
            .get(&Key::new(partition(group), PROFILE))
            .await?
            .map(|item| versioned(&item))
            .transpose()
    }

    /// Creates a customer, claiming its gid; an existing key or a taken gid is taken.
    pub async fn create(&self, customer: &Customer) -> Result<(), RepositoryError> {
        let mut transaction = Transaction::new();
        transaction.push(Write::Profile, put(customer_item(customer)?, Condition::NotExists));
        if let Some(gid) = &customer.gid {
            let owner = GidOwner {
                group_pk: customer.group_pk,
            };
            transaction.push(Write::GidGuard, put(to_item(gid_key(gid), &owner)?, Condition::NotExists));
        }
        transaction.commit_once(self.store).await.map_err(|failure| match failure {
            TransactionFailure::Conditions(failed) if failed.contains(&Write::Profile) => {
                RepositoryError::Taken(format!("customer {} already exists", customer.group_pk))
            }
            TransactionFailure::Conditions(_) => {
                RepositoryError::Taken(format!("gid {} is already in use", customer.gid.as_deref().unwrap_or_default()))
            }
            TransactionFailure::Store(error) => error.into(),
        })
    }

    /// Replaces the customer read as `before` with `after`, moving the gid guard when
    /// the gid changes. A concurrent change in between, or a taken gid, refuses the write.
    pub async fn update(&self, before: &Versioned<Customer>, after: &Customer) -> Result<(), RepositoryError> {
        let mut transaction = Transaction::new();
        transaction.push(Write::Profile, replacement(before, after)?);
        if before.value.gid != after.gid {
            if let Some(gid) = &after.gid {
                let owner = GidOwner { group_pk: after.group_pk };
                transaction.push(Write::GidGuard, put(to_item(gid_key(gid), &owner)?, Condition::NotExists));
            }
            if let Some(gid) = &before.value.gid {
                transaction.push(
                    Write::GidGuard,
                    WriteOp::Delete {
                        key: gid_key(gid),
                        condition: Condition::Always,
                    },
                );
            }
        }
        transaction.commit_once(self.store).await.map_err(|failure| match failure {
            TransactionFailure::Conditions(failed) if failed.contains(&Write::Profile) => {
                RepositoryError::ChangedMeanwhile("the customer was changed meanwhile; read it again and retry".into())
            }
            TransactionFailure::Conditions(_) => {
                RepositoryError::Taken(format!("gid {} is already in use", after.gid.as_deref().unwrap_or_default()))
            }
            TransactionFailure::Store(StoreError::Conflict) => {
                RepositoryError::ChangedMeanwhile("the customer is being changed concurrently; retry".into())
            }
            TransactionFailure::Store(error) => error.into(),
        })
    }

    /// The write that replaces the customer read as `before` with `after`, which keeps its
    /// gid (a gid change moves its guard: that is [`Customers::update`]), conditioned on
    /// the version it was read at: for a change applied together with others.
    pub fn replacement_write(before: &Versioned<Customer>, after: &Customer) -> Result<WriteOp, StoreError> {
        debug_assert_eq!(before.value.gid, after.gid, "a gid change moves its guard");
        replacement(before, after)
    }

    /// The customer and every customer below it, in tree order.
    pub async fn subtree(&self, customer: &Customer) -> Result<Vec<Customer>, StoreError> {
        let (first, last) = customer.subtree_paths();
        let query = Query::index(Index::Gsi2, format!("CUSTOMER_TREE#{}", customer.root())).between(first, last);
        query_all(self.store, &query).await?.iter().map(from_item).collect()
    }

    /// Every customer, by name.
    pub async fn all(&self) -> Result<Vec<Customer>, StoreError> {
        query_all(self.store, &Query::index(Index::Gsi3, ALL_CUSTOMERS))
            .await?
            .iter()
            .map(from_item)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::Timestamp;

    use super::*;
    use crate::adapters::embedded::store::EmbeddedStore;
    use crate::ports::clock::SystemClock;

    #[tokio::test]
    async fn a_subtree_read_holds_no_sibling_whose_key_shares_its_digits() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(&dir.path().join("store.sqlite"), Arc::new(SystemClock)).unwrap();
        let customers = Customers::new(&store);
        let customer = |group: i64, ancestors: &[i64]| {
            Customer::new(
                GroupPk(group),
                format!("c{group}"),
                ancestors.iter().copied().map(GroupPk).collect(),
                Timestamp::UNIX_EPOCH,
            )
        };
        // 100000000000 (12 digits) and 1000000000000 (13): siblings whose paths share a prefix.
        let tree = [
            customer(1, &[]),
            customer(100_000_000_000, &[1]),
            customer(7, &[100_000_000_000, 1]),
            customer(1_000_000_000_000, &[1]),
            customer(8, &[1_000_000_000_000, 1]),
        ];
        for member in &tree {
            customers.create(member).await.unwrap();
        }
        let keys = |subtree: Vec<Customer>| -> Vec<i64> { subtree.iter().map(|c| c.group_pk.0).collect() };
        assert_eq!(keys(customers.subtree(&tree[1]).await.unwrap()), [100_000_000_000, 7]);
        assert_eq!(keys(customers.subtree(&tree[3]).await.unwrap()), [1_000_000_000_000, 8]);
        assert_eq!(customers.subtree(&tree[0]).await.unwrap().len(), tree.len());
    }
}
