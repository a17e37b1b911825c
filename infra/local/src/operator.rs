//! Operator commands for a deployment, on either backend: `bootstrap` gives a new
//! (empty) table its platform customer and a first customer-care user; `import-config`
//! loads customers' configuration from a JSON file, validated in full before any write.

mod import;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use accountcentral_local::{AwsNames, Environment, LocalError};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use import::{CustomerImport, SftpInputError};
use serde_json::Value;
use shared::domain::capability::{ACCOUNTCENTRAL, Capability};
use shared::domain::customer::Customer;
use shared::domain::ids::GroupPk;
use shared::domain::password::{self, PasswordRecord};
use shared::domain::preferences::Preferences;
use shared::domain::secret::SecretString;
use shared::domain::user::{User, is_email, is_username};
use shared::domain::validation::{FieldError, Violations};
use shared::error::AppError;
use shared::ports::store::Key;
use shared::repositories::RepositoryError;
use shared::repositories::accounts::{Accounts, NewAccount};
use shared::repositories::configuration::{Configurations, CustomerSetup, SetupChange};
use shared::repositories::customers::Customers;

/// The platform's own customer, which platform staff belong to.
const PLATFORM: GroupPk = GroupPk(1);
const INITIAL_PASSWORD_CHARS: usize = 20;

/// Why an operator command did nothing (or, for an import, stopped).
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("{0}")]
    Argument(String),
    #[error("the table already holds {0}: bootstrap only initialises an empty table; nothing was written")]
    NotEmpty(&'static str),
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not JSON ({source}); nothing was written")]
    NotJson { path: PathBuf, source: serde_json::Error },
    #[error("{path}: {}", Listed(.errors))]
    Invalid { path: PathBuf, errors: Violations },
    #[error("{0}")]
    Local(#[from] LocalError),
    #[error("{0}")]
    App(#[from] AppError),
}

/// A repository's outcome is reported as the service would report it.
impl From<RepositoryError> for OperatorError {
    fn from(error: RepositoryError) -> Self {
        OperatorError::App(error.into())
    }
}

/// Field errors, one a line (the first ones), under the count of all.
struct Listed<'a>(&'a Violations);

impl fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error(s), nothing was written:", self.0.total())?;
        for error in self.0.iter() {
            let at = error.path.to_string();
            write!(f, "\n  {}: {}", if at.is_empty() { "(the document)" } else { &at }, error.message)?;
        }
        Ok(())
    }
}

impl From<shared::ports::store::StoreError> for OperatorError {
    fn from(error: shared::ports::store::StoreError) -> Self {
        OperatorError::App(error.into())
    }
}

/// On AWS, operator commands work on a deployed table: with a name mistyped or missing,
/// opening the state would create a table, queue or key of its own.
pub async fn check_deployment(names: &AwsNames) -> Result<(), OperatorError> {
    let table_set = std::env::var("TABLE_NAME").is_ok_and(|name| !name.is_empty());
    if !table_set || names.queue_urls.is_none() || names.kms_key_id.is_none() {
        return Err(OperatorError::Argument(
            "--backend aws: set TABLE_NAME, NOTIFICATION_QUEUE_URL, NEWS_QUEUE_URL, PROVISIONING_QUEUE_URL and KMS_KEY_ID to the deployment's (the stack outputs)".into(),
        ));
    }
    let config = shared::adapters::aws::load_config().await;
    aws_sdk_dynamodb::Client::new(&config)
        .describe_table()
        .table_name(&names.table)
        .send()
        .await
        .map_err(|error| OperatorError::Argument(format!("table {}: {}", names.table, DisplayErrorContext(error))))?;
    Ok(())
}

/// The first customer-care user, as created.
pub struct Bootstrapped {
    pub user: User,
    /// Shown once; already expired, so it must be changed at first login.
    pub password: SecretString,
}

/// Creates the platform customer and a CUSTOMER_CARE user on an empty table.
pub async fn bootstrap(environment: &Environment, username: &str, email: &str) -> Result<Bootstrapped, OperatorError> {
    if !is_username(username) {
        return Err(OperatorError::Argument(format!(
            "--username {username:?}: 3 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )));
    }
    if !is_email(email) {
        return Err(OperatorError::Argument(format!("--email {email:?} is not an e-mail address")));
    }
    let store = environment.state.store.as_ref();
    // The user-key sequence exists as soon as any user was created (the seed reserves it too).
    if store.get(&Key::new("SEQUENCE", "userPk")).await?.is_some() {
        return Err(OperatorError::NotEmpty("users"));
    }
    let customers = Customers::new(store);
    if !customers.all().await?.is_empty() {
        return Err(OperatorError::NotEmpty("customers"));
    }
    let now = environment.state.clock.now();
    // Conditional: of two bootstraps racing, the second stops here having written nothing.
    customers.create(&platform_customer(now)).await.map_err(|error| match error {
        RepositoryError::Taken(_) => OperatorError::NotEmpty("the platform customer"),
        other => other.into(),
    })?;
    let accounts = Accounts::new(store);
    let user = User::new(accounts.next_user_pk().await?, username, "Customer", "Care", email, PLATFORM, now);
    let secret = password::generate(INITIAL_PASSWORD_CHARS);
    let hash = password::hash(&secret).map_err(AppError::internal)?;
    accounts
        .create(NewAccount {
            user: user.clone(),
            preferences: Preferences::defaults(),
            // Expired at once: the first login must replace it.
            password: Some(PasswordRecord::new(hash, now, now)),
            associations: vec![PLATFORM],
            capabilities: vec![Capability {
                id: accounts.next_capability_id().await?,
                application: ACCOUNTCENTRAL.into(),
                version: 1,
                resource: vec!["platform".into()],
                role: "CUSTOMER_CARE".into(),
                granted_at: now,
                granted_by: None,
            }],
        })
        .await?;
    Ok(Bootstrapped { user, password: secret })
}

fn platform_customer(now: jiff::Timestamp) -> Customer {
    Customer::new(PLATFORM, "Platform", Vec::new(), now)
}

/// Imports the configuration file at `path`: every customer is checked (the file, then
/// against the store) before the first is written; then each customer is written in
/// one transaction, and `written` hears of it.
pub async fn import_config(environment: &Environment, path: &Path, mut written: impl FnMut(GroupPk, String)) -> Result<(), OperatorError> {
    let bytes = std::fs::read(path).map_err(|source| OperatorError::Read {
        path: path.to_owned(),
        source,
    })?;
    let document: Value = serde_json::from_slice(&bytes).map_err(|source| OperatorError::NotJson {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |errors| OperatorError::Invalid {
        path: path.to_owned(),
        errors,
    };
    let now = environment.state.clock.now();
    let (file, mut errors) = match import::parse(&document, now) {
        Ok(file) => (Some(file), Violations::new()),
        Err(errors) => (None, errors),
    };

    let store = environment.state.store.as_ref();
    let customers = Customers::new(store);
    // Named along with the file's own errors, so that one run reports everything.
    let mut missing = BTreeSet::new();
    for (at, group) in listed_customers(&document) {
        if customers.get(group).await?.is_none() {
            errors.push(FieldError::body(
                format!("{at}/groupPk"),
                format!("customer {group} does not exist"),
            ));
            missing.insert(group);
        }
    }
    let Some(file) = file else {
        return Err(invalid(errors));
    };
    let configurations = Configurations::new(store);
    let mut changes = Vec::new();
    for customer in file.customers.into_iter().filter(|c| !missing.contains(&c.group_pk)) {
        let group = customer.group_pk;
        let before = configurations.setup(group).await?;
        let change = change(customer, &before, now, &mut errors)?;
        changes.push((group, before, change));
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    for (group, before, change) in changes {
        let summary = summary(&change);
        configurations.change(group, &before, change).await?;
        written(group, summary);
    }
    Ok(())
}

/// The customers a document names, with where, whatever else is wrong with it.
fn listed_customers(document: &Value) -> impl Iterator<Item = (String, GroupPk)> + '_ {
    let entries = document.get("customers").and_then(Value::as_array).into_iter().flatten();
    entries.enumerate().filter_map(|(i, entry)| {
        let group = entry.get("groupPk")?.as_i64().filter(|g| *g > 0)?;
        Some((format!("/customers/{i}"), GroupPk(group)))
    })
}

/// What the file's entry changes for a customer set up as `before`; SFTP passwords are
/// hashed here. An account that needs a stored password and has none is recorded in `errors`.
fn change(
    customer: CustomerImport,
    before: &CustomerSetup,
    now: jiff::Timestamp,
    errors: &mut Violations,
) -> Result<SetupChange, OperatorError> {
    let stored_accounts = before.sftp.as_ref().map(|s| s.value.as_slice()).unwrap_or_default();
    let sftp = match customer.sftp {
        None => None,
        Some(inputs) => {
            let mut accounts = Vec::new();
            for input in inputs {
                let pointer = format!("{}/password", input.pointer);
                let stored = stored_accounts.iter().find(|a| a.username == input.account.username);
                match input.resolve(stored, now) {
                    Ok(account) => accounts.push(account),
                    Err(SftpInputError::PasswordRequired) => {
                        errors.push(FieldError::body(pointer, SftpInputError::PasswordRequired.to_string()))
                    }
                    Err(SftpInputError::Hash(error)) => return Err(AppError::internal(error).into()),
                }
            }
            Some(accounts)
        }
    };
    Ok(SetupChange {
        configuration: customer
            .configuration
            .map(|input| input.apply(before.configuration.as_ref().map(|c| &c.value), now)),
        sftp,
        applications: customer.applications,
    })
}

/// What a change writes, without a secret.
fn summary(change: &SetupChange) -> String {
    let mut parts = Vec::new();
    if change.configuration.is_some() {
        parts.push("configuration".to_owned());
    }
    if let Some(accounts) = &change.sftp {
        parts.push(format!("{} SFTP account(s)", accounts.len()));
    }
    for (app, configuration) in &change.applications {
        let verb = if configuration.is_some() { "set" } else { "removed" };
        parts.push(format!("{} {verb}", app.as_str()));
    }
    if parts.is_empty() {
        "nothing to change".into()
    } else {
        parts.join(", ")
    }
}
