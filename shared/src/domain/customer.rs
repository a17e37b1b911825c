//! Customers (tenants): a tree of sub-customers under top-level customers.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::catalogue::Catalogue;
use super::ids::GroupPk;
use super::user::is_email;
use super::validation::{Violations, present};

/// Whether a customer is in business with the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerStatus {
    Active,
    Suspended,
    Inactive,
}

impl CustomerStatus {
    /// The status as the API writes it.
    pub fn name(self) -> &'static str {
        match self {
            CustomerStatus::Active => "ACTIVE",
            CustomerStatus::Suspended => "SUSPENDED",
            CustomerStatus::Inactive => "INACTIVE",
        }
    }
}

/// Mail signed for a customer that is not ACTIVE: a suspended or closed customer sends none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("customer {group} is {}: mail is signed for ACTIVE customers only", .status.name())]
pub struct NotSending {
    pub group: GroupPk,
    pub status: CustomerStatus,
}

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub group_pk: GroupPk,
    pub name: String,
    pub parent_group_pk: Option<GroupPk>,
    /// Every ancestor, nearest first: authorization needs the whole chain in one read.
    pub ancestors: Vec<GroupPk>,
    pub status: CustomerStatus,
    pub premium: bool,
    pub chat_enabled: bool,
    pub gid: Option<String>,
    pub address: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub platform_responsible: Option<String>,
    pub technical_responsible: Option<String>,
    pub privacy_responsible: Option<String>,
    pub created_at: Timestamp,
}

impl Customer {
    /// A new ACTIVE customer under `ancestors` (nearest first), with nothing else set yet.
    pub fn new(group_pk: GroupPk, name: impl Into<String>, ancestors: Vec<GroupPk>, created_at: Timestamp) -> Self {
        Self {
            group_pk,
            name: name.into(),
            parent_group_pk: ancestors.first().copied(),
            ancestors,
            status: CustomerStatus::Active,
            premium: false,
            chat_enabled: false,
            gid: None,
            address: None,
            country: None,
            phone: None,
            platform_responsible: None,
            technical_responsible: None,
            privacy_responsible: None,
            created_at,
        }
    }

    /// The customer itself, then its ancestors, nearest first.
    pub fn lineage(&self) -> impl Iterator<Item = GroupPk> + '_ {
        std::iter::once(self.group_pk).chain(self.ancestors.iter().copied())
    }

    /// Whether mail may be signed for the customer: only while it is ACTIVE.
    pub fn check_sends_mail(&self) -> Result<(), NotSending> {
        if self.status != CustomerStatus::Active {
            return Err(NotSending {
                group: self.group_pk,
                status: self.status,
            });
        }
        Ok(())
    }

    /// The top-level customer of its tree.
    pub fn root(&self) -> GroupPk {
        self.ancestors.last().copied().unwrap_or(self.group_pk)
    }

    /// The path from the root down to the customer, `/<root>/…/<self>`, each key
    /// zero-padded to 12 digits (wider keys are written whole).
    pub fn tree_path(&self) -> String {
        self.ancestors
            .iter()
            .rev()
            .chain(std::iter::once(&self.group_pk))
            .map(|g| format!("/{:012}", g.0))
            .collect()
    }

    /// The tree paths of the customer's subtree, as an inclusive range: its own path and
    /// every path under it, `<path>/…`. Not a prefix of its path: a key of 13 digits or
    /// more is written wider than the padding, so `/100000000000` prefixes
    /// `/1000000000000`, another customer. `':'` sorts after every digit and is in no path.
    pub fn subtree_paths(&self) -> (String, String) {
        let path = self.tree_path();
        let last = format!("{path}/:");
        (path, last)
    }

    /// Applies a validated change of its information.
    pub fn apply(&mut self, changes: CustomerChanges) {
        self.name = changes.name;
        self.address = changes.address;
        self.country = changes.country;
        self.phone = changes.phone;
        self.platform_responsible = changes.platform_responsible;
        self.technical_responsible = changes.technical_responsible;
        self.privacy_responsible = changes.privacy_responsible;
        self.status = changes.status;
        self.premium = changes.premium;
        self.gid = changes.gid;
    }
}

const MAX_NAME_CHARS: usize = 200;
const MAX_ADDRESS_CHARS: usize = 500;
const MAX_PHONE_CHARS: usize = 32;
/// The gid is part of a table key: bounded so that no input can make the key too long.
const MAX_GID_CHARS: usize = 64;

/// A customer's information as a full replacement (PUT) carries it, before validation.
/// A nullable field is `None` when omitted and `Some(None)` when null: the body must
/// carry every one of them, and null clears it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawCustomerUpdate {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub platform_responsible: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub technical_responsible: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub privacy_responsible: Option<Option<String>>,
    /// Omitted means unchanged, as for `premium` and `gid`.
    pub status: Option<CustomerStatus>,
    pub premium: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub gid: Option<Option<String>>,
}

/// A customer's information after validation, ready to replace the current one.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerChanges {
    pub name: String,
    pub address: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub platform_responsible: Option<String>,
    pub technical_responsible: Option<String>,
    pub privacy_responsible: Option<String>,
    pub status: CustomerStatus,
    pub premium: bool,
    pub gid: Option<String>,
}

impl RawCustomerUpdate {
    /// Validates the replacement of `current`, naming every bad field by its JSON pointer.
    /// `status`, `premium` and `gid` may differ from `current` only when `by_care`.
    pub fn validate(self, current: &Customer, by_care: bool, catalogue: &Catalogue) -> Result<CustomerChanges, Violations> {
        let mut violations = Violations::new();
        let name = match self.name.as_deref().map(str::trim) {
            None => Err("is required".to_owned()),
            Some("") => Err("must not be empty".to_owned()),
            Some(name) if name.chars().count() > MAX_NAME_CHARS => Err(format!("must be at most {MAX_NAME_CHARS} characters")),
            Some(name) => Ok(name.to_owned()),
        }
        .map_err(|message| violations.body("/name", message))
        .ok();
        let v = &mut violations;
        let address = nullable(self.address, "/address", v, |text| at_most(text, MAX_ADDRESS_CHARS));
        let country = nullable(self.country, "/country", v, |code| {
            if catalogue.countries.iter().any(|c| c.code == code) {
                Ok(())
            } else {
                Err("must be an ISO 3166-1 alpha-2 code from getCustomerPreferenceOptions".into())
            }
        });
        let phone = nullable(self.phone, "/phone", v, |text| {
            at_most(text, MAX_PHONE_CHARS)?;
            if text.chars().any(|c| c.is_ascii_digit()) && text.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
                Ok(())
            } else {
                Err("must be a phone number: digits, spaces, +, -, parentheses".into())
            }
        });
        let email = |text: &str| {
            if is_email(text) {
                Ok(())
            } else {
                Err("must be an e-mail address".to_owned())
            }
        };
        let platform_responsible = nullable(self.platform_responsible, "/platformResponsible", v, email);
        let technical_responsible = nullable(self.technical_responsible, "/technicalResponsible", v, email);
        let privacy_responsible = nullable(self.privacy_responsible, "/privacyResponsible", v, email);
        let gid = self.gid.map(|gid| gid.map(|g| g.trim().to_owned()).filter(|g| !g.is_empty()));
        // Only care may set a gid: anyone else's differing gid is refused below.
        if let Some(Some(gid)) = &gid
            && by_care
            && (gid.chars().count() > MAX_GID_CHARS || gid.chars().any(char::is_control))
        {
            violations.body(
                "/gid",
                format!("must be at most {MAX_GID_CHARS} characters, without control characters"),
            );
        }
        let mut restricted = |pointer: &str, changed: bool| {
            if changed && !by_care {
                violations.body(pointer, "may be changed only by customer care");
            }
        };
        restricted("/status", self.status.is_some_and(|status| status != current.status));
        restricted("/premium", self.premium.is_some_and(|premium| premium != current.premium));
        restricted("/gid", gid.as_ref().is_some_and(|gid| *gid != current.gid));
        match (name, violations.into_result(())) {
            (Some(name), Ok(())) => Ok(CustomerChanges {
                name,
                address,
                country,
                phone,
                platform_responsible,
                technical_responsible,
                privacy_responsible,
                status: self.status.unwrap_or(current.status),
                premium: self.premium.unwrap_or(current.premium),
                gid: gid.unwrap_or_else(|| current.gid.clone()),
            }),
            (_, result) => Err(result.expect_err("a bad name was recorded as a violation")),
        }
    }
}

/// A nullable field the body must carry; blank text counts as null.
fn nullable(
    value: Option<Option<String>>,
    pointer: &str,
    violations: &mut Violations,
    check: impl FnOnce(&str) -> Result<(), String>,
) -> Option<String> {
    let Some(value) = value else {
        violations.body(pointer, "is required (null when there is none)");
        return None;
    };
    let text = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    check(&text).map_err(|message| violations.body(pointer, message)).ok()?;
    Some(text)
}

fn at_most(text: &str, max: usize) -> Result<(), String> {
    if text.chars().count() <= max {
        Ok(())
    } else {
        Err(format!("must be at most {max} characters"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(group: i64, ancestors: &[i64]) -> Customer {
        Customer::new(
            GroupPk(group),
            "",
            ancestors.iter().copied().map(GroupPk).collect(),
            Timestamp::UNIX_EPOCH,
        )
    }

    #[test]
    fn only_an_active_customer_sends_mail() {
        let mut acme = customer(100, &[]);
        assert!(acme.check_sends_mail().is_ok());
        for status in [CustomerStatus::Suspended, CustomerStatus::Inactive] {
            acme.status = status;
            let refused = acme.check_sends_mail().unwrap_err();
            assert_eq!(
                refused.to_string(),
                format!("customer 100 is {}: mail is signed for ACTIVE customers only", status.name())
            );
            assert_eq!(serde_json::to_value(status).unwrap(), status.name());
        }
    }

    #[test]
    fn a_subtree_is_a_path_prefix() {
        let grandchild = customer(1011, &[101, 100]);
        assert_eq!(grandchild.root(), GroupPk(100));
        assert!(grandchild.tree_path().starts_with(&customer(101, &[100]).tree_path()));
        assert!(grandchild.tree_path().starts_with(&customer(100, &[]).tree_path()));
        // 10 is not an ancestor of 100 although "10" prefixes "100".
        assert!(!customer(100, &[]).tree_path().starts_with(&customer(10, &[]).tree_path()));
    }

    #[test]
    fn a_subtree_holds_its_descendants_and_no_customer_whose_key_shares_its_digits() {
        let in_subtree = |of: &Customer, other: &Customer| {
            let (first, last) = of.subtree_paths();
            (first.as_str()..=last.as_str()).contains(&other.tree_path().as_str())
        };
        let root = customer(1, &[]);
        for group in [1, 10, 100, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000] {
            let child = customer(group + 1, &[1]);
            let grandchild = customer(group + 2, &[group + 1, 1]);
            assert!(in_subtree(&child, &child), "a customer is in its subtree");
            assert!(in_subtree(&child, &grandchild));
            assert!(in_subtree(&root, &grandchild));
            assert!(!in_subtree(&grandchild, &child));
        }
        // Siblings whose keys share digits: 12 digits, then 13 and 14 (wider than the padding).
        let siblings = [100_000_000_000_i64, 1_000_000_000_000, 10_000_000_000_000, 1_000_000_000_001];
        for a in siblings {
            for b in siblings.iter().filter(|b| **b != a) {
                assert!(!in_subtree(&customer(a, &[1]), &customer(*b, &[1])), "{b} is not under {a}");
                assert!(!in_subtree(&customer(a, &[1]), &customer(b + 7, &[*b, 1])), "nor its children");
            }
        }
        // With a prefix alone, the wider sibling would have counted as a descendant.
        assert!(
            customer(1_000_000_000_000, &[1])
                .tree_path()
                .starts_with(&customer(100_000_000_000, &[1]).tree_path())
        );
    }

    fn full_update() -> RawCustomerUpdate {
        RawCustomerUpdate {
            name: Some(" Acme Italia S.p.A. ".into()),
            address: Some(Some("Via Roma 1, Milano".into())),
            country: Some(Some("IT".into())),
            phone: Some(Some("+39 02 1234 (567)".into())),
            platform_responsible: Some(Some("platform@acme.test".into())),
            technical_responsible: Some(None),
            privacy_responsible: Some(Some("  ".into())),
            status: None,
            premium: None,
            gid: None,
        }
    }

    fn paths(errors: Violations) -> Vec<String> {
        errors.iter().map(|e| e.path.to_string()).collect()
    }

    #[test]
    fn a_full_update_replaces_the_information_and_keeps_what_is_omitted() {
        let mut current = customer(101, &[100]);
        current.gid = Some("G000101".into());
        current.technical_responsible = Some("tech@acme.test".into());
        let changes = full_update().validate(&current, false, Catalogue::get()).unwrap();
        assert_eq!(changes.name, "Acme Italia S.p.A.");
        assert_eq!(changes.technical_responsible, None, "null clears");
        assert_eq!(changes.privacy_responsible, None, "blank counts as null");
        assert_eq!(
            (changes.status, changes.premium, changes.gid.as_deref()),
            (CustomerStatus::Active, false, Some("G000101"))
        );
        current.apply(changes);
        assert_eq!(current.country.as_deref(), Some("IT"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let raw = RawCustomerUpdate {
            name: Some("x".repeat(201)),
            address: Some(Some("a".repeat(501))),
            country: Some(Some("XX".into())),
            phone: Some(Some("call me".into())),
            platform_responsible: Some(Some("nobody".into())),
            technical_responsible: None,
            privacy_responsible: Some(Some("a@b".into())),
            ..RawCustomerUpdate::default()
        };
        let errors = raw.validate(&customer(101, &[100]), true, Catalogue::get()).unwrap_err();
        assert_eq!(
            paths(errors),
            [
                "/name",
                "/address",
                "/country",
                "/phone",
                "/platformResponsible",
                "/technicalResponsible",
                "/privacyResponsible"
            ]
        );
        let errors = RawCustomerUpdate::default()
            .validate(&customer(1, &[]), true, Catalogue::get())
            .unwrap_err();
        assert_eq!(paths(errors).len(), 7, "every required field is named when missing");
    }

    #[test]
    fn status_premium_and_gid_change_only_by_care() {
        let mut current = customer(101, &[100]);
        current.gid = Some("G000101".into());
        let changed = RawCustomerUpdate {
            status: Some(CustomerStatus::Suspended),
            premium: Some(true),
            gid: Some(None),
            ..full_update()
        };
        let errors = changed.clone().validate(&current, false, Catalogue::get()).unwrap_err();
        assert_eq!(paths(errors), ["/status", "/premium", "/gid"]);
        let changes = changed.validate(&current, true, Catalogue::get()).unwrap();
        assert_eq!(
            (changes.status, changes.premium, changes.gid),
            (CustomerStatus::Suspended, true, None)
        );

        let unchanged = RawCustomerUpdate {
            status: Some(CustomerStatus::Active),
            premium: Some(false),
            gid: Some(Some(" G000101 ".into())),
            ..full_update()
        };
        assert!(unchanged.validate(&current, false, Catalogue::get()).is_ok());

        let long_gid = RawCustomerUpdate {
            gid: Some(Some("g".repeat(65))),
            ..full_update()
        };
        assert_eq!(paths(long_gid.validate(&current, true, Catalogue::get()).unwrap_err()), ["/gid"]);
    }

    #[test]
    fn null_and_absent_are_told_apart() {
        let raw: RawCustomerUpdate = serde_json::from_str(r#"{"name": "A", "address": null}"#).unwrap();
        assert_eq!((raw.address, raw.country), (Some(None), None));
    }
}
