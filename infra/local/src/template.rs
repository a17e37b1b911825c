//! template.yaml as the tests read it: each function's IAM statements, the queues' event
//! sources, and any resource (the DKIM key's policy). Resources are named as the template
//! names them (`!GetAtt Table.Arn` is `Table`, `!Sub ${Table.Arn}/index/*` is
//! `Table/index/*`), as [`Permission`]s name them.

use std::collections::BTreeMap;

use serde_norway::Value;
use shared::adapters::aws::permissions::Permission;

/// The template, parsed.
pub struct Template(Value);

/// One `Allow` statement of a policy.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: String,
    pub actions: Vec<String>,
    /// What it applies to (`Resource`), or what it does not apply to (`NotResource`).
    pub resources: Resources,
    pub condition: Value,
}

/// A statement's `Resource` or `NotResource`, as resource names or patterns (`*` matches anything).
#[derive(Debug, Clone)]
pub enum Resources {
    Only(Vec<String>),
    AllBut(Vec<String>),
}

impl Template {
    /// This repository's template.yaml.
    pub fn of_this_repository() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
        let text = std::fs::read_to_string(path).expect("template.yaml");
        Self(serde_norway::from_str(&text).expect("template.yaml is YAML"))
    }

    /// The resource with this logical id.
    pub fn resource(&self, name: &str) -> &Value {
        &self.0["Resources"][name]
    }

    fn resources_of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.0["Resources"]
            .as_mapping()
            .expect("the template's resources")
            .iter()
            .filter(move |(_, resource)| resource["Type"] == kind)
            .map(|(name, resource)| (name.as_str().expect("a logical id"), resource))
    }

    /// Each function's binary name, with its logical id.
    pub fn functions(&self) -> BTreeMap<String, String> {
        self.resources_of_type("AWS::Serverless::Function")
            .map(|(name, function)| (binary(function).to_owned(), name.to_owned()))
            .collect()
    }

    /// The statements of each function's policies, by its binary's name.
    pub fn policies(&self) -> BTreeMap<String, Vec<Statement>> {
        self.resources_of_type("AWS::Serverless::Function")
            .map(|(_, function)| {
                let statements = function["Properties"]["Policies"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .flat_map(|policy| statements(&policy["Statement"]))
                    .collect();
                (binary(function).to_owned(), statements)
            })
            .collect()
    }

    /// The queue each consumer's event source mapping drains: (binary, queue), by logical id.
    pub fn event_sources(&self) -> Vec<(String, String)> {
        let functions: BTreeMap<String, String> = self.functions().into_iter().map(|(binary, name)| (name, binary)).collect();
        self.resources_of_type("AWS::Lambda::EventSourceMapping")
            .map(|(name, mapping)| {
                let function = reference(&mapping["Properties"]["FunctionName"]);
                let queue = reference(&mapping["Properties"]["EventSourceArn"]);
                let binary = functions
                    .get(&function)
                    .unwrap_or_else(|| panic!("{name} maps to {function}, no function"));
                (binary.clone(), queue)
            })
            .collect()
    }
}

fn binary(function: &Value) -> &str {
    function["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .expect("each function names its binary")
}

/// The `Allow` statements of a policy document's `Statement`.
pub fn statements(statements: &Value) -> Vec<Statement> {
    statements
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|statement| {
            assert_eq!(statement["Effect"], "Allow", "{statement:?}: only Allow statements are read");
            let resources = match (&statement["Resource"], &statement["NotResource"]) {
                (Value::Null, not) => Resources::AllBut(names(not)),
                (only, Value::Null) => Resources::Only(names(only)),
                _ => panic!("{statement:?} has both Resource and NotResource"),
            };
            Statement {
                sid: statement["Sid"].as_str().unwrap_or_default().to_owned(),
                actions: strings(&statement["Action"]),
                resources,
                condition: statement["Condition"].clone(),
            }
        })
        .collect()
}

/// A string or a list of strings.
pub fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Sequence(many) => many.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// Resource names: `!GetAtt X.Arn` and `!Ref X` are `X`, `!Sub ${X.Arn}/rest` is `X/rest`.
fn names(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(many) => many.iter().flat_map(names).collect(),
        other => vec![reference(other)],
    }
}

fn reference(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Tagged(tagged) => {
            let text = tagged.value.as_str().unwrap_or_else(|| panic!("{value:?}: a reference by name"));
            if tagged.tag == "Sub" {
                let pseudo = ["${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}"];
                let text = pseudo.iter().fold(text.to_owned(), |text, parameter| text.replace(parameter, "*"));
                text.replace(".Arn}", "").replace("${", "")
            } else {
                text.trim_end_matches(".Arn").to_owned()
            }
        }
        other => panic!("{other:?}: not a resource reference"),
    }
}

/// Whether `pattern` (`*` standing for any text) matches `name`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => name
            .strip_prefix(head)
            .is_some_and(|rest| (0..=rest.len()).any(|at| rest.is_char_boundary(at) && matches(tail, &rest[at..]))),
    }
}

impl Statement {
    /// Whether this statement allows `permission`: its action, its resource, its conditions.
    pub fn allows(&self, permission: &Permission) -> bool {
        let resource = match &self.resources {
            Resources::Only(patterns) => patterns.iter().any(|p| matches(p, &permission.resource)),
            Resources::AllBut(patterns) => !patterns.iter().any(|p| matches(p, &permission.resource)),
        };
        self.actions.iter().any(|action| action == permission.action) && resource && self.condition_holds(permission)
    }

    /// The condition operators the role policies use, on the request's encryption context.
    fn condition_holds(&self, permission: &Permission) -> bool {
        let Some(operators) = self.condition.as_mapping() else {
            return true;
        };
        let context = &permission.context;
        operators.iter().all(|(operator, keys)| {
            keys.as_mapping().expect("a condition's keys").iter().all(|(key, value)| {
                let key = key.as_str().expect("a condition key");
                let values = strings(value);
                match (operator.as_str().expect("a condition operator"), key) {
                    ("StringEquals", key) if key.starts_with("kms:EncryptionContext:") => context
                        .get(&key["kms:EncryptionContext:".len()..])
                        .is_some_and(|v| values.contains(v)),
                    ("ForAllValues:StringEquals", "kms:EncryptionContextKeys") => context.keys().all(|k| values.contains(k)),
                    ("Null", "kms:EncryptionContextKeys") => (values == ["true"]) == context.is_empty(),
                    (operator, key) => panic!("{}: the condition {operator} on {key} is not read by this test", self.sid),
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn a_star_stands_for_any_text() {
        assert!(matches("Table/index/*", "Table/index/GSI1"));
        assert!(!matches("Table/index/*", "Table"));
        assert!(matches("arn:*:sns:*:*:*", "arn:aws:sns:eu-west-1:1:topic"));
        assert!(!matches("arn:*:sns:*:*:*", "phone-number"));
        assert!(matches("Table", "Table"));
    }
}
