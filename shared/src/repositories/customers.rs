//! Customers and their per-application data.

use serde::{Deserialize, Serialize};

use super::Versioned;
use super::record::{from_item, to_item, versioned};
use crate::domain::customer::Customer;
use crate::domain::ids::GroupPk;
use crate::error::AppError;
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

    /// Creates a customer, claiming its gid; an existing key or a taken gid is a conflict.
    pub async fn create(&self, customer: &Customer) -> Result<(), AppError> {
        let mut ops = vec![WriteOp::Put {
            item: customer_item(customer)?,
            condition: Condition::NotExists,
        }];
        if let Some(gid) = &customer.gid {
            ops.push(WriteOp::Put {
                item: to_item(
                    gid_key(gid),
                    &GidOwner {
                        group_pk: customer.group_pk,
                    },
                )?,
                condition: Condition::NotExists,
            });
        }
        match self.store.transact(ops).await {
            Err(StoreError::TransactionCancelled { failed }) if failed.contains(&0) => {
                Err(AppError::Conflict(format!("customer {} already exists", customer.group_pk)))
            }
            Err(StoreError::TransactionCancelled { .. }) => Err(AppError::Conflict(format!(
                "gid {} is already in use",
                customer.gid.as_deref().unwrap_or_default()
            ))),
            other => Ok(other?),
        }
    }

    /// Replaces the customer read as `before` with `after`, moving the gid guard when
    /// the gid changes. A concurrent change in between, or a taken gid, is a conflict.
    pub async fn update(&self, before: &Versioned<Customer>, after: &Customer) -> Result<(), AppError> {
        let mut ops = vec![WriteOp::Put {
            item: customer_item(after)?.with_version(before.version + 1),
            condition: Condition::VersionIs(before.version),
        }];
        if before.value.gid != after.gid {
            if let Some(gid) = &after.gid {
                ops.push(WriteOp::Put {
                    item: to_item(gid_key(gid), &GidOwner { group_pk: after.group_pk })?,
                    condition: Condition::NotExists,
                });
            }
            if let Some(gid) = &before.value.gid {
                ops.push(WriteOp::Delete {
                    key: gid_key(gid),
                    condition: Condition::Always,
                });
            }
        }
        match self.store.transact(ops).await {
            Err(StoreError::TransactionCancelled { failed }) if failed.contains(&0) => Err(AppError::Conflict(
                "the customer was changed meanwhile; read it again and retry".into(),
            )),
            Err(StoreError::TransactionCancelled { .. }) => Err(AppError::Conflict(format!(
                "gid {} is already in use",
                after.gid.as_deref().unwrap_or_default()
            ))),
            Err(StoreError::Conflict) => Err(AppError::Conflict("the customer is being changed concurrently; retry".into())),
            other => Ok(other?),
        }
    }

    /// The customer and every customer below it, in tree order.
    pub async fn subtree(&self, customer: &Customer) -> Result<Vec<Customer>, StoreError> {
        let query = Query::index(Index::Gsi2, format!("CUSTOMER_TREE#{}", customer.root())).prefix(customer.tree_path());
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
