//! A customer's team: its users and application users, and creating users.

use axum::Router;

use shared::app::AppState;

/// The team routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
