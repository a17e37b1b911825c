//! A customer's configuration, SFTP accounts, applications and hub counters.

use axum::Router;

use shared::app::AppState;

/// The configuration routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
