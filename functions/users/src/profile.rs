//! A team member's profile, suspension and preferences.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use shared::api::action::ActionResult;
use shared::api::users::{StatusChange, UserDetails, UserInfo, UserInfoInput};
use shared::app::AppState;
use shared::auth::caller::Caller;
use shared::domain::catalogue::Catalogue;
use shared::domain::preferences::{Preferences, RawPreferences};
use shared::domain::user::{Suspension, UserStatus};
use shared::error::{AppError, AppResult};
use shared::http::extract::{JsonBody, UserPkPath};
use shared::repositories::accounts::{AccountChange, Accounts};
use shared::repositories::customers::Customers;

pub async fn get_user(State(state): State<AppState>, caller: Caller, UserPkPath(user): UserPkPath) -> AppResult<Json<UserDetails>> {
    let account = caller.user_as_admin(&state, user).await?;
    let group_name = Customers::new(state.store.as_ref())
        .name(account.user.value.creation_group_pk)
        .await?;
    Ok(Json(UserDetails::new(&account.user.value, group_name)))
}

pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(input): JsonBody<UserInfoInput>,
) -> AppResult<Json<UserInfo>> {
    let account = caller.user_as_admin(&state, user).await?;
    let now = state.clock.now();
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let (profile, status) = input.validate(&account.user.value, today, StatusChange::EnableOrDisable)?;
    let mut change = AccountChange::of(&account, Some(caller.user_pk()), now);
    change.user.apply_profile(profile);
    change.user.status = status;
    let after = change.user.clone();
    Accounts::new(state.store.as_ref()).save(change).await?;
    let group_name = Customers::new(state.store.as_ref()).name(after.creation_group_pk).await?;
    Ok(Json(UserInfo::new(&after, group_name)))
}

#[derive(Deserialize)]
pub struct SuspensionRequest {
    suspended: bool,
}

/// Suspends or reactivates a user. Asking for the state the user is already in
/// changes nothing; a disabled user is neither suspended nor reactivated this way.
pub async fn set_suspension(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(request): JsonBody<SuspensionRequest>,
) -> AppResult<Json<ActionResult>> {
    let account = caller.user_as_admin(&state, user).await?;
    let now = state.clock.now();
    let code = if request.suspended { "USER_SUSPENDED" } else { "USER_REACTIVATED" };
    let (from, to) = if request.suspended {
        (UserStatus::Active, UserStatus::Suspended)
    } else {
        (UserStatus::Suspended, UserStatus::Active)
    };
    let current = account.user.value.status;
    if current == to {
        return Ok(Json(ActionResult::ok(now, code)));
    }
    if current != from {
        return Err(AppError::Conflict(format!("user {user} is {current:?}, not {from:?}")));
    }
    if user == caller.user_pk() {
        return Err(AppError::Conflict("you cannot suspend yourself".into()));
    }
    let mut change = AccountChange::of(&account, Some(caller.user_pk()), now);
    change.user.status = to;
    change.user.suspension = Some(Suspension {
        date: now,
        by_user_pk: Some(caller.user_pk()),
    });
    Accounts::new(state.store.as_ref()).save(change).await?;
    Ok(Json(ActionResult::ok(now, code)))
}

pub async fn get_preferences(State(state): State<AppState>, caller: Caller, UserPkPath(user): UserPkPath) -> AppResult<Json<Preferences>> {
    let account = caller.user_as_admin(&state, user).await?;
    Ok(Json(account.preferences.unwrap_or_else(Preferences::defaults)))
}

pub async fn update_preferences(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(input): JsonBody<RawPreferences>,
) -> AppResult<Json<Preferences>> {
    caller.user_as_admin(&state, user).await?;
    let preferences = input.validate(Catalogue::get())?;
    Accounts::new(state.store.as_ref()).put_preferences(user, &preferences).await?;
    Ok(Json(preferences))
}
