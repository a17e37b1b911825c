//! User representations.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::domain::ids::UserPk;
use crate::domain::user::{RawProfile, Sex, User, UserStatus, UserType};

/// Personal info, as `getMe` returns it and `updateMe` takes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub user_pk: UserPk,
    pub name: String,
    pub surname: String,
    pub username: String,
    pub email: String,
    pub group_name: String,
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
    pub fn new(user: &User, group_name: String) -> Self {
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

impl UserInfoInput {
    /// The fields of the profile proper.
    pub fn profile(&self) -> RawProfile {
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
