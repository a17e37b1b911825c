//! The `user` function: the caller's own account (personal info, preferences,
//! credentials and two-factor, its role on a customer, its security events and its
//! first and last access to each application).

mod credentials;

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use shared::actions::security::list_security_events;
use shared::api::security::SecurityEventView;
use shared::api::users::{UserInfo, UserProfileReplacement};
use shared::app::{AppState, wiring};
use shared::domain::access::Access;
use shared::domain::capability::AccountCentralRole;
use shared::domain::catalogue::Catalogue;
use shared::domain::ids::GroupPk;
use shared::domain::preferences::{Preferences, RawPreferences};
use shared::domain::security::AppAccess;
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{JsonBody, QueryParams};
use shared::repositories::accounts::{AccountChange, Accounts};
use shared::repositories::customers::Customers;

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::KEY_VAULT | wiring::SMS;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/user", get(get_me).put(update_me))
        .route("/v1/user/preferences", get(get_my_preferences).put(update_my_preferences))
        .route("/v1/user/role", get(get_my_account_central_role))
        .route("/v1/user/security-events", get(list_my_security_events))
        .route("/v1/user/app-accesses", get(get_my_app_accesses))
        .route(
            "/v1/user/password",
            get(credentials::get_my_password_info).put(credentials::change_my_password),
        )
        .route("/v1/user/pin", get(credentials::get_my_pin_status))
        .route("/v1/user/verification-code", post(credentials::request_my_verification_code))
        .route("/v1/user/verification-code/verify", post(credentials::verify_my_verification_code))
        .route(
            "/v1/user/two-factor",
            get(credentials::get_my_two_factor).put(credentials::set_my_two_factor),
        )
}

async fn get_me(State(state): State<AppState>, caller: Caller) -> AppResult<Json<UserInfo>> {
    let user = &caller.account.user.value;
    let group_name = Customers::new(state.store.as_ref()).name(user.creation_group_pk).await?;
    Ok(Json(UserInfo::new(user, group_name)))
}

async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<UserProfileReplacement>,
) -> AppResult<Json<UserInfo>> {
    let now = state.clock.now();
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let profile = input.validate_profile(today)?;
    let mut change = AccountChange::of(&caller.account, Some(caller.user_pk()), now);
    change.user.apply_profile(profile);
    let after = change.user.clone();
    Accounts::new(state.store.as_ref()).save(change).await?;
    let group_name = Customers::new(state.store.as_ref()).name(after.creation_group_pk).await?;
    Ok(Json(UserInfo::new(&after, group_name)))
}

async fn get_my_preferences(caller: Caller) -> Json<Preferences> {
    Json(caller.account.preferences.unwrap_or_else(Preferences::defaults))
}

async fn update_my_preferences(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<RawPreferences>,
) -> AppResult<Json<Preferences>> {
    let preferences = input.validate(Catalogue::get())?;
    Accounts::new(state.store.as_ref())
        .put_preferences(caller.user_pk(), &preferences)
        .await?;
    Ok(Json(preferences))
}

#[derive(Serialize)]
struct RoleInfo {
    role: AccountCentralRole,
}

/// The caller's role on a customer it is a member of (403 for any other customer).
async fn get_my_account_central_role(State(state): State<AppState>, caller: Caller, query: QueryParams) -> AppResult<Json<RoleInfo>> {
    let group = GroupPk(query.required("groupPk", "an integer")?);
    let customer = caller.require(&state, Access::MEMBER, group).await?;
    let role = caller.grants().role_on(&customer.value).ok_or(AppError::Forbidden)?;
    Ok(Json(RoleInfo { role }))
}

/// The caller's security events, newest first: the page asked for, as a bare array.
async fn list_my_security_events(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> AppResult<Json<Vec<SecurityEventView>>> {
    let page = list_security_events(&state, caller.user_pk(), &query).await?;
    Ok(Json(page.elements))
}

/// The caller's first and last access to each application it has logged in to: read
/// with the caller's account, no further store read.
async fn get_my_app_accesses(caller: Caller) -> Json<BTreeMap<String, AppAccess>> {
    Json(caller.account.accesses)
}
