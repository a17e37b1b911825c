//! Passwords: argon2id hashes (never the password itself), the policy a new password
//! must satisfy, the history that keeps old ones from coming back, and random passwords.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use super::secret::{ExposeSecret, SecretString};

/// The shortest password the policy accepts, in characters.
pub const MIN_LENGTH: usize = 10;
/// The longest password the policy accepts, in characters (argon2 takes any length; this
/// bounds the work a request can cause).
pub const MAX_LENGTH: usize = 128;
/// How many of the latest passwords (the current one included) a new one must differ from.
pub const HISTORY: usize = 5;
/// The length of a password made by a reset.
pub const GENERATED_LENGTH: usize = 16;

/// A user's stored password: the hash, the hashes of the passwords before it, and when
/// it must be changed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordRecord {
    /// PHC string of the argon2id hash.
    pub hash: String,
    pub updated_at: Timestamp,
    pub expires_at: Timestamp,
    /// The hashes of the passwords before this one, newest first, at most
    /// [`HISTORY`] - 1 (records from before the history have none).
    #[serde(default)]
    pub previous: Vec<String>,
}

impl PasswordRecord {
    /// A first password, with no history.
    pub fn new(hash: String, updated_at: Timestamp, expires_at: Timestamp) -> Self {
        Self {
            hash,
            updated_at,
            expires_at,
            previous: Vec::new(),
        }
    }

    /// The record after replacing this password with `hash` at `at`: this one joins the
    /// history, which keeps the latest [`HISTORY`] passwords in all.
    pub fn replaced(&self, hash: String, at: Timestamp, expires_at: Timestamp) -> Self {
        let mut previous = Vec::with_capacity(HISTORY - 1);
        previous.push(self.hash.clone());
        previous.extend(self.previous.iter().cloned());
        previous.truncate(HISTORY - 1);
        Self {
            hash,
            updated_at: at,
            expires_at,
            previous,
        }
    }

    /// The hashes a new password must not match: the current one and those before it.
    pub fn recent(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.as_str()).chain(self.previous.iter().map(String::as_str))
    }
}

/// A password as it arrives in a request body: never printed.
pub struct Password(pub SecretString);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| Password(SecretString::from(text)))
    }
}

/// Why the policy refuses a new password; each message tells the user what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefused {
    #[error("must be at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("must be at most {MAX_LENGTH} characters")]
    TooLong,
    #[error("must not contain your {0}")]
    ContainsIdentity(&'static str),
    /// Too easy to guess; the estimator's explanation.
    #[error("is too easy to guess: {0}")]
    Weak(String),
    #[error("must differ from your last {HISTORY} passwords")]
    Reused,
}

/// The current password given is not the user's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not your current password")]
pub struct WrongPassword;

/// Why a password change is refused: the current password given is checked first, and
/// the new one is judged only for the holder of the current one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefused {
    #[error("{0}")]
    WrongOld(WrongPassword),
    #[error("{0}")]
    New(PasswordRefused),
}

/// Checks a new password against the policy, short of its history (which needs the
/// hashes, see [`PasswordRecord::recent`]): its length, that it does not contain the
/// user's username or e-mail address, and its strength as zxcvbn estimates it (at least
/// 10^10 guesses, score 3), which also knows common passwords, keyboard patterns, dates
/// and the user's own names.
pub fn check_policy(password: &SecretString, username: &str, email: &str) -> Result<(), PasswordRefused> {
    let text = password.expose_secret();
    let length = text.chars().count();
    if length < MIN_LENGTH {
        return Err(PasswordRefused::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(PasswordRefused::TooLong);
    }
    let lowered = text.to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default();
    if contains_word(&lowered, username) {
        return Err(PasswordRefused::ContainsIdentity("username"));
    }
    if contains_word(&lowered, email) || contains_word(&lowered, local_part) {
        return Err(PasswordRefused::ContainsIdentity("e-mail address"));
    }
    let estimate = zxcvbn::zxcvbn(text, &[username, email, local_part]);
    if estimate.score() < zxcvbn::Score::Three {
        let reason = estimate
            .feedback()
            .map(|feedback| {
                let mut parts: Vec<String> = feedback.warning().map(|w| w.to_string()).into_iter().collect();
                parts.extend(feedback.suggestions().iter().map(ToString::to_string));
                parts.join(" ")
            })
            .filter(|reason| !reason.is_empty())
            .unwrap_or_else(|| "Add another word or two. Uncommon words are better.".into());
        return Err(PasswordRefused::Weak(reason));
    }
    Ok(())
}

/// Whether `password` (lowercase) contains `word`, for words long enough to matter.
fn contains_word(password: &str, word: &str) -> bool {
    let word = word.trim().to_lowercase();
    word.chars().count() >= 4 && password.contains(&word)
}

impl std::fmt::Debug for PasswordRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRecord")
            .field("updated_at", &self.updated_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What can go wrong hashing.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes with argon2id at the OWASP-recommended parameters (19 MiB, 2 passes).
pub fn hash(password: &SecretString) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    SystemRandom::new().fill(&mut salt).map_err(|_| HashError("no randomness".into()))?;
    Argon2::default()
        .hash_password_with_salt(password.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored `hash`.
pub fn verify(password: &SecretString, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of a password nobody knows, made once per process, at the same parameters.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash(&generate(GENERATED_LENGTH)).expect("hashing a random password succeeds"));

/// Whether `password` matches `hash`; without a hash, a verification against a dummy one
/// that fails, so that a user without a password costs the same time as one with.
pub fn verify_or_dummy(password: &SecretString, hash: Option<&str>) -> bool {
    match hash {
        Some(hash) => verify(password, hash),
        None => {
            verify(password, &DUMMY_HASH);
            false
        }
    }
}

/// A random password of `length` characters from letters, digits and symbols,
/// with at least one of each kind.
pub fn generate(length: usize) -> SecretString {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"!#%+-=?@_";
    let classes = [LOWER, UPPER, DIGITS, SYMBOLS];
    let random = SystemRandom::new();
    let pick = |set: &[u8]| -> char {
        loop {
            let mut byte = [0u8; 1];
            random.fill(&mut byte).expect("the system CSPRNG is available");
            // Rejection sampling keeps the choice uniform.
            let limit = 256 - 256 % set.len();
            if (byte[0] as usize) < limit {
                return set[byte[0] as usize % set.len()] as char;
            }
        }
    };
    loop {
        let all: Vec<u8> = classes.concat();
        let password: String = (0..length.max(classes.len())).map(|_| pick(&all)).collect();
        if classes.iter().all(|class| password.bytes().any(|b| class.contains(&b))) {
            return SecretString::from(password);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let password = generate(16);
        let stored = hash(&password).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(&password, &stored));
        assert!(!verify(&SecretString::from("wrong"), &stored));
    }

    fn record(hash: &str) -> PasswordRecord {
        PasswordRecord::new(hash.into(), Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn the_history_keeps_the_latest_five_passwords() {
        let mut current = record("h0");
        for n in 1..=6 {
            current = current.replaced(format!("h{n}"), Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH);
        }
        assert_eq!(current.recent().collect::<Vec<_>>(), ["h6", "h5", "h4", "h3", "h2"]);
    }

    #[test]
    fn old_records_read_without_a_history() {
        let old: PasswordRecord = serde_json::from_value(serde_json::json!({
            "hash": "h", "updatedAt": "2026-01-01T00:00:00Z", "expiresAt": "2026-04-01T00:00:00Z"
        }))
        .unwrap();
        assert!(old.previous.is_empty());
    }

    #[test]
    fn the_policy_refuses_short_long_weak_and_personal_passwords() {
        let check = |text: &str| check_policy(&SecretString::from(text), "ada.lovelace", "ada@example.test");
        assert_eq!(check("Sh0rt!x"), Err(PasswordRefused::TooShort));
        assert_eq!(check(&"a".repeat(129)), Err(PasswordRefused::TooLong));
        assert!(matches!(check("password123"), Err(PasswordRefused::Weak(_))));
        assert!(matches!(check("qwertyuiop"), Err(PasswordRefused::Weak(_))));
        assert_eq!(check("ada.lovelace-2026!"), Err(PasswordRefused::ContainsIdentity("username")));
        assert_eq!(
            check("x ada@example.test"),
            Err(PasswordRefused::ContainsIdentity("e-mail address"))
        );
        assert_eq!(check("correct horse battery staple"), Ok(()));
        assert_eq!(check(generate(GENERATED_LENGTH).expose_secret()), Ok(()));
    }

    #[test]
    fn a_missing_hash_never_verifies() {
        assert!(!verify_or_dummy(&SecretString::from("anything at all"), None));
    }

    #[test]
    fn a_password_never_prints() {
        let password: Password = serde_json::from_value(serde_json::json!("hunter2-secret")).unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }

    #[test]
    fn generated_passwords_mix_every_kind_and_differ() {
        let first = generate(16);
        let second = generate(16);
        assert_eq!(first.expose_secret().len(), 16);
        assert_ne!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().chars().any(|c| c.is_ascii_digit()));
        assert!(first.expose_secret().chars().any(|c| c.is_ascii_uppercase()));
    }
}
