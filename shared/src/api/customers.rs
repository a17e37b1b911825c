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

/// A customer in full, as `getCustomer` returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInfo {
    pub group_pk: GroupPk,
    pub parent_group_pk: Option<GroupPk>,
    pub name: String,
    pub address: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub platform_responsible: Option<String>,
    pub technical_responsible: Option<String>,
    pub privacy_responsible: Option<String>,
    pub status: CustomerStatus,
    pub premium: bool,
    pub gid: Option<String>,
}

impl From<&Customer> for CustomerInfo {
    fn from(customer: &Customer) -> Self {
        Self {
            group_pk: customer.group_pk,
            parent_group_pk: customer.parent_group_pk,
            name: customer.name.clone(),
            address: customer.address.clone(),
            country: customer.country.clone(),
            phone: customer.phone.clone(),
            platform_responsible: customer.platform_responsible.clone(),
            technical_responsible: customer.technical_responsible.clone(),
            privacy_responsible: customer.privacy_responsible.clone(),
            status: customer.status,
            premium: customer.premium,
            gid: customer.gid.clone(),
        }
    }
}
