//! User representations.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::domain::ids::UserPk;
use crate::domain::user::{Profile, RawProfile, Sex, User, UserStatus, UserType};
use crate::domain::validation::{Violations, present};

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

/// The `UserInfo` body of an update (a full replacement): loose types so that validation names
/// each bad field; a nullable field is `None` when omitted and `Some(None)` when null.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfoInput {
    #[serde(default, deserialize_with = "present")]
    pub user_pk: Option<Option<i64>>,
    pub name: Option<String>,
    pub surname: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub username: Option<Option<String>>,
    pub email: Option<String>,
    pub group_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub cell_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub date_of_birth: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub sex: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub cell_phone_verified: Option<Option<bool>>,
    pub status: Option<UserStatus>,
    #[serde(default, deserialize_with = "present")]
    pub user_type: Option<Option<UserType>>,
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
        // A read-only field may be left out; sent, it is the user's own (null is not).
        unchanged("/userPk", self.user_pk.is_none_or(|pk| pk == Some(current.user_pk.0)));
        unchanged(
            "/username",
            self.username
                .as_ref()
                .is_none_or(|name| name.as_deref() == Some(current.username.as_str())),
        );
        unchanged("/userType", self.user_type.is_none_or(|kind| kind == Some(current.user_type)));
        unchanged(
            "/cellPhoneVerified",
            self.cell_phone_verified
                .is_none_or(|verified| verified == Some(current.cell_phone_verified)),
        );
        // A full replacement carries every field but the read-only ones; null clears a nullable one.
        for (pointer, carried) in [
            ("/phone", self.phone.is_some()),
            ("/cellPhone", self.cell_phone.is_some()),
            ("/dateOfBirth", self.date_of_birth.is_some()),
            ("/sex", self.sex.is_some()),
            ("/status", self.status.is_some()),
        ] {
            if !carried {
                violations.body(pointer, "is required");
            }
        }
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
            phone: self.phone.clone().flatten(),
            cell_phone: self.cell_phone.clone().flatten(),
            date_of_birth: self.date_of_birth.clone().flatten(),
            sex: self.sex.clone().flatten(),
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
