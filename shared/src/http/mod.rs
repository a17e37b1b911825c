//! HTTP plumbing shared by every function: the error format, extractors, paging,
//! and the wrapper applying the platform's conventions.

pub mod cache;
pub mod caller;
pub mod error;
pub mod extract;
pub mod paging;
pub mod service;
pub mod sse;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::AppError;

/// 201 with the new resource's `Location` and `body`.
pub fn created<T: Serialize>(location: &str, body: T) -> Result<Response, AppError> {
    located(StatusCode::CREATED, location, body)
}

/// 202: work queued, to be followed at `location`; `body` is the resource as it stands.
pub fn accepted<T: Serialize>(location: &str, body: T) -> Result<Response, AppError> {
    located(StatusCode::ACCEPTED, location, body)
}

fn located<T: Serialize>(status: StatusCode, location: &str, body: T) -> Result<Response, AppError> {
    let location = HeaderValue::from_str(location).map_err(AppError::internal)?;
    Ok((status, [(header::LOCATION, location)], Json(body)).into_response())
}
