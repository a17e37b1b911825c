//! Users and everything stored in their partition: profile, preferences, password,
//! customer associations and capabilities.

use serde::{Deserialize, Serialize};

use super::Versioned;
use super::record::{from_item, to_item, versioned};
use crate::domain::capability::Capability;
use crate::domain::ids::{GroupPk, UserPk};
use crate::domain::password::PasswordRecord;
use crate::domain::preferences::Preferences;
use crate::domain::user::User;
use crate::error::AppError;
use crate::ports::store::{Condition, Index, Item, ItemStore, Key, Query, StoreError, WriteOp, query_all};

const PROFILE: &str = "PROFILE";
const PREFERENCES: &str = "PREFERENCES";
const PASSWORD: &str = "PASSWORD";
const CUSTOMER: &str = "CUSTOMER#";
const CAPABILITY: &str = "CAPABILITY#";
const UNIQUE: &str = "UNIQUE";

fn partition(user: UserPk) -> String {
    format!("USER#{user}")
}

fn profile_key(user: UserPk) -> Key {
    Key::new(partition(user), PROFILE)
}

fn username_key(username: &str) -> Key {
    Key::new(format!("USERNAME#{}", username.to_lowercase()), UNIQUE)
}

fn email_key(email: &str) -> Key {
    Key::new(format!("EMAIL#{}", email.to_lowercase()), UNIQUE)
}

/// Users of a customer, in GSI1: the partition naming the customer.
pub fn customer_users_partition(group: GroupPk) -> String {
    format!("CUSTOMER_USERS#{group}")
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

/// A user with everything in their partition, read with one query.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: Versioned<User>,
    pub preferences: Option<Preferences>,
    pub associations: Vec<GroupPk>,
    pub capabilities: Vec<Capability>,
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
        for item in &items {
            let sk = item.key.sk.as_str();
            if sk == PROFILE {
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

    /// The next free user key.
    pub async fn next_user_pk(&self) -> Result<UserPk, StoreError> {
        let value = self.store.increment(&Key::new("SEQUENCE", "userPk"), 1).await?;
        Ok(UserPk(value as i64))
    }

    /// Makes sure the user-key sequence is past `floor` (after seeding fixed keys).
    pub async fn reserve_user_pks(&self, floor: i64) -> Result<(), StoreError> {
        let current = self.store.increment(&Key::new("SEQUENCE", "userPk"), 0).await?;
        if (current as i64) < floor {
            self.store
                .increment(&Key::new("SEQUENCE", "userPk"), (floor - current as i64) as u64)
                .await?;
        }
        Ok(())
    }

    /// Creates a user with everything in their partition, atomically; a taken
    /// username or e-mail is a conflict and writes nothing.
    pub async fn create(&self, account: NewAccount) -> Result<(), AppError> {
        let user = &account.user;
        let owner = Owner { user_pk: user.user_pk };
        let mut ops = vec![
            WriteOp::Put {
                item: to_item(username_key(&user.username), &owner)?,
                condition: Condition::NotExists,
            },
            WriteOp::Put {
                item: to_item(email_key(&user.email), &owner)?,
                condition: Condition::NotExists,
            },
            WriteOp::Put {
                item: to_item(profile_key(user.user_pk), user)?,
                condition: Condition::NotExists,
            },
            WriteOp::Put {
                item: to_item(Key::new(partition(user.user_pk), PREFERENCES), &account.preferences)?,
                condition: Condition::Always,
            },
        ];
        if let Some(password) = &account.password {
            ops.push(WriteOp::Put {
                item: to_item(Key::new(partition(user.user_pk), PASSWORD), password)?,
                condition: Condition::Always,
            });
        }
        for group in &account.associations {
            ops.push(WriteOp::Put {
                item: association_item(user.user_pk, *group)?,
                condition: Condition::Always,
            });
        }
        for capability in &account.capabilities {
            let key = Key::new(partition(user.user_pk), format!("{CAPABILITY}{}", capability.id));
            ops.push(WriteOp::Put {
                item: to_item(key, capability)?,
                condition: Condition::Always,
            });
        }
        match self.store.transact(ops).await {
            Err(StoreError::TransactionCancelled { failed }) if failed.contains(&0) => {
                Err(AppError::Conflict(format!("username {} is already taken", user.username)))
            }
            Err(StoreError::TransactionCancelled { failed }) if failed.contains(&1) => {
                Err(AppError::Conflict(format!("e-mail {} is already in use", user.email)))
            }
            Err(StoreError::TransactionCancelled { .. }) => Err(AppError::Conflict(format!("user {} already exists", user.user_pk))),
            other => Ok(other?),
        }
    }

    /// Replaces the user read as `before` with `after`, moving the e-mail guard
    /// when the address changes. A concurrent change in between is a conflict.
    pub async fn update(&self, before: &Versioned<User>, after: &User) -> Result<u64, AppError> {
        let version = before.version + 1;
        let mut ops = vec![WriteOp::Put {
            item: to_item(profile_key(after.user_pk), after)?.with_version(version),
            condition: Condition::VersionIs(before.version),
        }];
        let email_moves = before.value.email.to_lowercase() != after.email.to_lowercase();
        if email_moves {
            let owner = Owner { user_pk: after.user_pk };
            ops.push(WriteOp::Put {
                item: to_item(email_key(&after.email), &owner)?,
                condition: Condition::NotExists,
            });
            ops.push(WriteOp::Delete {
                key: email_key(&before.value.email),
                condition: Condition::Always,
            });
        }
        match self.store.transact(ops).await {
            Err(StoreError::TransactionCancelled { failed }) if failed.contains(&0) => {
                Err(AppError::Conflict("the user was changed meanwhile; read it again and retry".into()))
            }
            Err(StoreError::TransactionCancelled { .. }) => Err(AppError::Conflict(format!("e-mail {} is already in use", after.email))),
            Err(StoreError::Conflict) => Err(AppError::Conflict("the user is being changed concurrently; retry".into())),
            other => other.map(|()| version).map_err(AppError::from),
        }
    }

    /// Stores the user's preferences.
    pub async fn put_preferences(&self, user: UserPk, preferences: &Preferences) -> Result<(), StoreError> {
        self.store
            .put(to_item(Key::new(partition(user), PREFERENCES), preferences)?, Condition::Always)
            .await
    }
}

fn association_item(user: UserPk, group: GroupPk) -> Result<Item, StoreError> {
    let key = Key::new(partition(user), format!("{CUSTOMER}{group}"));
    Ok(to_item(
        key,
        &Association {
            user_pk: user,
            group_pk: group,
        },
    )?
    .with_index(Index::Gsi1, customer_users_partition(group), format!("USER#{:012}", user.0)))
}
