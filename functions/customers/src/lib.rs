//! The `customers` function: the customer tree, each customer's users, its
//! configuration and its applications.

mod configuration;
mod profile;
mod team;

use axum::Router;

use shared::app::AppState;

/// The function's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(profile::routes())
        .merge(team::routes())
        .merge(configuration::routes())
}
