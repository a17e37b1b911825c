//! Field-level validation failures, collected so that every bad field is named at once.

use std::fmt;

/// Where a bad value was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldPath {
    /// A JSON pointer into the request body, such as `/timezone`.
    Body(String),
    /// A query parameter, by name.
    Query(String),
    /// A path parameter, by name.
    Path(String),
    /// A request header, by name.
    Header(String),
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldPath::Body(pointer) => f.write_str(pointer),
            // Parameters go by bare name; body pointers always start with '/'.
            FieldPath::Query(name) | FieldPath::Path(name) | FieldPath::Header(name) => f.write_str(name),
        }
    }
}

/// One bad field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: FieldPath,
    pub message: String,
}

impl FieldError {
    /// A bad body field, by JSON pointer.
    pub fn body(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: FieldPath::Body(pointer.into()),
            message: message.into(),
        }
    }

    /// A bad query parameter.
    pub fn query(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: FieldPath::Query(name.into()),
            message: message.into(),
        }
    }

    /// A bad request header.
    pub fn header(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: FieldPath::Header(name.into()),
            message: message.into(),
        }
    }

    /// A bad path parameter.
    pub fn path(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: FieldPath::Path(name.into()),
            message: message.into(),
        }
    }
}

/// Collects field errors; empty means valid.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records a bad body field.
    pub fn body(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(FieldError::body(pointer, message));
    }

    /// Every violation recorded.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(value)` when nothing was recorded, else every violation.
    pub fn into_result<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() { Ok(value) } else { Err(self.0) }
    }
}
