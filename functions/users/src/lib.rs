//! The `users` function: team members as their administrators see them — profile,
//! suspension, preferences, customers, roles and capabilities.

mod customers;
mod profile;
mod roles;

use axum::Router;
use axum::routing::{delete, get, post, put};

use shared::app::{AppState, wiring};

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::STORE_ONLY;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/users/{userPk}", get(profile::get_user).put(profile::update_user))
        .route("/v1/users/{userPk}/suspension", put(profile::set_user_suspension))
        .route(
            "/v1/users/{userPk}/preferences",
            get(profile::get_user_preferences).put(profile::update_user_preferences),
        )
        .route(
            "/v1/users/{userPk}/customers",
            get(customers::list_user_customers)
                .post(customers::associate_user_customers)
                .delete(customers::remove_user_customers),
        )
        .route("/v1/users/{userPk}/roles", get(roles::get_user_roles).put(roles::assign_user_roles))
        .route("/v1/users/{userPk}/capabilities", post(roles::grant_capability))
        .route("/v1/users/{userPk}/capabilities/log", get(roles::list_capability_log))
        .route("/v1/users/{userPk}/capabilities/{id}", delete(roles::revoke_capability))
}
