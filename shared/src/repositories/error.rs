//! What a repository write can end in, in the store's terms: the HTTP layer maps it to
//! the error format in one place (`From<RepositoryError> for AppError`).

use crate::domain::dkim::records::LimitReached;
use crate::ports::key_vault::KeyVaultError;
use crate::ports::store::StoreError;

/// Why a repository operation did not happen. Each message names the record for the client.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// A uniqueness guard is held by another record.
    #[error("{0}")]
    Taken(String),
    /// A version condition failed: the record changed since it was read.
    #[error("{0}")]
    ChangedMeanwhile(String),
    /// The record the write depends on does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A collection is at its maximum.
    #[error(transparent)]
    LimitReached(#[from] LimitReached),
    /// The change needs more writes than one transaction takes.
    #[error("{0}")]
    TooManyWrites(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key vault could not seal a private key.
    #[error(transparent)]
    KeyVault(#[from] KeyVaultError),
}
