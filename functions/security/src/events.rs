//! Security events: those the authorization server reports, and a user's events as
//! its administrators list them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use shared::actions::security::list_security_events;
use shared::api::security::SecurityEventView;
use shared::app::AppState;
use shared::domain::access::Access;
use shared::domain::security::{EventSubject, RawSecurityReport, SecurityEventType};
use shared::error::{AppError, AppResult};
use shared::http::caller::Caller;
use shared::http::extract::{JsonBody, QueryParams, UserPkPath};
use shared::http::paging::Page;
use shared::repositories::accounts::Accounts;
use shared::repositories::security::SecurityLog;

/// Stores a reported event and updates the user's security state: a LOGIN its accesses
/// and the end of a failed-login streak, a LOGIN_FAILED the streak and the lockout.
pub async fn record_security_event(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(report): JsonBody<RawSecurityReport>,
) -> AppResult<(StatusCode, Json<SecurityEventView>)> {
    caller.require(&state, Access::SERVICE, ()).await?;
    let report = report.validate(&state.security, state.clock.now())?;
    let accounts = Accounts::new(state.store.as_ref());
    let user = match &report.subject {
        EventSubject::UserPk(user) => *user,
        EventSubject::Username(username) => accounts
            .find_by_username(username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {username:?}")))?,
    };
    let account = accounts
        .load(user)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("user {user}")))?;
    let event = report.event(user);
    let log = SecurityLog::new(state.store.as_ref(), &state.security);
    match event.event_type {
        SecurityEventType::Login => log.record_login(&account, &event).await?,
        SecurityEventType::LoginFailed => {
            log.record_failure(&account, &event).await?;
        }
        _ => log.record(std::slice::from_ref(&event)).await?,
    }
    Ok((StatusCode::CREATED, Json(event.into())))
}

/// The user's security events, newest first, a page at a time (the same listing as the
/// caller's own, `listMySecurityEvents`).
pub async fn list_user_security_events(
    State(state): State<AppState>,
    caller: Caller,
    UserPkPath(user): UserPkPath,
    query: QueryParams,
) -> AppResult<Json<Page<SecurityEventView>>> {
    caller.require(&state, Access::ADMIN_OF_USER, user).await?;
    Ok(Json(list_security_events(&state, user, &query).await?))
}
