//! A team member's profile, suspension and preferences.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use shared::api::action::ActionResult;
use shared::api::users::{UserDetails, UserInfo, UserInfoReplacement};
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::catalogue::Catalogue;
use shared::domain::preferences::{Preferences, RawPreferences};
use shared::domain::security::{SecurityEvent, SecurityEventType};
use shared::error::AppResult;
use shared::http::caller::Caller;
use shared::http::extract::{JsonBody, UserPkPath};
use shared::repositories::accounts::{AccountChange, Accounts};
use shared::repositories::customers::Customers;
use shared::repositories::security::event_write;

/// The user's personal information; the name of its creation customer only where the caller reaches it.
pub async fn get_user(State(state): State<AppState>, caller: Caller, UserPkPath(user): UserPkPath) -> AppResult<Json<UserDetails>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    let user = &target.account.user.value;
    let group_name = Customers::new(state.store.as_ref())
        .get(user.creation_group_pk)
        .await?
        .filter(|customer| caller.grants().is_member_of(customer))
        .map(|customer| customer.name);
    Ok(Json(UserDetails::new(user, group_name)))
}

pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(input): JsonBody<UserInfoReplacement>,
) -> AppResult<Json<UserInfo>> {
    let target = caller.require(&state, Access::ADMIN_OF_EVERY_USER, user).await?;
    let account = &target.account;
    let now = state.clock.now();
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let (profile, status) = input.validate(today)?;
    let mut change = AccountChange::of(account, Some(caller.user_pk()), now);
    change.user.set_status(status)?;
    change.user.apply_profile(profile);
    let after = change.user.clone();
    Accounts::new(state.store.as_ref()).save(change).await?;
    let group_name = Customers::new(state.store.as_ref()).name(after.creation_group_pk).await?;
    Ok(Json(UserInfo::new(&after, group_name)))
}

#[derive(Deserialize)]
pub struct SuspensionRequest {
    suspended: bool,
}

/// Suspends or reactivates a user (see `User::set_suspended` for what is refused).
pub async fn set_user_suspension(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(request): JsonBody<SuspensionRequest>,
) -> AppResult<Json<ActionResult>> {
    let target = caller.require(&state, Access::ADMIN_OF_EVERY_USER, user).await?;
    let now = state.clock.now();
    let (code, event_type) = if request.suspended {
        ("USER_SUSPENDED", SecurityEventType::Suspended)
    } else {
        ("USER_REACTIVATED", SecurityEventType::Reactivated)
    };
    let mut change = AccountChange::of(&target.account, Some(caller.user_pk()), now);
    if change.user.set_suspended(request.suspended, caller.user_pk(), now)? {
        let event = SecurityEvent::new(user, event_type, now, Some(caller.user_pk()));
        change.also.push(event_write(&event, &state.security)?);
        Accounts::new(state.store.as_ref()).save(change).await?;
    }
    Ok(Json(ActionResult::ok(now, code)))
}

pub async fn get_user_preferences(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
) -> AppResult<Json<Preferences>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    Ok(Json(target.account.preferences.unwrap_or_else(Preferences::defaults)))
}

pub async fn update_user_preferences(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(input): JsonBody<RawPreferences>,
) -> AppResult<Json<Preferences>> {
    caller.require(&state, Access::ADMIN_OF_EVERY_USER, user).await?;
    let preferences = input.validate(Catalogue::get())?;
    Accounts::new(state.store.as_ref()).put_preferences(user, &preferences).await?;
    Ok(Json(preferences))
}
