//! The floor for scripts/measure-lambda-init: a bare Lambda function on the functions'
//! runtime (tokio's multi-threaded scheduler, lambda_http, axum) answering every request
//! with a fixed JSON body; no state, no AWS client, no logging. What a function's start
//! costs on top of this is what the script weighs.

use axum::Json;
use axum::routing::get;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = axum::Router::new().fallback(get(|| async { Json(json!({"status": "UP"})) }));
    lambda_http::run(app).await
}
