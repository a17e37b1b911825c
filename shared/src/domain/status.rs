//! Each application's status, UP or DOWN, as customer care and platform services set it,
//! with every change kept: who made it, when, and in which order.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::catalogue::{Catalogue, Stage};
use super::ids::UserPk;
use super::validation::{FieldError, Violations};

/// Whether an application is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AppStatus {
    Up,
    Down,
}

impl AppStatus {
    /// The status named `text` as the API spells it (`UP`, `DOWN`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "UP" => Some(AppStatus::Up),
            "DOWN" => Some(AppStatus::Down),
            _ => None,
        }
    }
}

/// Whether the platform has `application` in `stage`: only the applications of the
/// options catalogue have a status.
pub fn is_application(stage: Stage, application: &str) -> bool {
    Catalogue::get().has_application(stage, application)
}

/// A change's place in its application's history: 1 for the first change, one more for
/// each after it, so that ids sort as the changes happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChangeId(pub u64);

impl ChangeId {
    /// The id written as [`fmt::Display`] writes it (an event stream's `Last-Event-ID`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok().map(ChangeId))
            .flatten()
    }
}

impl fmt::Display for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One change of an application's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub id: ChangeId,
    pub application: String,
    pub status: AppStatus,
    /// Who set it.
    pub by: UserPk,
    pub at: Timestamp,
}

/// An application's status now, and the change that set it (none when it was never set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentStatus {
    pub status: AppStatus,
    pub last_change: Option<StatusChange>,
}

impl CurrentStatus {
    /// The status `last_change` set; UP when the status was never set.
    pub fn after(last_change: Option<StatusChange>) -> Self {
        Self {
            status: last_change.as_ref().map_or(AppStatus::Up, |change| change.status),
            last_change,
        }
    }

    /// The change that sets `application` to `status`, by `by` at `at`, next in its
    /// history; `None` when the application has that status already (nothing changes).
    pub fn change_to(&self, application: &str, status: AppStatus, by: UserPk, at: Timestamp) -> Option<StatusChange> {
        (status != self.status).then(|| StatusChange {
            id: ChangeId(self.last_change.as_ref().map_or(0, |change| change.id.0) + 1),
            application: application.to_owned(),
            status,
            by,
            at,
        })
    }
}

/// setApplicationStatus's body, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawStatusUpdate {
    pub status: Option<String>,
}

impl RawStatusUpdate {
    /// The status asked for: `/status` is required, UP or DOWN.
    pub fn validate(self) -> Result<AppStatus, Violations> {
        let status = self
            .status
            .ok_or_else(|| Violations::from(FieldError::body("/status", "is required")))?;
        AppStatus::parse(&status)
            .ok_or_else(|| Violations::from(FieldError::body("/status", format!("{status:?} is not a status; use UP or DOWN"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn a_status_never_set_is_up() {
        let never = CurrentStatus::after(None);
        assert_eq!(never.status, AppStatus::Up);
        assert_eq!(never.change_to("hub", AppStatus::Up, UserPk(1), at(10)), None, "UP is no change");
    }

    #[test]
    fn changes_are_numbered_in_order_and_kept_with_who_and_when() {
        let first = CurrentStatus::after(None)
            .change_to("hub", AppStatus::Down, UserPk(1), at(10))
            .unwrap();
        assert_eq!(
            first,
            StatusChange {
                id: ChangeId(1),
                application: "hub".into(),
                status: AppStatus::Down,
                by: UserPk(1),
                at: at(10)
            }
        );
        let current = CurrentStatus::after(Some(first.clone()));
        assert_eq!(current.status, AppStatus::Down);
        assert_eq!(current.change_to("hub", AppStatus::Down, UserPk(30), at(20)), None);
        let second = current.change_to("hub", AppStatus::Up, UserPk(30), at(20)).unwrap();
        assert_eq!((second.id, second.by), (ChangeId(2), UserPk(30)));
        assert!(second.id > first.id);
    }

    #[test]
    fn the_body_names_a_bad_status() {
        let status = |text: Option<&str>| {
            RawStatusUpdate {
                status: text.map(str::to_owned),
            }
            .validate()
        };
        assert_eq!(status(Some("UP")), Ok(AppStatus::Up));
        assert_eq!(status(Some("DOWN")), Ok(AppStatus::Down));
        for bad in [Some("up"), Some("MAINTENANCE"), Some(""), None] {
            let errors = status(bad).unwrap_err();
            assert_eq!(errors[0].path.to_string(), "/status", "{bad:?}");
        }
    }

    #[test]
    fn change_ids_read_back_as_written() {
        assert_eq!(ChangeId::parse(&ChangeId(42).to_string()), Some(ChangeId(42)));
        for bad in ["", "-1", "4 2", "x", "+3", "99999999999999999999999"] {
            assert_eq!(ChangeId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn applications_are_those_of_the_catalogue() {
        assert!(is_application(Stage::Dev, "hub"));
        assert!(is_application(Stage::Dev, "demo_client"));
        assert!(!is_application(Stage::Prod, "demo_client"));
        assert!(!is_application(Stage::Dev, "nonexistent"));
    }
}
