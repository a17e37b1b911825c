//! Authentication: JWT access tokens, verified against the issuer's keys.

pub mod tokens;
