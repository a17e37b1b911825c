//! The `dkim` function: each customer's DKIM keys, the platform key, the
//! feedback-loop (FBL) keys, and which key signs a customer's mail.

mod customer_keys;
mod fbls;
mod platform;

use axum::Router;

use shared::app::AppState;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(customer_keys::routes())
        .merge(platform::routes())
        .merge(fbls::routes())
}
