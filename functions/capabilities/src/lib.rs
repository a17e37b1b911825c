//! The `capabilities` function.

use axum::Router;

use shared::app::AppState;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
