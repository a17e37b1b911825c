//! Users and everything stored about them: the partition of the user (profile,
//! preferences, password, customer associations, capabilities), the uniqueness guards,
//! the rosters of the customers the user reaches and the capability log.
//!
//! Every change of a user goes through [`Accounts::save`], one transaction that keeps
//! all of these consistent, conditioned on the version of the profile it was based on.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::customers::Customers;
use super::record::{Transaction, TransactionFailure, add, borrow_item, delete, from_item, put, to_item, versioned};
use super::{RepositoryError, Versioned};
use crate::domain::capability::{ACCOUNTCENTRAL, AccountCentralRole, Capability, Resource};
use crate::domain::ids::{CapabilityId, GroupPk, UserPk};
use crate::domain::password::PasswordRecord;
use crate::domain::preferences::Preferences;
use crate::domain::security::{AppAccess, Lockout};
use crate::domain::user::{User, UserStatus, UserType};
use crate::ports::store::{Condition, Index, Item, ItemStore, Key, MAX_TRANSACTION_OPS, Query, StoreError, WriteOp, query_all};

const PROFILE: &str = "PROFILE";
const PREFERENCES: &str = "PREFERENCES";
const PASSWORD: &str = "PASSWORD";
const CUSTOMER: &str = "CUSTOMER#";
const CAPABILITY: &str = "CAPABILITY#";
const UNIQUE: &str = "UNIQUE";
const ROSTER_USER: &str = "USER#";
/// The consecutive failed logins: a counter, so that concurrent failures all count.
const FAILURES: &str = "FAILURES";
const LOCK: &str = "LOCK";
/// `ACCESS#<application>`: first and last login to it; `ACCESS` alone: to any application.
const ACCESS: &str = "ACCESS";

const USER_PARTITION: &str = "USER#";

pub(super) fn partition(user: UserPk) -> String {
    format!("{USER_PARTITION}{user}")
}

pub(super) fn failures_key(user: UserPk) -> Key {
    Key::new(partition(user), FAILURES)
}

pub(super) fn lock_key(user: UserPk) -> Key {
    Key::new(partition(user), LOCK)
}

/// The user's access to `application`, or to any application when `None`.
pub(super) fn access_key(user: UserPk, application: Option<&str>) -> Key {
    match application {
        Some(application) => Key::new(partition(user), format!("{ACCESS}#{application}")),
        None => Key::new(partition(user), ACCESS),
    }
}

/// A lockout as stored.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Lock {
    pub locked_until: Timestamp,
}

fn profile_key(user: UserPk) -> Key {
    Key::new(partition(user), PROFILE)
}

fn password_key(user: UserPk) -> Key {
    Key::new(partition(user), PASSWORD)
}

fn username_key(username: &str) -> Key {
    Key::new(format!("USERNAME#{}", username.to_lowercase()), UNIQUE)
}

fn email_key(email: &str) -> Key {
    Key::new(format!("EMAIL#{}", email.to_lowercase()), UNIQUE)
}

fn capability_key(user: UserPk, id: CapabilityId) -> Key {
    Key::new(partition(user), format!("{CAPABILITY}{id:012}"))
}

fn roster_partition(group: GroupPk) -> String {
    format!("ROSTER#{group}")
}

/// Roster entries sort by username (immutable, so the key never moves), then user key.
fn roster_key(group: GroupPk, user: &User) -> Key {
    Key::new(
        roster_partition(group),
        format!("{ROSTER_USER}{}#{:012}", user.username.to_lowercase(), user.user_pk.0),
    )
}

/// The number of entries in the customer's roster, kept by the transactions that change it.
fn roster_count_key(group: GroupPk) -> Key {
    Key::new(roster_partition(group), "COUNT")
}

/// What each write of a user's transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    UsernameGuard,
    EmailGuard,
    Profile,
    /// Everything else, whose conditions only fail when the user already exists or
    /// changed concurrently.
    Rest,
}

fn log_partition(user: UserPk) -> String {
    format!("CAPLOG#{user}")
}

/// A uniqueness guard's content: whose username or e-mail it is.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Owner {
    user_pk: UserPk,
}

/// A user's association with a customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Association {
    user_pk: UserPk,
    group_pk: GroupPk,
}

/// A user as a customer's roster lists it: one entry in the roster of every customer
/// the user reaches (the customers it is associated with and their ancestors), so that
/// the users of a subtree are one partition read, already deduplicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterEntry {
    pub user_pk: UserPk,
    pub username: String,
    pub name: String,
    pub surname: String,
    pub email: String,
    pub status: UserStatus,
    pub user_type: UserType,
    /// The customer the user was created in.
    pub group_pk: GroupPk,
}

/// A roster entry borrowing its text from the roster it was read from: a whole roster is
/// searched and sorted without copying any entry but those of the page answered.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RosterRow<'a> {
    pub user_pk: UserPk,
    #[serde(borrow)]
    pub username: Cow<'a, str>,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub surname: Cow<'a, str>,
    #[serde(borrow)]
    pub email: Cow<'a, str>,
    pub status: UserStatus,
    pub user_type: UserType,
    pub group_pk: GroupPk,
}

impl RosterRow<'_> {
    /// The entry, owning its text.
    pub fn to_entry(&self) -> RosterEntry {
        RosterEntry {
            user_pk: self.user_pk,
            username: self.username.clone().into_owned(),
            name: self.name.clone().into_owned(),
            surname: self.surname.clone().into_owned(),
            email: self.email.clone().into_owned(),
            status: self.status,
            user_type: self.user_type,
            group_pk: self.group_pk,
        }
    }
}

/// A customer's whole roster as read, which its [`RosterRow`]s borrow from.
pub struct Roster(Vec<Item>);

impl Roster {
    /// The entries, in username order.
    pub fn rows(&self) -> impl Iterator<Item = Result<RosterRow<'_>, StoreError>> {
        self.0.iter().map(borrow_item)
    }
}

impl From<&User> for RosterEntry {
    fn from(user: &User) -> Self {
        Self {
            user_pk: user.user_pk,
            username: user.username.clone(),
            name: user.name.clone(),
            surname: user.surname.clone(),
            email: user.email.clone(),
            status: user.status,
            user_type: user.user_type,
            group_pk: user.creation_group_pk,
        }
    }
}

/// Whether a log entry records a grant or a revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogAction {
    Granted,
    Revoked,
}

/// One entry of a user's capability log (append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityLogEntry {
    pub capability_id: CapabilityId,
    pub action: LogAction,
    pub application: String,
    pub version: u32,
    pub resource: Vec<String>,
    pub role: String,
    pub date: Timestamp,
    /// Who granted or revoked; `None` for system actions (seed, bootstrap).
    pub by_user_pk: Option<UserPk>,
}

/// The most keys one batched read asks for (DynamoDB's BatchGetItem limit).
pub const KEYS_PER_BATCH: usize = 100;

/// Which parts of many users' security state [`Accounts::security_states`] reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct StateParts<'a> {
    /// The profile (status, two-factor, cell phone verification).
    pub profile: bool,
    /// The consecutive failed logins.
    pub streak: bool,
    /// The lockout's end.
    pub lock: bool,
    /// When the password expires.
    pub password: bool,
    /// The first and last access: `Some(None)` to any application, `Some(Some(app))` to `app`.
    pub access: Option<Option<&'a str>>,
}

/// One user's security state, as far as [`StateParts`] asked for it.
#[derive(Debug, Clone, Default)]
pub struct SecurityState {
    pub user: Option<User>,
    pub lockout: Lockout,
    pub password_expires_at: Option<Timestamp>,
    pub access: Option<AppAccess>,
}

/// A user with everything in their partition, read with one query.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: Versioned<User>,
    pub preferences: Option<Preferences>,
    pub associations: Vec<GroupPk>,
    pub capabilities: Vec<Capability>,
    pub lockout: Lockout,
    /// Application → first and last login.
    pub accesses: BTreeMap<String, AppAccess>,
    /// First and last login to any application.
    pub any_access: Option<AppAccess>,
    /// The version of the stored lockout, so that of racing failures only one starts it.
    pub(super) lock_version: Option<u64>,
}

impl Account {
    /// Whether the user may act at `now`: active and not locked out.
    pub fn may_act(&self, now: Timestamp) -> bool {
        self.user.value.status == UserStatus::Active && !self.lockout.is_locked(now)
    }
}

/// Everything needed to create a user.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub user: User,
    pub preferences: Preferences,
    pub password: Option<PasswordRecord>,
    pub associations: Vec<GroupPk>,
    pub capabilities: Vec<Capability>,
}

/// A change of an account, built from the account as read: edit the fields, then
/// [`Accounts::save`] it.
#[derive(Debug, Clone)]
pub struct AccountChange<'a> {
    before: &'a Account,
    pub user: User,
    pub associations: BTreeSet<GroupPk>,
    pub granted: Vec<Capability>,
    pub revoked: Vec<Capability>,
    /// Who makes the change (for the capability log), and when.
    pub by: Option<UserPk>,
    pub at: Timestamp,
    /// Writes that belong with the change (the security event that records it),
    /// applied in the same transaction.
    pub also: Vec<WriteOp>,
}

impl<'a> AccountChange<'a> {
    /// No change yet of `before`, made by `by` at `at`.
    pub fn of(before: &'a Account, by: Option<UserPk>, at: Timestamp) -> Self {
        Self {
            before,
            user: before.user.value.clone(),
            associations: before.associations.iter().copied().collect(),
            granted: Vec::new(),
            revoked: Vec::new(),
            by,
            at,
            also: Vec::new(),
        }
    }
}

/// The accounts repository.
pub struct Accounts<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> Accounts<'a> {
    /// The repository over `store`.
    pub fn new(store: &'a dyn ItemStore) -> Self {
        Self { store }
    }

    /// The user and their partition, or `None` when there is no such user.
    pub async fn load(&self, user: UserPk) -> Result<Option<Account>, StoreError> {
        let items = query_all(self.store, &Query::partition(partition(user))).await?;
        let mut profile = None;
        let mut preferences = None;
        let mut associations = Vec::new();
        let mut capabilities = Vec::new();
        let mut lockout = Lockout::default();
        let mut accesses = BTreeMap::new();
        let mut any_access = None;
        let mut lock_version = None;
        for item in &items {
            let sk = item.key.sk.as_str();
            if sk == FAILURES {
                lockout.consecutive_failures = item.version;
            } else if sk == LOCK {
                lockout.locked_until = Some(from_item::<Lock>(item)?.locked_until);
                lock_version = Some(item.version);
            } else if sk == ACCESS {
                any_access = Some(from_item(item)?);
            } else if let Some(application) = sk.strip_prefix(ACCESS).and_then(|rest| rest.strip_prefix('#')) {
                accesses.insert(application.to_owned(), from_item(item)?);
            } else if sk == PROFILE {
                profile = Some(versioned::<User>(item)?);
            } else if sk == PREFERENCES {
                preferences = Some(from_item(item)?);
            } else if sk.starts_with(CUSTOMER) {
                associations.push(from_item::<Association>(item)?.group_pk);
            } else if sk.starts_with(CAPABILITY) {
                capabilities.push(from_item(item)?);
            }
        }
        Ok(profile.map(|user| Account {
            user,
            preferences,
            associations,
            capabilities,
            lockout,
            accesses,
            any_access,
            lock_version,
        }))
    }

    /// The user alone.
    pub async fn user(&self, user: UserPk) -> Result<Option<Versioned<User>>, StoreError> {
        self.store.get(&profile_key(user)).await?.map(|item| versioned(&item)).transpose()
    }

    /// Who holds `username`, case-insensitively.
    pub async fn find_by_username(&self, username: &str) -> Result<Option<UserPk>, StoreError> {
        let item = self.store.get(&username_key(username)).await?;
        Ok(item.map(|item| from_item::<Owner>(&item)).transpose()?.map(|owner| owner.user_pk))
    }

    /// When each of `users` last set its password (or client secret); users without one are left out.
    pub async fn password_dates(&self, users: &[UserPk]) -> Result<BTreeMap<UserPk, Timestamp>, StoreError> {
        let mut dates = BTreeMap::new();
        for chunk in users.chunks(100) {
            let keys: Vec<Key> = chunk.iter().map(|u| password_key(*u)).collect();
            for item in self.store.batch_get(&keys).await? {
                let owner = chunk.iter().find(|u| password_key(**u).pk == item.key.pk);
                if let Some(owner) = owner {
                    dates.insert(*owner, from_item::<PasswordRecord>(&item)?.updated_at);
                }
            }
        }
        Ok(dates)
    }

    /// The security state of each of `users`, as much of it as `parts` asks for, read with
    /// batched gets of at most [`KEYS_PER_BATCH`] keys (a few keys per user, never a query
    /// per user). Every user asked about has an entry; what is not stored is left at its
    /// default (no profile, no lockout, no password, no access).
    pub async fn security_states(&self, users: &[UserPk], parts: &StateParts<'_>) -> Result<BTreeMap<UserPk, SecurityState>, StoreError> {
        let owners: BTreeMap<String, UserPk> = users.iter().map(|u| (partition(*u), *u)).collect();
        let mut states: BTreeMap<UserPk, SecurityState> = users.iter().map(|u| (*u, SecurityState::default())).collect();
        let mut keys = Vec::new();
        for user in owners.values() {
            if parts.profile {
                keys.push(profile_key(*user));
            }
            if parts.streak {
                keys.push(failures_key(*user));
            }
            if parts.lock {
                keys.push(lock_key(*user));
            }
            if parts.password {
                keys.push(password_key(*user));
            }
            if let Some(application) = parts.access {
                keys.push(access_key(*user, application));
            }
        }
        for chunk in keys.chunks(KEYS_PER_BATCH) {
            for item in self.store.batch_get(chunk).await? {
                let Some(state) = owners.get(&item.key.pk).and_then(|user| states.get_mut(user)) else {
                    continue;
                };
                let sk = item.key.sk.as_str();
                if sk == PROFILE {
                    state.user = Some(from_item(&item)?);
                } else if sk == FAILURES {
                    state.lockout.consecutive_failures = item.version;
                } else if sk == LOCK {
                    state.lockout.locked_until = Some(from_item::<Lock>(&item)?.locked_until);
                } else if sk == PASSWORD {
                    state.password_expires_at = Some(from_item::<PasswordRecord>(&item)?.expires_at);
                } else if sk == ACCESS || sk.starts_with(ACCESS) {
                    state.access = Some(from_item(&item)?);
                }
            }
        }
        Ok(states)
    }

    /// The next free user key.
    pub async fn next_user_pk(&self) -> Result<UserPk, StoreError> {
        Ok(UserPk(self.next("userPk").await?))
    }

    /// The next free capability id.
    pub async fn next_capability_id(&self) -> Result<CapabilityId, StoreError> {
        self.next("capabilityId").await.map(CapabilityId)
    }

    async fn next(&self, sequence: &str) -> Result<i64, StoreError> {
        let value = self.store.increment(&Key::new("SEQUENCE", sequence), 1).await?;
        i64::try_from(value).map_err(|_| StoreError::Invalid(format!("sequence {sequence} overflowed")))
    }

    /// Makes sure the user-key and capability-id sequences are past `floor` (after
    /// seeding fixed keys).
    pub async fn reserve_keys(&self, floor: u64) -> Result<(), StoreError> {
        for sequence in ["userPk", "capabilityId"] {
            let key = Key::new("SEQUENCE", sequence);
            let current = self.store.increment(&key, 0).await?;
            if current < floor {
                self.store.increment(&key, floor - current).await?;
            }
        }
        Ok(())
    }

    /// Creates a user with everything about them, atomically; a taken username or
    /// e-mail is a conflict and writes nothing. Initial capabilities are logged as
    /// grants of whoever granted them (system grants for seeds).
    pub async fn create(&self, account: NewAccount) -> Result<(), RepositoryError> {
        let user = &account.user;
        let owner = Owner { user_pk: user.user_pk };
        let mut transaction = Transaction::new();
        transaction.push(
            Write::UsernameGuard,
            put(to_item(username_key(&user.username), &owner)?, Condition::NotExists),
        );
        transaction.push(
            Write::EmailGuard,
            put(to_item(email_key(&user.email), &owner)?, Condition::NotExists),
        );
        transaction.push(Write::Profile, put(to_item(profile_key(user.user_pk), user)?, Condition::NotExists));
        transaction.push(
            Write::Rest,
            put(
                to_item(Key::new(partition(user.user_pk), PREFERENCES), &account.preferences)?,
                Condition::Always,
            ),
        );
        if let Some(password) = &account.password {
            transaction.push(Write::Rest, put(to_item(password_key(user.user_pk), password)?, Condition::Always));
        }
        for group in &account.associations {
            transaction.push(Write::Rest, put(association_item(user.user_pk, *group)?, Condition::Always));
        }
        for group in self.reach(&account.associations).await? {
            transaction.push(
                Write::Rest,
                put(to_item(roster_key(group, user), &RosterEntry::from(user))?, Condition::Always),
            );
            transaction.push(Write::Rest, add(roster_count_key(group), 1));
        }
        for capability in &account.capabilities {
            for op in grant_ops(user.user_pk, capability, capability.granted_by, capability.granted_at)? {
                transaction.push(Write::Rest, op);
            }
        }
        transaction.commit(self.store).await.map_err(|failure| match failure {
            TransactionFailure::Conditions(failed) if failed.contains(&Write::UsernameGuard) => {
                RepositoryError::Taken(format!("username {} is already taken", user.username))
            }
            TransactionFailure::Conditions(failed) if failed.contains(&Write::EmailGuard) => {
                RepositoryError::Taken(format!("e-mail {} is already in use", user.email))
            }
            TransactionFailure::Conditions(_) => RepositoryError::Taken(format!("user {} already exists", user.user_pk)),
            TransactionFailure::Store(error) => error.into(),
        })
    }

    /// Saves a change of an account in one transaction: the profile (conditioned on the
    /// version it was read at, so that a concurrent change makes this one a conflict),
    /// the e-mail guard, the associations, the rosters of the customers the user
    /// reaches, and the capabilities with their log entries. Returns the new version.
    pub async fn save(&self, change: AccountChange<'_>) -> Result<u64, RepositoryError> {
        let user_pk = change.before.user.value.user_pk;
        let version = change.before.user.version + 1;
        let new_email = change.user.email.clone();
        let (transaction, email_moves) = self.transaction(change).await?;
        if transaction.len() > MAX_TRANSACTION_OPS {
            return Err(RepositoryError::TooManyWrites(format!(
                "user {user_pk} reaches too many customers to change in one step; remove some associations first"
            )));
        }
        match transaction.commit(self.store).await {
            Ok(()) => Ok(version),
            Err(TransactionFailure::Conditions(failed)) if failed.contains(&Write::Profile) => Err(RepositoryError::ChangedMeanwhile(
                "the user was changed meanwhile; read it again and retry".into(),
            )),
            Err(TransactionFailure::Conditions(failed)) if email_moves && failed.contains(&Write::EmailGuard) => {
                Err(RepositoryError::Taken(format!("e-mail {new_email} is already in use")))
            }
            Err(TransactionFailure::Conditions(_) | TransactionFailure::Store(StoreError::Conflict)) => Err(
                RepositoryError::ChangedMeanwhile("the user is being changed concurrently; retry".into()),
            ),
            Err(TransactionFailure::Store(error)) => Err(error.into()),
        }
    }

    /// The writes of a change of an account, as [`Accounts::save`] would make them, to be
    /// applied in a transaction together with others (several users changed at once).
    pub async fn writes(&self, change: AccountChange<'_>) -> Result<Vec<WriteOp>, StoreError> {
        Ok(self.transaction(change).await?.0.into_ops())
    }

    /// The transaction of a change, and whether the e-mail moves.
    async fn transaction(&self, change: AccountChange<'_>) -> Result<(Transaction<Write>, bool), StoreError> {
        let before = change.before;
        let user_pk = before.user.value.user_pk;
        let version = before.user.version + 1;
        let mut transaction = Transaction::new();
        transaction.push(
            Write::Profile,
            put(
                to_item(profile_key(user_pk), &change.user)?.with_version(version),
                Condition::VersionIs(before.user.version),
            ),
        );
        let email_moves = before.user.value.email.to_lowercase() != change.user.email.to_lowercase();
        if email_moves {
            let owner = Owner { user_pk };
            transaction.push(
                Write::EmailGuard,
                put(to_item(email_key(&change.user.email), &owner)?, Condition::NotExists),
            );
            transaction.push(Write::Rest, delete(email_key(&before.user.value.email), Condition::Always));
        }

        let associated_before: BTreeSet<GroupPk> = before.associations.iter().copied().collect();
        for group in change.associations.difference(&associated_before) {
            transaction.push(Write::Rest, put(association_item(user_pk, *group)?, Condition::Always));
        }
        for group in associated_before.difference(&change.associations) {
            transaction.push(
                Write::Rest,
                delete(Key::new(partition(user_pk), format!("{CUSTOMER}{group}")), Condition::Always),
            );
        }

        let reach_before = self.reach(&associated_before).await?;
        let reach_after = self.reach(&change.associations).await?;
        let entry = RosterEntry::from(&change.user);
        let entry_changed = RosterEntry::from(&before.user.value) != entry;
        for group in &reach_after {
            let joins = !reach_before.contains(group);
            if entry_changed || joins {
                transaction.push(
                    Write::Rest,
                    put(to_item(roster_key(*group, &change.user), &entry)?, Condition::Always),
                );
            }
            if joins {
                transaction.push(Write::Rest, add(roster_count_key(*group), 1));
            }
        }
        for group in reach_before.difference(&reach_after) {
            transaction.push(Write::Rest, delete(roster_key(*group, &before.user.value), Condition::Always));
            transaction.push(Write::Rest, add(roster_count_key(*group), -1));
        }

        for capability in &change.granted {
            for op in grant_ops(user_pk, capability, change.by, change.at)? {
                transaction.push(Write::Rest, op);
            }
        }
        for capability in &change.revoked {
            transaction.push(Write::Rest, delete(capability_key(user_pk, capability.id), Condition::Exists));
            transaction.push(Write::Rest, log_op(user_pk, capability, LogAction::Revoked, change.by, change.at)?);
        }

        for write in change.also {
            transaction.push(Write::Rest, write);
        }
        Ok((transaction, email_moves))
    }

    /// Stores the user's preferences.
    pub async fn put_preferences(&self, user: UserPk, preferences: &Preferences) -> Result<(), StoreError> {
        self.store
            .put(to_item(Key::new(partition(user), PREFERENCES), preferences)?, Condition::Always)
            .await
    }

    /// Every user in the customer's roster: the users of the customer and its subtree.
    pub async fn roster(&self, group: GroupPk) -> Result<Vec<RosterEntry>, StoreError> {
        let query = Query::partition(roster_partition(group)).prefix(ROSTER_USER);
        query_all(self.store, &query).await?.iter().map(from_item).collect()
    }

    /// The customer's whole roster, to search or sort (see [`RosterRow`]).
    pub async fn roster_rows(&self, group: GroupPk) -> Result<Roster, StoreError> {
        let query = Query::partition(roster_partition(group)).prefix(ROSTER_USER);
        Ok(Roster(query_all(self.store, &query).await?))
    }

    /// One page of the customer's roster in username order (descending when not
    /// `ascending`), and the roster's size: reads the counter and the roster only as far
    /// as the page ends, whatever the size of the tenant.
    pub async fn roster_page(
        &self,
        group: GroupPk,
        ascending: bool,
        offset: usize,
        size: usize,
    ) -> Result<(Vec<RosterEntry>, u64), StoreError> {
        let mut query = Query::partition(roster_partition(group)).prefix(ROSTER_USER);
        let total = self.store.get(&roster_count_key(group)).await?.map_or(0, |counter| counter.version);
        if offset as u64 >= total {
            return Ok((Vec::new(), total));
        }
        if !ascending {
            query = query.backward();
        }
        let items = query_all(self.store, &query.limit(offset + size)).await?;
        let page = items.iter().skip(offset).map(from_item).collect::<Result<_, _>>()?;
        Ok((page, total))
    }

    /// One page of the user's capability log, newest first, and the log's length.
    pub async fn capability_log(&self, user: UserPk, offset: usize, size: usize) -> Result<(Vec<CapabilityLogEntry>, u64), StoreError> {
        let query = Query::partition(log_partition(user));
        let total = self.store.count(&query).await?;
        if offset as u64 >= total {
            return Ok((Vec::new(), total));
        }
        let items = query_all(self.store, &query.backward().limit(offset + size)).await?;
        let page = items.iter().skip(offset).map(from_item).collect::<Result<_, _>>()?;
        Ok((page, total))
    }

    /// The user's whole capability log, newest first.
    pub async fn capability_history(&self, user: UserPk) -> Result<Vec<CapabilityLogEntry>, StoreError> {
        let items = query_all(self.store, &Query::partition(log_partition(user)).backward()).await?;
        items.iter().map(from_item).collect()
    }

    /// The users holding the accountcentral `role` on one of `groups` itself (a role on a
    /// customer covers its subtree: to find who holds it on a customer, ask for the
    /// customer and its ancestors), read from the holders index.
    pub async fn holders(
        &self,
        groups: impl IntoIterator<Item = GroupPk>,
        role: AccountCentralRole,
    ) -> Result<BTreeSet<UserPk>, StoreError> {
        let mut holders = BTreeSet::new();
        for group in groups {
            let query = Query::index(Index::Gsi1, holders_partition(group)).prefix(format!("{}#", role.name()));
            for item in query_all(self.store, &query).await? {
                let user = item
                    .key
                    .pk
                    .strip_prefix(USER_PARTITION)
                    .and_then(|user| user.parse().ok())
                    .ok_or_else(|| StoreError::Corrupt {
                        pk: item.key.pk.clone(),
                        sk: item.key.sk.clone(),
                        reason: "a capability outside a user's partition".into(),
                    })?;
                holders.insert(UserPk(user));
            }
        }
        Ok(holders)
    }

    /// The customers whose rosters list a user associated with `groups`: each of them and its ancestors.
    async fn reach(&self, groups: impl IntoIterator<Item = &GroupPk>) -> Result<BTreeSet<GroupPk>, StoreError> {
        let groups: BTreeSet<GroupPk> = groups.into_iter().copied().collect();
        if groups.is_empty() {
            return Ok(groups);
        }
        let customers = Customers::new(self.store).get_many(groups.iter().copied()).await?;
        let mut reach = groups;
        reach.extend(customers.iter().flat_map(|c| c.ancestors.iter().copied()));
        Ok(reach)
    }
}

fn association_item(user: UserPk, group: GroupPk) -> Result<Item, StoreError> {
    to_item(
        Key::new(partition(user), format!("{CUSTOMER}{group}")),
        &Association {
            user_pk: user,
            group_pk: group,
        },
    )
}

fn holders_partition(group: GroupPk) -> String {
    format!("HOLDERS#{group}")
}

/// The capability as stored. An accountcentral role on a customer is also indexed by
/// customer and role (GSI1 `HOLDERS#<groupPk>` / `<role>#<userPk>#<capability id>`), so
/// that the holders of a role on a customer are one index query, whatever its number of users.
fn capability_item(user: UserPk, capability: &Capability) -> Result<Item, StoreError> {
    let item = to_item(capability_key(user, capability.id), capability)?;
    match capability.resource() {
        Some(Resource::Customer { group, within }) if within.is_empty() && capability.application == ACCOUNTCENTRAL => Ok(item.with_index(
            Index::Gsi1,
            holders_partition(group),
            format!("{}#{:012}#{:012}", capability.role, user.0, capability.id.0),
        )),
        _ => Ok(item),
    }
}

/// The capability (which must be new) and its log entry.
fn grant_ops(user: UserPk, capability: &Capability, by: Option<UserPk>, at: Timestamp) -> Result<[WriteOp; 2], StoreError> {
    Ok([
        put(capability_item(user, capability)?, Condition::NotExists),
        log_op(user, capability, LogAction::Granted, by, at)?,
    ])
}

/// Appends to the capability log: entries sort by time, then capability and action,
/// and are never overwritten.
fn log_op(user: UserPk, capability: &Capability, action: LogAction, by: Option<UserPk>, at: Timestamp) -> Result<WriteOp, StoreError> {
    let entry = CapabilityLogEntry {
        capability_id: capability.id,
        action,
        application: capability.application.clone(),
        version: capability.version,
        resource: capability.resource.clone(),
        role: capability.role.clone(),
        date: at,
        by_user_pk: by,
    };
    let tag = match action {
        LogAction::Granted => 'G',
        LogAction::Revoked => 'R',
    };
    let key = Key::new(
        log_partition(user),
        format!("{:015}#{:012}#{tag}", at.as_millisecond().max(0), capability.id),
    );
    Ok(put(to_item(key, &entry)?, Condition::NotExists))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use async_trait::async_trait;
    use serde_json::Map;

    use super::*;
    use crate::adapters::embedded::store::EmbeddedStore;
    use crate::ports::clock::SystemClock;
    use crate::ports::store::QueryPage;
    use crate::repositories::record::transact;

    /// A store whose first transactions lose a race, as DynamoDB's do under contention.
    struct Contended {
        inner: EmbeddedStore,
        losses: AtomicU32,
    }

    #[async_trait]
    impl ItemStore for Contended {
        async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
            self.inner.get(key).await
        }
        async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
            self.inner.batch_get(keys).await
        }
        async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
            self.inner.put(item, condition).await
        }
        async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
            self.inner.delete(key, condition).await
        }
        async fn query(&self, query: &Query) -> Result<QueryPage, StoreError> {
            self.inner.query(query).await
        }
        async fn count(&self, query: &Query) -> Result<u64, StoreError> {
            self.inner.count(query).await
        }
        async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
            let lose = self
                .losses
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if lose {
                Err(StoreError::Conflict)
            } else {
                self.inner.transact(ops).await
            }
        }
        async fn increment(&self, key: &Key, by: u64) -> Result<u64, StoreError> {
            self.inner.increment(key, by).await
        }
        async fn ping(&self) -> Result<(), StoreError> {
            self.inner.ping().await
        }
    }

    fn contended(losses: u32) -> (tempfile::TempDir, Contended) {
        let dir = tempfile::tempdir().unwrap();
        let inner = EmbeddedStore::open(&dir.path().join("store.sqlite"), Arc::new(SystemClock)).unwrap();
        (
            dir,
            Contended {
                inner,
                losses: AtomicU32::new(losses),
            },
        )
    }

    fn counter(by: i64) -> Vec<WriteOp> {
        vec![
            add(Key::new("C", "COUNT"), by),
            put(Item::new(Key::new("C", "x"), Map::new()), Condition::Always),
        ]
    }

    fn roster_user(user_pk: i64, username: &str, name: &str, surname: &str, email: &str) -> User {
        User::new(UserPk(user_pk), username, name, surname, email, GroupPk(7), Timestamp::UNIX_EPOCH)
    }

    #[tokio::test]
    async fn roster_rows_read_each_entry_whole_and_borrow_its_text() {
        let (_dir, store) = contended(0);
        let store = store.inner;
        let customer = crate::domain::customer::Customer::new(GroupPk(7), "Seven", Vec::new(), Timestamp::UNIX_EPOCH);
        Customers::new(&store).create(&customer).await.unwrap();
        let accounts = Accounts::new(&store);
        let users = [
            roster_user(1, "zoe.quote", "Zoë \"Q\"", "Back\\slash", "Zoe@Example.TEST"),
            roster_user(2, "elodie", "Élodie", "ΟΔΥΣΣΕΥΣ", "elodie@example.test"),
        ];
        for user in &users {
            accounts
                .create(NewAccount {
                    user: user.clone(),
                    preferences: Preferences::defaults(),
                    password: None,
                    associations: vec![GroupPk(7)],
                    capabilities: Vec::new(),
                })
                .await
                .unwrap();
        }
        let roster = accounts.roster_rows(GroupPk(7)).await.unwrap();
        let rows: Vec<RosterRow<'_>> = roster.rows().collect::<Result<_, _>>().unwrap();
        let entries: Vec<RosterEntry> = rows.iter().map(RosterRow::to_entry).collect();
        assert_eq!(
            entries,
            [RosterEntry::from(&users[1]), RosterEntry::from(&users[0])],
            "in username order"
        );
        assert!(
            [&rows[0].name, &rows[0].surname, &rows[1].email]
                .iter()
                .all(|text| matches!(text, Cow::Borrowed(_))),
            "text stored as it reads is borrowed: {rows:?}"
        );
    }

    #[tokio::test]
    async fn a_lost_race_is_retried_and_applied_once() {
        let (_dir, store) = contended(2);
        transact(&store, counter(1)).await.expect("applied on the third attempt");
        assert_eq!(store.increment(&Key::new("C", "COUNT"), 0).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_store_that_keeps_losing_is_reported() {
        let (_dir, store) = contended(10);
        assert!(matches!(transact(&store, counter(1)).await, Err(StoreError::Conflict)));
        assert_eq!(store.increment(&Key::new("C", "COUNT"), 0).await.unwrap(), 0);
    }
}
