//! User representations.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::domain::ids::UserPk;
use crate::domain::user::{Profile, RawProfile, Sex, User, UserStatus, UserType};
use crate::domain::validation::Violations;

/// Personal info, as `getMe` returns it and `updateMe` takes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub user_pk: UserPk,
    pub name: String,
    pub surname: String,
    pub username: String,
    pub email: String,
    /// The name of the customer the user was created in; `None` where the reader does not reach it.
    pub group_name: Option<String>,
    pub phone: Option<String>,
    pub cell_phone: Option<String>,
    pub date_of_birth: Option<Date>,
    pub sex: Option<Sex>,
    pub cell_phone_verified: bool,
    pub status: UserStatus,
    pub user_type: UserType,
}

impl UserInfo {
    /// The representation of `user`, whose creation customer is called `group_name`.
    pub fn new(user: &User, group_name: Option<String>) -> Self {
        Self {
            user_pk: user.user_pk,
            name: user.name.clone(),
            surname: user.surname.clone(),
            username: user.username.clone(),
            email: user.email.clone(),
            group_name,
            phone: user.phone.clone(),
            cell_phone: user.cell_phone.clone(),
            date_of_birth: user.date_of_birth,
            sex: user.sex,
            cell_phone_verified: user.cell_phone_verified,
            status: user.status,
            user_type: user.user_type,
        }
    }
}

/// The `UserInfo` body of an update: loose types so that validation names each bad field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfoInput {
    pub user_pk: Option<i64>,
    pub name: Option<String>,
    pub surname: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub group_name: Option<String>,
    pub phone: Option<String>,
    pub cell_phone: Option<String>,
    pub date_of_birth: Option<String>,
    pub sex: Option<String>,
    pub cell_phone_verified: Option<bool>,
    pub status: Option<UserStatus>,
    pub user_type: Option<UserType>,
}

/// Who may change a user's status through a profile update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// The user itself: the status stays as it is.
    Refused,
    /// An administrator: may disable or re-enable, but suspension has its own operation.
    EnableOrDisable,
}

impl UserInfoInput {
    /// Validates an update of `current`: the profile, and the fields that cannot change
    /// this way (400 naming each when they differ). Returns the profile and the status.
    pub fn validate(&self, current: &User, today: Date, status: StatusChange) -> Result<(Profile, UserStatus), Violations> {
        let mut violations = Violations::new();
        let mut unchanged = |pointer: &str, same: bool| {
            if !same {
                violations.body(pointer, "cannot be changed");
            }
        };
        unchanged("/userPk", self.user_pk.is_none_or(|pk| pk == current.user_pk.0));
        unchanged("/username", self.username.as_deref().is_none_or(|name| name == current.username));
        unchanged("/userType", self.user_type.is_none_or(|kind| kind == current.user_type));
        unchanged(
            "/cellPhoneVerified",
            self.cell_phone_verified
                .is_none_or(|verified| verified == current.cell_phone_verified),
        );
        let new_status = self.status.unwrap_or(current.status);
        if new_status != current.status {
            match status {
                StatusChange::Refused => violations.body("/status", "cannot be changed"),
                StatusChange::EnableOrDisable if new_status == UserStatus::Suspended || current.status == UserStatus::Suspended => {
                    violations.body("/status", "suspension is set with PUT /v1/users/{userPk}/suspension")
                }
                StatusChange::EnableOrDisable => {}
            }
        }
        let profile = Profile::parse(self.profile(), today, &mut violations);
        violations
            .into_result(profile)
            .map(|profile| (profile.expect("a profile that failed to parse recorded a violation"), new_status))
    }

    /// The fields of the profile proper.
    fn profile(&self) -> RawProfile {
        RawProfile {
            name: self.name.clone(),
            surname: self.surname.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            cell_phone: self.cell_phone.clone(),
            date_of_birth: self.date_of_birth.clone(),
            sex: self.sex.clone(),
        }
    }
}

/// When and by whom a user was last suspended or reactivated.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuspensionInfo {
    pub suspended: bool,
    pub date: Option<Timestamp>,
    pub by_user_pk: Option<UserPk>,
}

/// Personal info plus the suspension information (`getUser`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDetails {
    #[serde(flatten)]
    pub info: UserInfo,
    pub suspension_info: SuspensionInfo,
}

impl UserDetails {
    /// The representation of `user`, as [`UserInfo::new`] makes it.
    pub fn new(user: &User, group_name: Option<String>) -> Self {
        Self {
            info: UserInfo::new(user, group_name),
            suspension_info: SuspensionInfo {
                suspended: user.status == UserStatus::Suspended,
                date: user.suspension.as_ref().map(|s| s.date),
                by_user_pk: user.suspension.as_ref().and_then(|s| s.by_user_pk),
            },
        }
    }
}
