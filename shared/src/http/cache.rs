//! `ETag` / `If-None-Match` for hot, rarely changing reads.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::AppError;

/// The value as JSON with a strong `ETag`, cacheable by anyone for 5 minutes (public
/// reference data); 304 when the client already holds it.
pub fn cached_json<T: Serialize>(request_headers: &HeaderMap, value: &T) -> Result<Response, AppError> {
    tagged_json(request_headers, value, "public, max-age=300")
}

/// The value as JSON with a strong `ETag`, kept by the caller's own client only and
/// revalidated on every use (a read behind a token, which changes when data is
/// imported); 304 when the client already holds it.
pub fn revalidated_json<T: Serialize>(request_headers: &HeaderMap, value: &T) -> Result<Response, AppError> {
    tagged_json(request_headers, value, "private, no-cache")
}

fn tagged_json<T: Serialize>(request_headers: &HeaderMap, value: &T, cache_control: &'static str) -> Result<Response, AppError> {
    let body = serde_json::to_vec(value).map_err(|e| AppError::internal(format!("cannot serialize a response: {e}")))?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &body);
    let tag: String = digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{tag}\"");
    let matches = request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|candidate| matches!(candidate.trim().trim_start_matches("W/"), "*") || candidate.trim().trim_start_matches("W/") == etag);
    let etag_header = HeaderValue::from_str(&etag).map_err(AppError::internal)?;
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let headers = [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache_control)),
        ];
        (headers, body).into_response()
    };
    response.headers_mut().insert(header::ETAG, etag_header);
    Ok(response)
}
