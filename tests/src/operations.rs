//! The implemented operations, one representative call each, with who may call them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{DEMO_USERS, TestApp, read};

/// Who may call an operation.
#[derive(Clone, Copy)]
pub enum Access {
    Public,
    /// Any active user, acting on itself.
    User,
    /// Users associated with customer 101 (directly or through 100).
    AssociatedWith101,
    /// Users with a role on customer 101 (a role on 100 covers it; care and DKIM too).
    RoleOn101,
}

/// One call of an operation.
pub struct Operation {
    pub id: &'static str,
    pub method: Method,
    pub path: &'static str,
    /// The request body, given the caller's own `GET /v1/user`.
    pub body: Option<fn(&Value) -> Value>,
    pub access: Access,
}

/// One call of each implemented operation.
pub fn implemented_operations() -> Vec<Operation> {
    let get = |id, path, access| Operation {
        id,
        method: Method::GET,
        path,
        body: None,
        access,
    };
    vec![
        get("getUserPreferenceOptions", "/v1/options/user-preferences", Access::Public),
        get("getCustomerPreferenceOptions", "/v1/options/customer-preferences", Access::Public),
        get("getSites", "/v1/options/sites", Access::Public),
        get("listPlatformApplications", "/v1/options/applications", Access::Public),
        get("listNetworkSites", "/v1/options/network-sites", Access::Public),
        get("listSocialSites", "/v1/options/social-sites", Access::Public),
        get("getOpenApi", "/v1/openapi.json", Access::Public),
        get("getHealth", "/v1/health", Access::Public),
        get("getAppRoles", "/v1/options/app-roles", Access::User),
        get("getServiceUser", "/v1/service/user", Access::User),
        get("getServiceUserInfo", "/v1/service/user-info?expand=platform", Access::User),
        get("listServiceCustomers", "/v1/service/customers", Access::User),
        get("checkServiceCustomer", "/v1/service/customers/101", Access::AssociatedWith101),
        get("getMe", "/v1/user", Access::User),
        Operation {
            id: "updateMe",
            method: Method::PUT,
            path: "/v1/user",
            body: Some(|me| me.clone()),
            access: Access::User,
        },
        get("getMyPreferences", "/v1/user/preferences", Access::User),
        Operation {
            id: "updateMyPreferences",
            method: Method::PUT,
            path: "/v1/user/preferences",
            body: Some(|_| {
                json!({"timezone": "UTC", "language": "en", "weekBegin": "MONDAY", "numberFormat": {"pattern": "#,##0.00"},
                       "dateFormat": {"pattern": "yyyy-MM-dd"}, "hourFormat": {"pattern": "HH:mm"}})
            }),
            access: Access::User,
        },
        get("getMyAccountCentralRole", "/v1/user/role?groupPk=101", Access::RoleOn101),
    ]
}

impl Operation {
    /// Calls the operation as `user`, or anonymously: status and JSON body.
    pub async fn call(&self, app: &TestApp, user: Option<&str>) -> (u16, Value) {
        let mut request = app.request(self.method.clone(), self.path);
        if let Some(user) = user {
            request = request.bearer_auth(app.token(user).await);
        }
        if let Some(body) = self.body {
            let me = match user {
                Some(user) => app.get_as(user, "/v1/user").await.1,
                None => Value::Null,
            };
            request = request.json(&body(&me));
        }
        read(request.send().await.expect("the stand-in answers")).await
    }
}

/// Every caller of a matrix: anonymous, then each demo user.
pub fn callers() -> impl Iterator<Item = Option<&'static str>> {
    std::iter::once(None).chain(DEMO_USERS.iter().copied().map(Some))
}
