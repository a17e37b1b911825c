//! Who may call an operation, in the words of the contract's auth column, and the
//! one function that decides it.
//!
//! An operation's rule is an [`Access`]: one constant per word of the auth column,
//! combined with `|` where the contract says "or" (`Access::ADMIN | Access::DKIM` is
//! `admin(g) or dkim`). [`Access::decide`] weighs it against the caller and the facts
//! of the target: the customer `g`, the user `u`, or nothing in particular. Two words
//! need no constant: `public` operations take no caller, and `user` operations take
//! one (the caller's extraction refuses anyone who is not an active user).

use std::fmt;
use std::ops::BitOr;

use super::capability::{AccountCentralRole, Capability, Grants, PLATFORM_ROLES};
use super::customer::Customer;
use super::user::UserType;

/// A set of rules, any one of which admits the caller.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Access(u16);

impl Access {
    /// `member(g)`: associated with `g` or an ancestor, holding a role there, or platform staff.
    pub const MEMBER: Access = Access(1);
    /// `admin(g)`: ADMIN on `g` or an ancestor, or CUSTOMER_CARE.
    pub const ADMIN: Access = Access(1 << 2);
    /// `admin(u)`, for reads about user `u`: admin(g) of some customer `u` is associated with, or CUSTOMER_CARE.
    pub const ADMIN_OF_USER: Access = Access(1 << 3);
    /// `admin(every u)`, for writes to user `u`'s own account: admin(g) of every customer
    /// `u` is associated with, or CUSTOMER_CARE; a user holding a platform role is
    /// changed by CUSTOMER_CARE only.
    pub const ADMIN_OF_EVERY_USER: Access = Access(1 << 4);
    /// `care`: CUSTOMER_CARE.
    pub const CARE: Access = Access(1 << 5);
    /// `dkim`: the DKIM role, the platform's mail operator.
    pub const DKIM: Access = Access(1 << 6);
    /// `service`: an APPLICATION user holding SERVICE platform-wide.
    pub const SERVICE: Access = Access(1 << 7);
    /// `service(g)`: `service`, or an APPLICATION user holding SERVICE on `g` or an ancestor.
    pub const SERVICE_OF: Access = Access(1 << 8);
    /// Associated with `g` or an ancestor, platform roles aside: what `checkServiceCustomer`
    /// answers about the caller's own customers.
    pub const ASSOCIATE: Access = Access(1 << 9);

    const NAMES: [(Access, &'static str); 9] = [
        (Access::MEMBER, "member(g)"),
        (Access::ADMIN, "admin(g)"),
        (Access::ADMIN_OF_USER, "admin(u)"),
        (Access::ADMIN_OF_EVERY_USER, "admin(every u)"),
        (Access::CARE, "care"),
        (Access::DKIM, "dkim"),
        (Access::SERVICE, "service"),
        (Access::SERVICE_OF, "service(g)"),
        (Access::ASSOCIATE, "associated(g)"),
    ];

    fn includes(self, rule: Access) -> bool {
        self.0 & rule.0 != 0
    }

    /// Whether `caller` may act on `target` under this rule. A target that does not exist
    /// is [`Decision::Missing`] only to a caller whom some rule here admits whatever the
    /// target (customer care for `admin(g)`, …); to anyone else it is denied as well, so
    /// that nobody learns which customers and users exist beyond their reach.
    pub fn decide(self, caller: &Principal, target: Target<'_>) -> Decision {
        let rules = || Self::NAMES.iter().map(|(rule, _)| *rule).filter(|rule| self.includes(*rule));
        match target {
            Target::Missing if rules().any(|rule| rule.reaches_all(caller)) => Decision::Missing,
            Target::Missing => Decision::Denied,
            Target::Customers(customers) => {
                let each_admitted = customers
                    .iter()
                    .all(|customer| rules().any(|rule| rule.admits(caller, &Target::Customer(customer))));
                if each_admitted { Decision::Allowed } else { Decision::Denied }
            }
            target if rules().any(|rule| rule.admits(caller, &target)) => Decision::Allowed,
            _ => Decision::Denied,
        }
    }

    /// One rule's verdict.
    fn admits(self, caller: &Principal, target: &Target<'_>) -> bool {
        let grants = &caller.grants;
        match (self, target) {
            (Access::CARE, _) => grants.is_care(),
            (Access::DKIM, _) => grants.has_platform_role(AccountCentralRole::Dkim),
            (Access::SERVICE, _) => caller.is_platform_service(),
            (Access::MEMBER, Target::Customer(customer)) => grants.is_member_of(customer),
            (Access::ADMIN, Target::Customer(customer)) => grants.is_admin_of(customer),
            (Access::ASSOCIATE, Target::Customer(customer)) => grants.is_associated_with(customer),
            (Access::SERVICE_OF, Target::Customer(customer)) => {
                caller.is_platform_service()
                    || (caller.kind == UserType::Application && grants.holds_on(customer, AccountCentralRole::Service))
            }
            (Access::ADMIN_OF_USER, Target::User(user)) => grants.is_care() || user.associated.iter().any(|c| grants.is_admin_of(c)),
            (Access::ADMIN_OF_EVERY_USER, Target::User(user)) => {
                grants.is_care()
                    || (!user.holds_platform_role && !user.associated.is_empty() && user.associated.iter().all(|c| grants.is_admin_of(c)))
            }
            _ => false,
        }
    }

    /// Whether this rule admits the caller for every target of its kind, so that it may
    /// learn that one does not exist.
    fn reaches_all(self, caller: &Principal) -> bool {
        let grants = &caller.grants;
        match self {
            Access::MEMBER => grants.is_staff(),
            Access::ADMIN | Access::ADMIN_OF_USER | Access::ADMIN_OF_EVERY_USER | Access::CARE => grants.is_care(),
            Access::DKIM => grants.has_platform_role(AccountCentralRole::Dkim),
            Access::SERVICE | Access::SERVICE_OF => caller.is_platform_service(),
            _ => false,
        }
    }
}

impl BitOr for Access {
    type Output = Access;

    fn bitor(self, other: Access) -> Access {
        Access(self.0 | other.0)
    }
}

impl fmt::Debug for Access {
    /// As the contract writes it: `admin(g) or dkim`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Self::NAMES
            .iter()
            .filter(|(rule, _)| self.includes(*rule))
            .map(|(_, name)| *name)
            .collect();
        f.write_str(&names.join(" or "))
    }
}

/// The caller as the rules see it: what kind of user, and what its capabilities amount to.
#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: UserType,
    pub grants: Grants,
}

impl Principal {
    /// `service`: an APPLICATION user holding SERVICE platform-wide.
    pub fn is_platform_service(&self) -> bool {
        self.kind == UserType::Application && self.grants.has_platform_role(AccountCentralRole::Service)
    }
}

/// What a call is about, as far as the rules need to know it.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Nothing in particular (the caller itself, the platform).
    Platform,
    /// Customer `g`, with its ancestors.
    Customer(&'a Customer),
    /// Several customers, the rule to hold for each (`admin(g) for each g`).
    Customers(&'a [Customer]),
    /// User `u`.
    User(&'a UserFacts),
    /// The customer or user named does not exist.
    Missing,
}

/// What the rules need to know about a user that a call is about.
#[derive(Debug, Clone)]
pub struct UserFacts {
    /// The customers the user is associated with.
    pub associated: Vec<Customer>,
    /// Whether the user holds CUSTOMER_CARE, DKIM or SERVICE platform-wide.
    pub holds_platform_role: bool,
}

impl UserFacts {
    /// The facts of a user associated with `associated` and holding `capabilities`.
    pub fn new(associated: Vec<Customer>, capabilities: &[Capability]) -> Self {
        let grants = Grants::new(capabilities, []);
        Self {
            associated,
            holds_platform_role: PLATFORM_ROLES.iter().any(|role| grants.has_platform_role(*role)),
        }
    }
}

/// The verdict of [`Access::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Forbidden (403), whether or not the target exists.
    Denied,
    /// The target does not exist, and the caller may know it (404).
    Missing,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{capability, customer};
    use crate::domain::ids::GroupPk;

    /// A caller holding accountcentral `role` on each resource, associated with `associated`.
    fn principal(kind: UserType, held: &[(&[&str], &str)], associated: &[i64]) -> Principal {
        let capabilities: Vec<Capability> = held.iter().map(|(resource, role)| capability(resource, role)).collect();
        Principal {
            kind,
            grants: Grants::new(&capabilities, associated.iter().copied().map(GroupPk)),
        }
    }

    fn admin_of(group: i64) -> Principal {
        principal(UserType::Interactive, &[(&["customers", &group.to_string()], "ADMIN")], &[group])
    }

    fn care() -> Principal {
        principal(UserType::Interactive, &[(&["platform"], "CUSTOMER_CARE")], &[1])
    }

    fn user(associated: &[Customer], holds_platform_role: bool) -> UserFacts {
        UserFacts {
            associated: associated.to_vec(),
            holds_platform_role,
        }
    }

    #[test]
    fn admin_of_a_user_needs_one_of_its_customers_and_of_every_user_all_of_them() {
        let acme = customer(100, &[]);
        let italia = customer(101, &[100]);
        let globex = customer(200, &[]);
        let shared_by_tenants = user(&[acme.clone(), globex.clone()], false);
        for (caller, reads, writes) in [(admin_of(100), true, false), (admin_of(200), true, false), (care(), true, true)] {
            assert_eq!(
                Access::ADMIN_OF_USER.decide(&caller, Target::User(&shared_by_tenants)) == Decision::Allowed,
                reads
            );
            assert_eq!(
                Access::ADMIN_OF_EVERY_USER.decide(&caller, Target::User(&shared_by_tenants)) == Decision::Allowed,
                writes
            );
        }
        // Associated with a sub-customer and its ancestor: the sub-customer's admin reads only.
        let in_italia_and_acme = user(&[italia.clone(), acme.clone()], false);
        assert_eq!(
            Access::ADMIN_OF_USER.decide(&admin_of(101), Target::User(&in_italia_and_acme)),
            Decision::Allowed
        );
        assert_eq!(
            Access::ADMIN_OF_EVERY_USER.decide(&admin_of(101), Target::User(&in_italia_and_acme)),
            Decision::Denied
        );
        assert_eq!(
            Access::ADMIN_OF_EVERY_USER.decide(&admin_of(100), Target::User(&in_italia_and_acme)),
            Decision::Allowed
        );
    }

    #[test]
    fn a_user_with_a_platform_role_is_changed_by_care_only() {
        let acme = customer(100, &[]);
        let operator = user(std::slice::from_ref(&acme), true);
        assert_eq!(
            Access::ADMIN_OF_USER.decide(&admin_of(100), Target::User(&operator)),
            Decision::Allowed
        );
        assert_eq!(
            Access::ADMIN_OF_EVERY_USER.decide(&admin_of(100), Target::User(&operator)),
            Decision::Denied
        );
        assert_eq!(
            Access::ADMIN_OF_EVERY_USER.decide(&care(), Target::User(&operator)),
            Decision::Allowed
        );
    }

    #[test]
    fn service_of_a_customer_covers_its_subtree_for_application_users_only() {
        let acme = customer(100, &[]);
        let italia = customer(101, &[100]);
        let globex = customer(200, &[]);
        let tenant_mailer = principal(UserType::Application, &[(&["customers", "100"], "SERVICE")], &[100]);
        assert_eq!(
            Access::SERVICE_OF.decide(&tenant_mailer, Target::Customer(&italia)),
            Decision::Allowed
        );
        assert_eq!(
            Access::SERVICE_OF.decide(&tenant_mailer, Target::Customer(&acme)),
            Decision::Allowed
        );
        assert_eq!(
            Access::SERVICE_OF.decide(&tenant_mailer, Target::Customer(&globex)),
            Decision::Denied
        );
        assert_eq!(Access::SERVICE_OF.decide(&tenant_mailer, Target::Missing), Decision::Denied);
        assert_eq!(Access::SERVICE.decide(&tenant_mailer, Target::Platform), Decision::Denied);

        let person = principal(UserType::Interactive, &[(&["customers", "100"], "SERVICE")], &[100]);
        assert_eq!(Access::SERVICE_OF.decide(&person, Target::Customer(&acme)), Decision::Denied);

        let platform_mailer = principal(UserType::Application, &[(&["platform"], "SERVICE")], &[1]);
        assert_eq!(
            Access::SERVICE_OF.decide(&platform_mailer, Target::Customer(&globex)),
            Decision::Allowed
        );
        assert_eq!(Access::SERVICE_OF.decide(&platform_mailer, Target::Missing), Decision::Missing);
    }

    #[test]
    fn a_missing_target_is_news_only_to_who_reaches_all() {
        let keys = Access::ADMIN | Access::DKIM;
        let dkim = principal(UserType::Interactive, &[(&["platform"], "DKIM")], &[1]);
        assert_eq!(keys.decide(&admin_of(100), Target::Missing), Decision::Denied);
        assert_eq!(keys.decide(&care(), Target::Missing), Decision::Missing);
        assert_eq!(keys.decide(&dkim, Target::Missing), Decision::Missing);
        assert_eq!(keys.decide(&dkim, Target::Customer(&customer(200, &[]))), Decision::Allowed);
        assert_eq!(Access::MEMBER.decide(&dkim, Target::Missing), Decision::Missing);
        assert_eq!(Access::ASSOCIATE.decide(&care(), Target::Missing), Decision::Denied);
        assert_eq!(
            Access::ADMIN.decide(&admin_of(100), Target::Customer(&customer(101, &[100]))),
            Decision::Allowed
        );
        assert_eq!(
            Access::ADMIN.decide(&admin_of(101), Target::Customer(&customer(100, &[]))),
            Decision::Denied
        );
    }

    #[test]
    fn a_rule_for_each_customer_holds_for_all_of_them() {
        let mixed = [customer(101, &[100]), customer(200, &[])];
        assert_eq!(
            Access::ADMIN.decide(&admin_of(100), Target::Customers(&mixed[..1])),
            Decision::Allowed
        );
        assert_eq!(Access::ADMIN.decide(&admin_of(100), Target::Customers(&mixed)), Decision::Denied);
        assert_eq!(Access::ADMIN.decide(&care(), Target::Customers(&mixed)), Decision::Allowed);
    }

    #[test]
    fn platform_rules_need_their_role_and_customer_rules_a_customer() {
        let dkim = principal(UserType::Interactive, &[(&["platform"], "DKIM")], &[1]);
        let care_or_dkim = Access::CARE | Access::DKIM;
        assert_eq!(care_or_dkim.decide(&dkim, Target::Platform), Decision::Allowed);
        assert_eq!(care_or_dkim.decide(&care(), Target::Platform), Decision::Allowed);
        assert_eq!(care_or_dkim.decide(&admin_of(100), Target::Platform), Decision::Denied);
        assert_eq!(Access::ADMIN.decide(&admin_of(100), Target::Platform), Decision::Denied);
    }

    #[test]
    fn rules_print_as_the_contract_writes_them() {
        assert_eq!(
            format!("{:?}", Access::ADMIN | Access::DKIM | Access::SERVICE_OF),
            "admin(g) or dkim or service(g)"
        );
    }
}
