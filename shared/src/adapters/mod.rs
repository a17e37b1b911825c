//! Implementations of the ports: `aws` for production, `embedded` for the local
//! stand-in and tests. The conformance suites hold both to the same behaviour.

pub(crate) mod aead;
pub mod aws;
pub mod embedded;
pub mod metered;
