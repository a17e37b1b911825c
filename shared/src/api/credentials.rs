//! Passwords, PIN, verification codes and two-factor as the API shows them.

use jiff::civil::Date;
use serde::{Deserialize, Serialize, Serializer};

use crate::domain::password::Password;
use crate::domain::secret::{ExposeSecret, SecretString};

/// `PasswordInfo`: UTC dates.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordInfo {
    pub update_date: Date,
    pub expire_date: Date,
    pub now: Date,
}

/// `ChangePasswordRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    pub old_password: Password,
    pub new_password: Password,
}

/// `PinStatus`.
#[derive(Debug, Clone, Serialize)]
pub struct PinStatus {
    pub active: bool,
}

/// `TwoFactorStatus`, answered and asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoFactorStatus {
    pub active: bool,
}

/// `VerificationCodeRequest`. The code prints as redacted: while it is valid, it is a secret.
#[derive(Clone, Deserialize)]
pub struct VerificationCodeRequest {
    pub code: u32,
}

impl std::fmt::Debug for VerificationCodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationCodeRequest { code: [REDACTED] }")
    }
}

/// The details of `PasswordResetResult`: the generated password, shown once. It prints
/// as redacted; only the response body carries it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordReset {
    #[serde(serialize_with = "expose")]
    pub new_password: SecretString,
}

fn expose<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

impl std::fmt::Debug for PasswordReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordReset { new_password: [REDACTED] }")
    }
}
