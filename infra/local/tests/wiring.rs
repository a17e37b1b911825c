//! Each function's wiring (`WIRING`: the ports beyond the store its binary builds, and so
//! the AWS clients it links) and its IAM policy in template.yaml tell the same story: a
//! function wires the queues exactly when it may send to a queue, the key vault exactly
//! when it may use the KMS key, and the SMS gateway exactly when it may publish to SNS.

use std::collections::BTreeSet;

use accountcentral_local::template::Template;
use accountcentral_local::{CONSUMERS, FUNCTIONS};
use shared::app::wiring;

#[test]
fn every_function_wires_exactly_the_clients_its_policy_allows() {
    let policies = Template::of_this_repository().policies();
    let functions: Vec<(&str, u8)> = FUNCTIONS
        .iter()
        .map(|f| (f.binary, f.wiring))
        .chain(CONSUMERS.iter().map(|c| (c.binary, c.wiring)))
        .collect();
    assert_eq!(
        policies.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        functions.iter().map(|(binary, _)| *binary).collect::<BTreeSet<_>>(),
        "template.yaml's functions and the stand-in's differ"
    );
    for (binary, wired) in functions {
        let actions: Vec<&str> = policies[binary]
            .iter()
            .flat_map(|statement| statement.actions.iter().map(String::as_str))
            .collect();
        let grants = |prefix: &str| actions.iter().any(|action| action.starts_with(prefix));
        for (port, name, granted) in [
            (wiring::QUEUES, "the queues", actions.contains(&"sqs:SendMessage")),
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
