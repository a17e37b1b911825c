//! The caller's own credentials: password, PIN, cell phone verification and two-factor.

use axum::Json;
use axum::extract::State;

use shared::actions::credentials;
use shared::api::action::ActionResult;
use shared::api::credentials::{ChangePasswordRequest, PasswordInfo, PinStatus, TwoFactorStatus, VerificationCodeRequest};
use shared::app::AppState;
use shared::error::AppResult;
use shared::http::caller::Caller;
use shared::http::extract::JsonBody;

pub async fn get_my_password_info(State(state): State<AppState>, caller: Caller) -> AppResult<Json<PasswordInfo>> {
    Ok(Json(credentials::password_info(&state, caller.user_pk()).await?))
}

pub async fn change_my_password(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<ChangePasswordRequest>,
) -> AppResult<Json<ActionResult>> {
    let result = credentials::change_password(&state, &caller.account, request.old_password, request.new_password).await?;
    Ok(Json(result))
}

pub async fn get_my_pin_status(caller: Caller) -> Json<PinStatus> {
    Json(credentials::pin_status(&caller.account))
}

pub async fn request_my_verification_code(State(state): State<AppState>, caller: Caller) -> AppResult<Json<ActionResult>> {
    Ok(Json(credentials::request_code(&state, &caller.account).await?))
}

pub async fn verify_my_verification_code(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<VerificationCodeRequest>,
) -> AppResult<Json<ActionResult>> {
    Ok(Json(credentials::verify_code(&state, &caller.account, request.code, None).await?))
}

pub async fn get_my_two_factor(caller: Caller) -> Json<TwoFactorStatus> {
    Json(credentials::two_factor(&caller.account))
}

pub async fn set_my_two_factor(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<TwoFactorStatus>,
) -> AppResult<Json<ActionResult>> {
    Ok(Json(
        credentials::set_two_factor(&state, &caller.account, request.active, None).await?,
    ))
}
