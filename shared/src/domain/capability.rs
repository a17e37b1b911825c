//! Capabilities (what a user may do, per application and resource) and the
//! authorization rules of this service built on them.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::catalogue::Catalogue;
use super::customer::Customer;
use super::ids::{CapabilityId, GroupPk, UserPk};
use super::user::UserType;
use super::validation::{FieldError, Violations};

/// This service's application name in capabilities.
pub const ACCOUNTCENTRAL: &str = "accountcentral";

/// One grant: `role` on `resource` of `application`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capability {
    pub id: CapabilityId,
    pub application: String,
    pub version: u32,
    /// `["customers", "<groupPk>"]` or `["platform"]` for this service; free-form elsewhere.
    pub resource: Vec<String>,
    pub role: String,
    pub granted_at: Timestamp,
    pub granted_by: Option<UserPk>,
}

/// Roles of this service held platform-wide: staff and the platform's own services.
pub const PLATFORM_ROLES: [AccountCentralRole; 3] = [
    AccountCentralRole::CustomerCare,
    AccountCentralRole::Dkim,
    AccountCentralRole::Service,
];

/// Most segments a capability's resource has (`CapabilityGrant.resource`'s maxItems).
pub const MAX_RESOURCE_SEGMENTS: usize = 8;
/// Longest segment of a capability's resource, in characters.
const MAX_SEGMENT_CHARS: usize = 100;

/// A customer key as a resource names it, in its one canonical form: the decimal digits
/// of a positive key, no sign, no leading zero, no white space. `"0100"` and `"+100"`
/// name no customer, so no second spelling of a grant dodges the duplicate check, a
/// revocation or the holders index.
fn canonical_group(text: &str) -> Option<GroupPk> {
    let group = text.parse::<i64>().ok().filter(|g| *g > 0)?;
    (group.to_string() == text).then_some(GroupPk(group))
}

/// What a capability is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `["platform"]`: the whole platform.
    Platform,
    /// `["customers", "<groupPk>", ...]`: a customer (and its subtree), or something inside it.
    Customer { group: GroupPk, within: Vec<String> },
}

impl Resource {
    /// Reads a resource path; `None` when it is neither a platform nor a customer path.
    pub fn parse(path: &[String]) -> Option<Resource> {
        match path {
            [platform] if platform == "platform" => Some(Resource::Platform),
            [customers, group, within @ ..] if customers == "customers" => Some(Resource::Customer {
                group: canonical_group(group)?,
                within: within.to_vec(),
            }),
            _ => None,
        }
    }

    /// The customer-level resource `["customers", "<g>"]`.
    pub fn customer(group: GroupPk) -> Vec<String> {
        vec!["customers".to_owned(), group.to_string()]
    }
}

impl Capability {
    /// The capability's resource, if it has one of the shapes this service understands.
    pub fn resource(&self) -> Option<Resource> {
        Resource::parse(&self.resource)
    }

    /// Same application, resource and role: the same grant whatever its id and history.
    pub fn same_grant(&self, other: &Capability) -> bool {
        self.application == other.application && self.resource == other.resource && self.role == other.role
    }
}

/// A capability as asked for in a grant, before it gets an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityRequest {
    pub application: String,
    pub version: u32,
    pub resource: Vec<String>,
    pub role: String,
}

impl CapabilityRequest {
    /// Checks the request against the catalogue: a known application, a resource this
    /// service understands, and a role the application offers (platform roles only
    /// platform-wide). Each bad field is named.
    pub fn validate(&self, catalogue: &Catalogue) -> Result<Resource, Violations> {
        let mut violations = Violations::new();
        if self.version == 0 {
            violations.body("/version", "must be at least 1");
        }
        if !catalogue.app_roles.contains_key(&self.application) {
            violations.body("/application", format!("unknown application {:?}", self.application));
        }
        // A customer's path starts with "customers" and its id, which is checked below as an id.
        let free_from = if self.resource.first().is_some_and(|head| head == "customers") {
            2
        } else {
            0
        };
        for (index, segment) in self.resource.iter().enumerate().skip(free_from) {
            if segment.is_empty() || segment.trim() != segment || segment.chars().count() > MAX_SEGMENT_CHARS {
                violations.body(
                    format!("/resource/{index}"),
                    format!("must be 1 to {MAX_SEGMENT_CHARS} characters without white space around them"),
                );
            }
        }
        let resource = Resource::parse(&self.resource);
        match &resource {
            None if matches!(self.resource.as_slice(), [customers, _, ..] if customers == "customers") => violations.body(
                "/resource/1",
                "must be a customer key as written canonically: digits without sign or leading zero",
            ),
            None => violations.body("/resource", r#"must be ["platform"] or ["customers", "<groupPk>", ...]"#),
            Some(Resource::Platform) => {
                if self.application != ACCOUNTCENTRAL
                    || !AccountCentralRole::parse(&self.role).is_some_and(|role| PLATFORM_ROLES.contains(&role))
                {
                    violations.body("/role", "platform-wide roles are CUSTOMER_CARE, DKIM and SERVICE of accountcentral");
                }
            }
            Some(Resource::Customer { .. }) if self.is_tenant_service() => {}
            Some(Resource::Customer { .. }) => {
                if catalogue.app_roles.contains_key(&self.application) && !catalogue.offers_role(&self.application, &self.role) {
                    violations.body("/role", format!("{} offers no role {:?}", self.application, self.role));
                }
            }
        }
        violations.into_result(())?;
        Ok(resource.expect("an unreadable resource recorded a violation"))
    }
}

impl CapabilityRequest {
    /// SERVICE of accountcentral on a customer: a tenant's own machine caller, limited to
    /// the customer's subtree (`service(g)`).
    fn is_tenant_service(&self) -> bool {
        self.application == ACCOUNTCENTRAL && self.role == "SERVICE"
    }

    /// SERVICE on a customer is held by APPLICATION users (client credentials) only: a
    /// person never signs a tenant's mail. Named on `/role` when the holder is not one.
    pub fn check_holder(&self, holder: UserType) -> Result<(), FieldError> {
        let on_customer = matches!(Resource::parse(&self.resource), Some(Resource::Customer { .. }));
        if on_customer && self.is_tenant_service() && holder != UserType::Application {
            return Err(FieldError::body("/role", "SERVICE is granted to APPLICATION users only"));
        }
        Ok(())
    }
}

/// A capability on a customer the user is not associated with, there or above.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("user {user} is not associated with customer {customer} or an ancestor")]
pub struct NotAssociated {
    pub user: UserPk,
    pub customer: GroupPk,
}

/// A capability on `customer` is held by users associated with it or an ancestor of it
/// (`associations`, those of `user`): the subtree they belong to.
pub fn check_association(user: UserPk, associations: &[GroupPk], customer: &Customer) -> Result<(), NotAssociated> {
    if customer.lineage().any(|group| associations.contains(&group)) {
        return Ok(());
    }
    Err(NotAssociated {
        user,
        customer: customer.group_pk,
    })
}

/// Whether a caller holding `held` (with `grants` read from them) may grant or revoke
/// `wanted` on `target`, the customer the wanted resource names (`None` for platform-wide).
///
/// Nobody hands out more than they hold: platform-wide capabilities need customer care;
/// SERVICE on a customer, which lets a machine sign the customer's mail, needs customer
/// care too; on a customer, an accountcentral ADMIN of it or an ancestor administers every
/// other role there, and otherwise the caller must hold the same role, or ADMIN,
/// of the same application on the same resource or an ancestor of it.
pub fn may_delegate(held: &[Capability], grants: &Grants, wanted: &Capability, target: Option<&Customer>) -> bool {
    if grants.is_care() {
        return true;
    }
    let (Some(target), Some(Resource::Customer { within, .. })) = (target, wanted.resource()) else {
        return false;
    };
    if wanted.application == ACCOUNTCENTRAL && wanted.role == "SERVICE" {
        return false;
    }
    if grants.holds_on(target, AccountCentralRole::Admin) {
        return true;
    }
    held.iter().any(|capability| {
        capability.application == wanted.application
            && (capability.role == wanted.role || capability.role == "ADMIN")
            && match capability.resource() {
                Some(Resource::Customer {
                    group,
                    within: held_within,
                }) => target.lineage().any(|g| g == group) && within.starts_with(&held_within),
                _ => false,
            }
    })
}

/// The roles of this service (application `accountcentral`), as the rules read them.
/// Other applications' roles are plain names from the catalogue (`Capability::role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountCentralRole {
    User,
    Admin,
    CustomerCare,
    Dkim,
    Service,
}

impl AccountCentralRole {
    /// Parses a role name as stored in capabilities.
    pub fn parse(name: &str) -> Option<AccountCentralRole> {
        match name {
            "USER" => Some(AccountCentralRole::User),
            "ADMIN" => Some(AccountCentralRole::Admin),
            "CUSTOMER_CARE" => Some(AccountCentralRole::CustomerCare),
            "DKIM" => Some(AccountCentralRole::Dkim),
            "SERVICE" => Some(AccountCentralRole::Service),
            _ => None,
        }
    }

    /// The role's name as stored in capabilities.
    pub fn name(self) -> &'static str {
        match self {
            AccountCentralRole::User => "USER",
            AccountCentralRole::Admin => "ADMIN",
            AccountCentralRole::CustomerCare => "CUSTOMER_CARE",
            AccountCentralRole::Dkim => "DKIM",
            AccountCentralRole::Service => "SERVICE",
        }
    }
}

/// What this service's capabilities of one user amount to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    platform: BTreeSet<AccountCentralRole>,
    customers: BTreeMap<GroupPk, BTreeSet<AccountCentralRole>>,
    associations: BTreeSet<GroupPk>,
}

impl Grants {
    /// Reads the grants out of a user's capabilities and customer associations.
    pub fn new<'a>(capabilities: impl IntoIterator<Item = &'a Capability>, associations: impl IntoIterator<Item = GroupPk>) -> Self {
        let mut grants = Grants {
            associations: associations.into_iter().collect(),
            ..Grants::default()
        };
        for capability in capabilities.into_iter().filter(|c| c.application == ACCOUNTCENTRAL) {
            let Some(role) = AccountCentralRole::parse(&capability.role) else {
                continue;
            };
            match capability.resource() {
                Some(Resource::Platform) => {
                    grants.platform.insert(role);
                }
                Some(Resource::Customer { group, within }) if within.is_empty() => {
                    grants.customers.entry(group).or_default().insert(role);
                }
                _ => {}
            }
        }
        grants
    }

    /// Holds `role` platform-wide.
    pub fn has_platform_role(&self, role: AccountCentralRole) -> bool {
        self.platform.contains(&role)
    }

    /// CUSTOMER_CARE: platform-wide support staff.
    pub fn is_care(&self) -> bool {
        self.has_platform_role(AccountCentralRole::CustomerCare)
    }

    /// DKIM: the platform's mail operator.
    pub fn is_dkim(&self) -> bool {
        self.has_platform_role(AccountCentralRole::Dkim)
    }

    /// Customer care or the DKIM operator: staff who may look at any customer.
    pub fn is_staff(&self) -> bool {
        self.is_care() || self.has_platform_role(AccountCentralRole::Dkim)
    }

    /// Customers the user is associated with.
    pub fn associations(&self) -> &BTreeSet<GroupPk> {
        &self.associations
    }

    /// Holds `role` on the customer or one of its ancestors.
    pub fn holds_on(&self, customer: &Customer, role: AccountCentralRole) -> bool {
        customer
            .lineage()
            .any(|g| self.customers.get(&g).is_some_and(|roles| roles.contains(&role)))
    }

    /// Associated with the customer or one of its ancestors.
    pub fn is_associated_with(&self, customer: &Customer) -> bool {
        customer.lineage().any(|g| self.associations.contains(&g))
    }

    /// member(g): associated with the customer or an ancestor, holding a role
    /// there, or platform staff.
    pub fn is_member_of(&self, customer: &Customer) -> bool {
        self.is_staff() || self.is_associated_with(customer) || customer.lineage().any(|g| self.customers.contains_key(&g))
    }

    /// admin(g): ADMIN on the customer or an ancestor, or customer care.
    pub fn is_admin_of(&self, customer: &Customer) -> bool {
        self.is_care() || self.holds_on(customer, AccountCentralRole::Admin)
    }

    /// Whether a capability's resource lies in these grants' reach, for answers that show
    /// only what the caller reaches: customers it is a member of (`customers` holds those
    /// the resources name, as read), the platform for customer care only. Resources of
    /// other applications' own shapes name no customer and are in reach.
    pub fn reaches(&self, resource: &[String], customers: &BTreeMap<GroupPk, Customer>) -> bool {
        match Resource::parse(resource) {
            Some(Resource::Customer { group, .. }) => {
                self.is_care() || customers.get(&group).is_some_and(|customer| self.is_member_of(customer))
            }
            Some(Resource::Platform) => self.is_care(),
            None => !resource.first().is_some_and(|head| head == "customers" || head == "platform"),
        }
    }

    /// The caller's role in this service for a customer, strongest first; `None` when it has no access.
    pub fn role_on(&self, customer: &Customer) -> Option<AccountCentralRole> {
        if self.is_care() {
            Some(AccountCentralRole::CustomerCare)
        } else if self.holds_on(customer, AccountCentralRole::Admin) {
            Some(AccountCentralRole::Admin)
        } else if self.has_platform_role(AccountCentralRole::Dkim) {
            Some(AccountCentralRole::Dkim)
        } else if self.is_member_of(customer) {
            Some(AccountCentralRole::User)
        } else {
            None
        }
    }
}

/// Groups capabilities by application: application → its distinct roles.
pub fn roles_by_application<'a>(capabilities: impl IntoIterator<Item = &'a Capability>) -> BTreeMap<String, Vec<String>> {
    let mut roles: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for capability in capabilities {
        roles
            .entry(capability.application.clone())
            .or_default()
            .insert(capability.role.clone());
    }
    roles.into_iter().map(|(app, set)| (app, set.into_iter().collect())).collect()
}

/// The capabilities on customers that a user loses when its associations become
/// `remaining`: those on a customer it no longer reaches (neither the customer nor an
/// ancestor is among `remaining`), and those on a `withdrawn` customer whatever it still
/// reaches. `customers` are the customers the capabilities are on, as read; one that
/// no longer exists is lost. Capabilities on the platform or of other shapes stay.
pub fn capabilities_lost(
    capabilities: &[Capability],
    customers: &[Customer],
    remaining: &BTreeSet<GroupPk>,
    withdrawn: &BTreeSet<GroupPk>,
) -> Vec<Capability> {
    capabilities
        .iter()
        .filter(|capability| match capability.resource() {
            Some(Resource::Customer { group, .. }) => {
                withdrawn.contains(&group)
                    || !customers
                        .iter()
                        .find(|customer| customer.group_pk == group)
                        .is_some_and(|customer| customer.lineage().any(|g| remaining.contains(&g)))
            }
            _ => false,
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{capability, customer};

    #[test]
    fn a_capability_on_a_customer_is_for_its_subtree_s_users() {
        let user = UserPk(7);
        assert_eq!(check_association(user, &[GroupPk(100)], &customer(101, &[100])), Ok(()));
        assert_eq!(check_association(user, &[GroupPk(101)], &customer(101, &[100])), Ok(()));
        let refused = check_association(user, &[GroupPk(101)], &customer(100, &[]));
        assert_eq!(
            refused.map_err(|e| e.to_string()),
            Err("user 7 is not associated with customer 100 or an ancestor".to_owned())
        );
    }

    #[test]
    fn admin_role_covers_the_subtree_only() {
        let grants = Grants::new(&[capability(&["customers", "100"], "ADMIN")], [GroupPk(100)]);
        assert!(grants.is_admin_of(&customer(101, &[100])));
        assert!(grants.is_admin_of(&customer(100, &[])));
        assert!(!grants.is_admin_of(&customer(200, &[])));
        assert!(!grants.is_member_of(&customer(200, &[])));
    }

    #[test]
    fn a_role_on_a_child_gives_nothing_on_the_parent() {
        let grants = Grants::new(&[capability(&["customers", "101"], "ADMIN")], [GroupPk(101)]);
        assert!(!grants.is_admin_of(&customer(100, &[])));
        assert!(!grants.is_member_of(&customer(100, &[])));
        assert_eq!(grants.role_on(&customer(101, &[100])), Some(AccountCentralRole::Admin));
    }

    #[test]
    fn care_reaches_every_customer_and_other_applications_do_not_count() {
        let care = Grants::new(&[capability(&["platform"], "CUSTOMER_CARE")], []);
        assert!(care.is_admin_of(&customer(200, &[])));
        assert_eq!(care.role_on(&customer(200, &[])), Some(AccountCentralRole::CustomerCare));

        let mut hub = capability(&["customers", "200"], "ADMIN");
        hub.application = "hub".into();
        assert!(!Grants::new(&[hub], []).is_admin_of(&customer(200, &[])));
    }

    #[test]
    fn nobody_delegates_more_than_they_hold() {
        let admin_100 = [capability(&["customers", "100"], "ADMIN")];
        let grants = Grants::new(&admin_100, [GroupPk(100)]);
        let italia = customer(101, &[100]);
        let globex = customer(200, &[]);
        let mut wanted = capability(&["customers", "101"], "ADMIN");
        assert!(may_delegate(&admin_100, &grants, &wanted, Some(&italia)));
        wanted.application = "hub".into();
        assert!(
            may_delegate(&admin_100, &grants, &wanted, Some(&italia)),
            "an admin manages every application's roles"
        );
        wanted.resource = vec!["customers".into(), "200".into()];
        assert!(!may_delegate(&admin_100, &grants, &wanted, Some(&globex)));
        let platform = capability(&["platform"], "DKIM");
        assert!(!may_delegate(&admin_100, &grants, &platform, None));

        let hub_editor = [Capability {
            application: "hub".into(),
            ..capability(&["customers", "100"], "EDITOR")
        }];
        let editor_grants = Grants::new(&hub_editor, [GroupPk(100)]);
        let mut wanted = Capability {
            application: "hub".into(),
            ..capability(&["customers", "101"], "EDITOR")
        };
        assert!(may_delegate(&hub_editor, &editor_grants, &wanted, Some(&italia)));
        wanted.role = "ADMIN".into();
        assert!(
            !may_delegate(&hub_editor, &editor_grants, &wanted, Some(&italia)),
            "stronger than held"
        );
        wanted.role = "EDITOR".into();
        wanted.application = "flow".into();
        assert!(
            !may_delegate(&hub_editor, &editor_grants, &wanted, Some(&italia)),
            "another application"
        );

        let care = [capability(&["platform"], "CUSTOMER_CARE")];
        assert!(may_delegate(&care, &Grants::new(&care, []), &platform, None));
    }

    #[test]
    fn grant_requests_are_checked_against_the_catalogue() {
        let catalogue = Catalogue::get();
        let request = |application: &str, resource: &[&str], role: &str| CapabilityRequest {
            application: application.into(),
            version: 1,
            resource: resource.iter().map(|s| s.to_string()).collect(),
            role: role.into(),
        };
        assert_eq!(
            request("hub", &["customers", "101"], "EDITOR").validate(catalogue),
            Ok(Resource::Customer {
                group: GroupPk(101),
                within: vec![]
            })
        );
        assert_eq!(
            request(ACCOUNTCENTRAL, &["platform"], "DKIM").validate(catalogue),
            Ok(Resource::Platform)
        );
        let paths =
            |r: CapabilityRequest| -> Vec<String> { r.validate(catalogue).unwrap_err().iter().map(|e| e.path.to_string()).collect() };
        assert_eq!(paths(request("hub", &["platform"], "ADMIN")), ["/role"]);
        assert_eq!(paths(request("hub", &["customers", "x"], "ADMIN")), ["/resource/1"]);
        assert_eq!(paths(request("hub", &["workspaces"], "ADMIN")), ["/resource"]);
        assert_eq!(paths(request("hub", &["customers", "101", " w"], "EDITOR")), ["/resource/2"]);
        assert_eq!(paths(request("hub", &["customers", " 101"], "EDITOR")), ["/resource/1"]);
        assert_eq!(paths(request("hub", &["workspaces", ""], "EDITOR")), ["/resource/1", "/resource"]);
        assert_eq!(paths(request("nope", &["customers", "1"], "ADMIN")), ["/application"]);
        assert_eq!(paths(request(ACCOUNTCENTRAL, &["customers", "1"], "GOD")), ["/role"]);
    }

    #[test]
    fn a_customer_in_a_resource_has_one_spelling() {
        let catalogue = Catalogue::get();
        let request = |group: &str| CapabilityRequest {
            application: ACCOUNTCENTRAL.into(),
            version: 1,
            resource: vec!["customers".into(), group.into()],
            role: "ADMIN".into(),
        };
        assert!(request("100").validate(catalogue).is_ok());
        for other in ["0100", "+100", " 100", "100 ", "1e2", "0", "-100", "", "99999999999999999999"] {
            let errors = request(other).validate(catalogue).unwrap_err();
            assert_eq!(errors[0].path.to_string(), "/resource/1", "{other:?}");
            assert_eq!(Resource::parse(&request(other).resource), None, "{other:?}");
        }
        // A stored grant in another spelling grants nothing (it cannot be made any more).
        let zero_padded = [capability(&["customers", "0100"], "ADMIN")];
        assert!(!Grants::new(&zero_padded, []).is_admin_of(&customer(100, &[])));
    }

    #[test]
    fn a_role_on_a_customer_reaches_its_subtree_and_no_customer_sharing_its_digits() {
        let admin_1 = [capability(&["customers", "1"], "ADMIN")];
        let grants = Grants::new(&admin_1, []);
        assert!(grants.is_admin_of(&customer(1, &[])));
        assert!(grants.is_admin_of(&customer(10, &[1])), "a child");
        assert!(grants.is_admin_of(&customer(100, &[10, 1])), "a grandchild");
        for outside in [customer(10, &[]), customer(100, &[]), customer(100, &[10]), customer(11, &[])] {
            assert!(
                !grants.is_admin_of(&outside),
                "{:?} under {:?}",
                outside.group_pk,
                outside.ancestors
            );
            assert!(!grants.is_member_of(&outside));
        }
    }

    #[test]
    fn service_on_a_customer_is_for_application_users_and_granted_by_care_only() {
        let catalogue = Catalogue::get();
        let request = CapabilityRequest {
            application: ACCOUNTCENTRAL.into(),
            version: 1,
            resource: vec!["customers".into(), "100".into()],
            role: "SERVICE".into(),
        };
        assert!(request.validate(catalogue).is_ok());
        assert!(request.check_holder(UserType::Application).is_ok());
        assert_eq!(request.check_holder(UserType::Interactive).unwrap_err().path.to_string(), "/role");

        let admin_100 = [capability(&["customers", "100"], "ADMIN")];
        let wanted = capability(&["customers", "100"], "SERVICE");
        let acme = customer(100, &[]);
        assert!(!may_delegate(
            &admin_100,
            &Grants::new(&admin_100, [GroupPk(100)]),
            &wanted,
            Some(&acme)
        ));
        let care = [capability(&["platform"], "CUSTOMER_CARE")];
        assert!(may_delegate(&care, &Grants::new(&care, []), &wanted, Some(&acme)));
    }

    #[test]
    fn answers_show_what_the_caller_reaches() {
        let admin_100 = Grants::new(&[capability(&["customers", "100"], "ADMIN")], [GroupPk(100)]);
        let customers: BTreeMap<GroupPk, Customer> = [customer(101, &[100]), customer(200, &[])]
            .into_iter()
            .map(|c| (c.group_pk, c))
            .collect();
        let path = |parts: &[&str]| -> Vec<String> { parts.iter().map(|s| s.to_string()).collect() };
        assert!(admin_100.reaches(&path(&["customers", "101"]), &customers));
        assert!(!admin_100.reaches(&path(&["customers", "200"]), &customers));
        assert!(
            !admin_100.reaches(&path(&["customers", "300"]), &customers),
            "unknown customers are out of reach"
        );
        assert!(!admin_100.reaches(&path(&["platform"]), &customers));
        assert!(admin_100.reaches(&path(&["workspaces", "7"]), &customers));
        let care = Grants::new(&[capability(&["platform"], "CUSTOMER_CARE")], []);
        assert!(care.reaches(&path(&["platform"]), &customers));
        assert!(care.reaches(&path(&["customers", "300"]), &customers));
    }

    #[test]
    fn role_names_round_trip() {
        for role in [
            AccountCentralRole::User,
            AccountCentralRole::Admin,
            AccountCentralRole::CustomerCare,
            AccountCentralRole::Dkim,
            AccountCentralRole::Service,
        ] {
            assert_eq!(AccountCentralRole::parse(role.name()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.name());
        }
    }

    #[test]
    fn a_plain_association_is_a_user_role() {
        let grants = Grants::new(&[], [GroupPk(101)]);
        assert_eq!(grants.role_on(&customer(101, &[100])), Some(AccountCentralRole::User));
        assert_eq!(grants.role_on(&customer(100, &[])), None);
    }

    #[test]
    fn capabilities_go_with_the_customers_they_can_no_longer_reach_or_that_are_withdrawn() {
        let on = |group: &str| capability(&["customers", group], "ADMIN");
        let held = [on("101"), on("100"), on("200"), capability(&["platform"], "DKIM"), on("999")];
        let customers = [customer(100, &[]), customer(101, &[100]), customer(200, &[])];
        let set = |keys: &[i64]| -> BTreeSet<GroupPk> { keys.iter().copied().map(GroupPk).collect() };
        let resources = |lost: Vec<Capability>| -> Vec<String> { lost.into_iter().map(|c| c.resource[1].clone()).collect() };
        // Left with 200 only: 101 and 100 are out of reach, 999 no longer exists.
        assert_eq!(
            resources(capabilities_lost(&held, &customers, &set(&[200]), &set(&[]))),
            ["101", "100", "999"]
        );
        // Still associated with 100, which reaches 101, but 101 is withdrawn.
        assert_eq!(
            resources(capabilities_lost(&held, &customers, &set(&[100, 200]), &set(&[101]))),
            ["101", "999"]
        );
    }
}
