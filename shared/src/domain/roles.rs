//! Assigning a user's role per application (`assignUserRoles`, `createCustomerUser`).

use serde_json::{Map, Value};

use super::capability::Capability;
use super::catalogue::Catalogue;
use super::user::send_pattern_role;
use super::validation::Violations;

/// The applications whose role `assignUserRoles` sets.
pub const ASSIGNABLE_APPLICATIONS: [&str; 9] = [
    "accountcentral",
    "hub",
    "mc",
    "cplan",
    "send",
    "content",
    "flow",
    "eddie",
    "demo_client",
];

/// One application's new role; `None` removes the user's role there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    pub application: String,
    pub role: Option<String>,
}

/// What an assignment changes on one resource: the capabilities it takes away, and the
/// (application, role) pairs it gives (each to be minted as a new capability).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleDiff {
    pub revoked: Vec<Capability>,
    pub granted: Vec<(String, String)>,
}

/// What `changes` do to the roles the user holds on `resource`: an application's
/// capabilities there are replaced by its new role, or removed for none; an application
/// already holding exactly the new role is left as it is.
pub fn diff_roles(held: &[Capability], resource: &[String], changes: Vec<RoleChange>) -> RoleDiff {
    let mut diff = RoleDiff::default();
    for change in changes {
        let current: Vec<&Capability> = held
            .iter()
            .filter(|c| c.application == change.application && c.resource == resource)
            .collect();
        let unchanged = match &change.role {
            Some(role) => current.len() == 1 && &current[0].role == role,
            None => current.is_empty(),
        };
        if unchanged {
            continue;
        }
        diff.revoked.extend(current.into_iter().cloned());
        if let Some(role) = change.role {
            diff.granted.push((change.application, role));
        }
    }
    diff
}

/// Reads a role assignment: each property an application of [`ASSIGNABLE_APPLICATIONS`],
/// each value null or a role the application offers (for `send`, also a send pattern).
/// Omitted applications are left out of the result, so they stay as they are.
pub fn parse_assignment(body: &Map<String, Value>, catalogue: &Catalogue) -> Result<Vec<RoleChange>, Violations> {
    let mut violations = Violations::new();
    let mut changes = Vec::new();
    for (application, value) in body {
        let pointer = format!("/{application}");
        if !ASSIGNABLE_APPLICATIONS.contains(&application.as_str()) {
            violations.body(
                pointer,
                format!("unknown application; one of {}", ASSIGNABLE_APPLICATIONS.join(", ")),
            );
            continue;
        }
        let role = match value {
            Value::Null => None,
            Value::String(role) if catalogue.offers_role(application, role) => Some(role.clone()),
            Value::String(pattern) if application == "send" && send_pattern_role(pattern).is_some() => {
                send_pattern_role(pattern).map(str::to_owned)
            }
            Value::String(role) => {
                violations.body(pointer, format!("{application} offers no role {role:?} (see getAppRoles)"));
                continue;
            }
            _ => {
                violations.body(pointer, "must be a role name or null");
                continue;
            }
        };
        changes.push(RoleChange {
            application: application.clone(),
            role,
        });
    }
    violations.into_result(changes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value) -> Result<Vec<RoleChange>, Vec<String>> {
        parse_assignment(body.as_object().unwrap(), Catalogue::get()).map_err(|errors| errors.iter().map(|e| e.path.to_string()).collect())
    }

    #[test]
    fn null_removes_and_omitted_keeps() {
        let changes = parse(json!({"hub": "EDITOR", "flow": null, "send": "onlyStat"})).unwrap();
        assert_eq!(
            changes,
            [
                RoleChange {
                    application: "flow".into(),
                    role: None
                },
                RoleChange {
                    application: "hub".into(),
                    role: Some("EDITOR".into())
                },
                RoleChange {
                    application: "send".into(),
                    role: Some("VIEWER".into())
                },
            ]
        );
    }

    #[test]
    fn roles_not_offered_are_named() {
        assert_eq!(
            parse(json!({"hub": "SENDER", "accountcentral": "CUSTOMER_CARE", "jira": "ADMIN", "mc": 3})).unwrap_err(),
            ["/accountcentral", "/hub", "/jira", "/mc"]
        );
    }
}
