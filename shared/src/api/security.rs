//! Security events and lockouts as the API shows them.

use jiff::Timestamp;
use serde::Serialize;

use crate::domain::ids::UserPk;
use crate::domain::security::{Lockout, SecurityEvent, SecurityEventType};

/// `SecurityEvent`: the instant in epoch milliseconds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEventView {
    pub id: String,
    pub user_pk: UserPk,
    #[serde(rename = "type")]
    pub event_type: SecurityEventType,
    pub application: Option<String>,
    pub timestamp: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub by_user_pk: Option<UserPk>,
}

impl From<SecurityEvent> for SecurityEventView {
    fn from(event: SecurityEvent) -> Self {
        Self {
            id: event.id,
            user_pk: event.user_pk,
            event_type: event.event_type,
            application: event.application,
            timestamp: event.at.as_millisecond(),
            ip: event.ip,
            user_agent: event.user_agent,
            by_user_pk: event.by_user_pk,
        }
    }
}

/// `LockoutInfo`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LockoutInfo {
    pub locked_out: bool,
    pub lock_expiration_date: Option<Timestamp>,
}

impl LockoutInfo {
    /// The lockout as it stands at `now`.
    pub fn at(lockout: &Lockout, now: Timestamp) -> Self {
        let expiration = lockout.expiration(now);
        Self {
            locked_out: expiration.is_some(),
            lock_expiration_date: expiration,
        }
    }
}
