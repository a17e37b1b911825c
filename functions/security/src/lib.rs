//! The `security` function: credentials and security of team members as their
//! administrators see them (passwords, PIN, two-factor, security events, lockout), each
//! customer's failed logins, application usage and users with issues, and the security
//! events the authorization server reports.

mod credentials;
mod events;
mod lockout;
mod reports;

use axum::Router;
use axum::routing::{get, post};

use shared::app::{AppState, wiring};

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::KEY_VAULT | wiring::SMS;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/internal/security-events", post(events::record_security_event))
        .route(
            "/v1/users/{userPk}/lockout",
            get(lockout::get_user_lockout).delete(lockout::unlock_user),
        )
        .route("/v1/users/{userPk}/security-events", get(events::list_user_security_events))
        .route("/v1/customers/{groupPk}/app-usage", get(reports::list_customer_app_usage))
        .route(
            "/v1/customers/{groupPk}/app-usage/{application}",
            get(reports::list_customer_app_usage_by_app),
        )
        .route(
            "/v1/customers/{groupPk}/users-with-issues",
            get(reports::list_customer_users_with_issues),
        )
        .route("/v1/customers/{groupPk}/failed-logins", get(reports::list_customer_failed_logins))
        .route("/v1/users/{userPk}/password/reset", post(credentials::reset_user_password))
        .route("/v1/users/{userPk}/pin/reset", post(credentials::reset_user_pin))
        .route(
            "/v1/users/{userPk}/verification-code",
            post(credentials::request_user_verification_code),
        )
        .route(
            "/v1/users/{userPk}/verification-code/verify",
            post(credentials::verify_user_verification_code),
        )
        .route(
            "/v1/users/{userPk}/two-factor",
            get(credentials::get_user_two_factor).put(credentials::set_user_two_factor),
        )
}
