//! The security reports on a user and on a customer's team: which security events a
//! listing shows, which applications usage is reported for, and what counts as an issue.

use std::str::FromStr;

use jiff::Timestamp;
use serde::Serialize;

use super::security::{EventFilter, Lockout, SecurityEventType, is_application_name};
use super::user::{User, UserStatus, UserType};
use super::validation::{FieldError, Violations};

/// A security-event listing's filters as the query string gives them, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEventFilter<'a> {
    /// `type`.
    pub event_type: Option<&'a str>,
    /// Every `exclude-app`.
    pub exclude_applications: Vec<&'a str>,
    /// `from` and `to`, instants in epoch milliseconds.
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
}

/// Every type name, for the message that refuses an unknown one.
fn type_names() -> String {
    SecurityEventType::ALL.map(SecurityEventType::name).join(", ")
}

impl RawEventFilter<'_> {
    /// Checks each filter, naming every bad parameter: an unknown type, an application
    /// name that cannot be one, an instant out of range, `to` before `from`.
    pub fn validate(self) -> Result<EventFilter, Violations> {
        let mut violations = Violations::new();
        let event_type = self.event_type.and_then(|text| {
            let parsed = SecurityEventType::parse(text);
            if parsed.is_none() {
                violations.push(FieldError::query(
                    "type",
                    format!("{text:?} is not a security event type; use one of {}", type_names()),
                ));
            }
            parsed
        });
        if let Some(bad) = self.exclude_applications.iter().find(|app| !is_application_name(app)) {
            violations.push(FieldError::query(
                "exclude-app",
                format!("{bad:?} is not an application name (1 to 64 letters, digits, '.', '_' or '-')"),
            ));
        }
        let mut instant = |name: &str, raw: Option<&str>| {
            raw.and_then(
                |raw| match raw.trim().parse::<i64>().map(|ms| (ms, Timestamp::from_millisecond(ms))) {
                    Ok((millis, Ok(at))) if millis >= 0 => Some(at),
                    _ => {
                        violations.push(FieldError::query(name, "must be an instant in epoch milliseconds, from 0"));
                        None
                    }
                },
            )
        };
        let from = instant("from", self.from);
        let to = instant("to", self.to);
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            violations.push(FieldError::query("to", "must not be before from"));
        }
        violations.into_result(EventFilter {
            event_type,
            exclude_applications: self.exclude_applications.into_iter().map(str::to_owned).collect(),
            from,
            to,
        })
    }
}

/// The applications whose usage is reported per customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UsageApplication {
    Cdata,
    Cplan,
    Flow,
    Hub,
    Send,
    Srr,
}

impl UsageApplication {
    /// The name as the API and the recorded events spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cdata => "cdata",
            Self::Cplan => "cplan",
            Self::Flow => "flow",
            Self::Hub => "hub",
            Self::Send => "send",
            Self::Srr => "srr",
        }
    }

    /// How a refusal lists the names.
    pub const NAMES: &'static str = "cdata, cplan, flow, hub, send or srr";
}

impl FromStr for UsageApplication {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        [Self::Cdata, Self::Cplan, Self::Flow, Self::Hub, Self::Send, Self::Srr]
            .into_iter()
            .find(|app| app.as_str() == text)
            .ok_or(())
    }
}

/// Why a user needs an administrator's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserIssue {
    Suspended,
    Disabled,
    LockedOut,
    PasswordExpired,
    UnverifiedPhoneWithTwoFactor,
}

/// The issues of `user` at `now`, in the order of [`UserIssue`]; empty when it has none.
/// `password_expires_at` is when its password expires (`None`: it has none). An
/// APPLICATION user's password is its client secret, which does not expire the way a
/// person's password does, so it is never a PASSWORD_EXPIRED; nor does an APPLICATION
/// user use two-factor.
pub fn issues(user: &User, lockout: &Lockout, password_expires_at: Option<Timestamp>, now: Timestamp) -> Vec<UserIssue> {
    let person = user.user_type == UserType::Interactive;
    let mut issues = Vec::new();
    match user.status {
        UserStatus::Suspended => issues.push(UserIssue::Suspended),
        UserStatus::Disabled => issues.push(UserIssue::Disabled),
        UserStatus::Active => {}
    }
    if lockout.is_locked(now) {
        issues.push(UserIssue::LockedOut);
    }
    if person && password_expires_at.is_some_and(|expiry| expiry <= now) {
        issues.push(UserIssue::PasswordExpired);
    }
    if person && user.two_factor && !user.cell_phone_verified {
        issues.push(UserIssue::UnverifiedPhoneWithTwoFactor);
    }
    issues
}

/// How many days back the failed-login report may look.
pub const FAILED_LOGIN_DAYS: std::ops::RangeInclusive<i64> = 1..=30;
/// How many days it looks back when not told.
pub const DEFAULT_FAILED_LOGIN_DAYS: i64 = 7;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{GroupPk, UserPk};
    use jiff::SignedDuration;

    fn now() -> Timestamp {
        "2026-12-05T10:00:00Z".parse().unwrap()
    }

    fn user() -> User {
        User {
            cell_phone: Some("+390000000".into()),
            ..User::new(UserPk(7), "ada", "Ada", "Lovelace", "ada@example.test", GroupPk(101), now())
        }
    }

    fn paths(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(|e| e.path.to_string()).collect()
    }

    #[test]
    fn filters_are_checked_and_named() {
        let filter = RawEventFilter {
            event_type: Some("LOGIN_FAILED"),
            exclude_applications: vec!["hub", "send"],
            from: Some("10"),
            to: Some("10"),
        }
        .validate()
        .unwrap();
        assert_eq!(filter.event_type, Some(SecurityEventType::LoginFailed));
        assert_eq!(filter.exclude_applications, ["hub", "send"]);
        assert_eq!(filter.from, filter.to);

        let errors = RawEventFilter {
            event_type: Some("login"),
            exclude_applications: vec!["hub", ""],
            from: Some("20"),
            to: Some("10"),
        }
        .validate()
        .unwrap_err();
        assert_eq!(paths(&errors), ["type", "exclude-app", "to"]);
        assert!(errors[0].message.contains("\"login\""), "{}", errors[0].message);

        let errors = RawEventFilter {
            from: Some("-1"),
            to: Some("9223372036854775807"),
            ..RawEventFilter::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(paths(&errors), ["from", "to"]);
        let errors = RawEventFilter {
            from: Some("yesterday"),
            to: Some(""),
            ..RawEventFilter::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(paths(&errors), ["from", "to"]);
        assert_eq!(RawEventFilter::default().validate().unwrap(), EventFilter::default());
    }

    #[test]
    fn usage_applications_are_the_six_named() {
        for name in ["cdata", "cplan", "flow", "hub", "send", "srr"] {
            assert_eq!(name.parse::<UsageApplication>().unwrap().as_str(), name);
        }
        for name in ["mail", "HUB", "", "plan"] {
            assert!(name.parse::<UsageApplication>().is_err(), "{name}");
        }
    }

    #[test]
    fn issues_are_listed_in_order() {
        let mut user = user();
        assert!(issues(&user, &Lockout::default(), None, now()).is_empty());
        user.status = UserStatus::Suspended;
        user.two_factor = true;
        let locked = Lockout {
            consecutive_failures: 5,
            locked_until: Some(now() + SignedDuration::from_mins(1)),
        };
        assert_eq!(
            issues(&user, &locked, Some(now()), now()),
            [
                UserIssue::Suspended,
                UserIssue::LockedOut,
                UserIssue::PasswordExpired,
                UserIssue::UnverifiedPhoneWithTwoFactor
            ]
        );
        // A lockout that has ended and a password still valid are no issues.
        user.status = UserStatus::Disabled;
        user.cell_phone_verified = true;
        let ended = Lockout {
            locked_until: Some(now() - SignedDuration::from_mins(1)),
            ..locked
        };
        let later = now() + SignedDuration::from_hours(1);
        assert_eq!(issues(&user, &ended, Some(later), now()), [UserIssue::Disabled]);
    }

    #[test]
    fn an_application_users_secret_is_no_expired_password() {
        let mut robot = user();
        robot.user_type = UserType::Application;
        robot.two_factor = true;
        assert!(issues(&robot, &Lockout::default(), Some(now()), now()).is_empty());
    }
}
