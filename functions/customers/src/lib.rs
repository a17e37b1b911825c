//! The `customers` function: the customer tree, each customer's users, its
//! configuration and its applications.

mod configuration;
mod profile;
mod team;

use axum::Router;
use axum::routing::get;

use shared::app::{AppState, wiring};

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::STORE_ONLY;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/customers", get(profile::list_customers))
        .route("/v1/customers/{groupPk}/parents", get(profile::list_customer_parents))
        .route(
            "/v1/customers/{groupPk}",
            get(profile::get_customer)
                .put(profile::update_customer)
                .patch(profile::patch_customer_status),
        )
        .route(
            "/v1/customers/{groupPk}/users",
            get(team::list_customer_users).post(team::create_customer_user),
        )
        .route(
            "/v1/customers/{groupPk}/application-users",
            get(team::list_customer_application_users),
        )
        .route(
            "/v1/customers/{groupPk}/configuration",
            get(configuration::get_customer_configuration),
        )
        .route(
            "/v1/customers/{groupPk}/configuration/sftp",
            get(configuration::get_customer_sftp_configuration),
        )
        .route(
            "/v1/customers/{groupPk}/applications",
            get(configuration::get_customer_applications),
        )
        .route(
            "/v1/customers/{groupPk}/applications/{application}",
            get(configuration::get_customer_application),
        )
        .route(
            "/v1/customers/{groupPk}/applications/hub/workspaces/{workspaceId}/counters",
            get(configuration::get_hub_workspace_counters),
        )
}
