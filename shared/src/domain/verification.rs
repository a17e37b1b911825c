//! Verification codes sent by SMS to prove a cell phone: 6 digits from a CSPRNG, kept
//! only as a keyed hash (HMAC-SHA256), valid 10 minutes, at most 5 wrong attempts, and
//! at most 1 SMS a minute and 5 an hour per user.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::ids::UserPk;
use super::secret::{ExposeSecret, SecretBytes};

/// How long a code is valid.
pub const CODE_VALIDITY: SignedDuration = SignedDuration::from_mins(10);
/// Wrong attempts after which a code is dead, even for the right code.
pub const MAX_ATTEMPTS: u32 = 5;
/// The codes' highest value: six digits.
pub const MAX_CODE: u32 = 999_999;
const MINUTE: SignedDuration = SignedDuration::from_mins(1);
const HOUR: SignedDuration = SignedDuration::from_hours(1);
/// At most this many SMS an hour per user.
pub const SENDS_PER_HOUR: usize = 5;
/// The length of the key codes are hashed with.
pub const KEY_LENGTH: usize = 32;

/// A code as sent: never printed.
pub struct Code(u32);

impl Code {
    /// A fresh code, uniform over 000000..=999999.
    pub fn generate() -> Self {
        let random = SystemRandom::new();
        // Rejection sampling keeps the choice uniform.
        let limit = u32::MAX - u32::MAX % (MAX_CODE + 1);
        loop {
            let mut bytes = [0u8; 4];
            random.fill(&mut bytes).expect("the system CSPRNG is available");
            let value = u32::from_le_bytes(bytes);
            if value < limit {
                return Code(value % (MAX_CODE + 1));
            }
        }
    }

    /// A code as the user typed it; `None` when it has more than six digits.
    pub fn parse(value: u32) -> Option<Self> {
        (value <= MAX_CODE).then_some(Code(value))
    }

    /// Its six digits, for the SMS.
    pub fn digits(&self) -> String {
        format!("{:06}", self.0)
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code([REDACTED])")
    }
}

/// The key codes are hashed with: a secret of the deployment, kept sealed by the key vault.
pub struct CodeKey(hmac::Key);

impl CodeKey {
    /// The key from its bytes.
    pub fn new(bytes: &SecretBytes) -> Self {
        CodeKey(hmac::Key::new(hmac::HMAC_SHA256, bytes.expose_secret()))
    }

    /// Fresh key bytes.
    pub fn generate_bytes() -> SecretBytes {
        let mut bytes = vec![0u8; KEY_LENGTH];
        SystemRandom::new().fill(&mut bytes).expect("the system CSPRNG is available");
        SecretBytes::from(bytes)
    }

    /// The message a code's hash covers: the code is only good for this user and number.
    fn message(user: UserPk, phone: &str, code: &Code) -> Vec<u8> {
        format!("{user}\n{phone}\n{}", code.digits()).into_bytes()
    }

    /// The keyed hash of `code` sent to `user` at `phone` (base64).
    pub fn digest(&self, user: UserPk, phone: &str, code: &Code) -> String {
        STANDARD.encode(hmac::sign(&self.0, &Self::message(user, phone, code)).as_ref())
    }

    /// Whether `digest` is the hash of `code` for `user` at `phone`, compared in constant time.
    pub fn matches(&self, digest: &str, user: UserPk, phone: &str, code: &Code) -> bool {
        STANDARD
            .decode(digest)
            .is_ok_and(|tag| hmac::verify(&self.0, &Self::message(user, phone, code), &tag).is_ok())
    }
}

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey([REDACTED])")
    }
}

/// The code in force: its hash, where it was sent, when, and the wrong attempts so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCode {
    pub digest: String,
    pub phone: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub attempts: u32,
}

/// A user's verification state: the code in force, if any, and the SMS sent within the
/// last hour (for the rate limits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub code: Option<IssuedCode>,
    #[serde(default)]
    pub sent: Vec<Timestamp>,
}

/// Why no SMS is sent now: the time until one may be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}; retry in {} seconds", retry_after.as_secs())]
pub struct RateLimited {
    pub reason: &'static str,
    pub retry_after: SignedDuration,
}

/// Why a code does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefused {
    #[error("no verification code is pending; request a verification code first")]
    NoCode,
    #[error("the verification code has expired; request a new one")]
    Expired,
    #[error("the verification code was sent to another cell phone number; request a new one")]
    OtherPhone,
    #[error("the verification code is wrong; {0} attempts left")]
    Wrong(u32),
    /// Too many wrong attempts: the code is dead, even the right one.
    #[error("too many wrong attempts; request a new verification code")]
    Dead(RateLimited),
}

/// What an attempt to verify comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The code is right: the phone is verified and the code consumed.
    Verified(Verification),
    /// Refused; the state to store (one more wrong attempt), if it changed.
    Refused(CodeRefused, Option<Verification>),
}

/// Rounds up to whole seconds, at least one, as `Retry-After` counts.
fn at_least_a_second(wait: SignedDuration) -> SignedDuration {
    let seconds = wait.as_secs() + i64::from(wait.subsec_nanos() > 0);
    SignedDuration::from_secs(seconds.max(1))
}

impl Verification {
    /// When the record may be dropped: after its code and its last hour of sends.
    pub fn expiry(&self) -> Option<Timestamp> {
        let sends = self.sent.iter().max().map(|last| *last + HOUR);
        let code = self.code.as_ref().map(|code| code.expires_at);
        sends.max(code)
    }

    /// A new code sent to `phone` at `now`, replacing any other, if the rate limits allow
    /// an SMS now: at most one a minute and [`SENDS_PER_HOUR`] an hour.
    pub fn issue(&self, digest: String, phone: &str, now: Timestamp) -> Result<Verification, RateLimited> {
        let mut sent: Vec<Timestamp> = self.sent.iter().copied().filter(|at| *at + HOUR > now).collect();
        sent.sort();
        if let Some(last) = sent.last().filter(|last| **last + MINUTE > now) {
            return Err(RateLimited {
                reason: "at most one verification SMS a minute",
                retry_after: at_least_a_second(*last + MINUTE - now),
            });
        }
        if sent.len() >= SENDS_PER_HOUR {
            let oldest = sent[sent.len() - SENDS_PER_HOUR];
            return Err(RateLimited {
                reason: "at most 5 verification SMS an hour",
                retry_after: at_least_a_second(oldest + HOUR - now),
            });
        }
        sent.push(now);
        Ok(Verification {
            code: Some(IssuedCode {
                digest,
                phone: phone.to_owned(),
                issued_at: now,
                expires_at: now + CODE_VALIDITY,
                attempts: 0,
            }),
            sent,
        })
    }

    /// Weighs an attempt at `now` for a user whose cell phone is `phone`; `matches` tells
    /// whether the code typed hashes to the code in force.
    pub fn attempt(&self, matches: impl FnOnce(&IssuedCode) -> bool, phone: &str, now: Timestamp) -> Attempt {
        let Some(code) = &self.code else {
            return Attempt::Refused(CodeRefused::NoCode, None);
        };
        if code.attempts >= MAX_ATTEMPTS {
            let next_send = self.sent.iter().max().map_or(now, |last| *last + MINUTE);
            return Attempt::Refused(
                CodeRefused::Dead(RateLimited {
                    reason: "too many wrong attempts",
                    retry_after: at_least_a_second(next_send - now),
                }),
                None,
            );
        }
        if code.expires_at <= now {
            return Attempt::Refused(CodeRefused::Expired, None);
        }
        if code.phone != phone {
            return Attempt::Refused(CodeRefused::OtherPhone, None);
        }
        if matches(code) {
            return Attempt::Verified(Verification {
                code: None,
                sent: self.sent.clone(),
            });
        }
        let attempts = code.attempts + 1;
        let after = Verification {
            code: Some(IssuedCode { attempts, ..code.clone() }),
            sent: self.sent.clone(),
        };
        Attempt::Refused(CodeRefused::Wrong(MAX_ATTEMPTS - attempts), Some(after))
    }
}

/// The SMS text carrying `code`, in the user's language (Italian or English, English otherwise).
pub fn sms_text(language: &str, code: &Code) -> String {
    let digits = code.digits();
    match language.split(['-', '_']).next().unwrap_or_default() {
        "it" => format!("Il tuo codice di verifica AccountCentral è {digits}. Scade tra 10 minuti."),
        _ => format!("Your AccountCentral verification code is {digits}. It expires in 10 minutes."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-05T10:00:00Z".parse().unwrap()
    }

    const PHONE: &str = "+393401234567";

    fn key() -> CodeKey {
        CodeKey::new(&CodeKey::generate_bytes())
    }

    #[test]
    fn codes_have_six_digits_and_never_print() {
        let code = Code::generate();
        assert_eq!(code.digits().len(), 6);
        assert!(!format!("{code:?}").contains(&code.digits()));
        assert!(Code::parse(1_000_000).is_none());
        assert_eq!(Code::parse(42).unwrap().digits(), "000042");
    }

    #[test]
    fn a_digest_matches_its_code_user_and_phone_only() {
        let key = key();
        let code = Code::parse(123_456).unwrap();
        let digest = key.digest(UserPk(7), PHONE, &code);
        assert!(key.matches(&digest, UserPk(7), PHONE, &code));
        assert!(!key.matches(&digest, UserPk(8), PHONE, &code));
        assert!(!key.matches(&digest, UserPk(7), "+393400000000", &code));
        assert!(!key.matches(&digest, UserPk(7), PHONE, &Code::parse(123_457).unwrap()));
        let other = CodeKey::new(&CodeKey::generate_bytes());
        assert!(!other.matches(&digest, UserPk(7), PHONE, &code), "another key");
        assert!(!digest.contains("123456"));
    }

    #[test]
    fn one_sms_a_minute_and_five_an_hour() {
        let mut state = Verification::default();
        let mut at = now();
        for _ in 0..5 {
            state = state.issue("d".into(), PHONE, at).unwrap();
            let refused = state.issue("d".into(), PHONE, at + SignedDuration::from_secs(20)).unwrap_err();
            assert_eq!(refused.retry_after, SignedDuration::from_secs(40));
            at += SignedDuration::from_mins(2);
        }
        let refused = state.issue("d".into(), PHONE, at).unwrap_err();
        assert_eq!(refused.reason, "at most 5 verification SMS an hour");
        assert_eq!(refused.retry_after, now() + HOUR - at);
        // An hour after the first, one more.
        assert!(state.issue("d".into(), PHONE, now() + HOUR).is_ok());
    }

    #[test]
    fn five_wrong_attempts_kill_the_code() {
        let mut state = Verification::default().issue("d".into(), PHONE, now()).unwrap();
        for left in (0..MAX_ATTEMPTS).rev() {
            match state.attempt(|_| false, PHONE, now()) {
                Attempt::Refused(CodeRefused::Wrong(n), Some(after)) => {
                    assert_eq!(n, left);
                    state = after;
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            state.attempt(|_| true, PHONE, now()),
            Attempt::Refused(CodeRefused::Dead(_), None)
        ));
    }

    #[test]
    fn a_right_code_verifies_once_within_ten_minutes_for_its_phone() {
        let state = Verification::default().issue("d".into(), PHONE, now()).unwrap();
        let Attempt::Verified(after) = state.attempt(|_| true, PHONE, now() + SignedDuration::from_mins(9)) else {
            panic!("verified")
        };
        assert_eq!(after.code, None);
        assert_eq!(after.attempt(|_| true, PHONE, now()), Attempt::Refused(CodeRefused::NoCode, None));
        assert_eq!(
            state.attempt(|_| true, PHONE, now() + CODE_VALIDITY),
            Attempt::Refused(CodeRefused::Expired, None)
        );
        assert_eq!(
            state.attempt(|_| true, "+15551234567", now()),
            Attempt::Refused(CodeRefused::OtherPhone, None)
        );
    }

    #[test]
    fn the_text_speaks_the_users_language() {
        let code = Code::parse(7).unwrap();
        assert!(sms_text("it", &code).contains("codice di verifica AccountCentral è 000007"));
        assert!(sms_text("en", &code).starts_with("Your"));
        assert!(sms_text("de", &code).starts_with("Your"));
    }
}
