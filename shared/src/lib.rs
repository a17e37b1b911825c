//! AccountCentral's common crate: the domain, the ports it needs from the world,
//! their AWS and embedded adapters, the repositories over the store, and the HTTP
//! plumbing every function shares.

pub mod actions;
pub mod adapters;
pub mod api;
pub mod app;
pub mod auth;
pub mod changes;
pub mod consumer;
pub mod domain;
pub mod error;
pub mod http;
pub mod lambda;
pub mod ports;
pub mod repositories;

/// Every process of the project (the functions, the stand-in, their tests) allocates
/// with mimalloc: under glibc's allocator, malloc and free were a fifth of a request's
/// instructions (`scripts/count-instructions`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
