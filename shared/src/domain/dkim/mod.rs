//! DKIM in the service's terms: the records and their rules, and which of a customer's
//! keys signs. The engine itself (keys, parsing, canonicalization, signatures, names) is
//! the `dkim_engine` crate.

pub mod records;
pub mod selection;
