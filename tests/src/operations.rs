//! The implemented operations, one or more representative calls each, with who may
//! call them (the operation's auth rule, docs/authorization.md), and the demo tenant that decides who that is.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{DEMO_USERS, TestApp, read, unique};

/// A demo user, as docs/demo-tenant.md describes it.
#[derive(Debug)]
pub struct DemoUser {
    pub username: &'static str,
    pub user_pk: i64,
    /// An APPLICATION user (client credentials) rather than an INTERACTIVE one.
    pub application: bool,
    /// The customers the user is associated with.
    pub associated: &'static [i64],
    /// Its accountcentral role ...
    pub role: &'static str,
    /// ... on this customer (and its subtree), or platform-wide (`None`).
    pub on: Option<i64>,
}

/// The demo users the stand-in seeds.
pub const DEMO: [DemoUser; 7] = [
    DemoUser {
        username: "care",
        user_pk: 1,
        application: false,
        associated: &[1],
        role: "CUSTOMER_CARE",
        on: None,
    },
    DemoUser {
        username: "dkimops",
        user_pk: 2,
        application: false,
        associated: &[1],
        role: "DKIM",
        on: None,
    },
    DemoUser {
        username: "acme.admin",
        user_pk: 10,
        application: false,
        associated: &[100],
        role: "ADMIN",
        on: Some(100),
    },
    DemoUser {
        username: "acme.it.admin",
        user_pk: 11,
        application: false,
        associated: &[101],
        role: "ADMIN",
        on: Some(101),
    },
    DemoUser {
        username: "acme.user",
        user_pk: 12,
        application: false,
        associated: &[101],
        role: "USER",
        on: Some(101),
    },
    DemoUser {
        username: "globex.admin",
        user_pk: 20,
        application: false,
        associated: &[200],
        role: "ADMIN",
        on: Some(200),
    },
    DemoUser {
        username: "mta",
        user_pk: 30,
        application: true,
        associated: &[1],
        role: "SERVICE",
        on: None,
    },
];

/// Callers the matrix adds to the demo users, made by customer care before it runs
/// ([`Tokens::of_matrix_callers`]): a user of two tenants, a user of a customer and its
/// ancestor, and a tenant's own mail system.
pub const SHARED_CALLERS: [DemoUser; 3] = [
    DemoUser {
        username: "two.tenants",
        user_pk: 0,
        application: false,
        associated: &[100, 200],
        role: "ADMIN",
        on: Some(100),
    },
    DemoUser {
        username: "italia.and.acme",
        user_pk: 0,
        application: false,
        associated: &[101, 100],
        role: "ADMIN",
        on: Some(101),
    },
    DemoUser {
        username: "acme.mailer",
        user_pk: 0,
        application: true,
        associated: &[100],
        role: "SERVICE",
        on: Some(100),
    },
];

/// The demo customers the stand-in seeds: (groupPk, parent).
pub const DEMO_CUSTOMERS: [(i64, Option<i64>); 5] = [(1, None), (100, None), (101, Some(100)), (102, Some(100)), (200, None)];

/// A customer key that no demo customer has.
pub const MISSING_CUSTOMER: i64 = 999;
/// A user key that no demo user has (nor any user a test creates).
pub const MISSING_USER: i64 = 999_999_999;
/// A provisioning job id that no job has.
pub const MISSING_JOB: &str = "00000000-0000-4000-8000-000000000000";

/// The customer and its ancestors, nearest first (just the customer when it is not a demo customer).
pub fn lineage(group: i64) -> Vec<i64> {
    let mut chain = vec![group];
    while let Some((_, Some(parent))) = DEMO_CUSTOMERS.iter().find(|(g, _)| g == chain.last().unwrap()) {
        chain.push(*parent);
    }
    chain
}

/// The demo user (or matrix caller) called `username`.
pub fn demo_user(username: &str) -> &'static DemoUser {
    DEMO.iter()
        .chain(SHARED_CALLERS.iter())
        .find(|u| u.username == username)
        .unwrap_or_else(|| panic!("{username} is not a demo user"))
}

impl DemoUser {
    fn holds_platform(&self, role: &str) -> bool {
        self.on.is_none() && self.role == role
    }

    /// CUSTOMER_CARE.
    pub fn is_care(&self) -> bool {
        self.holds_platform("CUSTOMER_CARE")
    }

    /// DKIM: the platform's mail operator.
    pub fn is_dkim(&self) -> bool {
        self.holds_platform("DKIM")
    }

    /// Platform staff: CUSTOMER_CARE or DKIM.
    pub fn is_staff(&self) -> bool {
        self.is_care() || self.is_dkim()
    }

    /// An APPLICATION user holding SERVICE.
    pub fn is_service(&self) -> bool {
        self.application && self.holds_platform("SERVICE")
    }

    /// Holds `role` on the customer or an ancestor.
    pub fn holds_on(&self, role: &str, group: i64) -> bool {
        self.role == role && self.on.is_some_and(|held| lineage(group).contains(&held))
    }

    /// Associated with the customer or an ancestor.
    pub fn is_associated_with(&self, group: i64) -> bool {
        lineage(group).iter().any(|g| self.associated.contains(g))
    }

    /// member(g).
    pub fn is_member_of(&self, group: i64) -> bool {
        self.is_staff() || self.is_associated_with(group)
    }

    /// admin(g).
    pub fn is_admin_of(&self, group: i64) -> bool {
        self.is_care() || self.holds_on("ADMIN", group)
    }

    /// admin(u), for a user associated with `associations`.
    pub fn is_admin_of_user(&self, associations: &[i64]) -> bool {
        self.is_care() || associations.iter().any(|g| self.is_admin_of(*g))
    }

    /// admin(every u), for a user associated with `associations` (holding a platform role or not).
    pub fn is_admin_of_every_user(&self, associations: &[i64], platform_role: bool) -> bool {
        self.is_care() || (!platform_role && !associations.is_empty() && associations.iter().all(|g| self.is_admin_of(*g)))
    }

    /// service(g): `service`, or an APPLICATION user holding SERVICE on the customer or an ancestor.
    pub fn is_service_of(&self, group: i64) -> bool {
        self.is_service() || (self.application && self.holds_on("SERVICE", group))
    }
}

/// Who may call an operation: one variant per auth rule of the contract, naming the
/// customer or user the call is about.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// `public`: no token needed.
    Public,
    /// `user`: any active user, acting on itself.
    User,
    /// Associated with the customer or an ancestor; staff roles do not count (checkServiceCustomer).
    AssociatedWith(i64),
    /// `member(g)`.
    MemberOf(i64),
    /// `admin(g)`.
    AdminOf(i64),
    /// `admin(u)`, for a user associated with these customers (none: a user that does not exist).
    AdminOfUser(&'static [i64]),
    /// `admin(every u)`, for a user associated with these customers and holding no platform role.
    AdminOfEveryUser(&'static [i64]),
    /// `admin(u) + admin(g) for each g`: the user's customers, then the customers named.
    AdminOfUserAndOf(&'static [i64], &'static [i64]),
    /// `admin(u)`, and the caller holds what it grants or revokes: the accountcentral `role`
    /// (or ADMIN) on customer `on` or an ancestor; CUSTOMER_CARE for platform-wide (`on` = None).
    Delegates {
        user: &'static [i64],
        role: &'static str,
        on: Option<i64>,
    },
    /// `user`, naming user `.0` (associated with `.1`) in `excludeUserPk`: the user itself or admin(u).
    SelfOrAdminOfUser(i64, &'static [i64]),
    /// `care`.
    Care,
    /// `service`: an APPLICATION user holding SERVICE.
    Service,
    /// `admin(g) or dkim`.
    KeysOf(i64),
    /// `admin(g) or dkim or service(g)`.
    SigningKeyOf(i64),
    /// `service(g)`.
    ServiceOf(i64),
    /// `care or dkim`.
    CareOrDkim,
    /// `care or service`.
    CareOrService,
    /// `dkim`: the DKIM role.
    Dkim,
}

impl Access {
    /// Whether the demo user `caller` may call (`Public` aside, an anonymous caller never may).
    pub fn allows(self, caller: Option<&DemoUser>) -> bool {
        let Some(caller) = caller else {
            return matches!(self, Access::Public);
        };
        match self {
            Access::Public | Access::User => true,
            Access::AssociatedWith(group) => caller.is_associated_with(group),
            Access::MemberOf(group) => caller.is_member_of(group),
            Access::AdminOf(group) => caller.is_admin_of(group),
            Access::AdminOfUser(associations) => caller.is_admin_of_user(associations),
            Access::AdminOfEveryUser(associations) => caller.is_admin_of_every_user(associations, false),
            Access::AdminOfUserAndOf(associations, groups) => {
                caller.is_admin_of_user(associations) && groups.iter().all(|g| caller.is_admin_of(*g))
            }
            Access::Delegates { user, role, on } => {
                caller.is_admin_of_user(user)
                    && (caller.is_care() || on.is_some_and(|g| caller.holds_on(role, g) || caller.holds_on("ADMIN", g)))
            }
            Access::SelfOrAdminOfUser(user_pk, associations) => caller.user_pk == user_pk || caller.is_admin_of_user(associations),
            Access::Care => caller.is_care(),
            Access::Service => caller.is_service(),
            Access::KeysOf(group) => caller.is_admin_of(group) || caller.is_dkim(),
            Access::SigningKeyOf(group) => caller.is_admin_of(group) || caller.is_dkim() || caller.is_service_of(group),
            Access::ServiceOf(group) => caller.is_service_of(group),
            Access::CareOrDkim => caller.is_care() || caller.is_dkim(),
            Access::CareOrService => caller.is_care() || caller.is_service(),
            Access::Dkim => caller.is_dkim(),
        }
    }
}

/// What a call needs prepared (by customer care) before it is made, fresh for every call.
#[derive(Clone, Copy, Debug)]
pub enum Fixture {
    None,
    /// The caller's own `GET /v1/user` is the context's `target` (null when anonymous).
    Me,
    /// The customer, as care reads it, is the context's `target`.
    Customer(i64),
    /// A new user of customer `home`, also associated with `also`: the path's `{userPk}`;
    /// its `getUser` representation (as care reads it) is the context's `target`.
    NewUser {
        home: i64,
        also: &'static [i64],
    },
    /// A new user of `home` to whom care granted the accountcentral `role` on customer `on`
    /// (platform-wide for `None`): the path's `{userPk}` and `{id}`.
    Granted {
        home: i64,
        role: &'static str,
        on: Option<i64>,
    },
    /// A new key of the customer, made by care: the path's `{dkimId}`; as care reads it, the context's `target`.
    CustomerKey(i64),
    /// A new FBL, made by the DKIM operator: the path's `{uuid}`; as it reads it, the context's `target`.
    Fbl,
    /// A new top-level customer, without users or keys: the context's `group`.
    NewCustomer,
    /// A PREPARE_DEACTIVATION job care asked for on a new customer: the path's `{jobId}`.
    ProvisioningJob,
    /// Care resets the caller's password: the reset's answer (`newPassword`) is the context's `target`.
    MyPassword,
    /// Care gives the caller a new cell phone number.
    MyCellPhone,
    /// The caller has a cell phone and a code pending for it: `{"code": …}` is the context's `target`.
    MyCode,
    /// A new user of `home` with a cell phone (made by care): the path's `{userPk}`.
    NewUserWithPhone {
        home: i64,
    },
    /// A new user of `home` with a cell phone and a code pending for it: the path's
    /// `{userPk}`; `{"code": …}` is the context's `target`.
    NewUserWithCode {
        home: i64,
    },
    /// A notification delivered to the caller (stored directly): `[its id]` is the context's `target`.
    MyNotification,
}

/// What a call's path and body are built from.
#[derive(Debug, Default)]
pub struct Context {
    /// The fixture's resource, as customer care (or the caller, for `Fixture::Me`) reads it.
    pub target: Value,
    pub user_pk: Option<i64>,
    pub capability: Option<i64>,
    /// The fixture's DKIM key id or FBL id.
    pub dkim: Option<String>,
    /// The fixture's customer.
    pub group: Option<i64>,
    /// The fixture's provisioning job id.
    pub job: Option<String>,
    /// A name no other call uses.
    pub tag: String,
}

/// One call of an operation.
pub struct Operation {
    pub id: &'static str,
    pub method: Method,
    /// The path; `{userPk}` and `{id}` are the fixture's.
    pub path: String,
    pub fixture: Fixture,
    /// The request body.
    pub body: Option<fn(&Context) -> Value>,
    pub access: Access,
    /// The status of a call by a caller the rule allows (404 where the target does not exist).
    pub success: u16,
}

impl Operation {
    fn new(id: &'static str, method: Method, path: impl Into<String>, access: Access) -> Self {
        Self {
            id,
            method,
            path: path.into(),
            fixture: Fixture::None,
            body: None,
            access,
            success: 200,
        }
    }

    fn with_body(mut self, body: fn(&Context) -> Value) -> Self {
        self.body = Some(body);
        self
    }

    fn on(mut self, fixture: Fixture) -> Self {
        self.fixture = fixture;
        self
    }

    fn answering(mut self, success: u16) -> Self {
        self.success = success;
        self
    }

    /// The status `user` (anonymous for `None`) must get: the rule decides, from the demo table.
    pub fn expected(&self, user: Option<&str>) -> u16 {
        match (self.access, user) {
            (Access::Public, _) => self.success,
            (_, None) => 401,
            (access, Some(user)) if access.allows(Some(demo_user(user))) => self.success,
            _ => 403,
        }
    }
}

/// A GET of `path`.
fn get(id: &'static str, path: impl Into<String>, access: Access) -> Operation {
    Operation::new(id, Method::GET, path, access)
}

/// A new user of customer 101, the target of every call that changes a user.
const NEW_USER_OF_101: Fixture = Fixture::NewUser { home: 101, also: &[] };

/// The `grantCapability` body of the accountcentral `role` on customer `on` (platform-wide for `None`).
pub fn grant_body(role: &str, on: Option<i64>) -> Value {
    let resource = match on {
        Some(group) => json!(["customers", group.to_string()]),
        None => json!(["platform"]),
    };
    json!({"application": "accountcentral", "version": 1, "resource": resource, "role": role})
}

/// A valid `UserPreferences` body.
pub fn preferences_body() -> Value {
    json!({"timezone": "UTC", "language": "en", "weekBegin": "MONDAY", "numberFormat": {"pattern": "#,##0.00"},
           "dateFormat": {"pattern": "yyyy-MM-dd"}, "hourFormat": {"pattern": "HH:mm"}})
}

/// The `CustomerUpdate` that replaces `customer` (a `getCustomer` answer) with itself.
pub fn customer_update(customer: &Value) -> Value {
    let mut body = serde_json::Map::new();
    for field in [
        "name",
        "address",
        "country",
        "phone",
        "platformResponsible",
        "technicalResponsible",
        "privacyResponsible",
        "status",
        "premium",
        "gid",
    ] {
        body.insert(field.to_owned(), customer[field].clone());
    }
    Value::Object(body)
}

/// The `UserInfo` that replaces a user (a `getUser` answer) with itself.
pub fn user_update(user: &Value) -> Value {
    let mut body = user.clone();
    body.as_object_mut().expect("a user").remove("suspensionInfo");
    body
}

/// One call (or more, on different targets) of each implemented operation.
pub fn implemented_operations() -> Vec<Operation> {
    use Access::*;
    let mut operations = vec![
        get("getUserPreferenceOptions", "/v1/options/user-preferences", Public),
        get("getCustomerPreferenceOptions", "/v1/options/customer-preferences", Public),
        get("getSites", "/v1/options/sites", Public),
        get("listPlatformApplications", "/v1/options/applications", Public),
        get("listNetworkSites", "/v1/options/network-sites", Public),
        get("listSocialSites", "/v1/options/social-sites", Public),
        get("getOpenApi", "/v1/openapi.json", Public),
        get("getHealth", "/v1/health", Public),
        get("getAppRoles", "/v1/options/app-roles", User),
        get("getServiceUser", "/v1/service/user", User),
        get("getServiceUserInfo", "/v1/service/user-info?expand=platform", User),
        get("listServiceCustomers", "/v1/service/customers", User),
        get("checkServiceCustomer", "/v1/service/customers/101", AssociatedWith(101)),
        get("getMe", "/v1/user", User),
        Operation::new("updateMe", Method::PUT, "/v1/user", User)
            .on(Fixture::Me)
            .with_body(|c| c.target.clone()),
        get("getMyPreferences", "/v1/user/preferences", User),
        Operation::new("updateMyPreferences", Method::PUT, "/v1/user/preferences", User).with_body(|_| preferences_body()),
        // The caller has a role on a customer exactly where it is a member.
        get("getMyAccountCentralRole", "/v1/user/role?groupPk=101", MemberOf(101)),
        get("listMySecurityEvents", "/v1/user/security-events", User),
        get("getMyAppAccesses", "/v1/user/app-accesses", User),
        get("getMyPasswordInfo", "/v1/user/password", User).on(Fixture::MyPassword),
        Operation::new("changeMyPassword", Method::PUT, "/v1/user/password", User)
            .on(Fixture::MyPassword)
            .with_body(|c| json!({"oldPassword": c.target["newPassword"], "newPassword": format!("Quartz lantern {} meadow", c.tag)})),
        get("getMyPinStatus", "/v1/user/pin", User),
        Operation::new("requestMyVerificationCode", Method::POST, "/v1/user/verification-code", User).on(Fixture::MyCellPhone),
        Operation::new("verifyMyVerificationCode", Method::POST, "/v1/user/verification-code/verify", User)
            .on(Fixture::MyCode)
            .with_body(|c| c.target.clone()),
        get("getMyTwoFactor", "/v1/user/two-factor", User),
        Operation::new("setMyTwoFactor", Method::PUT, "/v1/user/two-factor", User).with_body(|_| json!({"active": false})),
    ];
    operations.extend(users_operations());
    operations.extend(security_operations());
    operations.extend(customers_operations());
    operations.extend(dkim_operations());
    operations.extend(notifications_operations());
    operations.extend(news_and_status_operations());
    operations.extend(provisioning_operations());
    operations
}

/// A valid `enqueueNotification` body for `destination`.
pub fn notification_body(destination: Value) -> Value {
    json!({"destination": destination,
           "notification": {"title": "Export ready", "message": "Your export is ready", "priority": "NORMAL",
                            "application": "hub", "link": "https://hub.example.test/exports/1"}})
}

/// Notifications: the caller's own, and enqueueing by platform services.
fn notifications_operations() -> Vec<Operation> {
    use Access::*;
    vec![
        get("listNotifications", "/v1/notifications?notRead=true&size=5", User),
        Operation::new("enqueueNotification", Method::POST, "/v1/notifications", Service)
            .with_body(|_| notification_body(json!({"type": "USER", "userPk": 12})))
            .answering(202),
        Operation::new("enqueueNotification", Method::POST, "/v1/notifications", Service)
            .with_body(|_| notification_body(json!({"type": "CUSTOMER", "groupPk": MISSING_CUSTOMER})))
            .answering(404),
        Operation::new("markNotificationsRead", Method::PUT, "/v1/notifications/read", User)
            .on(Fixture::MyNotification)
            .with_body(|c| c.target.clone()),
        get("subscribeNotifications", "/v1/notifications/stream", User),
    ]
}

/// News and application status.
fn news_and_status_operations() -> Vec<Operation> {
    use Access::*;
    vec![
        get("listNews", "/v1/news", User),
        get("listNews", "/v1/news?lang=it&category=1&category=2&size=5", User),
        // Every import of the matrix imports the same demo feeds: the second changes nothing.
        Operation::new("triggerNewsUpdate", Method::POST, "/v1/news/update", CareOrService).answering(202),
        get("getApplicationStatus", "/v1/status/hub", User),
        get("getApplicationStatus", "/v1/status/nonexistent", User).answering(404),
        get("subscribeApplicationStatus", "/v1/status/hub/stream", User),
        get("subscribeApplicationStatus", "/v1/status/nonexistent/stream", User).answering(404),
        Operation::new("setApplicationStatus", Method::PUT, "/v1/status/content", CareOrService).with_body(|_| json!({"status": "DOWN"})),
        Operation::new("setApplicationStatus", Method::PUT, "/v1/status/hub", CareOrService).with_body(|_| json!({"status": "UP"})),
        Operation::new("setApplicationStatus", Method::PUT, "/v1/status/nonexistent", CareOrService)
            .with_body(|_| json!({"status": "UP"}))
            .answering(404),
    ]
}

/// The `createProvisioningJob` body that prepares the deactivation of `group`, which
/// changes nothing (it lists what a deactivation would touch).
pub fn prepare_deactivation(group: Option<i64>) -> Value {
    json!({"groupPk": group, "operation": "PREPARE_DEACTIVATION"})
}

/// Provisioning jobs, on customers of their own so that no job touches the demo tenant.
fn provisioning_operations() -> Vec<Operation> {
    use Access::*;
    vec![
        get("listProvisioningJobs", "/v1/provisioning/jobs", Care),
        get("listProvisioningJobs", "/v1/provisioning/jobs?groupPk=100&size=5", Care),
        Operation::new("createProvisioningJob", Method::POST, "/v1/provisioning/jobs", Care)
            .on(Fixture::NewCustomer)
            .with_body(|c| prepare_deactivation(c.group))
            .answering(202),
        Operation::new("createProvisioningJob", Method::POST, "/v1/provisioning/jobs", Care)
            .with_body(|_| prepare_deactivation(Some(MISSING_CUSTOMER)))
            .answering(404),
        get("getProvisioningJob", "/v1/provisioning/jobs/{jobId}", Care).on(Fixture::ProvisioningJob),
        get("getProvisioningJob", format!("/v1/provisioning/jobs/{MISSING_JOB}"), Care).answering(404),
    ]
}

/// Security events, lockouts and credentials.
fn security_operations() -> Vec<Operation> {
    use Access::*;
    let mut operations = vec![
        // A LOGOUT changes no state that later calls of the matrix depend on.
        Operation::new("recordSecurityEvent", Method::POST, "/v1/internal/security-events", Service)
            .with_body(|_| json!({"type": "LOGOUT", "userPk": 12, "application": "hub"}))
            .answering(201),
    ];
    let targets: [(i64, &'static [i64]); 4] = [(12, &[101]), (10, &[100]), (20, &[200]), (1, &[1])];
    for (user, associations) in targets {
        operations.push(get(
            "getUserLockout",
            format!("/v1/users/{user}/lockout"),
            AdminOfUser(associations),
        ));
    }
    let missing = format!("/v1/users/{MISSING_USER}");
    operations.extend([
        get("getUserLockout", format!("{missing}/lockout"), AdminOfUser(&[])).answering(404),
        Operation::new("unlockUser", Method::DELETE, format!("{missing}/lockout"), AdminOfEveryUser(&[])).answering(404),
        Operation::new("unlockUser", Method::DELETE, "/v1/users/{userPk}/lockout", AdminOfEveryUser(&[101])).on(NEW_USER_OF_101),
        Operation::new(
            "unlockUser",
            Method::DELETE,
            "/v1/users/{userPk}/lockout",
            AdminOfEveryUser(&[100, 200]),
        )
        .on(Fixture::NewUser { home: 100, also: &[200] }),
    ]);
    operations
}

/// The DKIM keys, the FBLs and signing.
fn dkim_operations() -> Vec<Operation> {
    use Access::*;
    let mut operations = Vec::new();
    // 101 has no key of its own, 100 has two, 200 none.
    for group in [101, 100, 200] {
        operations.extend([
            get("listCustomerDkims", format!("/v1/customers/{group}/dkims"), KeysOf(group)),
            Operation::new(
                "createCustomerDkim",
                Method::POST,
                format!("/v1/customers/{group}/dkims"),
                KeysOf(group),
            )
            .with_body(|c| crate::dkim::key_body(&format!("{}.test", c.tag), "s1", true))
            .answering(201),
            get("getCustomerDkim", format!("/v1/customers/{group}/dkims/{{dkimId}}"), KeysOf(group)).on(Fixture::CustomerKey(group)),
            Operation::new(
                "updateCustomerDkim",
                Method::PUT,
                format!("/v1/customers/{group}/dkims/{{dkimId}}"),
                KeysOf(group),
            )
            .on(Fixture::CustomerKey(group))
            .with_body(|c| crate::dkim::kept_key_body(&c.target)),
            Operation::new(
                "deleteCustomerDkim",
                Method::DELETE,
                format!("/v1/customers/{group}/dkims/{{dkimId}}"),
                KeysOf(group),
            )
            .on(Fixture::CustomerKey(group)),
            Operation::new(
                "setCustomerDefaultDkim",
                Method::PUT,
                format!("/v1/customers/{group}/dkims/default"),
                KeysOf(group),
            )
            .on(Fixture::CustomerKey(group))
            .with_body(|c| json!({"id": c.target["id"]})),
            get(
                "getSigningDkim",
                format!("/v1/customers/{group}/signing-dkim?domain=acme.test"),
                SigningKeyOf(group),
            ),
            Operation::new("signMessage", Method::POST, format!("/v1/customers/{group}/sign"), ServiceOf(group))
                .with_body(|_| json!({"message": crate::dkim::SAMPLE_MESSAGE, "data": {"recipient": "someone@gmail.com"}})),
        ]);
    }
    let missing = MISSING_CUSTOMER;
    operations.extend([
        get("listCustomerDkims", format!("/v1/customers/{missing}/dkims"), KeysOf(missing)).answering(404),
        get(
            "getSigningDkim",
            format!("/v1/customers/{missing}/signing-dkim"),
            SigningKeyOf(missing),
        )
        .answering(404),
        Operation::new(
            "signMessage",
            Method::POST,
            format!("/v1/customers/{missing}/sign"),
            ServiceOf(missing),
        )
        .with_body(|_| json!({"message": crate::dkim::SAMPLE_MESSAGE, "data": {}}))
        .answering(404),
        get("getCustomerDkim", "/v1/customers/100/dkims/999999", KeysOf(100)).answering(404),
        get("listAllDkims", "/v1/dkims", CareOrDkim),
        get("getPlatformDkim", "/v1/platform/dkim", CareOrDkim),
        Operation::new("updatePlatformDkim", Method::PUT, "/v1/platform/dkim", Dkim)
            .with_body(|_| crate::dkim::key_body("mail.platform.test", "pf2", false)),
        get("listFbls", "/v1/fbls", CareOrDkim),
        Operation::new("createFbl", Method::POST, "/v1/fbls", Dkim)
            .with_body(|c| crate::dkim::fbl_body(&format!("{}.test", c.tag)))
            .answering(201),
        Operation::new("updateFbl", Method::PUT, "/v1/fbls/{uuid}", Dkim)
            .on(Fixture::Fbl)
            .with_body(|c| crate::dkim::kept_fbl_body(&c.target)),
        Operation::new("deleteFbl", Method::DELETE, "/v1/fbls/{uuid}", Dkim)
            .on(Fixture::Fbl)
            .answering(204),
    ]);
    operations
}

/// The users group and the authorization server's capabilities.
fn users_operations() -> Vec<Operation> {
    use Access::*;
    let mut operations = Vec::new();
    // Reads, on demo users of each tenant (12 of 101, 10 of 100, 20 of 200, care of 1) and on nobody.
    let targets: [(i64, &'static [i64]); 4] = [(12, &[101]), (10, &[100]), (20, &[200]), (1, &[1])];
    for (user, associations) in targets {
        operations.extend([
            get("getUser", format!("/v1/users/{user}"), AdminOfUser(associations)),
            get(
                "listUserCustomers",
                format!("/v1/users/{user}/customers"),
                AdminOfUser(associations),
            ),
            get(
                "getUserPreferences",
                format!("/v1/users/{user}/preferences"),
                AdminOfUser(associations),
            ),
            get("getUserRoles", format!("/v1/users/{user}/roles"), AdminOfUser(associations)),
            get(
                "listCapabilityLog",
                format!("/v1/users/{user}/capabilities/log"),
                AdminOfUser(associations),
            ),
            get(
                "listUserSecurityEvents",
                format!("/v1/users/{user}/security-events"),
                AdminOfUser(associations),
            ),
        ]);
    }
    let missing = format!("/v1/users/{MISSING_USER}");
    operations.extend([
        get("getUser", missing.clone(), AdminOfUser(&[])).answering(404),
        get("getUserRoles", format!("{missing}/roles"), AdminOfUser(&[])).answering(404),
        get("listUserSecurityEvents", format!("{missing}/security-events"), AdminOfUser(&[])).answering(404),
        Operation::new(
            "setUserSuspension",
            Method::PUT,
            format!("{missing}/suspension"),
            AdminOfEveryUser(&[]),
        )
        .with_body(|_| json!({"suspended": true}))
        .answering(404),
    ]);
    // Changes, each on a user created for the call.
    operations.extend([
        Operation::new("updateUser", Method::PUT, "/v1/users/{userPk}", AdminOfEveryUser(&[101]))
            .on(NEW_USER_OF_101)
            .with_body(|c| user_update(&c.target)),
        Operation::new(
            "setUserSuspension",
            Method::PUT,
            "/v1/users/{userPk}/suspension",
            AdminOfEveryUser(&[101]),
        )
        .on(NEW_USER_OF_101)
        .with_body(|_| json!({"suspended": true})),
        // A user that two tenants rely on: each tenant's admin reads it, only care changes it.
        Operation::new("updateUser", Method::PUT, "/v1/users/{userPk}", AdminOfEveryUser(&[100, 200]))
            .on(Fixture::NewUser { home: 100, also: &[200] })
            .with_body(|c| user_update(&c.target)),
        Operation::new(
            "updateUserPreferences",
            Method::PUT,
            "/v1/users/{userPk}/preferences",
            AdminOfEveryUser(&[100, 200]),
        )
        .on(Fixture::NewUser { home: 100, also: &[200] })
        .with_body(|_| preferences_body()),
        get("getUserPreferences", "/v1/users/{userPk}/preferences", AdminOfUser(&[100, 200]))
            .on(Fixture::NewUser { home: 100, also: &[200] }),
        get(
            "listUserSecurityEvents",
            "/v1/users/{userPk}/security-events",
            AdminOfUser(&[100, 200]),
        )
        .on(Fixture::NewUser { home: 100, also: &[200] }),
        // A user of a sub-customer and of its ancestor: the sub-customer's admin does not change it.
        Operation::new(
            "setUserSuspension",
            Method::PUT,
            "/v1/users/{userPk}/suspension",
            AdminOfEveryUser(&[101, 100]),
        )
        .on(Fixture::NewUser { home: 101, also: &[100] })
        .with_body(|_| json!({"suspended": true})),
        get("getUser", "/v1/users/{userPk}", AdminOfUser(&[101, 100])).on(Fixture::NewUser { home: 101, also: &[100] }),
        // A user holding a platform role is changed by customer care only, even where its admin reads it.
        Operation::new("setUserSuspension", Method::PUT, "/v1/users/{userPk}/suspension", Care)
            .on(Fixture::Granted {
                home: 101,
                role: "DKIM",
                on: None,
            })
            .with_body(|_| json!({"suspended": true})),
        get("getUserRoles", "/v1/users/{userPk}/roles", AdminOfUser(&[101])).on(Fixture::Granted {
            home: 101,
            role: "DKIM",
            on: None,
        }),
        // An admin of 101 administers the user, but not 102 (nor 200).
        Operation::new(
            "associateUserCustomers",
            Method::POST,
            "/v1/users/{userPk}/customers",
            AdminOfUserAndOf(&[101], &[102]),
        )
        .on(NEW_USER_OF_101)
        .with_body(|_| json!([102])),
        Operation::new(
            "associateUserCustomers",
            Method::POST,
            "/v1/users/{userPk}/customers",
            AdminOfUserAndOf(&[101], &[200]),
        )
        .on(NEW_USER_OF_101)
        .with_body(|_| json!([200])),
        // A customer that does not exist: 403, or 404 to care, who administers every customer.
        Operation::new(
            "associateUserCustomers",
            Method::POST,
            "/v1/users/{userPk}/customers",
            AdminOfUserAndOf(&[101], &[MISSING_CUSTOMER]),
        )
        .on(NEW_USER_OF_101)
        .with_body(|_| json!([MISSING_CUSTOMER]))
        .answering(404),
        Operation::new(
            "removeUserCustomers",
            Method::DELETE,
            "/v1/users/{userPk}/customers?groupPk=102",
            AdminOfUserAndOf(&[101, 102], &[102]),
        )
        .on(Fixture::NewUser { home: 101, also: &[102] }),
        Operation::new(
            "removeUserCustomers",
            Method::DELETE,
            "/v1/users/{userPk}/customers?groupPk=101",
            AdminOfUserAndOf(&[101, 102], &[101]),
        )
        .on(Fixture::NewUser { home: 101, also: &[102] }),
        Operation::new(
            "updateUserPreferences",
            Method::PUT,
            "/v1/users/{userPk}/preferences",
            AdminOfEveryUser(&[101]),
        )
        .on(NEW_USER_OF_101)
        .with_body(|_| preferences_body()),
        Operation::new("assignUserRoles", Method::PUT, "/v1/users/{userPk}/roles", AdminOfUser(&[101]))
            .on(NEW_USER_OF_101)
            .with_body(|_| json!({"hub": "EDITOR", "flow": null})),
        // Roles are assigned on the customer the user was created in: its admin is needed,
        // an admin of another of the user's customers is not enough.
        Operation::new(
            "assignUserRoles",
            Method::PUT,
            "/v1/users/{userPk}/roles",
            AdminOfUserAndOf(&[102, 101], &[102]),
        )
        .on(Fixture::NewUser { home: 102, also: &[101] })
        .with_body(|_| json!({"hub": "EDITOR"})),
        Operation::new(
            "grantCapability",
            Method::POST,
            "/v1/users/{userPk}/capabilities",
            Delegates {
                user: &[101],
                role: "ADMIN",
                on: Some(101),
            },
        )
        .on(NEW_USER_OF_101)
        .with_body(|_| grant_body("ADMIN", Some(101)))
        .answering(201),
        Operation::new(
            "grantCapability",
            Method::POST,
            "/v1/users/{userPk}/capabilities",
            Delegates {
                user: &[101],
                role: "DKIM",
                on: None,
            },
        )
        .on(NEW_USER_OF_101)
        .with_body(|_| grant_body("DKIM", None))
        .answering(201),
        Operation::new(
            "revokeCapability",
            Method::DELETE,
            "/v1/users/{userPk}/capabilities/{id}",
            Delegates {
                user: &[101],
                role: "ADMIN",
                on: Some(101),
            },
        )
        .on(Fixture::Granted {
            home: 101,
            role: "ADMIN",
            on: Some(101),
        }),
        Operation::new(
            "revokeCapability",
            Method::DELETE,
            "/v1/users/{userPk}/capabilities/{id}",
            Delegates {
                user: &[101],
                role: "DKIM",
                on: None,
            },
        )
        .on(Fixture::Granted {
            home: 101,
            role: "DKIM",
            on: None,
        }),
        get("getAuthServerCapabilities", "/v1/internal/capabilities?username=acme.user", Service),
        get("getAuthServerCapabilities", "/v1/internal/capabilities?username=care", Service),
        get(
            "getAuthServerCapabilities",
            "/v1/internal/capabilities?username=nobody.at.all",
            Service,
        )
        .answering(404),
    ]);
    operations.extend(credentials_operations());
    operations
}

/// Team members' credentials and two-factor, as their administrators manage them.
fn credentials_operations() -> Vec<Operation> {
    use Access::*;
    let every_of_101 = AdminOfEveryUser(&[101]);
    let mut operations = vec![
        Operation::new("resetUserPassword", Method::POST, "/v1/users/{userPk}/password/reset", every_of_101).on(NEW_USER_OF_101),
        Operation::new("resetUserPin", Method::POST, "/v1/users/{userPk}/pin/reset", every_of_101).on(NEW_USER_OF_101),
        Operation::new(
            "requestUserVerificationCode",
            Method::POST,
            "/v1/users/{userPk}/verification-code",
            every_of_101,
        )
        .on(Fixture::NewUserWithPhone { home: 101 }),
        Operation::new(
            "verifyUserVerificationCode",
            Method::POST,
            "/v1/users/{userPk}/verification-code/verify",
            every_of_101,
        )
        .on(Fixture::NewUserWithCode { home: 101 })
        .with_body(|c| c.target.clone()),
        Operation::new("setUserTwoFactor", Method::PUT, "/v1/users/{userPk}/two-factor", every_of_101)
            .on(NEW_USER_OF_101)
            .with_body(|_| json!({"active": false})),
        // A user of a customer and its ancestor: only the ancestor's admin (or care) changes it.
        Operation::new(
            "resetUserPassword",
            Method::POST,
            "/v1/users/{userPk}/password/reset",
            AdminOfEveryUser(&[101, 100]),
        )
        .on(Fixture::NewUser { home: 101, also: &[100] }),
    ];
    let targets: [(i64, &'static [i64]); 4] = [(12, &[101]), (10, &[100]), (20, &[200]), (1, &[1])];
    for (user, associations) in targets {
        operations.push(get(
            "getUserTwoFactor",
            format!("/v1/users/{user}/two-factor"),
            AdminOfUser(associations),
        ));
    }
    let missing = format!("/v1/users/{MISSING_USER}");
    operations.extend([
        get("getUserTwoFactor", format!("{missing}/two-factor"), AdminOfUser(&[])).answering(404),
        Operation::new(
            "resetUserPassword",
            Method::POST,
            format!("{missing}/password/reset"),
            AdminOfEveryUser(&[]),
        )
        .answering(404),
        Operation::new("resetUserPin", Method::POST, format!("{missing}/pin/reset"), AdminOfEveryUser(&[])).answering(404),
    ]);
    operations
}

/// The customers group.
fn customers_operations() -> Vec<Operation> {
    use Access::*;
    let mut operations = vec![
        get("listCustomers", "/v1/customers", User),
        get("listCustomers", "/v1/customers?excludeUserPk=12", SelfOrAdminOfUser(12, &[101])),
        get("listCustomers", "/v1/customers?excludeUserPk=20", SelfOrAdminOfUser(20, &[200])),
        // Only care reaches a user that does not exist: associated with nothing, it leaves nothing out.
        get(
            "listCustomers",
            format!("/v1/customers?excludeUserPk={MISSING_USER}"),
            SelfOrAdminOfUser(MISSING_USER, &[]),
        ),
    ];
    for group in [101, 100, 200] {
        operations.extend([
            get("listCustomerParents", format!("/v1/customers/{group}/parents"), MemberOf(group)),
            get("getCustomer", format!("/v1/customers/{group}"), MemberOf(group)),
            Operation::new("updateCustomer", Method::PUT, format!("/v1/customers/{group}"), AdminOf(group))
                .on(Fixture::Customer(group))
                .with_body(|c| customer_update(&c.target)),
            Operation::new("patchCustomerStatus", Method::PATCH, format!("/v1/customers/{group}"), Care)
                .on(Fixture::Customer(group))
                .with_body(|c| json!({"status": c.target["status"]})),
            get("listCustomerUsers", format!("/v1/customers/{group}/users"), AdminOf(group)),
            Operation::new(
                "createCustomerUser",
                Method::POST,
                format!("/v1/customers/{group}/users"),
                AdminOf(group),
            )
            .with_body(|c| crate::new_user(&c.tag))
            .answering(201),
            get(
                "listCustomerApplicationUsers",
                format!("/v1/customers/{group}/application-users"),
                AdminOf(group),
            ),
            get(
                "getCustomerApplications",
                format!("/v1/customers/{group}/applications"),
                MemberOf(group),
            ),
            get("listCustomerAppUsage", format!("/v1/customers/{group}/app-usage"), AdminOf(group)),
            get(
                "listCustomerAppUsageByApp",
                format!("/v1/customers/{group}/app-usage/hub"),
                AdminOf(group),
            ),
            get(
                "listCustomerUsersWithIssues",
                format!("/v1/customers/{group}/users-with-issues"),
                AdminOf(group),
            ),
            get(
                "listCustomerFailedLogins",
                format!("/v1/customers/{group}/failed-logins?days=30"),
                AdminOf(group),
            ),
        ]);
    }
    // Configuration, on the customers the demo configures (100: hub, plan, send; 200: hub).
    for group in [100, 200] {
        operations.extend([
            get(
                "getCustomerConfiguration",
                format!("/v1/customers/{group}/configuration"),
                AdminOf(group),
            ),
            get(
                "getCustomerSftpConfiguration",
                format!("/v1/customers/{group}/configuration/sftp"),
                AdminOf(group),
            ),
            get(
                "getCustomerApplication",
                format!("/v1/customers/{group}/applications/hub"),
                MemberOf(group),
            ),
        ]);
    }
    operations.extend([
        get("getCustomer", "/v1/customers/1", MemberOf(1)),
        get("getCustomer", "/v1/customers/102", MemberOf(102)),
        get("listCustomerApplicationUsers", "/v1/customers/1/application-users", AdminOf(1)),
        get(
            "getHubWorkspaceCounters",
            "/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters",
            MemberOf(100),
        ),
        get(
            "getHubWorkspaceCounters",
            "/v1/customers/100/applications/hub/workspaces/ws-acme-loyalty/counters",
            MemberOf(100),
        ),
        get(
            "getHubWorkspaceCounters",
            "/v1/customers/200/applications/hub/workspaces/ws-globex/counters",
            MemberOf(200),
        ),
    ]);
    // A customer that does not exist: 403 for whoever would not reach it if it did;
    // 404 for those who reach every customer this way.
    let missing = MISSING_CUSTOMER;
    operations.extend([
        get("getCustomer", format!("/v1/customers/{missing}"), MemberOf(missing)).answering(404),
        get("listCustomerParents", format!("/v1/customers/{missing}/parents"), MemberOf(missing)).answering(404),
        get("listCustomerUsers", format!("/v1/customers/{missing}/users"), AdminOf(missing)).answering(404),
        Operation::new("patchCustomerStatus", Method::PATCH, format!("/v1/customers/{missing}"), Care)
            .with_body(|_| json!({"status": "ACTIVE"}))
            .answering(404),
        Operation::new(
            "createCustomerUser",
            Method::POST,
            format!("/v1/customers/{missing}/users"),
            AdminOf(missing),
        )
        .with_body(|c| crate::new_user(&c.tag))
        .answering(404),
        get(
            "getCustomerApplications",
            format!("/v1/customers/{missing}/applications"),
            MemberOf(missing),
        )
        .answering(404),
        get(
            "listCustomerAppUsage",
            format!("/v1/customers/{missing}/app-usage"),
            AdminOf(missing),
        )
        .answering(404),
        get(
            "listCustomerAppUsageByApp",
            format!("/v1/customers/{missing}/app-usage/send"),
            AdminOf(missing),
        )
        .answering(404),
        get(
            "listCustomerUsersWithIssues",
            format!("/v1/customers/{missing}/users-with-issues"),
            AdminOf(missing),
        )
        .answering(404),
        get(
            "listCustomerFailedLogins",
            format!("/v1/customers/{missing}/failed-logins"),
            AdminOf(missing),
        )
        .answering(404),
    ]);
    operations
}

impl Operation {
    /// Prepares the call's fixture (as customer care) and its context.
    pub async fn prepare(&self, app: &TestApp, user: Option<&str>) -> Context {
        let mut context = Context {
            tag: unique("t"),
            ..Context::default()
        };
        match self.fixture {
            Fixture::None => {}
            Fixture::Me => {
                if let Some(user) = user {
                    context.target = app.get_as(user, "/v1/user").await.1;
                }
            }
            Fixture::Customer(group) => {
                let (status, customer) = app.get_as("care", &format!("/v1/customers/{group}")).await;
                assert_eq!(status, 200, "care reads customer {group}: {customer}");
                context.target = customer;
            }
            Fixture::NewUser { home, also } => {
                let user_pk = app.create_user("care", home, &crate::new_user(&unique("user"))).await;
                if !also.is_empty() {
                    let (status, answer) = app.post_as("care", &format!("/v1/users/{user_pk}/customers"), &json!(also)).await;
                    assert_eq!(status, 200, "care associates {also:?} with user {user_pk}: {answer}");
                }
                let (status, target) = app.get_as("care", &format!("/v1/users/{user_pk}")).await;
                assert_eq!(status, 200, "care reads user {user_pk}: {target}");
                context.user_pk = Some(user_pk);
                context.target = target;
            }
            Fixture::Granted { home, role, on } => {
                let user_pk = app.create_user("care", home, &crate::new_user(&unique("user"))).await;
                let (status, granted) = app
                    .post_as("care", &format!("/v1/users/{user_pk}/capabilities"), &grant_body(role, on))
                    .await;
                assert_eq!(status, 201, "care grants {role} on {on:?} to user {user_pk}: {granted}");
                context.user_pk = Some(user_pk);
                context.capability = Some(granted["id"].as_i64().expect("the capability's id"));
            }
            Fixture::CustomerKey(group) => {
                let body = crate::dkim::key_body(&format!("{}.test", context.tag), "s1", true);
                let (status, key) = app.post_as("care", &format!("/v1/customers/{group}/dkims"), &body).await;
                assert_eq!(status, 201, "care creates a key of customer {group}: {key}");
                context.dkim = Some(key["id"].to_string());
                context.target = key;
            }
            Fixture::MyPassword => {
                if let Some(user) = user {
                    let user_pk = crate::user_pk_of(app, user).await;
                    let (status, reset) = app
                        .post_as("care", &format!("/v1/users/{user_pk}/password/reset"), &json!({}))
                        .await;
                    assert_eq!(status, 200, "care resets the password of {user}: {reset}");
                    context.target = reset;
                }
            }
            Fixture::MyCellPhone => {
                if let Some(user) = user {
                    crate::give_cell_phone(app, crate::user_pk_of(app, user).await).await;
                }
            }
            Fixture::MyCode => {
                if let Some(user) = user {
                    let code = crate::pending_code(app, crate::user_pk_of(app, user).await).await;
                    context.target = json!({ "code": code });
                }
            }
            Fixture::NewUserWithPhone { home } | Fixture::NewUserWithCode { home } => {
                let user_pk = app.create_user("care", home, &crate::new_user(&unique("user"))).await;
                context.user_pk = Some(user_pk);
                if matches!(self.fixture, Fixture::NewUserWithCode { .. }) {
                    context.target = json!({ "code": crate::pending_code(app, user_pk).await });
                } else {
                    crate::give_cell_phone(app, user_pk).await;
                }
            }
            Fixture::NewCustomer => context.group = Some(crate::stored_customer(app, &context.tag, None).await),
            Fixture::ProvisioningJob => {
                let group = crate::stored_customer(app, &context.tag, None).await;
                let (status, job) = app
                    .post_as("care", "/v1/provisioning/jobs", &prepare_deactivation(Some(group)))
                    .await;
                assert_eq!(status, 202, "care prepares the deactivation of customer {group}: {job}");
                context.job = job["id"].as_str().map(str::to_owned);
            }
            Fixture::MyNotification => {
                if let Some(user) = user {
                    let id = crate::delivered_notification(app, crate::user_pk_of(app, user).await).await;
                    context.target = json!([id]);
                }
            }
            Fixture::Fbl => {
                let body = crate::dkim::fbl_body(&format!("{}.test", context.tag));
                let (status, fbl) = app.post_as("dkimops", "/v1/fbls", &body).await;
                assert_eq!(status, 201, "the DKIM operator creates an FBL: {fbl}");
                context.dkim = fbl["id"].as_str().map(str::to_owned);
                context.target = fbl;
            }
        }
        context
    }

    /// The path, with the fixture's keys in it.
    pub fn path_in(&self, context: &Context) -> String {
        let mut path = self.path.clone();
        if let Some(user_pk) = context.user_pk {
            path = path.replace("{userPk}", &user_pk.to_string());
        }
        if let Some(id) = context.capability {
            path = path.replace("{id}", &id.to_string());
        }
        if let Some(id) = &context.dkim {
            path = path.replace("{dkimId}", id).replace("{uuid}", id);
        }
        if let Some(id) = &context.job {
            path = path.replace("{jobId}", id);
        }
        path
    }

    /// Calls the operation as `user`, or anonymously, on a fresh fixture: status and JSON body.
    pub async fn call(&self, app: &TestApp, user: Option<&str>) -> (u16, Value) {
        let tokens = match user {
            Some(user) => Tokens(BTreeMap::from([(user.to_owned(), app.token(user).await)])),
            None => Tokens(BTreeMap::new()),
        };
        self.call_with(app, &tokens, user).await
    }

    /// [`Operation::call`], with the callers' tokens read once beforehand. The call (not its
    /// fixture's) is marked for a [`crate::writes::WriteLog`] to watch, where one does.
    pub async fn call_with(&self, app: &TestApp, tokens: &Tokens, user: Option<&str>) -> (u16, Value) {
        let context = self.prepare(app, user).await;
        let mut request = app
            .request(self.method.clone(), &self.path_in(&context))
            .header(crate::writes::WATCH_HEADER, "1");
        if let Some(user) = user {
            request = request.bearer_auth(tokens.of(user));
        }
        if let Some(body) = self.body {
            request = request.json(&body(&context));
        }
        let response = request.send().await.expect("the stand-in answers");
        let streaming = response
            .headers()
            .get("content-type")
            .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
        if streaming {
            // An open Server-Sent-Events stream: its status is the answer, and dropping it
            // closes it (its body ends only at the stream's lifetime).
            return (response.status().as_u16(), Value::Null);
        }
        read(response).await
    }

    /// How the call reads in a failure message.
    pub fn describe(&self) -> String {
        format!("{} ({} {})", self.id, self.method, self.path)
    }
}

/// Bearer tokens by username.
pub struct Tokens(BTreeMap<String, String>);

impl Tokens {
    /// Makes the [`SHARED_CALLERS`] (as customer care), then reads a token for each caller.
    pub async fn of_matrix_callers(app: &TestApp) -> Self {
        for caller in &SHARED_CALLERS {
            make_shared_caller(app, caller).await;
        }
        let mut tokens = BTreeMap::new();
        for user in callers().flatten() {
            tokens.insert(user.to_owned(), app.token(user).await);
        }
        Tokens(tokens)
    }

    /// The token of `user`.
    pub fn of(&self, user: &str) -> &str {
        self.0.get(user).unwrap_or_else(|| panic!("no token for {user}"))
    }
}

/// Every caller of a matrix: anonymous, each demo user, then the shared callers.
pub fn callers() -> impl Iterator<Item = Option<&'static str>> {
    std::iter::once(None)
        .chain(DEMO_USERS.iter().copied().map(Some))
        .chain(SHARED_CALLERS.iter().map(|caller| Some(caller.username)))
}

/// Makes `caller` as customer care would: the user in its first customer, associated with
/// the others, holding its role there. An APPLICATION user is stored directly, since no
/// operation creates one; care grants it SERVICE through the API.
async fn make_shared_caller(app: &TestApp, caller: &DemoUser) {
    let (home, also) = caller.associated.split_first().expect("a shared caller has a customer");
    let user_pk = if caller.application {
        crate::application_user(app, caller.username, "Mailer", *home, None).await
    } else {
        let user_pk = app.create_user("care", *home, &crate::new_user(caller.username)).await;
        if !also.is_empty() {
            let (status, answer) = app.post_as("care", &format!("/v1/users/{user_pk}/customers"), &json!(also)).await;
            assert_eq!(status, 200, "care associates {also:?} with {}: {answer}", caller.username);
        }
        user_pk
    };
    let (status, granted) = app
        .post_as(
            "care",
            &format!("/v1/users/{user_pk}/capabilities"),
            &grant_body(caller.role, caller.on),
        )
        .await;
    assert_eq!(
        status, 201,
        "care grants {} on {:?} to {}: {granted}",
        caller.role, caller.on, caller.username
    );
}
