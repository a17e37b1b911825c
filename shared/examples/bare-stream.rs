//! The streaming floor for scripts/measure-lambda-init: the bare function of
//! bare-lambda.rs served with response streaming (`run_with_streaming_response`, as a
//! Function URL in `RESPONSE_STREAM` mode serves notifications-stream and status-stream),
//! answering every request with a fixed JSON body; no state, no AWS client, no logging.
//! What a streaming function's start costs on top of this is what the script weighs.

use axum::Json;
use axum::routing::get;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = axum::Router::new().fallback(get(|| async { Json(json!({"status": "UP"})) }));
    lambda_http::run_with_streaming_response(app).await
}
