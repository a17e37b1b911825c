//! Customer representations.

use serde::Serialize;

use crate::domain::customer::{Customer, CustomerStatus};
use crate::domain::ids::GroupPk;

/// A customer in brief: `{groupPk, groupName, status, chatEnabled}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerSummary {
    pub group_pk: GroupPk,
    pub group_name: String,
    pub status: CustomerStatus,
    pub chat_enabled: bool,
}

impl From<&Customer> for CustomerSummary {
    fn from(customer: &Customer) -> Self {
        Self {
            group_pk: customer.group_pk,
            group_name: customer.name.clone(),
            status: customer.status,
            chat_enabled: customer.chat_enabled,
        }
    }
}
