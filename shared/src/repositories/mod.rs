//! Persistence of the domain over the item store port, written once for both adapters.
//!
//! Layout of the single table (pk / sk, and the index keys where used):
//! - `USER#<userPk>` / `PROFILE`: the user. `PREFERENCES`, `PASSWORD`,
//!   `CUSTOMER#<groupPk>` (an association; GSI1 `CUSTOMER_USERS#<groupPk>` / `USER#<userPk>`),
//!   `CAPABILITY#<id>`: the rest of the user's account, read with one query.
//! - `USERNAME#<lowercase>` and `EMAIL#<lowercase>` / `UNIQUE`: uniqueness guards.
//! - `CUSTOMER#<groupPk>` / `PROFILE`: the customer (GSI1 `CUSTOMER_CHILDREN#<parent>` /
//!   `CUSTOMER#<groupPk>`); `APP#hub`: its hub workspaces.
//! - `SEQUENCE` / `<name>`: counters.

pub mod accounts;
pub mod customers;
mod record;

pub use record::Versioned;
