//! Passwords: argon2id hashes (never the password itself), and random passwords.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::secret::{ExposeSecret, SecretString};

/// A user's stored password: the hash and when it must be changed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordRecord {
    /// PHC string of the argon2id hash.
    pub hash: String,
    pub updated_at: Timestamp,
    pub expires_at: Timestamp,
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
