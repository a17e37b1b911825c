//! The reference for scripts/bench-http and scripts/bench-signing: a bare axum server on
//! the stand-in's runtime (tokio's multi-threaded scheduler, the workspace's axum), no
//! logging, no middleware, no authentication, no store. It answers every GET with a fixed
//! JSON body, and a signMessage request (`POST /v1/customers/{groupPk}/sign`) with its
//! message signed once (examples/support/one_signature.rs): the least any server signing
//! that message over HTTP does. What the stand-in serves on top of this (routing,
//! tracing, CORS, authentication, the store, key selection) is what the benchmarks weigh.
//!   bare-server ADDR

#[path = "support/one_signature.rs"]
mod one_signature;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use one_signature::OneSignature;
use serde::Deserialize;
use serde_json::{Value, json};

/// The part of a signMessage request the reference reads.
#[derive(Deserialize)]
struct SignRequest {
    message: String,
}

async fn sign(State(signer): State<Arc<OneSignature>>, Json(request): Json<SignRequest>) -> Result<Json<Value>, StatusCode> {
    let signed = signer.signed(request.message.as_bytes()).map_err(|_| StatusCode::BAD_REQUEST)?;
    let message = String::from_utf8(signed).map_err(|_| StatusCode::BAD_REQUEST)?;
    Ok(Json(json!({ "message": message })))
}

#[tokio::main]
async fn main() -> Result<(), one_signature::Failure> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3001".into());
    let signer = Arc::new(OneSignature::generate()?);
    let app = axum::Router::new()
        .route("/v1/customers/{group}/sign", post(sign))
        .fallback(get(|| async { Json(json!({"status": "UP", "checks": {"store": "UP"}})) }))
        .with_state(signer);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
