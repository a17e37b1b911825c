//! Customers and their per-application data.

use serde::{Deserialize, Serialize};

use super::record::{from_item, to_item};
use crate::domain::customer::Customer;
use crate::domain::ids::GroupPk;
use crate::ports::store::{Condition, Index, ItemStore, Key, StoreError};

const PROFILE: &str = "PROFILE";
const HUB: &str = "APP#hub";

fn partition(group: GroupPk) -> String {
    format!("CUSTOMER#{group}")
}

/// A hub workspace of a customer, with its nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubWorkspace {
    pub id: String,
    pub name: String,
    pub nodes: Vec<HubNode>,
}

/// A node of a hub workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubNode {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct HubApplication {
    workspaces: Vec<HubWorkspace>,
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

    /// Creates a customer; an existing key is a conflict.
    pub async fn create(&self, customer: &Customer) -> Result<(), StoreError> {
        let parent = customer.parent_group_pk.map_or_else(|| "ROOT".to_owned(), |p| p.to_string());
        let item = to_item(Key::new(partition(customer.group_pk), PROFILE), customer)?.with_index(
            Index::Gsi1,
            format!("CUSTOMER_CHILDREN#{parent}"),
            format!("CUSTOMER#{:012}", customer.group_pk.0),
        );
        self.store.put(item, Condition::NotExists).await
    }

    /// The customer's hub workspaces (none when it does not use hub).
    pub async fn hub_workspaces(&self, group: GroupPk) -> Result<Vec<HubWorkspace>, StoreError> {
        let item = self.store.get(&Key::new(partition(group), HUB)).await?;
        Ok(item
            .map(|item| from_item::<HubApplication>(&item))
            .transpose()?
            .map(|hub| hub.workspaces)
            .unwrap_or_default())
    }

    /// Replaces the customer's hub workspaces.
    pub async fn put_hub_workspaces(&self, group: GroupPk, workspaces: Vec<HubWorkspace>) -> Result<(), StoreError> {
        self.store
            .put(
                to_item(Key::new(partition(group), HUB), &HubApplication { workspaces })?,
                Condition::Always,
            )
            .await
    }
}
