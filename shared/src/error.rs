//! The application's error type: what went wrong, in the domain's words. The HTTP
//! layer maps it to a status and the error format in one place (`http::error`).

use crate::domain::capability::NotAssociated;
use crate::domain::customer::NotSending;
use crate::domain::dkim::records::NameTaken;
use crate::domain::dkim::records::{DefaultKeyInUse, DefaultKeyRule, KeyRefused, LimitReached};
use crate::domain::password::ChangeRefused;
use crate::domain::user::{NoCellPhone, SuspendedElsewhere, SuspensionRefused, TwoFactorRefused};
use crate::domain::validation::{FieldError, Violations};
use crate::domain::verification::{CodeRefused, RateLimited};
use crate::ports::key_vault::KeyVaultError;
use crate::ports::queue::QueueError;
use crate::ports::sms::SmsError;
use crate::ports::store::StoreError;
use crate::repositories::RepositoryError;
use crate::repositories::provisioning::ProgressFailure;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input: each bad field named (the first ones, and how many there are).
    #[error("invalid input")]
    Invalid(Violations),
    /// The body is not JSON.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The request is larger than the operation accepts.
    #[error("too large: {0}")]
    TooLarge(String),
    /// The client accepts no representation we can produce.
    #[error("not acceptable: {0}")]
    NotAcceptable(String),
    /// No valid credentials, or a user who may not act.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// Authenticated, but the proof of a secret the request carries fails (a wrong
    /// verification code, not the current password): the field named. The log line names
    /// the field only, as for bad input: the message is the client's.
    #[error("not proven: {}", .0.path)]
    NotProven(FieldError),
    /// The resource does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The method is not defined for the resource.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A duplicate, or a write based on a stale version.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A request valid in itself that the current state refuses: the field named (the log
    /// line names the field only).
    #[error("conflict with the state: {}", .0.path)]
    StateConflict(FieldError),
    /// Too many requests of a kind (SMS, attempts): retry after `retry_after` seconds.
    #[error("too many requests: {message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// A dependency other than the ports (the token issuer's keys) is down.
    #[error("dependency unavailable: {0}")]
    Dependency(String),
    /// A fault of our own, never the client's: logged in full with its source, reported
    /// with its logref only.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    KeyVault(#[from] KeyVaultError),
    #[error(transparent)]
    Sms(#[from] SmsError),
}

impl AppError {
    /// A fault of our own caused by `source` (an error, or a message saying what broke).
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(source.into())
    }

    /// One bad field.
    pub fn field(error: FieldError) -> Self {
        AppError::Invalid(error.into())
    }
}

impl From<SuspensionRefused> for AppError {
    fn from(refused: SuspensionRefused) -> Self {
        AppError::Conflict(refused.to_string())
    }
}

impl From<DefaultKeyInUse> for AppError {
    fn from(refused: DefaultKeyInUse) -> Self {
        AppError::Conflict(refused.to_string())
    }
}

/// Signing for a customer that is not ACTIVE is a conflict with its status, named.
impl From<DefaultKeyRule> for AppError {
    fn from(refused: DefaultKeyRule) -> Self {
        let pointer = match refused {
            DefaultKeyRule::StaysActive(_) => "/active",
            DefaultKeyRule::MustBeActive(_) => "/id",
        };
        AppError::StateConflict(FieldError::body(pointer, refused.to_string()))
    }
}

impl From<NotSending> for AppError {
    fn from(refused: NotSending) -> Self {
        AppError::Conflict(refused.to_string())
    }
}

/// A collection at its maximum is a conflict, naming the limit.
impl From<LimitReached> for AppError {
    fn from(limit: LimitReached) -> Self {
        AppError::Conflict(limit.to_string())
    }
}

impl From<KeyRefused> for AppError {
    fn from(refused: KeyRefused) -> Self {
        match refused {
            KeyRefused::Invalid(violations) => violations.into(),
            KeyRefused::NotTheStoredKey { ref pointer } => AppError::StateConflict(FieldError::body(pointer.clone(), refused.to_string())),
        }
    }
}

impl From<Violations> for AppError {
    fn from(violations: Violations) -> Self {
        AppError::Invalid(violations)
    }
}

/// The one place where a repository's outcome becomes the application's: a guard held by
/// another record, a version that moved and a write too large for one transaction are
/// all conflicts.
impl From<RepositoryError> for AppError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Taken(message) | RepositoryError::ChangedMeanwhile(message) | RepositoryError::TooManyWrites(message) => {
                AppError::Conflict(message)
            }
            RepositoryError::LimitReached(limit) => limit.into(),
            RepositoryError::NotFound(what) => AppError::NotFound(what),
            RepositoryError::Store(error) => AppError::Store(error),
            RepositoryError::KeyVault(error) => AppError::KeyVault(error),
        }
    }
}

/// A running provisioning job's change that did not apply (the worker's outcome, never an
/// answer): a job another run is at is a conflict, a store failure stays one, and the
/// rest are faults the job records as its failure.
impl From<ProgressFailure> for AppError {
    fn from(failure: ProgressFailure) -> Self {
        match failure {
            ProgressFailure::Store(error) => AppError::Store(error),
            ProgressFailure::JobChanged(_) => AppError::Conflict(failure.to_string()),
            failure => AppError::internal(failure),
        }
    }
}

/// A refused password change: a wrong `/oldPassword` fails a proof (403, the new one not
/// judged), a `/newPassword` the policy refuses is bad input (saying why).
impl From<ChangeRefused> for AppError {
    fn from(refused: ChangeRefused) -> Self {
        match refused {
            ChangeRefused::WrongOld(wrong) => AppError::NotProven(FieldError::body("/oldPassword", wrong.to_string())),
            ChangeRefused::New(why) => AppError::field(FieldError::body("/newPassword", why.to_string())),
        }
    }
}

/// Two-factor without a verified phone: a conflict with the user's state, on `/active`.
impl From<TwoFactorRefused> for AppError {
    fn from(refused: TwoFactorRefused) -> Self {
        AppError::StateConflict(FieldError::body("/active", refused.to_string()))
    }
}

/// A capability on a customer the user is not associated with: a conflict on `/resource`.
impl From<NotAssociated> for AppError {
    fn from(refused: NotAssociated) -> Self {
        AppError::StateConflict(FieldError::body("/resource", refused.to_string()))
    }
}

/// A suspension set or lifted by a profile update: a conflict on `/status`.
impl From<SuspendedElsewhere> for AppError {
    fn from(refused: SuspendedElsewhere) -> Self {
        AppError::StateConflict(FieldError::body("/status", refused.to_string()))
    }
}

/// No cell phone to send a code to: a conflict with the user's profile, on `/cellPhone`.
impl From<NoCellPhone> for AppError {
    fn from(refused: NoCellPhone) -> Self {
        AppError::StateConflict(FieldError::body("/cellPhone", refused.to_string()))
    }
}

/// An SMS over the rate limits: 429 with the wait.
impl From<RateLimited> for AppError {
    fn from(limited: RateLimited) -> Self {
        AppError::TooManyRequests {
            message: limited.reason.to_owned(),
            retry_after: limited.retry_after.as_secs().max(1).unsigned_abs(),
        }
    }
}

/// A code that does not verify: a wrong one fails the proof (403 on `/code`); none in
/// force for this phone (never requested, expired, sent to another number) is a conflict
/// with the state (409 on `/code`); 429 once the attempts are spent.
impl From<CodeRefused> for AppError {
    fn from(refused: CodeRefused) -> Self {
        match refused {
            CodeRefused::Dead(limited) => AppError::TooManyRequests {
                message: "too many wrong attempts: the verification code is invalidated; request a new one".into(),
                retry_after: limited.retry_after.as_secs().max(1).unsigned_abs(),
            },
            CodeRefused::Wrong(_) => AppError::NotProven(FieldError::body("/code", refused.to_string())),
            CodeRefused::NoCode | CodeRefused::Expired | CodeRefused::OtherPhone => {
                AppError::StateConflict(FieldError::body("/code", refused.to_string()))
            }
        }
    }
}

/// A key whose domain and selector another of the customer's keys has is a conflict.
impl From<NameTaken> for AppError {
    fn from(taken: NameTaken) -> Self {
        AppError::Conflict(taken.to_string())
    }
}

/// Result with [`AppError`] by default.
pub type AppResult<T, E = AppError> = Result<T, E>;
