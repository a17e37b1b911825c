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

    /// The top-level customer of its tree.
    pub fn root(&self) -> GroupPk {
        self.ancestors.last().copied().unwrap_or(self.group_pk)
    }

    /// The path from the root down to the customer, `/<root>/…/<self>`, each key
    /// zero-padded: a customer's subtree is every path starting with its own.
    pub fn tree_path(&self) -> String {
        self.ancestors
            .iter()
            .rev()
            .chain(std::iter::once(&self.group_pk))
            .map(|g| format!("/{:012}", g.0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(group: i64, ancestors: &[i64]) -> Customer {
        Customer {
            group_pk: GroupPk(group),
            name: String::new(),
            parent_group_pk: ancestors.first().copied().map(GroupPk),
            ancestors: ancestors.iter().copied().map(GroupPk).collect(),
            status: CustomerStatus::Active,
            premium: false,
            chat_enabled: false,
            gid: None,
            address: None,
            country: None,
            phone: None,
            platform_responsible: None,
            technical_responsible: None,
            privacy_responsible: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_subtree_is_a_path_prefix() {
        let grandchild = customer(1011, &[101, 100]);
        assert_eq!(grandchild.root(), GroupPk(100));
        assert!(grandchild.tree_path().starts_with(&customer(101, &[100]).tree_path()));
        assert!(grandchild.tree_path().starts_with(&customer(100, &[]).tree_path()));
        // 10 is not an ancestor of 100 although "10" prefixes "100".
        assert!(!customer(100, &[]).tree_path().starts_with(&customer(10, &[]).tree_path()));
    }
}
