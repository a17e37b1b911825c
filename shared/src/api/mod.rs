//! Wire representations shared by several functions, as the API document shows them.

pub mod customers;
pub mod users;
