//! Each function's wiring (`WIRING`: the ports beyond the store its binary builds, and so
//! the AWS clients it links) and its IAM policy in template.yaml tell the same story: a
//! function wires the queues exactly when it may send to a queue, the key vault exactly
//! when it may use the KMS key, and the SMS gateway exactly when it may publish to SNS.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value;
use shared::app::wiring;

/// Every function's binary, as template.yaml names it, with its wiring.
const FUNCTIONS: [(&str, u8); 18] = [
    ("accountcentral-options", accountcentral_options::WIRING),
    ("accountcentral-service", accountcentral_service::WIRING),
    ("accountcentral-user", accountcentral_user::WIRING),
    ("accountcentral-users", accountcentral_users::WIRING),
    ("accountcentral-security", accountcentral_security::WIRING),
    ("accountcentral-customers", accountcentral_customers::WIRING),
    ("accountcentral-capabilities", accountcentral_capabilities::WIRING),
    ("accountcentral-dkim", accountcentral_dkim::WIRING),
    ("accountcentral-signing", accountcentral_signing::WIRING),
    ("accountcentral-notifications", accountcentral_notifications::WIRING),
    (
        "accountcentral-notifications-delivery",
        accountcentral_notifications_delivery::WIRING,
    ),
    ("accountcentral-notifications-stream", accountcentral_notifications_stream::WIRING),
    ("accountcentral-news", accountcentral_news::WIRING),
    ("accountcentral-news-import", accountcentral_news_import::WIRING),
    ("accountcentral-status", accountcentral_status::WIRING),
    ("accountcentral-status-stream", accountcentral_status_stream::WIRING),
    ("accountcentral-provisioning", accountcentral_provisioning::WIRING),
    ("accountcentral-provisioning-worker", accountcentral_provisioning_worker::WIRING),
];

/// The IAM actions each function's policies grant, by its binary's name.
fn granted_actions() -> BTreeMap<String, Vec<String>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let template: Value = serde_norway::from_str(&std::fs::read_to_string(path).expect("template.yaml")).expect("template.yaml is YAML");
    let resources = template["Resources"].as_mapping().expect("the template's resources");
    resources
        .values()
        .filter(|resource| resource["Type"] == "AWS::Serverless::Function")
        .map(|function| {
            let binary = function["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("each function names its binary");
            let actions = function["Properties"]["Policies"]
                .as_sequence()
                .into_iter()
                .flatten()
                .flat_map(|policy| policy["Statement"].as_sequence().into_iter().flatten())
                .flat_map(|statement| match &statement["Action"] {
                    Value::String(action) => vec![action.clone()],
                    Value::Sequence(actions) => actions.iter().filter_map(|a| a.as_str().map(String::from)).collect(),
                    _ => Vec::new(),
                })
                .collect();
            (binary.to_owned(), actions)
        })
        .collect()
}

#[test]
fn every_function_wires_exactly_the_clients_its_policy_allows() {
    let granted = granted_actions();
    assert_eq!(
        granted.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        FUNCTIONS.iter().map(|(binary, _)| *binary).collect::<BTreeSet<_>>(),
        "template.yaml's functions and this table differ"
    );
    for (binary, wired) in FUNCTIONS {
        let actions = &granted[binary];
        let grants = |prefix: &str| actions.iter().any(|action| action.starts_with(prefix));
        for (port, name, granted) in [
            (wiring::QUEUES, "the queues", actions.iter().any(|a| a == "sqs:SendMessage")),
            (wiring::KEY_VAULT, "the key vault", grants("kms:")),
            (wiring::SMS, "the SMS gateway", grants("sns:")),
        ] {
            assert_eq!(
                wired & port != 0,
                granted,
                "{binary}: wires {name}: {}, its policy grants them: {granted} ({actions:?})",
                wired & port != 0
            );
        }
    }
}
