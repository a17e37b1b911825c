//! Persistence of the domain over the item store port, written once for both adapters.
//!
//! Layout of the single table (pk / sk, and the index keys where used):
//! - `USER#<userPk>` / `PROFILE`: the user. `PREFERENCES`, `PASSWORD`,
//!   `CUSTOMER#<groupPk>` (an association), `CAPABILITY#<id>`: the rest of the
//!   user's account, read with one query; so are its security state:
//!   `FAILURES` (a counter: consecutive failed logins), `LOCK` (a lockout's end),
//!   `ACCESS#<application>` and `ACCESS` (first and last login, to one application and to any).
//!   `PASSWORD` holds the argon2id hash with the hashes of the 4 passwords before it;
//!   `VERIFICATION` the verification code in force (an HMAC-SHA256 of it, never the
//!   code) with its attempts, and the SMS sent in the last hour (expiring after both).
//!   A capability of an accountcentral role on a customer is also in GSI1
//!   `HOLDERS#<groupPk>` / `<role>#<userPk>#<capability id>`: who holds a role on a customer.
//! - `USERNAME#<lowercase>`, `EMAIL#<lowercase>`, `GID#<gid>` / `UNIQUE`: uniqueness guards.
//! - `ROSTER#<groupPk>` / `USER#<lowercase username>#<userPk>`: a summary of every user
//!   who reaches the customer (associated with it or a descendant), kept in step with
//!   the user by the same transaction: the users of a subtree are one partition.
//! - `EVENTS#<userPk>` / `<epoch ms>#<event id>`: security events, expiring after the
//!   retention period; failed logins also in GSI1 `FAILED#<yyyy-mm-dd>` / `<epoch ms>#<userPk>`.
//! - `CAPLOG#<userPk>` / `<epoch ms>#<capability id>#<G|R>`: the append-only capability log.
//! - `CUSTOMER#<groupPk>` / `PROFILE`: the customer, in GSI1 `CUSTOMER_CHILDREN#<parent>` /
//!   `CUSTOMER#<groupPk>`, GSI2 `CUSTOMER_TREE#<root>` / `<path from the root>` (a subtree
//!   is the customer's path and those under it, `<path>/…`) and GSI3 `CUSTOMERS` / `<lowercase name>#<groupPk>`. Beside it, its
//!   configuration: `CONFIG` (the API key as SHA-256 digest and prefix, smart relay, generic
//!   users, data exchanges), `SFTP` (its SFTP accounts, passwords as argon2id hashes) and
//!   `APP#hub`, `APP#plan`, `APP#send` (each application it has; hub's with its workspaces,
//!   their nodes and sources and the counts of each).
//! - `CUSTOMER#<groupPk>` / `DKIM#KEY#<id>`: a customer's DKIM key (private key as an
//!   envelope), in GSI3 `DKIMS` / `<groupPk>#<domain>#<selector>#<id>`; beside it
//!   `DKIM#NAME#<domain>#<selector>` (uniqueness) and `DKIM#SET` (the default key and the
//!   number of keys, written by every change to the set).
//! - `PLATFORM` / `VERIFICATION_KEY`: the key verification codes are hashed with, sealed
//!   by the key vault (KMS in AWS).
//! - `PLATFORM` / `DKIM`: the platform key. `FBL#<uuid>` / `FBL`: a feedback-loop key, in
//!   GSI3 `FBLS` / `<recipient domain>#<uuid>`; `FBL_DOMAIN#<domain>` / `UNIQUE` keeps one per domain.
//! - `NOTIFICATIONS#<userPk>` / `<notification id, 16 digits>`: the user's notifications,
//!   expiring 180 days after they were enqueued.
//! - `DKIMS`, `FBLS` / `COUNT`: collection sizes, kept by the transactions that change them.
//! - `PROVISIONING#<id>` / `JOB`: a provisioning job, in GSI1 `JOBS#<groupPk>` and GSI3
//!   `JOBS`, both `<epoch ms>#<id>`; beside it its actions `ACTION#<index>` and its plan's
//!   steps `STEP#<index>`. `PROVISIONING_LOCK#<groupPk>` / `LOCK`: the customer's unfinished job.
//! - `NEWS#<lang>#<feed id>` / `ITEM`: a news item, in GSI1 `NEWS#<lang>` /
//!   `<published epoch ms>#<feed id>` (newest first, read backwards);
//!   `NEWS_CATEGORY#<lowercase name>` / `CATEGORY`: a news category's id and name.
//! - `STATUS#<application>` / `CURRENT`: the application's last status change, at a
//!   version equal to its id; `CHANGE#<id>`: every change, oldest first.
//! - `SEQUENCE` / `userPk`, `capabilityId`, `dkimId`, `newsCategoryId`, `notificationId`: counters.

pub mod accounts;
pub mod configuration;
pub mod credentials;
pub mod customers;
pub mod dkims;
mod error;
pub mod news;
pub mod notifications;
pub mod provisioning;
mod record;
pub mod security;
pub mod status;

pub use error::RepositoryError;
pub use record::Versioned;
