//! User representations.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::domain::ids::UserPk;
use crate::domain::user::{Profile, RawProfile, Sex, User, UserStatus, UserType};
use crate::domain::validation::{Violations, present};

/// Personal info, as `getMe`, `updateMe` and `updateUser` return it.
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

/// The body of a user's PUT, a full replacement of what the request schema lists: loose
/// types so that validation names each bad field; a nullable field is `None` when omitted
/// and `Some(None)` when null. Any property it does not list is ignored, such as the
/// read-only ones of the `UserInfo` a client read and sends back. `S` is what it makes of
/// `status`: see [`UserInfoReplacement`] and [`UserProfileReplacement`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replacement<S> {
    pub name: Option<String>,
    pub surname: Option<String>,
    pub email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub cell_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub date_of_birth: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub sex: Option<Option<String>>,
    #[serde(default)]
    pub status: S,
}

/// `updateUser`'s body (`UserInfoReplacement`): the profile and the status, required.
pub type UserInfoReplacement = Replacement<Option<UserStatus>>;

/// `updateMe`'s body (`UserProfileReplacement`): the profile alone. A user does not set its
/// own status, so a `status` sent is ignored, whatever its value, like any property not listed.
pub type UserProfileReplacement = Replacement<IgnoredAny>;

impl<S> Replacement<S> {
    /// Validates the profile: every field it lists is required, null clears a nullable one.
    pub fn validate_profile(&self, today: Date) -> Result<Profile, Violations> {
        let mut violations = Violations::new();
        let profile = self.profile(today, &mut violations);
        violations.into_result(profile).map(Self::parsed)
    }

    /// The profile, each bad or missing field recorded in `violations`.
    fn profile(&self, today: Date, violations: &mut Violations) -> Option<Profile> {
        for (pointer, carried) in [
            ("/phone", self.phone.is_some()),
            ("/cellPhone", self.cell_phone.is_some()),
            ("/dateOfBirth", self.date_of_birth.is_some()),
            ("/sex", self.sex.is_some()),
        ] {
            if !carried {
                violations.body(pointer, "is required");
            }
        }
        let raw = RawProfile {
            name: self.name.clone(),
            surname: self.surname.clone(),
            email: self.email.clone(),
            phone: self.phone.clone().flatten(),
            cell_phone: self.cell_phone.clone().flatten(),
            date_of_birth: self.date_of_birth.clone().flatten(),
            sex: self.sex.clone().flatten(),
        };
        Profile::parse(raw, today, violations)
    }

    fn parsed(profile: Option<Profile>) -> Profile {
        profile.expect("a profile that failed to parse recorded a violation")
    }
}

impl UserInfoReplacement {
    /// Validates the profile and the status (400 naming each bad field). Whether the
    /// user may take that status is the user's rule ([`User::set_status`]).
    pub fn validate(&self, today: Date) -> Result<(Profile, UserStatus), Violations> {
        let mut violations = Violations::new();
        let profile = self.profile(today, &mut violations);
        if self.status.is_none() {
            violations.body("/status", "is required");
        }
        violations
            .into_result((profile, self.status))
            .map(|(profile, status)| (Self::parsed(profile), status.expect("a missing status recorded a violation")))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body() -> serde_json::Value {
        json!({
            "name": "Ada", "surname": "Lovelace", "email": "ada@example.test", "phone": null,
            "cellPhone": "+393401234567", "dateOfBirth": "1990-12-10", "sex": "F", "status": "DISABLED",
            // Read-only in UserInfo, not listed here: ignored, whatever their values.
            "userPk": 99, "username": 5, "groupName": ["x"], "cellPhoneVerified": "yes", "userType": null,
        })
    }

    fn today() -> Date {
        Date::constant(2026, 12, 5)
    }

    #[test]
    fn a_replacement_ignores_the_properties_it_does_not_list() {
        let input: UserInfoReplacement = serde_json::from_value(body()).unwrap();
        let (profile, status) = input.validate(today()).unwrap();
        assert_eq!((profile.name.as_str(), status), ("Ada", UserStatus::Disabled));
    }

    #[test]
    fn the_caller_s_own_replacement_ignores_any_status() {
        for status in [json!("SUSPENDED"), json!(5), json!(null)] {
            let mut body = body();
            body["status"] = status;
            let input: UserProfileReplacement = serde_json::from_value(body).unwrap();
            assert_eq!(input.validate_profile(today()).unwrap().surname, "Lovelace");
        }
        let mut body = body();
        body.as_object_mut().unwrap().remove("status");
        let input: UserProfileReplacement = serde_json::from_value(body).unwrap();
        assert!(input.validate_profile(today()).is_ok(), "status is not required");
    }

    #[test]
    fn every_listed_field_is_required_and_the_status_for_an_administrator() {
        let input: UserInfoReplacement =
            serde_json::from_value(json!({"name": "Ada", "surname": "Lovelace", "email": "ada@example.test"})).unwrap();
        let violations = input.validate(today()).unwrap_err();
        let paths: Vec<String> = violations.iter().map(|v| v.path.to_string()).collect();
        assert_eq!(paths, ["/phone", "/cellPhone", "/dateOfBirth", "/sex", "/status"]);
    }
}
