//! A user's credentials as stored: the password record (`USER#<userPk>` / `PASSWORD`,
//! with the hashes of the passwords before it), the verification state
//! (`USER#<userPk>` / `VERIFICATION`: the code in force as a keyed hash, and the SMS of
//! the last hour), and the key the codes are hashed with (`PLATFORM` /
//! `VERIFICATION_KEY`, sealed by the key vault: never in the table in clear).
//!
//! Both user records are written conditioned on the version they were read at, so two
//! racing changes (two verify attempts, two password changes) never both succeed.

use super::record::{Transaction, TransactionFailure, from_item, put, to_item, versioned};
use super::{RepositoryError, Versioned};
use crate::domain::ids::UserPk;
use crate::domain::password::PasswordRecord;
use crate::domain::secret::{EncryptionContext, Envelope};
use crate::domain::security::{SecurityEvent, SecurityPolicy};
use crate::domain::verification::{CodeKey, Verification};
use crate::ports::key_vault::KeyVault;
use crate::ports::store::{Condition, ItemStore, Key, StoreError, WriteOp};
use crate::repositories::security::event_write;

const PASSWORD: &str = "PASSWORD";
const VERIFICATION: &str = "VERIFICATION";

fn password_key(user: UserPk) -> Key {
    Key::new(super::accounts::partition(user), PASSWORD)
}

fn verification_key(user: UserPk) -> Key {
    Key::new(super::accounts::partition(user), VERIFICATION)
}

fn code_key_key() -> Key {
    Key::new("PLATFORM", "VERIFICATION_KEY")
}

/// The encryption context the code key is sealed under.
fn code_key_context() -> EncryptionContext {
    EncryptionContext::from([("purpose".to_owned(), "verification-codes".to_owned())])
}

/// The condition of a write of a record read at `version` (0: there was none).
fn read_at(version: u64) -> Condition {
    if version == 0 {
        Condition::NotExists
    } else {
        Condition::VersionIs(version)
    }
}

/// The credentials repository.
pub struct Credentials<'a> {
    store: &'a dyn ItemStore,
    policy: &'a SecurityPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Record,
    Event,
}

impl<'a> Credentials<'a> {
    /// The repository over `store`, recording events as long as `policy` keeps them.
    pub fn new(store: &'a dyn ItemStore, policy: &'a SecurityPolicy) -> Self {
        Self { store, policy }
    }

    /// The user's password record with its version, if the user has one.
    pub async fn password(&self, user: UserPk) -> Result<Option<Versioned<PasswordRecord>>, StoreError> {
        self.store.get(&password_key(user)).await?.map(|item| versioned(&item)).transpose()
    }

    /// Stores `record` as the user's password in place of the one read at `version`
    /// (0: none), with `event` (PASSWORD_CHANGED or PASSWORD_RESET) in the same write.
    pub async fn set_password(
        &self,
        user: UserPk,
        version: u64,
        record: &PasswordRecord,
        event: &SecurityEvent,
    ) -> Result<(), RepositoryError> {
        let mut transaction = Transaction::new();
        transaction.push(
            Write::Record,
            put(to_item(password_key(user), record)?.with_version(version + 1), read_at(version)),
        );
        transaction.push(Write::Event, event_write(event, self.policy)?);
        self.commit(transaction, "the password").await
    }

    /// The user's verification state with its version (0 and the empty state when none).
    pub async fn verification(&self, user: UserPk) -> Result<Versioned<Verification>, StoreError> {
        match self.store.get(&verification_key(user)).await? {
            Some(item) => versioned(&item),
            None => Ok(Versioned {
                value: Verification::default(),
                version: 0,
            }),
        }
    }

    /// The write that replaces the verification state read at `version` with `state`:
    /// alone ([`Credentials::set_verification`]) or in the transaction of the change it
    /// belongs to (the verified phone).
    pub fn verification_write(user: UserPk, version: u64, state: &Verification) -> Result<WriteOp, StoreError> {
        let mut item = to_item(verification_key(user), state)?.with_version(version + 1);
        if let Some(expiry) = state.expiry() {
            item = item.with_expiry(expiry.as_second());
        }
        Ok(put(item, read_at(version)))
    }

    /// Replaces the verification state read at `version`; a change made meanwhile (another
    /// attempt, another code) is `ChangedMeanwhile` and writes nothing.
    pub async fn set_verification(&self, user: UserPk, version: u64, state: &Verification) -> Result<(), RepositoryError> {
        let mut transaction = Transaction::new();
        transaction.push(Write::Record, Self::verification_write(user, version, state)?);
        self.commit(transaction, "the verification code").await
    }

    /// The key verification codes are hashed with: made on first use (32 random bytes,
    /// sealed by the key vault and stored), then opened from the table.
    pub async fn code_key(&self, vault: &dyn KeyVault) -> Result<CodeKey, RepositoryError> {
        let context = code_key_context();
        loop {
            if let Some(item) = self.store.get(&code_key_key()).await? {
                let envelope: Envelope = from_item(&item)?;
                return Ok(CodeKey::new(&vault.open(&envelope, &context).await?));
            }
            let bytes = CodeKey::generate_bytes();
            let envelope = vault.seal(&bytes, &context).await?;
            match self.store.put(to_item(code_key_key(), &envelope)?, Condition::NotExists).await {
                Ok(()) => return Ok(CodeKey::new(&bytes)),
                // Another process made it first: use theirs.
                Err(StoreError::ConditionFailed) => continue,
                Err(error) => return Err(error.into()),
            }
        }
    }

    async fn commit(&self, transaction: Transaction<Write>, what: &str) -> Result<(), RepositoryError> {
        transaction.commit(self.store).await.map_err(|failure| match failure {
            TransactionFailure::Conditions(failed) if failed.contains(&Write::Record) => {
                RepositoryError::ChangedMeanwhile(format!("{what} was changed meanwhile; retry"))
            }
            TransactionFailure::Conditions(failed) => StoreError::Invalid(format!("security event written twice ({failed:?})")).into(),
            TransactionFailure::Store(StoreError::Conflict) => {
                RepositoryError::ChangedMeanwhile(format!("{what} is being changed concurrently; retry"))
            }
            TransactionFailure::Store(error) => error.into(),
        })
    }
}
