//! Users: who they are and the rules for changing their profile.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::catalogue::Catalogue;
use super::ids::{GroupPk, UserPk};
use super::validation::Violations;

/// Whether a user may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Active,
    /// Blocked after suspicious activity.
    Suspended,
    /// Disabled by an administrator.
    Disabled,
}

impl UserStatus {
    /// The status as the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            UserStatus::Active => "ACTIVE",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Disabled => "DISABLED",
        }
    }
}

/// Why a suspension or reactivation cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuspensionRefused {
    #[error("user {user} is {status:?}, not {expected:?}")]
    NotIn {
        user: UserPk,
        status: UserStatus,
        expected: UserStatus,
    },
    #[error("you cannot suspend yourself")]
    Oneself,
}

/// Two-factor cannot be turned on without a verified cell phone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("two-factor authentication needs a verified cell phone: request and verify a verification code first")]
pub struct TwoFactorRefused;

/// A profile update neither suspends nor reactivates: suspension has its own operation,
/// which records who suspended and when.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("suspension is set with PUT /v1/users/{{userPk}}/suspension")]
pub struct SuspendedElsewhere;

/// Verification codes go to the user's cell phone, and the user has none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the user has no cell phone number; set cellPhone in the profile first")]
pub struct NoCellPhone;

/// A person, or an application's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserType {
    Interactive,
    Application,
}

impl UserType {
    /// The type as the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            UserType::Interactive => "INTERACTIVE",
            UserType::Application => "APPLICATION",
        }
    }
}

/// M or F, as the API document defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    M,
    F,
}

/// When and by whom a user was suspended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suspension {
    pub date: Timestamp,
    pub by_user_pk: Option<UserPk>,
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_pk: UserPk,
    pub username: String,
    pub name: String,
    pub surname: String,
    pub email: String,
    pub phone: Option<String>,
    pub cell_phone: Option<String>,
    pub date_of_birth: Option<Date>,
    pub sex: Option<Sex>,
    pub cell_phone_verified: bool,
    pub status: UserStatus,
    pub user_type: UserType,
    pub creation_group_pk: GroupPk,
    pub picture: Option<String>,
    pub external: bool,
    pub suspension: Option<Suspension>,
    /// Whether logins need the PIN sent by SMS as well (effective only with a verified cell phone).
    #[serde(default)]
    pub two_factor: bool,
    pub created_at: Timestamp,
}

impl User {
    /// A new user as every creation starts one: ACTIVE, interactive, with its names and
    /// e-mail and nothing else (no phones, date of birth, picture, suspension or two-factor).
    pub fn new(
        user_pk: UserPk,
        username: impl Into<String>,
        name: impl Into<String>,
        surname: impl Into<String>,
        email: impl Into<String>,
        creation_group_pk: GroupPk,
        created_at: Timestamp,
    ) -> User {
        User {
            user_pk,
            username: username.into(),
            name: name.into(),
            surname: surname.into(),
            email: email.into(),
            phone: None,
            cell_phone: None,
            date_of_birth: None,
            sex: None,
            cell_phone_verified: false,
            status: UserStatus::Active,
            user_type: UserType::Interactive,
            creation_group_pk,
            picture: None,
            external: false,
            suspension: None,
            two_factor: false,
            created_at,
        }
    }

    /// Suspends (`suspended`) or reactivates the user, as `by` at `at`. Asking for the
    /// state the user is already in changes nothing (`Ok(false)`); a disabled user is
    /// neither suspended nor reactivated this way, and nobody suspends themselves.
    pub fn set_suspended(&mut self, suspended: bool, by: UserPk, at: Timestamp) -> Result<bool, SuspensionRefused> {
        let (from, to) = if suspended {
            (UserStatus::Active, UserStatus::Suspended)
        } else {
            (UserStatus::Suspended, UserStatus::Active)
        };
        if self.status == to {
            return Ok(false);
        }
        if self.status != from {
            return Err(SuspensionRefused::NotIn {
                user: self.user_pk,
                status: self.status,
                expected: from,
            });
        }
        if by == self.user_pk {
            return Err(SuspensionRefused::Oneself);
        }
        self.status = to;
        self.suspension = Some(Suspension {
            date: at,
            by_user_pk: Some(by),
        });
        Ok(true)
    }

    /// Sets the status as a profile update does: ACTIVE and DISABLED are interchangeable
    /// there, but a change to or from SUSPENDED is made by suspension alone.
    pub fn set_status(&mut self, status: UserStatus) -> Result<(), SuspendedElsewhere> {
        if status != self.status && (status == UserStatus::Suspended || self.status == UserStatus::Suspended) {
            return Err(SuspendedElsewhere);
        }
        self.status = status;
        Ok(())
    }

    /// The cell phone verification codes go to.
    pub fn code_phone(&self) -> Result<&str, NoCellPhone> {
        self.cell_phone.as_deref().ok_or(NoCellPhone)
    }

    /// Disables the user (its customer is deactivated); `false` when it already was.
    /// Its tokens are refused from then on.
    pub fn disable(&mut self) -> bool {
        let changed = self.status != UserStatus::Disabled;
        self.status = UserStatus::Disabled;
        changed
    }

    /// Whether logins ask for the PIN sent by SMS: two-factor on, with a verified cell phone.
    pub fn pin_active(&self) -> bool {
        self.two_factor && self.cell_phone_verified && self.cell_phone.is_some()
    }

    /// Turns two-factor on or off; `Ok(false)` when it already was. Turning it on needs a
    /// verified cell phone, where the PIN would go.
    pub fn set_two_factor(&mut self, active: bool) -> Result<bool, TwoFactorRefused> {
        if active == self.two_factor {
            return Ok(false);
        }
        if active && !(self.cell_phone_verified && self.cell_phone.is_some()) {
            return Err(TwoFactorRefused);
        }
        self.two_factor = active;
        Ok(true)
    }

    /// After a lost phone: two-factor off and the cell phone to be verified again.
    pub fn reset_pin(&mut self) {
        self.two_factor = false;
        self.cell_phone_verified = false;
    }

    /// Applies a validated profile change. A new cell phone number must be verified
    /// again, and two-factor waits for it: the PIN would go to an unproven number.
    pub fn apply_profile(&mut self, profile: Profile) {
        if profile.cell_phone != self.cell_phone {
            self.cell_phone_verified = false;
            self.two_factor = false;
        }
        self.name = profile.name;
        self.surname = profile.surname;
        self.email = profile.email;
        self.phone = profile.phone;
        self.cell_phone = profile.cell_phone;
        self.date_of_birth = profile.date_of_birth;
        self.sex = profile.sex;
    }
}

/// The fields of a user that the user (or an admin) may change, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub surname: String,
    pub email: String,
    pub phone: Option<String>,
    pub cell_phone: Option<String>,
    pub date_of_birth: Option<Date>,
    pub sex: Option<Sex>,
}

const MAX_NAME_CHARS: usize = 100;

impl Profile {
    /// Validates raw profile fields, naming each bad one by its JSON pointer.
    pub fn parse(raw: RawProfile, today: Date, violations: &mut Violations) -> Option<Profile> {
        let name = required_text(raw.name, "/name", violations);
        let surname = required_text(raw.surname, "/surname", violations);
        let email = match raw.email {
            Some(email) if is_email(&email) => Some(email.trim().to_owned()),
            Some(_) => {
                violations.body("/email", "must be an e-mail address");
                None
            }
            None => {
                violations.body("/email", "is required");
                None
            }
        };
        let phone = raw.phone.filter(|phone| {
            let ok = is_phone(phone);
            if !ok {
                violations.body("/phone", "must be a phone number: digits, spaces, +, -, parentheses");
            }
            ok
        });
        let cell_phone = raw.cell_phone.filter(|phone| {
            let ok = is_e164(phone);
            if !ok {
                violations.body("/cellPhone", "must be an E.164 number such as +393401234567");
            }
            ok
        });
        let date_of_birth = match raw.date_of_birth {
            None => None,
            // RFC 3339's full-date only: jiff would take other ISO 8601 spellings too.
            Some(text) if !is_full_date(&text) => {
                violations.body("/dateOfBirth", "must be a date as YYYY-MM-DD");
                None
            }
            Some(text) => match text.parse::<Date>() {
                Ok(date) if date <= today && date.year() >= 1900 => Some(date),
                Ok(_) => {
                    violations.body("/dateOfBirth", "must be a past date after 1900");
                    None
                }
                Err(_) => {
                    violations.body("/dateOfBirth", "must be a date as YYYY-MM-DD");
                    None
                }
            },
        };
        let sex = match raw.sex.as_deref() {
            None => None,
            Some("M") => Some(Sex::M),
            Some("F") => Some(Sex::F),
            Some(_) => {
                violations.body("/sex", "must be M or F");
                None
            }
        };
        Some(Profile {
            name: name?,
            surname: surname?,
            email: email?,
            phone,
            cell_phone,
            date_of_birth,
            sex,
        })
    }
}

/// Profile fields as they arrive, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawProfile {
    pub name: Option<String>,
    pub surname: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub cell_phone: Option<String>,
    pub date_of_birth: Option<String>,
    pub sex: Option<String>,
}

/// The send role a send pattern stands for: `default` sends, `noSend` prepares but
/// cannot send, `onlyStat` only reads statistics.
pub fn send_pattern_role(pattern: &str) -> Option<&'static str> {
    match pattern {
        "default" => Some("SENDER"),
        "noSend" => Some("EDITOR"),
        "onlyStat" => Some("VIEWER"),
        _ => None,
    }
}

/// A new team member as `createCustomerUser` asks for it, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawNewUser {
    pub username: Option<String>,
    pub name: Option<String>,
    pub surname: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub sex: Option<String>,
    pub hub: Option<String>,
    pub cplan: Option<String>,
    pub flow: Option<String>,
    pub send: Option<String>,
}

/// A validated new team member: who they are, their language and their application roles.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub username: String,
    pub profile: Profile,
    pub language: String,
    /// Application → role.
    pub roles: Vec<(String, String)>,
}

const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=64;

/// 3 to 64 characters: letters, digits, `.`, `_`, `@`, `-`, starting with a letter or digit.
pub fn is_username(text: &str) -> bool {
    USERNAME_CHARS.contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c))
}

impl RawNewUser {
    /// Validates every field against the rules and the catalogue, naming each bad one.
    pub fn validate(self, catalogue: &Catalogue, today: Date) -> Result<NewUser, Violations> {
        let mut violations = Violations::new();
        let username = match self.username {
            Some(username) if is_username(&username) => Some(username),
            Some(_) => {
                violations.body(
                    "/username",
                    "must be 3 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
                );
                None
            }
            None => {
                violations.body("/username", "is required");
                None
            }
        };
        if self.sex.is_none() {
            violations.body("/sex", "is required");
        }
        let profile = Profile::parse(
            RawProfile {
                name: self.name,
                surname: self.surname,
                email: self.email,
                sex: self.sex,
                ..RawProfile::default()
            },
            today,
            &mut violations,
        );
        let language = match self.language {
            Some(language) if catalogue.has_language(&language) => Some(language),
            Some(_) => {
                violations.body("/language", "must be one of the languages of getUserPreferenceOptions");
                None
            }
            None => {
                violations.body("/language", "is required");
                None
            }
        };
        let mut roles = Vec::new();
        for (application, role) in [("hub", self.hub), ("cplan", self.cplan), ("flow", self.flow)] {
            match role {
                Some(role) if catalogue.offers_role(application, &role) => roles.push((application.to_owned(), role)),
                Some(role) => violations.body(
                    format!("/{application}"),
                    format!("{application} offers no role {role:?} (see getAppRoles)"),
                ),
                None => {}
            }
        }
        match self.send.as_deref().map(|pattern| (pattern, send_pattern_role(pattern))) {
            Some((_, Some(role))) => roles.push(("send".to_owned(), role.to_owned())),
            Some((pattern, None)) => violations.body("/send", format!("{pattern:?} is not one of default, noSend, onlyStat")),
            None => {}
        }
        violations.into_result(())?;
        Ok(NewUser {
            username: username.expect("a bad username recorded a violation"),
            profile: profile.expect("a bad profile recorded a violation"),
            language: language.expect("a bad language recorded a violation"),
            roles,
        })
    }
}

/// A name as sent: at most [`MAX_NAME_CHARS`] characters, not blank; kept without the
/// white space around it.
fn required_text(value: Option<String>, pointer: &str, violations: &mut Violations) -> Option<String> {
    match value {
        Some(text) if !text.trim().is_empty() && text.chars().count() <= MAX_NAME_CHARS => Some(text.trim().to_owned()),
        Some(text) if text.trim().is_empty() => {
            violations.body(pointer, "must not be blank");
            None
        }
        Some(_) => {
            violations.body(pointer, format!("must be at most {MAX_NAME_CHARS} characters"));
            None
        }
        None => {
            violations.body(pointer, "is required");
            None
        }
    }
}

/// Blank optional text counts as absent.
/// A pragmatic address check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(text: &str) -> bool {
    let text = text.trim();
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A phone number as written: at most 32 characters, 6 to 20 of them digits, the others
/// spaces, `+`, `-` or parentheses.
fn is_phone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    text.len() <= 32 && (6..=20).contains(&digits) && text.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
}

/// `YYYY-MM-DD`.
fn is_full_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes
            .iter()
            .enumerate()
            .all(|(at, byte)| if at == 4 || at == 7 { *byte == b'-' } else { byte.is_ascii_digit() })
}

/// E.164: a plus sign, then 8 to 15 digits, the first not zero.
pub fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else { return false };
    (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::constant(2026, 11, 27)
    }

    #[test]
    fn statuses_and_types_are_named_as_they_are_written() {
        for status in [UserStatus::Active, UserStatus::Suspended, UserStatus::Disabled] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.name());
        }
        for user_type in [UserType::Interactive, UserType::Application] {
            assert_eq!(serde_json::to_value(user_type).unwrap(), user_type.name());
        }
    }

    fn valid() -> RawProfile {
        RawProfile {
            name: Some("Ada".into()),
            surname: Some("Lovelace".into()),
            email: Some("ada@example.test".into()),
            phone: Some("+39 02 1234567".into()),
            cell_phone: Some("+393401234567".into()),
            date_of_birth: Some("1990-12-10".into()),
            sex: Some("F".into()),
        }
    }

    fn user(cell_phone: Option<&str>, verified: bool) -> User {
        serde_json::from_value(serde_json::json!({
            "userPk": 7, "username": "ada", "name": "Ada", "surname": "Lovelace", "email": "ada@example.test",
            "phone": null, "cellPhone": cell_phone, "dateOfBirth": null, "sex": null, "cellPhoneVerified": verified,
            "status": "ACTIVE", "userType": "INTERACTIVE", "creationGroupPk": 101, "picture": null, "external": false,
            "suspension": null, "createdAt": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn two_factor_needs_a_verified_phone_and_a_pin_reset_undoes_both() {
        assert_eq!(user(Some("+393401234567"), false).set_two_factor(true), Err(TwoFactorRefused));
        assert_eq!(user(None, true).set_two_factor(true), Err(TwoFactorRefused));
        let mut verified = user(Some("+393401234567"), true);
        assert_eq!(verified.set_two_factor(false), Ok(false));
        assert_eq!(verified.set_two_factor(true), Ok(true));
        assert!(verified.pin_active());
        verified.reset_pin();
        assert!(!verified.pin_active() && !verified.two_factor && !verified.cell_phone_verified);
    }

    #[test]
    fn a_profile_update_neither_suspends_nor_reactivates() {
        let mut ada = user(None, false);
        assert_eq!(ada.set_status(UserStatus::Suspended), Err(SuspendedElsewhere));
        assert_eq!(ada.set_status(UserStatus::Disabled), Ok(()));
        assert_eq!(ada.set_status(UserStatus::Active), Ok(()));
        ada.status = UserStatus::Suspended;
        assert_eq!(ada.set_status(UserStatus::Active), Err(SuspendedElsewhere));
        assert_eq!(ada.set_status(UserStatus::Disabled), Err(SuspendedElsewhere));
        assert_eq!(ada.set_status(UserStatus::Suspended), Ok(()));
        assert_eq!(ada.status, UserStatus::Suspended);
    }

    #[test]
    fn codes_go_to_the_cell_phone_there_is() {
        assert_eq!(user(None, false).code_phone(), Err(NoCellPhone));
        assert_eq!(user(Some("+393401234567"), false).code_phone(), Ok("+393401234567"));
    }

    #[test]
    fn a_complete_profile_is_accepted() {
        let mut violations = Violations::new();
        let profile = Profile::parse(valid(), today(), &mut violations);
        assert!(violations.into_result(()).is_ok());
        assert_eq!(profile.unwrap().date_of_birth, Some(Date::constant(1990, 12, 10)));
    }

    #[test]
    fn fields_are_judged_as_sent_as_the_document_types_them() {
        // Blank is not null: the document's patterns and formats refuse "".
        let blank = RawProfile {
            phone: Some("".into()),
            cell_phone: Some("".into()),
            date_of_birth: Some("".into()),
            sex: Some("".into()),
            ..valid()
        };
        let mut violations = Violations::new();
        Profile::parse(blank, today(), &mut violations);
        let paths: Vec<String> = violations.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, ["/phone", "/cellPhone", "/dateOfBirth", "/sex"]);
        // A name's length counts the white space sent around it, which is not kept.
        let mut violations = Violations::new();
        let padded = RawProfile {
            name: Some(format!(" {} ", "a".repeat(MAX_NAME_CHARS - 2))),
            ..valid()
        };
        assert_eq!(
            Profile::parse(padded, today(), &mut violations).unwrap().name,
            "a".repeat(MAX_NAME_CHARS - 2)
        );
        let mut violations = Violations::new();
        let too_long = RawProfile {
            name: Some(format!(" {} ", "a".repeat(MAX_NAME_CHARS - 1))),
            date_of_birth: Some("19901210".into()),
            ..valid()
        };
        assert!(Profile::parse(too_long, today(), &mut violations).is_none());
        let paths: Vec<String> = violations.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, ["/name", "/dateOfBirth"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let raw = RawProfile {
            name: Some(" ".into()),
            surname: None,
            email: Some("not-an-address".into()),
            phone: Some("call me".into()),
            cell_phone: Some("3401234567".into()),
            date_of_birth: Some("2999-01-01".into()),
            sex: Some("X".into()),
        };
        let mut violations = Violations::new();
        assert!(Profile::parse(raw, today(), &mut violations).is_none());
        let errors = violations.into_result(()).unwrap_err();
        let paths: Vec<String> = errors.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(
            paths,
            ["/name", "/surname", "/email", "/phone", "/cellPhone", "/dateOfBirth", "/sex"]
        );
    }

    #[test]
    fn a_new_user_is_checked_field_by_field() {
        let raw = RawNewUser {
            username: Some("-bad name".into()),
            name: Some("Ada".into()),
            surname: None,
            email: Some("ada@example.test".into()),
            language: Some("tlh".into()),
            sex: None,
            hub: Some("SENDER".into()),
            cplan: Some("PLANNER".into()),
            flow: None,
            send: Some("always".into()),
        };
        let errors = raw.validate(Catalogue::get(), today()).unwrap_err();
        let paths: Vec<String> = errors.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, ["/username", "/sex", "/surname", "/language", "/hub", "/send"]);

        let good = RawNewUser {
            username: Some("ada.l@acme".into()),
            surname: Some("Lovelace".into()),
            language: Some("en".into()),
            sex: Some("F".into()),
            hub: Some("EDITOR".into()),
            send: Some("onlyStat".into()),
            ..RawNewUser::default()
        };
        let raw = RawNewUser {
            name: Some("Ada".into()),
            email: Some("ada@example.test".into()),
            ..good
        };
        let user = raw.validate(Catalogue::get(), today()).unwrap();
        assert_eq!(
            user.roles,
            [("hub".to_owned(), "EDITOR".to_owned()), ("send".to_owned(), "VIEWER".to_owned())]
        );
    }

    #[test]
    fn e164_numbers() {
        assert!(is_e164("+393401234567"));
        assert!(!is_e164("393401234567"));
        assert!(!is_e164("+0123456789"));
        assert!(!is_e164("+39 340 1234567"));
    }
}
