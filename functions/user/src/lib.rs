//! The `user` function: the caller's own account (personal info, preferences,
//! and its role on a customer).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use shared::api::users::{UserInfo, UserInfoInput};
use shared::app::AppState;
use shared::auth::caller::Caller;
use shared::domain::capability::Role;
use shared::domain::catalogue::Catalogue;
use shared::domain::ids::GroupPk;
use shared::domain::preferences::{Preferences, RawPreferences};
use shared::domain::user::{Profile, User};
use shared::domain::validation::Violations;
use shared::error::AppResult;
use shared::http::extract::{JsonBody, QueryParams};
use shared::repositories::accounts::Accounts;
use shared::repositories::customers::Customers;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/user", get(get_me).put(update_me))
        .route("/v1/user/preferences", get(get_my_preferences).put(update_my_preferences))
        .route("/v1/user/role", get(get_my_role))
}

async fn user_info(state: &AppState, user: &User) -> AppResult<UserInfo> {
    let group_name = Customers::new(state.store.as_ref())
        .get(user.creation_group_pk)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    Ok(UserInfo::new(user, group_name))
}

async fn get_me(State(state): State<AppState>, caller: Caller) -> AppResult<Json<UserInfo>> {
    Ok(Json(user_info(&state, &caller.account.user.value).await?))
}

/// Fields the caller may send but not change.
fn check_unchanged(input: &UserInfoInput, current: &User, violations: &mut Violations) {
    let mut unchanged = |pointer: &str, same: bool| {
        if !same {
            violations.body(pointer, "cannot be changed");
        }
    };
    unchanged("/userPk", input.user_pk.is_none_or(|pk| pk == current.user_pk.0));
    unchanged("/username", input.username.as_deref().is_none_or(|name| name == current.username));
    unchanged("/status", input.status.is_none_or(|status| status == current.status));
    unchanged("/userType", input.user_type.is_none_or(|kind| kind == current.user_type));
    unchanged(
        "/cellPhoneVerified",
        input
            .cell_phone_verified
            .is_none_or(|verified| verified == current.cell_phone_verified),
    );
}

async fn update_me(State(state): State<AppState>, caller: Caller, JsonBody(input): JsonBody<UserInfoInput>) -> AppResult<Json<UserInfo>> {
    let before = &caller.account.user;
    let mut violations = Violations::new();
    check_unchanged(&input, &before.value, &mut violations);
    let today = jiff::tz::TimeZone::UTC.to_datetime(state.clock.now()).date();
    let profile = Profile::parse(input.profile(), today, &mut violations);
    let profile = violations
        .into_result(profile)?
        .expect("a profile that failed to parse recorded a violation");
    let mut after = before.value.clone();
    after.apply_profile(profile);
    Accounts::new(state.store.as_ref()).update(before, &after).await?;
    Ok(Json(user_info(&state, &after).await?))
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
    role: Role,
}

async fn get_my_role(State(state): State<AppState>, caller: Caller, query: QueryParams) -> AppResult<Json<RoleInfo>> {
    let group = GroupPk(query.required("groupPk", "an integer")?);
    let (_, role) = caller.customer_with_role(&state, group).await?;
    Ok(Json(RoleInfo { role }))
}
