//! DKIM in the service's terms: which of a customer's keys signs. The engine itself
//! (keys, parsing, canonicalization, signatures, names) is the `dkim_engine` crate.

pub mod selection;
