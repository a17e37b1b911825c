//! Running a function's routes on AWS Lambda.

use axum::Router;

use crate::app::AppState;
use crate::http::service::{JSON, application};

/// Initialises JSON logging, builds the state from the environment once per
/// container, and serves `routes` through `lambda_http`.
pub async fn run(routes: Router<AppState>) -> Result<(), lambda_http::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL").unwrap_or_else(|_| "info".into()))
        .with_current_span(true)
        .without_time()
        .with_target(false)
        .init();
    let state = AppState::from_env().await?;
    lambda_http::run(application(routes, state, JSON)).await
}
