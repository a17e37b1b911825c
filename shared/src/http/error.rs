//! The one place where errors become HTTP: status, the error format, and the log
//! line carrying the same `logref`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::ports::key_vault::KeyVaultError;
use crate::ports::store::StoreError;

/// Seconds a client should wait before retrying when a dependency is down.
const RETRY_AFTER_SECONDS: &str = "2";

/// The platform's error format.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub message: String,
    pub logref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The first bad fields ([`MAX_REPORTED`](crate::domain::validation::MAX_REPORTED) at most).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorDetail>,
    /// How many bad fields there are, listed or not (with `errors` only).
    #[serde(rename = "errorCount", skip_serializing_if = "Option::is_none")]
    pub error_count: Option<usize>,
}

/// One bad field.
#[derive(Debug, Serialize)]
pub struct ErrorDetail {
    pub path: String,
    pub message: String,
}

impl AppError {
    /// The HTTP status this error stands for.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::NotProven(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_)
            | AppError::StateConflict(_)
            | AppError::Store(StoreError::ConditionFailed | StoreError::Conflict | StoreError::TransactionCancelled { .. }) => {
                StatusCode::CONFLICT
            }
            AppError::Dependency(_)
            | AppError::Store(StoreError::Unavailable(_))
            | AppError::Queue(_)
            | AppError::KeyVault(KeyVaultError::Unavailable(_))
            | AppError::Sms(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_)
            | AppError::Store(StoreError::Invalid(_) | StoreError::Corrupt { .. })
            | AppError::KeyVault(KeyVaultError::Rejected) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told; internal details stay in the log.
    fn public_message(&self) -> String {
        match self {
            AppError::Invalid(_) => "the request has invalid values; see errors".into(),
            AppError::Unauthenticated(_) => "authentication required: a valid bearer token of an active user".into(),
            AppError::Forbidden => "you are not allowed to do this".into(),
            AppError::NotProven(_) => "a secret given does not match; see errors".into(),
            AppError::StateConflict(_) => "the current state does not allow this; see errors".into(),
            AppError::Store(StoreError::ConditionFailed | StoreError::Conflict | StoreError::TransactionCancelled { .. }) => {
                "the resource was changed meanwhile; read it again and retry".into()
            }
            error if error.status() == StatusCode::SERVICE_UNAVAILABLE => "a dependency is unavailable; retry later".into(),
            error if error.status().is_server_error() => "internal error; quote the logref to support".into(),
            error => error.to_string(),
        }
    }
}

/// The error's chain of sources, outermost first (for the log only).
fn causes(error: &AppError) -> String {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes.join(": ")
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let logref = uuid::Uuid::new_v4().simple().to_string();
        if status.is_server_error() {
            let causes = causes(&self);
            tracing::error!(%logref, status = status.as_u16(), error = %self, %causes, detail = ?self, "request failed");
        } else {
            tracing::info!(%logref, status = status.as_u16(), error = %self, "request refused");
        }
        let detail = |f: &FieldError| ErrorDetail {
            path: f.path.to_string(),
            message: f.message.clone(),
        };
        let (errors, error_count) = match &self {
            AppError::Invalid(violations) => (violations.iter().map(detail).collect(), Some(violations.total())),
            AppError::NotProven(field) | AppError::StateConflict(field) => (vec![detail(field)], Some(1)),
            _ => (Vec::new(), None),
        };
        let body = ErrorBody {
            message: self.public_message(),
            logref,
            data: None,
            errors,
            error_count,
        };
        let retry_after = match &self {
            AppError::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        match status {
            StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("disk on fire")]
    struct Cause;

    #[tokio::test]
    async fn an_internal_error_keeps_its_source_for_the_log_and_never_sends_it() {
        let error = AppError::internal(Cause);
        assert_eq!(causes(&error), "disk on fire");
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["message"], "internal error; quote the logref to support");
        assert!(!body.to_string().contains("fire"));
    }

    #[tokio::test]
    async fn a_validation_error_lists_the_first_violations_and_counts_them_all() {
        use crate::domain::validation::{FieldError, MAX_REPORTED, Violations};
        let violations: Violations = (0..250).map(|i| FieldError::body(format!("/{i}"), "is bad")).collect();
        let response = AppError::Invalid(violations).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["errors"].as_array().unwrap().len(), MAX_REPORTED);
        assert_eq!(body["errors"][0]["path"], "/0");
        assert_eq!(body["errorCount"], 250);
    }

    #[tokio::test]
    async fn a_failed_proof_and_a_state_conflict_name_their_field() {
        for (error, status, path) in [
            (
                AppError::NotProven(FieldError::body("/code", "is wrong")),
                StatusCode::FORBIDDEN,
                "/code",
            ),
            (
                AppError::StateConflict(FieldError::body("/active", "needs a phone")),
                StatusCode::CONFLICT,
                "/active",
            ),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), status);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
            assert_eq!(body["errors"][0]["path"], path, "{body}");
            assert_eq!(body["errorCount"], 1);
        }
    }
}
