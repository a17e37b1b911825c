//! What an operation does once its caller is let in, when two operations share it: the
//! caller's own (`/v1/user/...`) and an administrator's on a team member
//! (`/v1/users/{userPk}/...`) run the same function, which takes the account acted on
//! and who acts. Rules stay in the domain, storage in the repositories; these functions
//! put them in order.

pub mod associations;
pub mod credentials;
pub mod notifications;
pub mod security;
