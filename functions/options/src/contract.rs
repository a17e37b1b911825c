//! The served OpenAPI document: `openapi.yaml` with the value lists of this deployment.
//!
//! Some values are the deployment's to decide, not the document's: the applications of
//! a stage (`listPlatformApplications`) and the roles each application offers
//! (`getAppRoles`). A schema marks such a value with `x-enum-from`, and the served
//! document lists them as its `enum`, so that a client (or a fuzzer) reads from the
//! contract exactly which values this deployment accepts.

use std::sync::OnceLock;

use serde_json::Value;
use shared::domain::catalogue::{Catalogue, Stage};

/// The document, converted from `openapi.yaml` by the build script.
const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// The marker of a value list: `applications`, or `app-roles/<application>`.
const ENUM_FROM: &str = "x-enum-from";

/// The document served to clients of a deployment of `stage`, built on first use (one
/// stage per process).
pub fn served(stage: Stage) -> &'static str {
    static SERVED: OnceLock<String> = OnceLock::new();
    SERVED.get_or_init(|| {
        let mut document: Value = serde_json::from_str(OPENAPI_JSON).expect("the build script wrote valid JSON");
        fill_enums(&mut document, &mut |list| values_of(list, stage));
        document.to_string()
    })
}

/// The values of the list named by an `x-enum-from` marker.
fn values_of(list: &str, stage: Stage) -> Vec<String> {
    let catalogue = Catalogue::get();
    match list.strip_prefix("app-roles/") {
        Some(application) => catalogue.app_roles.get(application).cloned().unwrap_or_default(),
        None if list == "applications" => catalogue.applications(stage).iter().map(|site| site.id.clone()).collect(),
        None => Vec::new(),
    }
}

/// Gives every schema marked with `x-enum-from` the `enum` of its list (with null when
/// the schema allows null).
fn fill_enums(node: &mut Value, values: &mut dyn FnMut(&str) -> Vec<String>) {
    match node {
        Value::Object(object) => {
            if let Some(list) = object.get(ENUM_FROM).and_then(Value::as_str) {
                let mut members: Vec<Value> = values(list).into_iter().map(Value::String).collect();
                let nullable = object
                    .get("type")
                    .and_then(Value::as_array)
                    .is_some_and(|types| types.iter().any(|t| t == "null"));
                if nullable {
                    members.push(Value::Null);
                }
                object.insert("enum".to_owned(), Value::Array(members));
            }
            object.values_mut().for_each(|child| fill_enums(child, values));
        }
        Value::Array(items) => items.iter_mut().for_each(|child| fill_enums(child, values)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn property<'a>(document: &'a Value, schema: &str, name: &str) -> &'a Value {
        &document["components"]["schemas"][schema]["properties"][name]
    }

    #[test]
    fn every_marked_schema_lists_its_deployments_values() {
        for stage in [Stage::Dev, Stage::Prod] {
            let mut document: Value = serde_json::from_str(OPENAPI_JSON).unwrap();
            fill_enums(&mut document, &mut |list| values_of(list, stage));
            let applications: Vec<Value> = Catalogue::get().applications(stage).iter().map(|site| json!(site.id)).collect();
            assert!(!applications.is_empty());
            assert_eq!(
                property(&document, "NotificationContent", "application")["enum"],
                json!(applications)
            );
            for application in ["hub", "cplan", "flow"] {
                let mut roles = json!(Catalogue::get().app_roles[application]);
                roles.as_array_mut().unwrap().push(Value::Null);
                assert_eq!(
                    property(&document, "CreateUserRequest", application)["enum"],
                    roles,
                    "{application}"
                );
            }
        }
    }

    #[test]
    fn every_marker_names_a_list() {
        let mut document: Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        let mut empty = Vec::new();
        fill_enums(&mut document, &mut |list| {
            let values = values_of(list, Stage::Dev);
            if values.is_empty() {
                empty.push(list.to_owned());
            }
            values
        });
        assert!(empty.is_empty(), "x-enum-from naming no list: {empty:?}");
    }
}
