//! The customers themselves: the tree, reading and changing a customer.

use axum::Router;

use shared::app::AppState;

/// The customer routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
