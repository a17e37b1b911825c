//! The authorization matrix of the implemented operations: every operation, as
//! every demo user and as an anonymous caller, gets the status routes.md implies.

use accountcentral_e2e::{TestApp, on_both_backends, read};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(every_operation_as_every_caller);

const USERS: [&str; 7] = ["care", "dkimops", "acme.admin", "acme.it.admin", "acme.user", "globex.admin", "mta"];

/// Who may call an operation.
#[derive(Clone, Copy)]
enum Access {
    Public,
    /// Any active user, acting on itself.
    User,
    /// Users associated with customer 101 (directly or through 100).
    AssociatedWith101,
    /// Users with a role on customer 101 (a role on 100 covers it; care and DKIM too).
    RoleOn101,
}

struct Operation {
    id: &'static str,
    method: Method,
    path: &'static str,
    body: Option<fn(&Value) -> Value>,
    access: Access,
}

fn operations() -> Vec<Operation> {
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

fn expected(access: Access, user: Option<&str>) -> u16 {
    match (access, user) {
        (Access::Public, _) => 200,
        (_, None) => 401,
        (Access::User, Some(_)) => 200,
        (Access::AssociatedWith101, Some(user)) => {
            if ["acme.admin", "acme.it.admin", "acme.user"].contains(&user) {
                200
            } else {
                403
            }
        }
        (Access::RoleOn101, Some(user)) => {
            if user == "globex.admin" || user == "mta" {
                403
            } else {
                200
            }
        }
    }
}

async fn every_operation_as_every_caller(app: TestApp) {
    let mut failures = Vec::new();
    for operation in operations() {
        for user in std::iter::once(None).chain(USERS.iter().copied().map(Some)) {
            let mut request = app.request(operation.method.clone(), operation.path);
            if let Some(user) = user {
                request = request.bearer_auth(app.token(user).await);
            }
            if let Some(body) = operation.body {
                let me = match user {
                    Some(user) => app.get_as(user, "/v1/user").await.1,
                    None => Value::Null,
                };
                request = request.json(&body(&me));
            }
            let (status, answer) = read(request.send().await.unwrap()).await;
            let want = expected(operation.access, user);
            if status != want {
                failures.push(format!(
                    "{} as {}: {status}, expected {want}: {answer}",
                    operation.id,
                    user.unwrap_or("anonymous")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
