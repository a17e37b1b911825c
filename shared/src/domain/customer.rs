//! Customers (tenants): a tree of sub-customers under top-level customers.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ids::GroupPk;

/// Whether a customer is in business with the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerStatus {
    Active,
    Suspended,
    Inactive,
}

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub group_pk: GroupPk,
    pub name: String,
    pub parent_group_pk: Option<GroupPk>,
    /// Every ancestor, nearest first: authorization needs the whole chain in one read.
    pub ancestors: Vec<GroupPk>,
    pub status: CustomerStatus,
    pub premium: bool,
    pub chat_enabled: bool,
    pub gid: Option<String>,
    pub address: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub platform_responsible: Option<String>,
    pub technical_responsible: Option<String>,
    pub privacy_responsible: Option<String>,
    pub created_at: Timestamp,
}

impl Customer {
    /// The customer itself, then its ancestors, nearest first.
    pub fn lineage(&self) -> impl Iterator<Item = GroupPk> + '_ {
        std::iter::once(self.group_pk).chain(self.ancestors.iter().copied())
    }
}
