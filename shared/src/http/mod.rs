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
    let location = HeaderValue::from_str(location).map_err(AppError::internal)?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response())
}
