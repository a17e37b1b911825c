//! Values the domain's unit tests build again and again.

use jiff::Timestamp;

use super::capability::{ACCOUNTCENTRAL, Capability};
use super::customer::Customer;
use super::ids::{CapabilityId, GroupPk};

/// Customer `group` under `ancestors` (nearest first).
pub fn customer(group: i64, ancestors: &[i64]) -> Customer {
    Customer::new(
        GroupPk(group),
        format!("c{group}"),
        ancestors.iter().copied().map(GroupPk).collect(),
        Timestamp::UNIX_EPOCH,
    )
}

/// The accountcentral `role` on `resource`.
pub fn capability(resource: &[&str], role: &str) -> Capability {
    Capability {
        id: CapabilityId(1),
        application: ACCOUNTCENTRAL.into(),
        version: 1,
        resource: resource.iter().map(|s| s.to_string()).collect(),
        role: role.into(),
        granted_at: Timestamp::UNIX_EPOCH,
        granted_by: None,
    }
}
