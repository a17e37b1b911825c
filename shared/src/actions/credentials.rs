//! Passwords, PIN, verification codes and two-factor.
//!
//! `by` is the administrator acting on the account, `None` when the user acts on its own:
//! the security events record it.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::api::action::ActionResult;
use crate::api::credentials::{PasswordInfo, PasswordReset, PinStatus, TwoFactorStatus};
use crate::app::AppState;
use crate::domain::ids::UserPk;
use crate::domain::password::{self, ChangeRefused, GENERATED_LENGTH, Password, PasswordRecord, PasswordRefused, WrongPassword};
use crate::domain::secret::SecretString;
use crate::domain::security::{SecurityEvent, SecurityEventType};
use crate::domain::validation::FieldError;
use crate::domain::verification::{Attempt, Code, CodeKey, sms_text};
use crate::error::{AppError, AppResult};
use crate::repositories::accounts::{Account, AccountChange, Accounts};
use crate::repositories::credentials::Credentials;
use crate::repositories::security::event_write;

fn utc_date(at: Timestamp) -> Date {
    jiff::tz::TimeZone::UTC.to_datetime(at).date()
}

fn credentials(state: &AppState) -> Credentials<'_> {
    Credentials::new(state.store.as_ref(), &state.security)
}

/// Runs CPU-heavy work (argon2, the strength estimate) off the async runtime.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(AppError::internal)
}

/// When the user's password was set and expires, and today (UTC).
pub async fn password_info(state: &AppState, user: UserPk) -> AppResult<PasswordInfo> {
    let record = credentials(state)
        .password(user)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("the password of user {user}")))?;
    Ok(PasswordInfo {
        update_date: utc_date(record.value.updated_at),
        expire_date: utc_date(record.value.expires_at),
        now: utc_date(state.clock.now()),
    })
}

/// Changes the user's password: `old` must be the current one (checked first: for anyone
/// else the new one is not judged), `new` must satisfy the policy and differ from the last
/// passwords. The new one expires after the policy's lifetime; PASSWORD_CHANGED is
/// recorded in the same write.
pub async fn change_password(state: &AppState, account: &Account, old: Password, new: Password) -> AppResult<ActionResult> {
    let user = &account.user.value;
    let stored = credentials(state).password(user.user_pk).await?;
    let current = stored.as_ref().map(|record| record.value.clone());
    let (username, email) = (user.username.clone(), user.email.clone());
    // Hashing and verifying take tens of milliseconds each: off the runtime, all at once.
    let outcome = blocking(move || {
        let (old, new) = (old.0, new.0);
        if !password::verify_or_dummy(&old, current.as_ref().map(|record| record.hash.as_str())) {
            return Err(ChangeRefused::WrongOld(WrongPassword));
        }
        password::check_policy(&new, &username, &email).map_err(ChangeRefused::New)?;
        let recent = current.as_ref().into_iter().flat_map(PasswordRecord::recent);
        if recent.into_iter().any(|hash| password::verify(&new, hash)) {
            return Err(ChangeRefused::New(PasswordRefused::Reused));
        }
        Ok(password::hash(&new))
    })
    .await?;
    let hash = outcome?.map_err(AppError::internal)?;
    let stored = stored.ok_or_else(|| AppError::internal("a password verified without a stored one"))?;
    let now = state.clock.now();
    let record = stored.value.replaced(hash, now, now + state.security.password_lifetime);
    let event = SecurityEvent::new(user.user_pk, SecurityEventType::PasswordChanged, now, None);
    credentials(state)
        .set_password(user.user_pk, stored.version, &record, &event)
        .await?;
    Ok(ActionResult::ok(now, "PASSWORD_CHANGED"))
}

/// Replaces the user's password with a random one, already expired, returned once;
/// PASSWORD_RESET is recorded (by `by`) in the same write.
pub async fn reset_password(state: &AppState, account: &Account, by: UserPk) -> AppResult<ActionResult<PasswordReset>> {
    let user = account.user.value.user_pk;
    let stored = credentials(state).password(user).await?;
    let (generated, hash) = blocking(|| {
        let generated: SecretString = password::generate(GENERATED_LENGTH);
        let hash = password::hash(&generated);
        (generated, hash)
    })
    .await?;
    let hash = hash.map_err(AppError::internal)?;
    let now = state.clock.now();
    let (version, record) = match &stored {
        Some(stored) => (stored.version, stored.value.replaced(hash, now, now)),
        None => (0, PasswordRecord::new(hash, now, now)),
    };
    let event = SecurityEvent::new(user, SecurityEventType::PasswordReset, now, Some(by));
    credentials(state).set_password(user, version, &record, &event).await?;
    Ok(ActionResult::with(now, "PASSWORD_RESET", PasswordReset { new_password: generated }))
}

/// Whether logins ask the user for the PIN.
pub fn pin_status(account: &Account) -> PinStatus {
    PinStatus {
        active: account.user.value.pin_active(),
    }
}

/// The key verification codes are hashed with, opened once per process.
pub async fn code_key(state: &AppState) -> AppResult<&CodeKey> {
    state
        .code_key
        .get_or_try_init(|| async { Ok(credentials(state).code_key(state.key_vault.as_ref()).await?) })
        .await
}

/// Sends a new verification code to the user's cell phone, in its language, if the rate
/// limits allow; it replaces any code in force.
pub async fn request_code(state: &AppState, account: &Account) -> AppResult<ActionResult> {
    let user = account.user.value.user_pk;
    let phone = account.user.value.code_phone()?;
    let key = code_key(state).await?;
    let repository = credentials(state);
    let before = repository.verification(user).await?;
    let now = state.clock.now();
    let code = Code::generate();
    let after = before.value.issue(key.digest(user, phone, &code), phone, now)?;
    // Stored (and counted) before it is sent: a racing request loses here, and a failed
    // send still counts against the limits.
    repository.set_verification(user, before.version, &after).await?;
    let language = account.preferences.as_ref().map_or("en", |p| p.language.as_str());
    state.sms.send(phone, &sms_text(language, &code)).await?;
    Ok(ActionResult::ok(now, "CODE_SENT"))
}

/// Checks `code` against the user's code in force: the right one marks the cell phone
/// verified (CELL_PHONE_VERIFIED, by `by`) and consumes the code in one write; a wrong one
/// counts an attempt. Racing attempts conflict (409) rather than both counting once.
pub async fn verify_code(state: &AppState, account: &Account, code: u32, by: Option<UserPk>) -> AppResult<ActionResult> {
    let code = Code::parse(code).ok_or_else(|| AppError::field(FieldError::body("/code", "must be a 6-digit code")))?;
    let user = account.user.value.user_pk;
    let phone = account.user.value.code_phone()?;
    let key = code_key(state).await?;
    let repository = credentials(state);
    let before = repository.verification(user).await?;
    let now = state.clock.now();
    match before
        .value
        .attempt(|issued| key.matches(&issued.digest, user, phone, &code), phone, now)
    {
        Attempt::Verified(after) => {
            let mut change = AccountChange::of(account, Some(by.unwrap_or(user)), now);
            change.user.cell_phone_verified = true;
            change.also.push(Credentials::verification_write(user, before.version, &after)?);
            let event = SecurityEvent::new(user, SecurityEventType::CellPhoneVerified, now, by);
            change.also.push(event_write(&event, &state.security)?);
            Accounts::new(state.store.as_ref()).save(change).await?;
            Ok(ActionResult::ok(now, "CODE_VERIFIED"))
        }
        Attempt::Refused(refused, after) => {
            if let Some(after) = after {
                repository.set_verification(user, before.version, &after).await?;
            }
            Err(refused.into())
        }
    }
}

/// Whether two-factor authentication is on.
pub fn two_factor(account: &Account) -> TwoFactorStatus {
    TwoFactorStatus {
        active: account.user.value.two_factor,
    }
}

/// Turns two-factor on (with a verified cell phone only) or off, recording
/// TWO_FACTOR_ENABLED or TWO_FACTOR_DISABLED with the change; no change, no event.
pub async fn set_two_factor(state: &AppState, account: &Account, active: bool, by: Option<UserPk>) -> AppResult<ActionResult> {
    let user = account.user.value.user_pk;
    let now = state.clock.now();
    let mut change = AccountChange::of(account, Some(by.unwrap_or(user)), now);
    let (code, event_type) = if active {
        ("TWO_FACTOR_ENABLED", SecurityEventType::TwoFactorEnabled)
    } else {
        ("TWO_FACTOR_DISABLED", SecurityEventType::TwoFactorDisabled)
    };
    if change.user.set_two_factor(active)? {
        let event = SecurityEvent::new(user, event_type, now, by);
        change.also.push(event_write(&event, &state.security)?);
        Accounts::new(state.store.as_ref()).save(change).await?;
    }
    Ok(ActionResult::ok(now, code))
}

/// After a lost phone: two-factor off, the cell phone to be verified again; PIN_RESET is
/// recorded (by `by`) with the change.
pub async fn reset_pin(state: &AppState, account: &Account, by: UserPk) -> AppResult<ActionResult> {
    let user = account.user.value.user_pk;
    let now = state.clock.now();
    let mut change = AccountChange::of(account, Some(by), now);
    change.user.reset_pin();
    let event = SecurityEvent::new(user, SecurityEventType::PinReset, now, Some(by));
    change.also.push(event_write(&event, &state.security)?);
    Accounts::new(state.store.as_ref()).save(change).await?;
    Ok(ActionResult::ok(now, "PIN_RESET"))
}
