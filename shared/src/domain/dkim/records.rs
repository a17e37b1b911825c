//! DKIM records and their rules: a customer's keys, the platform key and the
//! feedback-loop (FBL) keys as stored (the private key sealed), what a client sends to
//! make one and how it is validated, the encryption contexts that bind each sealed key
//! to its record, and the rules of a customer's key set.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::ids::{DkimId, GroupPk};
use crate::domain::secret::{EncryptionContext, Envelope, ExposeSecret, SecretString};
use crate::domain::validation::{Bounded, Violations, object, present};
use dkim_engine::Algorithm;
use dkim_engine::key::{DkimKeyPair, KeyError, PublicKey};
use dkim_engine::names;

/// A signing identity: domain, selector, public key and the sealed private key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredKey {
    pub domain: String,
    pub selector: String,
    /// The DNS record's `p=` value.
    pub public_key: String,
    pub algorithm: Algorithm,
    pub private_key: Envelope,
}

/// One of a customer's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDkim {
    pub id: DkimId,
    pub group_pk: GroupPk,
    #[serde(flatten)]
    pub key: StoredKey,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The platform's key, which signs for customers without keys of their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformDkim {
    #[serde(flatten)]
    pub key: StoredKey,
    pub updated_at: Timestamp,
}

/// A feedback-loop configuration: messages to `recipient_domain` get a second
/// signature, over `signable_headers`, with the FBL's own key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fbl {
    pub id: Uuid,
    pub esp: String,
    pub recipient_domain: String,
    pub signable_headers: Vec<String>,
    pub dkim: StoredKey,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Most DKIM keys a customer has: the signer reads a customer's whole key set to pick a
/// key, so its size bounds the work of every signature made for the customer.
pub const MAX_KEYS_PER_CUSTOMER: u32 = 50;

/// Most FBLs the platform has: each is a recipient domain a mailbox provider runs a
/// feedback loop for, a few dozen in practice.
pub const MAX_FBLS: u64 = 500;

/// A collection at its documented maximum: nothing is added until something is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitReached {
    #[error("a customer has at most {MAX_KEYS_PER_CUSTOMER} DKIM keys; delete one first")]
    CustomerKeys,
    #[error("the platform has at most {MAX_FBLS} FBLs; delete one first")]
    Fbls,
}

/// Whether one more FBL fits beside the `count` there are.
pub fn check_fbl_room(count: u64) -> Result<(), LimitReached> {
    if count >= MAX_FBLS {
        return Err(LimitReached::Fbls);
    }
    Ok(())
}

/// A customer's key set: which key is the default and how many keys there are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySet {
    pub default: Option<DkimId>,
    pub count: u32,
}

impl KeySet {
    /// Whether one more key fits in the set.
    pub fn check_room(&self) -> Result<(), LimitReached> {
        if self.count >= MAX_KEYS_PER_CUSTOMER {
            return Err(LimitReached::CustomerKeys);
        }
        Ok(())
    }

    /// The set once key `id` is added: the first key becomes the default. A set at its
    /// maximum takes no more.
    pub fn adding(self, id: DkimId) -> Result<Self, LimitReached> {
        self.check_room()?;
        Ok(Self {
            default: Some(self.default.unwrap_or(id)),
            count: self.count + 1,
        })
    }

    /// The set once key `id` is removed: deleting the default clears it.
    pub fn removing(self, id: DkimId) -> Self {
        Self {
            default: self.default.filter(|default| *default != id),
            count: self.count.saturating_sub(1),
        }
    }

    /// The set with key `id` as its default.
    pub fn with_default(self, id: DkimId) -> Self {
        Self { default: Some(id), ..self }
    }

    /// The set once the keys `ids` are deactivated with their customer: a deactivated
    /// default stops being the default (the default key is always an active one; after a
    /// reactivation the customer's admins choose it again).
    pub fn deactivating(self, ids: &BTreeSet<DkimId>) -> Self {
        Self {
            default: self.default.filter(|default| !ids.contains(default)),
            ..self
        }
    }

    /// The default key stays active: deactivating it conflicts with its being the default.
    pub fn check_activity(&self, id: DkimId, active: bool) -> Result<(), DefaultKeyRule> {
        if !active && self.default == Some(id) {
            return Err(DefaultKeyRule::StaysActive(id));
        }
        Ok(())
    }

    /// The default key goes last: it is not deleted while the customer has other keys.
    pub fn check_removal(&self, id: DkimId) -> Result<(), DefaultKeyInUse> {
        if self.default == Some(id) && self.count > 1 {
            return Err(DefaultKeyInUse(id));
        }
        Ok(())
    }
}

/// Deleting the default key while the customer has others.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key {0} is the customer's default; make another key the default first")]
pub struct DefaultKeyInUse(pub DkimId);

/// What the default key must be: active. Both refusals depend on the keys' state, not
/// on the request alone (409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefaultKeyRule {
    #[error("key {0} is the customer's default and stays active; make another key the default first")]
    StaysActive(DkimId),
    #[error("key {0} is inactive and cannot become the default; activate it first")]
    MustBeActive(DkimId),
}

impl CustomerDkim {
    /// Only an active key becomes the default.
    pub fn check_may_be_default(&self) -> Result<(), DefaultKeyRule> {
        if !self.active {
            return Err(DefaultKeyRule::MustBeActive(self.id));
        }
        Ok(())
    }
}

/// Another of the customer's keys has the domain and selector already.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the customer already has a key for domain {domain} and selector {selector}")]
pub struct NameTaken {
    pub domain: String,
    pub selector: String,
}

/// A customer's keys are unique by domain and selector: a key with `domain` and
/// `selector` may join `keys` (replacing key `except`, when given) unless another has them.
pub fn ensure_unique<'a>(
    keys: impl IntoIterator<Item = &'a CustomerDkim>,
    except: Option<DkimId>,
    domain: &str,
    selector: &str,
) -> Result<(), NameTaken> {
    let clash = keys
        .into_iter()
        .any(|key| Some(key.id) != except && key.key.domain == domain && key.key.selector == selector);
    if clash {
        Err(NameTaken {
            domain: domain.to_owned(),
            selector: selector.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// The encryption context that binds a customer key's envelope to the key.
pub fn customer_key_context(group: GroupPk, id: DkimId) -> EncryptionContext {
    context(&group.to_string(), &id.to_string())
}

/// The encryption context of the platform key's envelope.
pub fn platform_key_context() -> EncryptionContext {
    context("platform", "platform")
}

/// The encryption context of an FBL key's envelope.
pub fn fbl_key_context(id: Uuid) -> EncryptionContext {
    context("platform", &format!("fbl:{id}"))
}

fn context(group: &str, dkim: &str) -> EncryptionContext {
    EncryptionContext::from([("groupPk".to_owned(), group.to_owned()), ("dkimId".to_owned(), dkim.to_owned())])
}

/// Text that is a secret from the moment it is read: it never prints.
#[derive(Debug, Deserialize)]
#[serde(from = "String")]
pub struct SecretText(pub SecretString);

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self(SecretString::from(text))
    }
}

/// A key as a client sends it (`DkimRequest`, `PlatformDkimRequest`, `FblKeyRequest`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInput {
    pub domain: String,
    pub selector: String,
    pub public_key: String,
    /// PEM; `null` keeps the stored key where there is one. A replacement carries it:
    /// `None` when omitted (400), `Some(None)` when null.
    #[serde(default, deserialize_with = "present")]
    pub private_key: Option<Option<SecretText>>,
}

/// The private key of a valid input: a new one, or the stored one kept.
#[derive(Debug)]
pub enum KeyMaterial {
    New(DkimKeyPair),
    /// The stored private key (sealed) and the public key, which matches it.
    Kept(PublicKey, Envelope),
}

/// Why a key input is refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyRefused {
    /// Bad input, each field named.
    #[error("the key has invalid values")]
    Invalid(Violations),
    /// Valid in itself, but a null private key keeps the stored key, which is not the
    /// public key's: the request contradicts the stored state.
    #[error(
        "is not the stored key's public key, and a null privateKey keeps the stored key: send the stored public key, or a new key pair"
    )]
    NotTheStoredKey {
        /// The JSON pointer of the public key.
        pointer: String,
    },
}

impl From<Violations> for KeyRefused {
    fn from(violations: Violations) -> Self {
        KeyRefused::Invalid(violations)
    }
}

/// A key input that passed validation, its private key not sealed yet.
#[derive(Debug)]
pub struct ValidKey {
    pub domain: String,
    pub selector: String,
    pub material: KeyMaterial,
}

impl KeyInput {
    /// Validates every field, adding violations under `pointer` (`""`, or `"/dkim"` for
    /// an FBL's key) to those already found. `stored` is the key being replaced: with it,
    /// a null private key keeps the stored one, and the public key must then be its
    /// (409 otherwise, when nothing else is wrong).
    pub fn validate(self, pointer: &str, stored: Option<&StoredKey>, mut violations: Violations) -> Result<ValidKey, KeyRefused> {
        let domain = names::domain_name(&self.domain).map_err(|reason| violations.body(format!("{pointer}/domain"), reason));
        let selector = names::selector(&self.selector).map_err(|reason| violations.body(format!("{pointer}/selector"), reason));
        let mut not_the_stored_key = false;
        let material = match (self.private_key, stored) {
            (Some(Some(private)), _) => DkimKeyPair::from_pem(private.0.expose_secret(), &self.public_key).map(KeyMaterial::New),
            (Some(None), Some(stored)) => PublicKey::parse(&self.public_key).map(|public| {
                not_the_stored_key = public.algorithm() != stored.algorithm || public.p_value() != stored.public_key;
                KeyMaterial::Kept(public, stored.private_key.clone())
            }),
            (None, _) | (Some(None), None) => Err(KeyError::PrivateKey("is required".into())),
        }
        .map_err(|error| violations.body(format!("{pointer}/{}", error.field()), error.to_string()));
        match (domain, selector, material) {
            (Ok(_), Ok(_), Ok(_)) if not_the_stored_key && violations.total() == 0 => Err(KeyRefused::NotTheStoredKey {
                pointer: format!("{pointer}/publicKey"),
            }),
            (Ok(domain), Ok(selector), Ok(material)) if !not_the_stored_key => Ok(violations.into_result(ValidKey {
                domain,
                selector,
                material,
            })?),
            _ => Err(violations.into()),
        }
    }
}

/// The longest ESP name accepted.
const MAX_ESP_LEN: usize = 100;

/// Most header fields an FBL signs (`FblRequest.signableHeaders`' maxItems): RFC 6376
/// recommends about twenty.
pub const MAX_SIGNABLE_HEADERS: usize = 32;

/// Longest header field name accepted, in bytes: RFC 5322 lines stop at 998.
const MAX_HEADER_NAME_LEN: usize = 76;

/// `FblRequest`: an FBL as a client sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FblRequest {
    pub esp: String,
    pub recipient_domain: String,
    pub signable_headers: Bounded<String, MAX_SIGNABLE_HEADERS>,
    #[serde(deserialize_with = "object")]
    pub dkim: KeyInput,
}

/// A valid `FblRequest`, its key not sealed yet.
#[derive(Debug)]
pub struct ValidFbl {
    pub esp: String,
    pub recipient_domain: String,
    pub signable_headers: Vec<String>,
    pub dkim: ValidKey,
}

/// A header field name an FBL may sign: RFC 5322 `ftext` (printable US-ASCII, 33 to 126,
/// but the colon), without the `;` and `=` that would break the signature's `h=` tag in
/// its tag list (RFC 6376 §3.2), and bounded in length.
fn is_header_name(name: &str) -> bool {
    (1..=MAX_HEADER_NAME_LEN).contains(&name.len()) && name.bytes().all(|b| (33..=126).contains(&b) && !matches!(b, b':' | b';' | b'='))
}

impl FblRequest {
    /// Validates every field; `stored` is the FBL being replaced.
    pub fn validate(self, stored: Option<&Fbl>) -> Result<ValidFbl, KeyRefused> {
        let mut violations = Violations::new();
        let esp = self.esp.trim().to_owned();
        if esp.is_empty() || esp.chars().count() > MAX_ESP_LEN {
            violations.body("/esp", format!("must be 1 to {MAX_ESP_LEN} characters"));
        }
        let recipient_domain = names::domain_name(&self.recipient_domain).unwrap_or_else(|reason| {
            violations.body("/recipientDomain", reason);
            String::new()
        });
        let mut signable_headers: Vec<String> = Vec::with_capacity(self.signable_headers.len());
        for (index, name) in self.signable_headers.iter().enumerate() {
            if !is_header_name(name) {
                violations.body(
                    format!("/signableHeaders/{index}"),
                    format!("is not a header field name: 1 to {MAX_HEADER_NAME_LEN} printable ASCII characters but ':', ';' and '='"),
                );
            } else if !signable_headers.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
                // Header field names ignore case: a name listed again in another case is the same one.
                signable_headers.push(name.clone());
            }
        }
        if !signable_headers.iter().any(|name| name.eq_ignore_ascii_case("From")) {
            violations.body("/signableHeaders", "must include From: every DKIM signature covers it");
        }
        let dkim = self.dkim.validate("/dkim", stored.map(|fbl| &fbl.dkim), violations)?;
        Ok(ValidFbl {
            esp,
            recipient_domain,
            signable_headers,
            dkim,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validation::FieldError;

    fn invalid(refused: KeyRefused) -> Violations {
        match refused {
            KeyRefused::Invalid(violations) => violations,
            other => panic!("not bad input: {other:?}"),
        }
    }

    fn envelope() -> Envelope {
        Envelope {
            key_id: "k".into(),
            wrapped_key: "w".into(),
            nonce: "n".into(),
            ciphertext: "c".into(),
        }
    }

    fn customer_key(id: DkimId, domain: &str, selector: &str) -> CustomerDkim {
        CustomerDkim {
            id,
            group_pk: GroupPk(100),
            key: StoredKey {
                domain: domain.into(),
                selector: selector.into(),
                public_key: "p".into(),
                algorithm: Algorithm::Ed25519Sha256,
                private_key: envelope(),
            },
            active: true,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn ed25519_input(domain: &str, selector: &str) -> KeyInput {
        let pair = DkimKeyPair::generate(Algorithm::Ed25519Sha256).unwrap();
        KeyInput {
            domain: domain.into(),
            selector: selector.into(),
            public_key: pair.public_key().p_value().to_owned(),
            private_key: Some(Some(SecretText(pair.private_pem()))),
        }
    }

    fn paths(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(|error| error.path.to_string()).collect()
    }

    #[test]
    fn the_default_key_stays_active_goes_last_and_only_an_active_key_becomes_it() {
        let set = KeySet::default().adding(DkimId(7)).unwrap().adding(DkimId(8)).unwrap();
        assert_eq!(set.check_activity(DkimId(7), false), Err(DefaultKeyRule::StaysActive(DkimId(7))));
        assert!(set.check_activity(DkimId(7), true).is_ok());
        assert!(set.check_activity(DkimId(8), false).is_ok());
        assert_eq!(set.check_removal(DkimId(7)), Err(DefaultKeyInUse(DkimId(7))));
        assert!(set.check_removal(DkimId(8)).is_ok());
        assert!(set.removing(DkimId(8)).check_removal(DkimId(7)).is_ok(), "the last key goes");
        let mut key = customer_key(DkimId(8), "acme.test", "s1");
        assert!(key.check_may_be_default().is_ok());
        key.active = false;
        assert_eq!(key.check_may_be_default(), Err(DefaultKeyRule::MustBeActive(DkimId(8))));
    }

    #[test]
    fn a_deactivated_default_stops_being_the_default() {
        let set = KeySet::default().adding(DkimId(7)).unwrap().adding(DkimId(8)).unwrap();
        assert_eq!(set.deactivating(&BTreeSet::from([DkimId(8)])), set);
        let without = set.deactivating(&BTreeSet::from([DkimId(7), DkimId(8)]));
        assert_eq!((without.default, without.count), (None, 2));
    }

    #[test]
    fn the_first_key_is_the_default_and_later_ones_are_not() {
        let first = KeySet::default().adding(DkimId(7)).unwrap();
        assert_eq!(
            first,
            KeySet {
                default: Some(DkimId(7)),
                count: 1
            }
        );
        assert_eq!(
            first.adding(DkimId(8)).unwrap(),
            KeySet {
                default: Some(DkimId(7)),
                count: 2
            }
        );
    }

    #[test]
    fn a_key_set_and_the_fbls_stop_at_their_maximum() {
        let mut set = KeySet::default();
        for id in 1..=i64::from(MAX_KEYS_PER_CUSTOMER) {
            set = set.adding(DkimId(id)).unwrap();
        }
        assert_eq!(set.count, MAX_KEYS_PER_CUSTOMER);
        assert_eq!(set.adding(DkimId(999)), Err(LimitReached::CustomerKeys));
        assert_eq!(
            LimitReached::CustomerKeys.to_string(),
            format!("a customer has at most {MAX_KEYS_PER_CUSTOMER} DKIM keys; delete one first")
        );
        assert!(set.removing(DkimId(1)).adding(DkimId(999)).is_ok(), "room again once one goes");
        assert!(check_fbl_room(MAX_FBLS - 1).is_ok());
        assert_eq!(check_fbl_room(MAX_FBLS), Err(LimitReached::Fbls));
    }

    #[test]
    fn deleting_the_default_clears_it_and_deleting_another_keeps_it() {
        let set = KeySet {
            default: Some(DkimId(7)),
            count: 2,
        };
        assert_eq!(
            set.removing(DkimId(8)),
            KeySet {
                default: Some(DkimId(7)),
                count: 1
            }
        );
        assert_eq!(set.removing(DkimId(7)), KeySet { default: None, count: 1 });
        assert_eq!(KeySet::default().removing(DkimId(7)), KeySet::default(), "never below zero");
    }

    #[test]
    fn a_default_is_set_without_changing_the_count() {
        let set = KeySet {
            default: Some(DkimId(7)),
            count: 2,
        };
        assert_eq!(
            set.with_default(DkimId(8)),
            KeySet {
                default: Some(DkimId(8)),
                count: 2
            }
        );
    }

    #[test]
    fn domain_and_selector_are_unique_among_a_customers_keys() {
        let keys = [
            customer_key(DkimId(1), "acme.test", "s1"),
            customer_key(DkimId(2), "acme.test", "s2"),
        ];
        assert_eq!(
            ensure_unique(&keys, None, "acme.test", "s1").unwrap_err().to_string(),
            "the customer already has a key for domain acme.test and selector s1"
        );
        assert!(ensure_unique(&keys, None, "acme.test", "s3").is_ok());
        assert!(ensure_unique(&keys, None, "other.test", "s1").is_ok());
        assert!(
            ensure_unique(&keys, Some(DkimId(1)), "acme.test", "s1").is_ok(),
            "a key keeps its own name"
        );
        assert!(ensure_unique(&keys, Some(DkimId(1)), "acme.test", "s2").is_err());
    }

    #[test]
    fn each_key_kind_has_its_own_encryption_context() {
        let contexts = [
            customer_key_context(GroupPk(100), DkimId(1)),
            customer_key_context(GroupPk(100), DkimId(2)),
            customer_key_context(GroupPk(200), DkimId(1)),
            platform_key_context(),
            fbl_key_context(Uuid::nil()),
        ];
        for (i, a) in contexts.iter().enumerate() {
            for b in &contexts[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(customer_key_context(GroupPk(100), DkimId(1))["groupPk"], "100");
        assert_eq!(customer_key_context(GroupPk(100), DkimId(1))["dkimId"], "1");
    }

    #[test]
    fn a_valid_new_key_carries_its_pair() {
        let valid = ed25519_input("Acme.Test", "s1").validate("", None, Violations::new()).unwrap();
        assert_eq!((valid.domain.as_str(), valid.selector.as_str()), ("acme.test", "s1"));
        assert!(matches!(valid.material, KeyMaterial::New(_)));
    }

    #[test]
    fn every_bad_field_is_named_under_the_pointer() {
        let input = KeyInput {
            domain: "not a domain".into(),
            selector: "".into(),
            public_key: "x".into(),
            private_key: Some(None),
        };
        let errors = invalid(input.validate("/dkim", None, Violations::new()).unwrap_err());
        assert_eq!(paths(&errors), ["/dkim/domain", "/dkim/selector", "/dkim/privateKey"]);
    }

    #[test]
    fn a_null_private_key_keeps_the_stored_one_when_the_public_key_matches() {
        let pair = DkimKeyPair::generate(Algorithm::Ed25519Sha256).unwrap();
        let stored = StoredKey {
            public_key: pair.public_key().p_value().to_owned(),
            ..customer_key(DkimId(1), "acme.test", "s1").key
        };
        let kept = KeyInput {
            domain: "acme.test".into(),
            selector: "s1".into(),
            public_key: stored.public_key.clone(),
            private_key: Some(None),
        };
        let valid = kept.validate("", Some(&stored), Violations::new()).unwrap();
        assert!(matches!(valid.material, KeyMaterial::Kept(_, envelope) if envelope == stored.private_key));

        let other = ed25519_input("acme.test", "s1");
        let mismatched = KeyInput {
            private_key: Some(None),
            ..other
        };
        let refused = mismatched.validate("", Some(&stored), Violations::new()).unwrap_err();
        assert!(
            matches!(&refused, KeyRefused::NotTheStoredKey { pointer } if pointer == "/publicKey"),
            "{refused:?}"
        );

        let mismatched_and_invalid = KeyInput {
            selector: "".into(),
            private_key: Some(None),
            ..ed25519_input("acme.test", "s1")
        };
        let errors = invalid(mismatched_and_invalid.validate("", Some(&stored), Violations::new()).unwrap_err());
        assert_eq!(paths(&errors), ["/selector"], "bad input is named first");
    }

    #[test]
    fn a_replacement_carries_its_private_key_even_null() {
        let pair = DkimKeyPair::generate(Algorithm::Ed25519Sha256).unwrap();
        let stored = StoredKey {
            public_key: pair.public_key().p_value().to_owned(),
            ..customer_key(DkimId(1), "acme.test", "s1").key
        };
        let body = serde_json::json!({"domain": "acme.test", "selector": "s1", "publicKey": stored.public_key});
        let omitted: KeyInput = serde_json::from_value(body).unwrap();
        let errors = invalid(omitted.validate("", Some(&stored), Violations::new()).unwrap_err());
        assert_eq!(paths(&errors), ["/privateKey"]);
    }

    #[test]
    fn an_fbl_request_names_each_bad_header_and_requires_from() {
        let request = FblRequest {
            esp: " ".into(),
            recipient_domain: "gmail.com".into(),
            signable_headers: Bounded(vec!["To".into(), "Bad:Name".into(), "to".into()]),
            dkim: ed25519_input("fbl.test", "f1"),
        };
        let errors = invalid(request.validate(None).unwrap_err());
        assert_eq!(paths(&errors), ["/esp", "/signableHeaders/1", "/signableHeaders"]);
    }

    #[test]
    fn a_header_listed_again_in_another_case_is_kept_once() {
        let request = FblRequest {
            esp: "platform".into(),
            recipient_domain: "gmail.com".into(),
            signable_headers: Bounded(vec!["From".into(), "To".into(), "from".into(), "TO".into(), "Subject".into()]),
            dkim: ed25519_input("fbl.test", "f1"),
        };
        assert_eq!(request.validate(None).unwrap().signable_headers, ["From", "To", "Subject"]);
    }

    #[test]
    fn fbl_header_names_are_rfc_5322_field_names_that_fit_a_tag_list() {
        for name in ["From", "X-Feedback-ID", "List-Unsubscribe-Post", "x_custom.1", "!#$%&'*+-.^_`|~"] {
            assert!(is_header_name(name), "{name:?}");
        }
        let long = "X".repeat(MAX_HEADER_NAME_LEN + 1);
        for name in [
            "",
            "Bad:Name",
            "a;b",
            "h=from",
            "Two Words",
            "Tab\there",
            "Crlf\r\n",
            "Ünicode",
            "\u{7f}",
            long.as_str(),
        ] {
            assert!(!is_header_name(name), "{name:?}");
        }
        let request = FblRequest {
            esp: "platform".into(),
            recipient_domain: "gmail.com".into(),
            signable_headers: Bounded(vec!["From".into(), "To;".into(), "Subject=x".into(), " Date".into()]),
            dkim: ed25519_input("fbl.test", "f1"),
        };
        let errors = invalid(request.validate(None).unwrap_err());
        assert_eq!(paths(&errors), ["/signableHeaders/1", "/signableHeaders/2", "/signableHeaders/3"]);
        assert!(errors[0].message.contains("';'"), "{}", errors[0].message);
    }

    #[test]
    fn an_fbl_request_lists_at_most_the_maximum_of_headers() {
        let headers: Vec<String> = (0..=MAX_SIGNABLE_HEADERS).map(|i| format!("\"X-{i}\"")).collect();
        let body = format!(
            r#"{{"esp": "e", "recipientDomain": "gmail.com", "signableHeaders": [{}], "dkim": {{}}}}"#,
            headers.join(",")
        );
        let error = serde_json::from_str::<FblRequest>(&body).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(&format!("must list at most {MAX_SIGNABLE_HEADERS} items")),
            "{error}"
        );
    }

    #[test]
    fn a_valid_fbl_request_keeps_its_headers_in_order() {
        let request = FblRequest {
            esp: " platform ".into(),
            recipient_domain: "Gmail.com".into(),
            signable_headers: Bounded(vec!["From".into(), "Feedback-ID".into()]),
            dkim: ed25519_input("fbl.test", "f1"),
        };
        let valid = request.validate(None).unwrap();
        assert_eq!(valid.esp, "platform");
        assert_eq!(valid.recipient_domain, "gmail.com");
        assert_eq!(valid.signable_headers, ["From", "Feedback-ID"]);
    }
}
