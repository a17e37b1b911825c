//! Implementations of the ports: `aws` for production, `embedded` for the local
//! stand-in and tests. The conformance suites hold both to the same behaviour.
//! `feeds` reads news feeds the same way on both.

pub(crate) mod aead;
pub mod aws;
pub mod embedded;
pub mod feeds;
pub mod metered;
pub mod unwired;
