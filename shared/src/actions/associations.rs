//! What a user loses with associations: removed by its administrators
//! (`removeUserCustomers`) or by a provisioning job that deactivates a subtree.

use std::collections::BTreeSet;

use crate::domain::capability::{Capability, Resource, capabilities_lost};
use crate::domain::ids::GroupPk;
use crate::ports::store::{ItemStore, StoreError};
use crate::repositories::accounts::Account;
use crate::repositories::customers::Customers;

/// The account's capabilities that go when its associations become `remaining`: those on
/// customers it no longer reaches, and those on the `withdrawn` customers (see
/// [`capabilities_lost`]); reads the customers they are on.
pub async fn lost_capabilities(
    store: &dyn ItemStore,
    account: &Account,
    remaining: &BTreeSet<GroupPk>,
    withdrawn: &BTreeSet<GroupPk>,
) -> Result<Vec<Capability>, StoreError> {
    let on_customers = account.capabilities.iter().filter_map(|capability| match capability.resource() {
        Some(Resource::Customer { group, .. }) => Some(group),
        _ => None,
    });
    let customers = Customers::new(store).get_many(on_customers).await?;
    Ok(capabilities_lost(&account.capabilities, &customers, remaining, withdrawn))
}
