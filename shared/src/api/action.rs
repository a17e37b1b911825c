//! `ActionResult`: the answer of an operation without a resource to return.

use jiff::Timestamp;
use serde::Serialize;

/// `{timestamp, result, resultCode}`, plus the operation's own details.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult<T = NoDetails> {
    /// Epoch milliseconds.
    pub timestamp: i64,
    pub result: &'static str,
    pub result_code: &'static str,
    #[serde(flatten)]
    pub details: T,
}

/// Details of an action that has none.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct NoDetails {}

impl ActionResult {
    /// A successful action completed at `at`, coded as `code`.
    pub fn ok(at: Timestamp, code: &'static str) -> Self {
        Self::with(at, code, NoDetails {})
    }
}

impl<T> ActionResult<T> {
    /// A successful action with details.
    pub fn with(at: Timestamp, code: &'static str, details: T) -> Self {
        Self {
            timestamp: at.as_millisecond(),
            result: "OK",
            result_code: code,
            details,
        }
    }
}
