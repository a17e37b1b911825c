//! The reference for scripts/bench-http: a bare axum server on the stand-in's runtime
//! (tokio's multi-threaded scheduler, the workspace's axum) answering every GET with a
//! fixed JSON body, no logging, no middleware. What the stand-in serves on top of this
//! (routing, tracing, CORS, authentication, the store) is what the benchmark weighs.
//!   bare-server ADDR

use axum::Json;
use axum::routing::get;
use serde_json::json;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3001".into());
    let app = axum::Router::new().fallback(get(|| async { Json(json!({"status": "UP", "checks": {"store": "UP"}})) }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
