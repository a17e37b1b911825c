//! Authentication (JWT access tokens) and the authenticated caller.

pub mod caller;
pub mod tokens;
