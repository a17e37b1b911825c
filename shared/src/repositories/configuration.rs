//! A customer's configuration, SFTP accounts and applications, stored in the
//! customer's partition beside its profile.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::record::{Transaction, TransactionFailure, from_item, to_item, versioned};
use super::{RepositoryError, Versioned};
use crate::domain::configuration::{Application, ApplicationName, CustomerConfiguration, HubWorkspace, SftpAccount};
use crate::domain::ids::GroupPk;
use crate::ports::store::{Condition, Item, ItemStore, Key, StoreError, WriteOp};

const PROFILE: &str = "PROFILE";
const CONFIG: &str = "CONFIG";
const SFTP: &str = "SFTP";

fn partition(group: GroupPk) -> String {
    format!("CUSTOMER#{group}")
}

fn config_key(group: GroupPk) -> Key {
    Key::new(partition(group), CONFIG)
}

fn sftp_key(group: GroupPk) -> Key {
    Key::new(partition(group), SFTP)
}

fn application_key(group: GroupPk, application: ApplicationName) -> Key {
    Key::new(partition(group), format!("APP#{}", application.as_str()))
}

/// What each write of a setup change is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// The check that the customer exists.
    Customer,
    Setup,
}

#[derive(Debug, Serialize, Deserialize)]
struct SftpAccounts {
    accounts: Vec<SftpAccount>,
}

/// Everything configured for one customer, with the versions read, for a later change.
#[derive(Debug, Clone, Default)]
pub struct CustomerSetup {
    pub configuration: Option<Versioned<CustomerConfiguration>>,
    pub sftp: Option<Versioned<Vec<SftpAccount>>>,
    pub applications: BTreeMap<ApplicationName, Versioned<Application>>,
}

/// A change to a customer's setup; what is `None` or not listed stays as it is.
#[derive(Debug, Clone, Default)]
pub struct SetupChange {
    pub configuration: Option<CustomerConfiguration>,
    pub sftp: Option<Vec<SftpAccount>>,
    /// `Some` replaces the application, `None` removes it.
    pub applications: BTreeMap<ApplicationName, Option<Application>>,
}

/// The configurations repository.
pub struct Configurations<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> Configurations<'a> {
    /// The repository over `store`.
    pub fn new(store: &'a dyn ItemStore) -> Self {
        Self { store }
    }

    /// The customer's configuration; `None` when nothing is configured.
    pub async fn configuration(&self, group: GroupPk) -> Result<Option<CustomerConfiguration>, StoreError> {
        self.store.get(&config_key(group)).await?.map(|item| from_item(&item)).transpose()
    }

    /// The customer's SFTP accounts (none when it has none).
    pub async fn sftp_accounts(&self, group: GroupPk) -> Result<Vec<SftpAccount>, StoreError> {
        let item = self.store.get(&sftp_key(group)).await?;
        Ok(item
            .map(|item| from_item::<SftpAccounts>(&item))
            .transpose()?
            .map(|sftp| sftp.accounts)
            .unwrap_or_default())
    }

    /// The customer's applications, in one batch read.
    pub async fn applications(&self, group: GroupPk) -> Result<BTreeMap<ApplicationName, Application>, StoreError> {
        let keys = ApplicationName::ALL.map(|app| application_key(group, app));
        let items = self.store.batch_get(&keys).await?;
        ApplicationName::ALL
            .into_iter()
            .zip(&keys)
            .filter_map(|(app, key)| items.iter().find(|item| item.key == *key).map(|item| Ok((app, from_item(item)?))))
            .collect()
    }

    /// One of the customer's applications; `None` when it does not have it.
    pub async fn application(&self, group: GroupPk, application: ApplicationName) -> Result<Option<Application>, StoreError> {
        self.store
            .get(&application_key(group, application))
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }

    /// The customer's hub workspaces (none when it does not use hub).
    pub async fn hub_workspaces(&self, group: GroupPk) -> Result<Vec<HubWorkspace>, StoreError> {
        Ok(self
            .application(group, ApplicationName::Hub)
            .await?
            .map(|hub| hub.workspaces)
            .unwrap_or_default())
    }

    /// Everything configured for the customer, in one batch read.
    pub async fn setup(&self, group: GroupPk) -> Result<CustomerSetup, StoreError> {
        let mut keys = vec![config_key(group), sftp_key(group)];
        keys.extend(ApplicationName::ALL.map(|app| application_key(group, app)));
        let items = self.store.batch_get(&keys).await?;
        let find = |key: &Key| items.iter().find(|item| item.key == *key);
        let mut setup = CustomerSetup {
            configuration: find(&config_key(group)).map(versioned).transpose()?,
            sftp: find(&sftp_key(group))
                .map(versioned::<SftpAccounts>)
                .transpose()?
                .map(|read| Versioned {
                    value: read.value.accounts,
                    version: read.version,
                }),
            applications: BTreeMap::new(),
        };
        for app in ApplicationName::ALL {
            if let Some(item) = find(&application_key(group, app)) {
                setup.applications.insert(app, versioned(item)?);
            }
        }
        Ok(setup)
    }

    /// Applies `change` to the customer's setup read as `before`, atomically. A customer
    /// that does not exist is not found; a setup changed since it was read is a conflict.
    pub async fn change(&self, group: GroupPk, before: &CustomerSetup, change: SetupChange) -> Result<(), RepositoryError> {
        let mut transaction = Transaction::new();
        transaction.push(
            Write::Customer,
            WriteOp::Check {
                key: Key::new(partition(group), PROFILE),
                condition: Condition::Exists,
            },
        );
        if let Some(configuration) = &change.configuration {
            let version = before.configuration.as_ref().map(|c| c.version);
            transaction.push(Write::Setup, replace(to_item(config_key(group), configuration)?, version));
        }
        if let Some(accounts) = change.sftp {
            let version = before.sftp.as_ref().map(|s| s.version);
            transaction.push(
                Write::Setup,
                replace(to_item(sftp_key(group), &SftpAccounts { accounts })?, version),
            );
        }
        for (app, application) in &change.applications {
            let key = application_key(group, *app);
            let version = before.applications.get(app).map(|a| a.version);
            let op = match (application, version) {
                (Some(application), _) => replace(to_item(key, application)?, version),
                (None, Some(version)) => WriteOp::Delete {
                    key,
                    condition: Condition::VersionIs(version),
                },
                // Nothing to remove, provided nothing appeared meanwhile.
                (None, None) => WriteOp::Check {
                    key,
                    condition: Condition::NotExists,
                },
            };
            transaction.push(Write::Setup, op);
        }
        transaction.commit_once(self.store).await.map_err(|failure| match failure {
            TransactionFailure::Conditions(failed) if failed.contains(&Write::Customer) => {
                RepositoryError::NotFound(format!("customer {group}"))
            }
            TransactionFailure::Conditions(_) | TransactionFailure::Store(StoreError::Conflict) => RepositoryError::ChangedMeanwhile(
                format!("the configuration of customer {group} was changed meanwhile; read it again and retry"),
            ),
            TransactionFailure::Store(error) => error.into(),
        })
    }
}

/// Writes `item` over the version read (`None`: nothing was there).
fn replace(item: Item, read: Option<u64>) -> WriteOp {
    match read {
        Some(version) => WriteOp::Put {
            item: item.with_version(version + 1),
            condition: Condition::VersionIs(version),
        },
        None => WriteOp::Put {
            item,
            condition: Condition::NotExists,
        },
    }
}
