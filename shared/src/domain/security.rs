//! Security events, the lockout that consecutive failed logins cause, and each user's
//! first and last access per application.

use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::ids::UserPk;
use super::validation::Violations;

/// What happened. The authorization server reports the first five
/// ([`SecurityEventType::REPORTED`]); the service records the rest itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecurityEventType {
    Login,
    LoginFailed,
    Logout,
    PasswordChanged,
    PinChanged,
    PasswordReset,
    PinReset,
    LockedOut,
    Unlocked,
    Suspended,
    Reactivated,
    /// The account was disabled with its customer (a provisioning job's deactivation).
    Disabled,
    TwoFactorEnabled,
    TwoFactorDisabled,
    CellPhoneVerified,
}

impl SecurityEventType {
    /// Every type, in the order of the API document.
    pub const ALL: [SecurityEventType; 15] = [
        Self::Login,
        Self::LoginFailed,
        Self::Logout,
        Self::PasswordChanged,
        Self::PinChanged,
        Self::PasswordReset,
        Self::PinReset,
        Self::LockedOut,
        Self::Unlocked,
        Self::Suspended,
        Self::Reactivated,
        Self::Disabled,
        Self::TwoFactorEnabled,
        Self::TwoFactorDisabled,
        Self::CellPhoneVerified,
    ];

    /// The types `recordSecurityEvent` accepts.
    pub const REPORTED: [SecurityEventType; 5] = [
        Self::Login,
        Self::LoginFailed,
        Self::Logout,
        Self::PasswordChanged,
        Self::PinChanged,
    ];

    /// The type named `text` as the API spells it (`LOGIN_FAILED`).
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }

    /// The name as the API spells it.
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => unreachable!("a unit variant serializes to its name"),
        }
    }
}

/// One security event of one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEvent {
    /// Sortable by time: the instant in milliseconds, then a random part.
    pub id: String,
    pub user_pk: UserPk,
    #[serde(rename = "type")]
    pub event_type: SecurityEventType,
    pub application: Option<String>,
    pub at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Who caused it when not the user itself (an administrator).
    pub by_user_pk: Option<UserPk>,
}

impl SecurityEvent {
    /// An event of `user` at `at`, given a fresh id; `by` is the administrator who caused
    /// it, if any.
    pub fn new(user: UserPk, event_type: SecurityEventType, at: Timestamp, by: Option<UserPk>) -> Self {
        Self {
            id: format!(
                "{:013}{}",
                at.as_millisecond().max(0),
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            ),
            user_pk: user,
            event_type,
            application: None,
            at,
            ip: None,
            user_agent: None,
            by_user_pk: by,
        }
    }
}

/// The security settings of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityPolicy {
    /// Consecutive failed logins that lock an account.
    pub lockout_threshold: u64,
    /// How long a lockout lasts.
    pub lockout_period: SignedDuration,
    /// How long a password lasts before it must be changed.
    pub password_lifetime: SignedDuration,
    /// How long security events are kept.
    pub event_retention: SignedDuration,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self {
            lockout_threshold: 5,
            lockout_period: SignedDuration::from_mins(15),
            password_lifetime: SignedDuration::from_hours(90 * 24),
            event_retention: SignedDuration::from_hours(400 * 24),
        }
    }
}

/// A setting given a value it cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be an integer in {min}..={max}, not {value:?}")]
pub struct BadSetting {
    pub name: &'static str,
    pub value: String,
    pub min: u64,
    pub max: u64,
}

impl SecurityPolicy {
    /// The defaults, with whichever of `LOCKOUT_THRESHOLD`, `LOCKOUT_MINUTES` and
    /// `PASSWORD_LIFETIME_DAYS` `setting` returns a value for.
    pub fn configured(setting: impl Fn(&str) -> Option<String>) -> Result<Self, BadSetting> {
        let read = |name: &'static str, min: u64, max: u64| -> Result<Option<u64>, BadSetting> {
            let Some(value) = setting(name) else { return Ok(None) };
            match value.trim().parse::<u64>() {
                Ok(number) if (min..=max).contains(&number) => Ok(Some(number)),
                _ => Err(BadSetting { name, value, min, max }),
            }
        };
        let mut policy = Self::default();
        if let Some(threshold) = read("LOCKOUT_THRESHOLD", 1, 100)? {
            policy.lockout_threshold = threshold;
        }
        if let Some(minutes) = read("LOCKOUT_MINUTES", 1, 24 * 60)? {
            policy.lockout_period = SignedDuration::from_mins(minutes as i64);
        }
        if let Some(days) = read("PASSWORD_LIFETIME_DAYS", 1, 3650)? {
            policy.password_lifetime = SignedDuration::from_hours(days as i64 * 24);
        }
        Ok(policy)
    }

    /// When a failed login at `at`, the `consecutive`-th in a row, locks the account
    /// until: once the threshold is reached, each failure outside a lockout starts one
    /// (so after a lockout ends, every further wrong guess costs another period). A
    /// failure during a lockout does not extend it.
    pub fn lock_after_failure(&self, consecutive: u64, lockout: &Lockout, at: Timestamp) -> Option<Timestamp> {
        (consecutive >= self.lockout_threshold && !lockout.is_locked(at)).then(|| at + self.lockout_period)
    }

    /// When events recorded at `at` are dropped.
    pub fn event_expiry(&self, at: Timestamp) -> Timestamp {
        at + self.event_retention
    }
}

/// A user's failed-login state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lockout {
    /// Failed logins since the last successful one (or unlock).
    pub consecutive_failures: u64,
    /// Logins are refused until this instant.
    pub locked_until: Option<Timestamp>,
}

impl Lockout {
    /// Whether logins are refused at `now`.
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// When the lockout in force at `now` ends; `None` when there is none.
    pub fn expiration(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| *until > now)
    }
}

/// A user's first and last access to one application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppAccess {
    pub first_access: Timestamp,
    pub last_access: Timestamp,
}

impl AppAccess {
    /// The access after a login at `at` (events may arrive out of order).
    pub fn after_login(previous: Option<AppAccess>, at: Timestamp) -> AppAccess {
        match previous {
            None => AppAccess {
                first_access: at,
                last_access: at,
            },
            Some(access) => AppAccess {
                first_access: access.first_access.min(at),
                last_access: access.last_access.max(at),
            },
        }
    }
}

/// Who a reported event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSubject {
    UserPk(UserPk),
    Username(String),
}

/// A security event as the authorization server reports it, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawSecurityReport {
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub user_pk: Option<i64>,
    pub username: Option<String>,
    pub application: Option<String>,
    pub timestamp: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A validated report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityReport {
    pub subject: EventSubject,
    pub event_type: SecurityEventType,
    pub application: String,
    pub at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Application names: what OAuth2 client ids look like.
pub fn is_application_name(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

const MAX_USER_AGENT: usize = 1024;
/// How far ahead of our clock a reported event may be (the reporter's clock skew).
const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

impl RawSecurityReport {
    /// Validates every field, naming each bad one; `now` bounds the timestamp, which
    /// must lie within the retention period and not in the future.
    pub fn validate(self, policy: &SecurityPolicy, now: Timestamp) -> Result<SecurityReport, Violations> {
        let mut violations = Violations::new();
        let event_type = match self.event_type.as_deref().map(|t| (t, SecurityEventType::parse(t))) {
            Some((_, Some(event_type))) if SecurityEventType::REPORTED.contains(&event_type) => Some(event_type),
            Some((text, _)) => {
                violations.body(
                    "/type",
                    format!("{text:?} is not one of LOGIN, LOGIN_FAILED, LOGOUT, PASSWORD_CHANGED, PIN_CHANGED"),
                );
                None
            }
            None => {
                violations.body("/type", "is required");
                None
            }
        };
        let subject = match (self.user_pk, self.username) {
            (Some(_), Some(_)) => {
                violations.body("/username", "give either userPk or username, not both");
                None
            }
            (Some(user), None) if user > 0 => Some(EventSubject::UserPk(UserPk(user))),
            (Some(_), None) => {
                violations.body("/userPk", "must be a positive integer");
                None
            }
            (None, Some(username)) if !username.trim().is_empty() && username.chars().count() <= 254 => {
                Some(EventSubject::Username(username.trim().to_owned()))
            }
            (None, Some(_)) => {
                violations.body("/username", "must be 1 to 254 characters");
                None
            }
            (None, None) => {
                violations.body("/userPk", "either userPk or username is required");
                None
            }
        };
        let application = match self.application {
            Some(application) if is_application_name(&application) => Some(application),
            Some(_) => {
                violations.body("/application", "must be 1 to 64 letters, digits, '.', '_' or '-'");
                None
            }
            None => {
                violations.body("/application", "is required");
                None
            }
        };
        let at = match self.timestamp.map(Timestamp::from_millisecond) {
            None => Some(now),
            Some(Ok(at)) if at <= now + MAX_CLOCK_SKEW && at > now - policy.event_retention => Some(at),
            Some(_) => {
                violations.body(
                    "/timestamp",
                    "must be an instant in epoch milliseconds, not in the future nor older than the retention period",
                );
                None
            }
        };
        let ip = self.ip.filter(|ip| {
            let valid = ip.parse::<IpAddr>().is_ok();
            if !valid {
                violations.body("/ip", "must be an IPv4 or IPv6 address");
            }
            valid
        });
        let user_agent = self.user_agent.filter(|agent| {
            let valid = agent.chars().count() <= MAX_USER_AGENT && !agent.chars().any(char::is_control);
            if !valid {
                violations.body(
                    "/userAgent",
                    format!("must be at most {MAX_USER_AGENT} characters without control characters"),
                );
            }
            valid
        });
        violations.into_result(())?;
        Ok(SecurityReport {
            subject: subject.expect("a bad subject recorded a violation"),
            event_type: event_type.expect("a bad type recorded a violation"),
            application: application.expect("a bad application recorded a violation"),
            at: at.expect("a bad timestamp recorded a violation"),
            ip,
            user_agent,
        })
    }
}

impl SecurityReport {
    /// The event this report records about `user`.
    pub fn event(&self, user: UserPk) -> SecurityEvent {
        SecurityEvent {
            application: Some(self.application.clone()),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            ..SecurityEvent::new(user, self.event_type, self.at, None)
        }
    }
}

/// Which of a user's events a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub event_type: Option<SecurityEventType>,
    pub exclude_applications: Vec<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl EventFilter {
    /// Whether the filter lets `event` through (the time range is applied by the query).
    pub fn admits(&self, event: &SecurityEvent) -> bool {
        self.event_type.is_none_or(|t| t == event.event_type)
            && !event
                .application
                .as_ref()
                .is_some_and(|app| self.exclude_applications.iter().any(|excluded| excluded == app))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-05T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_threshold_locks_and_a_lockout_is_not_extended() {
        let policy = SecurityPolicy::default();
        let open = Lockout::default();
        assert_eq!(policy.lock_after_failure(4, &open, now()), None);
        let until = policy.lock_after_failure(5, &open, now()).unwrap();
        assert_eq!(until, now() + SignedDuration::from_mins(15));
        let locked = Lockout {
            consecutive_failures: 5,
            locked_until: Some(until),
        };
        assert!(locked.is_locked(now()));
        assert_eq!(policy.lock_after_failure(6, &locked, now() + SignedDuration::from_mins(1)), None);
        // Once it has ended, the next failure locks again.
        let later = until + SignedDuration::from_secs(1);
        assert!(!locked.is_locked(later));
        assert_eq!(locked.expiration(later), None);
        assert_eq!(policy.lock_after_failure(7, &locked, later), Some(later + policy.lockout_period));
    }

    #[test]
    fn settings_override_the_defaults_within_bounds() {
        let policy = SecurityPolicy::configured(|name| (name == "LOCKOUT_THRESHOLD").then(|| "3".into())).unwrap();
        assert_eq!(policy.lockout_threshold, 3);
        assert_eq!(policy.lockout_period, SignedDuration::from_mins(15));
        let error = SecurityPolicy::configured(|name| (name == "LOCKOUT_MINUTES").then(|| "0".into())).unwrap_err();
        assert_eq!(error.name, "LOCKOUT_MINUTES");
    }

    #[test]
    fn a_report_is_checked_field_by_field() {
        let raw = RawSecurityReport {
            event_type: Some("LOCKED_OUT".into()),
            user_pk: Some(12),
            username: Some("ada".into()),
            application: Some("hub app".into()),
            timestamp: Some((now() + SignedDuration::from_hours(1)).as_millisecond()),
            ip: Some("300.1.1.1".into()),
            user_agent: Some("a\u{7}".into()),
        };
        let errors = raw.validate(&SecurityPolicy::default(), now()).unwrap_err();
        let paths: Vec<String> = errors.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, ["/type", "/username", "/application", "/timestamp", "/ip", "/userAgent"]);

        let report = RawSecurityReport {
            event_type: Some("LOGIN_FAILED".into()),
            username: Some("ada".into()),
            application: Some("hub".into()),
            ip: Some("2001:db8::1".into()),
            ..RawSecurityReport::default()
        }
        .validate(&SecurityPolicy::default(), now())
        .unwrap();
        assert_eq!(report.at, now());
        assert_eq!(report.subject, EventSubject::Username("ada".into()));
        let event = report.event(UserPk(12));
        assert_eq!(event.event_type, SecurityEventType::LoginFailed);
        assert!(event.id.starts_with(&format!("{:013}", now().as_millisecond())));
    }

    #[test]
    fn accesses_keep_the_earliest_and_latest_logins() {
        let first = AppAccess::after_login(None, now());
        let earlier = now() - SignedDuration::from_hours(1);
        let access = AppAccess::after_login(Some(first), earlier);
        assert_eq!(access.first_access, earlier);
        assert_eq!(access.last_access, now());
    }

    #[test]
    fn type_names_round_trip() {
        for name in ["LOGIN", "LOGIN_FAILED", "TWO_FACTOR_ENABLED", "CELL_PHONE_VERIFIED"] {
            assert_eq!(SecurityEventType::parse(name).unwrap().name(), name);
        }
        assert_eq!(SecurityEventType::parse("login"), None);
    }
}
