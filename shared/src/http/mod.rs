//! HTTP plumbing shared by every function: the error format, extractors, paging,
//! and the wrapper applying the platform's conventions.

pub mod cache;
pub mod error;
pub mod extract;
pub mod paging;
pub mod service;
