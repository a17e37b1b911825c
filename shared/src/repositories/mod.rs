//! Persistence of the domain over the item store port, written once for both adapters.
//!
//! Layout of the single table (pk / sk, and the index keys where used):
//! - `USER#<userPk>` / `PROFILE`: the user. `PREFERENCES`, `PASSWORD`,
//!   `CUSTOMER#<groupPk>` (an association), `CAPABILITY#<id>`: the rest of the
//!   user's account, read with one query.
//! - `USERNAME#<lowercase>`, `EMAIL#<lowercase>`, `GID#<gid>` / `UNIQUE`: uniqueness guards.
//! - `ROSTER#<groupPk>` / `USER#<lowercase username>#<userPk>`: a summary of every user
//!   who reaches the customer (associated with it or a descendant), kept in step with
//!   the user by the same transaction: the users of a subtree are one partition.
//! - `CAPLOG#<userPk>` / `<epoch ms>#<capability id>#<G|R>`: the append-only capability log.
//! - `CUSTOMER#<groupPk>` / `PROFILE`: the customer, in GSI1 `CUSTOMER_CHILDREN#<parent>` /
//!   `CUSTOMER#<groupPk>`, GSI2 `CUSTOMER_TREE#<root>` / `<path from the root>` (a subtree
//!   is a prefix) and GSI3 `CUSTOMERS` / `<lowercase name>#<groupPk>`. Beside it, its
//!   configuration: `CONFIG` (the API key as SHA-256 digest and prefix, smart relay, generic
//!   users, data exchanges), `SFTP` (its SFTP accounts, passwords as argon2id hashes) and
//!   `APP#hub`, `APP#plan`, `APP#send` (each application it has; hub's with its workspaces,
//!   their nodes and sources and the counts of each).
//! - `SEQUENCE` / `userPk`, `capabilityId`: counters.

pub mod accounts;
pub mod configuration;
pub mod customers;
mod record;

pub use record::Versioned;
