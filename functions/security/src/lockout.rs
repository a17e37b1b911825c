//! A team member's lockout after consecutive failed logins.

use axum::Json;
use axum::extract::State;

use shared::api::action::ActionResult;
use shared::api::security::LockoutInfo;
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::security::{SecurityEvent, SecurityEventType};
use shared::error::AppResult;
use shared::http::caller::Caller;
use shared::http::extract::UserPkPath;
use shared::repositories::security::SecurityLog;

pub async fn get_user_lockout(State(state): State<AppState>, caller: Caller, UserPkPath(user): UserPkPath) -> AppResult<Json<LockoutInfo>> {
    let target = caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    Ok(Json(LockoutInfo::at(&target.account.lockout, state.clock.now())))
}

/// Lifts the lockout and resets the streak of failed logins; recorded as UNLOCKED.
pub async fn unlock_user(State(state): State<AppState>, caller: Caller, UserPkPath(user): UserPkPath) -> AppResult<Json<ActionResult>> {
    let target = caller.require(&state, Access::ADMIN_OF_EVERY_USER, user).await?;
    let now = state.clock.now();
    let event = SecurityEvent::new(user, SecurityEventType::Unlocked, now, Some(caller.user_pk()));
    SecurityLog::new(state.store.as_ref(), &state.security)
        .unlock(&target.account, &event)
        .await?;
    Ok(Json(ActionResult::ok(now, "USER_UNLOCKED")))
}
