//! The `dkim` function: each customer's DKIM keys, the platform key, the
//! feedback-loop (FBL) keys, and which key signs a customer's mail.

mod customer_keys;
mod fbls;
mod platform;

use axum::Router;
use axum::routing::{get, put};

use shared::app::{AppState, wiring};

/// The ports it uses beyond the store: its binary links only their clients, as its
/// IAM policy in template.yaml grants only their actions.
pub const WIRING: u8 = wiring::KEY_VAULT;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/customers/{groupPk}/dkims",
            get(customer_keys::list_customer_dkims).post(customer_keys::create_customer_dkim),
        )
        .route(
            "/v1/customers/{groupPk}/dkims/default",
            put(customer_keys::set_customer_default_dkim),
        )
        .route(
            "/v1/customers/{groupPk}/dkims/{dkimId}",
            get(customer_keys::get_customer_dkim)
                .put(customer_keys::update_customer_dkim)
                .delete(customer_keys::delete_customer_dkim),
        )
        .route("/v1/customers/{groupPk}/signing-dkim", get(customer_keys::get_signing_dkim))
        .route("/v1/dkims", get(platform::list_all_dkims))
        .route(
            "/v1/platform/dkim",
            get(platform::get_platform_dkim).put(platform::update_platform_dkim),
        )
        .route("/v1/fbls", get(fbls::list_fbls).post(fbls::create_fbl))
        .route("/v1/fbls/{uuid}", put(fbls::update_fbl).delete(fbls::delete_fbl))
}
