//! A team member's credentials as its administrators manage them: password and PIN
//! resets, cell phone verification and two-factor.

use axum::Json;
use axum::extract::State;

use shared::actions::credentials;
use shared::api::action::ActionResult;
use shared::api::credentials::{PasswordReset, TwoFactorStatus, VerificationCodeRequest};
use shared::app::AppState;
use shared::domain::access::Access;
use shared::error::AppResult;
use shared::http::caller::Caller;
use shared::http::extract::{JsonBody, UserPkPath};

/// A random password, returned once and already expired.
pub async fn reset_user_password(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
) -> AppResult<Json<ActionResult<PasswordReset>>> {
    let target = caller.require(&state, Access::ADMIN_OF_EVERY_USER, user).await?;
    Ok(Json(credentials::reset_password(&state, &target.account, caller.user_pk()).await?))
}

/// After a lost phone: two-factor off and the phone to be verified again.
pub async fn reset_user_pin(State(state): State<AppState>, caller: Caller, UserPkPath(user): UserPkPath) -> AppResult<Json<ActionResult>> {
    let target = caller.require(&state, Access::ADMIN_OF_EVERY_USER, user).await?;
    Ok(Json(credentials::reset_pin(&state, &target.account, caller.user_pk()).await?))
}

pub async fn request_user_verification_code(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
) -> AppResult<Json<ActionResult>> {
    let target = caller.require(&state, Access::ADMIN_OF_EVERY_USER, user).await?;
    Ok(Json(credentials::request_code(&state, &target.account).await?))
}

pub async fn verify_user_verification_code(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(request): JsonBody<VerificationCodeRequest>,
) -> AppResult<Json<ActionResult>> {
    let target = caller.require(&state, Access::ADMIN_OF_EVERY_USER, user).await?;
    let result = credentials::verify_code(&state, &target.account, request.code, Some(caller.user_pk())).await?;
    Ok(Json(result))
}

pub async fn get_user_two_factor(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
) -> AppResult<Json<TwoFactorStatus>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    Ok(Json(credentials::two_factor(&target.account)))
}

pub async fn set_user_two_factor(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    JsonBody(request): JsonBody<TwoFactorStatus>,
) -> AppResult<Json<ActionResult>> {
    let target = caller.require(&state, Access::ADMIN_OF_EVERY_USER, user).await?;
    let result = credentials::set_two_factor(&state, &target.account, request.active, Some(caller.user_pk())).await?;
    Ok(Json(result))
}
