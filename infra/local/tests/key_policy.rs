//! The DKIM key's policy in template.yaml (docs/iam.md): no principal gets `kms:*`, the
//! administrator no data-plane action, and each data-plane action goes to exactly the
//! function roles whose own policies use it, under the same encryption-context condition.

use std::collections::{BTreeMap, BTreeSet};

use accountcentral_local::template::{Template, strings};
use serde_norway::{Mapping, Value};

/// The actions that use the key (or would hand its use on, as a grant does).
fn data_plane(action: &str) -> bool {
    [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt",
        "kms:GenerateDataKey",
        "kms:CreateGrant",
    ]
    .iter()
    .any(|prefix| action.starts_with(prefix))
}

/// A `!Sub`, `!Ref` or plain string's text.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Tagged(tagged) => format!("{} {}", tagged.tag, text(&tagged.value)),
        other => panic!("{other:?}: not a string"),
    }
}

/// The function a role-ARN pattern names (`…:role/${AWS::StackName}-SigningFunctionRole-*`).
fn function_of(pattern: &str) -> String {
    let (_, role) = pattern
        .split_once(":role/${AWS::StackName}-")
        .unwrap_or_else(|| panic!("{pattern}: not a role of this stack"));
    role.strip_suffix("Role-*")
        .unwrap_or_else(|| panic!("{pattern}: not a function's role"))
        .to_owned()
}

/// A condition's operators, in order, whatever order they are written in.
fn canonical(condition: &Mapping) -> String {
    let operators: BTreeMap<String, String> = condition
        .iter()
        .map(|(operator, keys)| (text(operator), serde_norway::to_string(keys).unwrap()))
        .collect();
    format!("{operators:?}")
}

/// (function, action, condition without the principal's): one per grant.
type Grant = (String, String, String);

/// The key policy's data-plane grants; asserts on the way that no statement grants a
/// wildcard, that the administrator has no data-plane action and that every data-plane
/// statement is for named function roles of the stack.
fn key_policy_grants(template: &Template) -> BTreeSet<Grant> {
    let policy = &template.resource("DkimKey")["Properties"]["KeyPolicy"];
    let mut grants = BTreeSet::new();
    for statement in policy["Statement"].as_sequence().expect("the key policy's statements") {
        let sid = statement["Sid"].as_str().unwrap_or_default();
        assert_eq!(statement["Effect"], "Allow", "{sid}");
        let actions = strings(&statement["Action"]);
        assert!(!actions.is_empty(), "{sid}: actions listed");
        for action in &actions {
            assert!(!action.contains('*'), "{sid} grants {action}: a wildcard");
        }
        let principal = text(&statement["Principal"]["AWS"]);
        if principal == "!Ref KeyAdministratorRoleArn" {
            assert!(
                !actions.iter().any(|a| data_plane(a)),
                "{sid}: the administrator uses no key: {actions:?}"
            );
            continue;
        }
        assert_eq!(
            principal, "!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root",
            "{sid}: the administrator or the account's function roles only"
        );
        assert!(actions.iter().all(|a| data_plane(a)), "{sid}: data-plane actions only: {actions:?}");
        let mut condition = statement["Condition"].as_mapping().expect("a function role's condition").clone();
        let arn_like = condition.remove("ArnLike").expect("the roles, by aws:PrincipalArn");
        let roles = match &arn_like["aws:PrincipalArn"] {
            Value::Sequence(patterns) => patterns.iter().map(text).collect(),
            pattern => vec![text(pattern)],
        };
        assert!(!condition.is_empty(), "{sid}: bound to an encryption context");
        let condition = canonical(&condition);
        for role in roles {
            for action in &actions {
                grants.insert((function_of(&role), action.clone(), condition.clone()));
            }
        }
    }
    grants
}

/// What the function roles' own policies grant on the key.
fn role_policy_grants(template: &Template) -> BTreeSet<Grant> {
    let functions = template.functions();
    let mut grants = BTreeSet::new();
    for (binary, function) in &functions {
        let statements = &template.resource(function)["Properties"]["Policies"];
        for statement in statements
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|p| p["Statement"].as_sequence().into_iter().flatten())
        {
            let on_key = matches!(&statement["Resource"], Value::Tagged(t) if t.value == "DkimKey.Arn");
            if !on_key {
                continue;
            }
            let condition = canonical(statement["Condition"].as_mapping().expect("a condition on the key"));
            for action in strings(&statement["Action"]) {
                assert!(data_plane(&action), "{binary}: {action} on the key");
                grants.insert((function.clone(), action, condition.clone()));
            }
        }
    }
    grants
}

#[test]
fn the_dkim_key_lets_each_function_role_do_what_its_policy_does_and_nobody_else() {
    let template = Template::of_this_repository();
    let key = key_policy_grants(&template);
    let roles = role_policy_grants(&template);
    assert!(!roles.is_empty(), "the functions use the key");
    assert_eq!(key, roles, "the key policy's grants and the function roles' differ");
}

#[test]
fn the_administrator_is_a_parameter() {
    let template = Template::of_this_repository();
    let statements = template.resource("DkimKey")["Properties"]["KeyPolicy"]["Statement"].clone();
    let administered = statements.as_sequence().unwrap().iter().any(|statement| {
        strings(&statement["Action"]).contains(&"kms:PutKeyPolicy".to_owned())
            && text(&statement["Principal"]["AWS"]) == "!Ref KeyAdministratorRoleArn"
    });
    assert!(administered, "the administrator role may change the key's policy");
}
