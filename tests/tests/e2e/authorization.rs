//! The authorization matrix of the implemented operations: every operation, as
//! every demo user, every caller the matrix adds, and an anonymous caller, gets the
//! status its auth rule implies (docs/authorization.md).
//! Each operation states its auth rule once (`Access`); who passes it is computed
//! from the demo tenant (`DEMO`, docs/demo-tenant.md), never written down per user.

use std::collections::BTreeSet;

use accountcentral_e2e::operations::{Access, DEMO, Tokens, callers, demo_user, implemented_operations};
use accountcentral_e2e::writes::WriteLog;
use accountcentral_e2e::{DEMO_USERS, TestApp, on_the_embedded_backend, read};
use reqwest::Method;
use serde_json::Value;

on_the_embedded_backend!(every_operation_as_every_caller, every_served_operation_is_in_the_matrix);

/// Every call gets the status its rule implies; a refused call (401, 403) writes nothing
/// (no write reaches the store, a queue or the SMS sender while it is served).
async fn every_operation_as_every_caller(mut app: TestApp) {
    let writes = WriteLog::default();
    app.base = app.wrapped_variant(|state| writes.watch(state), WriteLog::layer).await;
    let mut failures = Vec::new();
    let mut creates_seen_writing = 0;
    let tokens = Tokens::of_matrix_callers(&app).await;
    for operation in implemented_operations() {
        for user in callers() {
            let (status, answer) = operation.call_with(&app, &tokens, user).await;
            let written = writes.take();
            let want = operation.expected(user);
            let caller = user.unwrap_or("anonymous");
            if status != want {
                failures.push(format!("{} as {caller}: {status}, expected {want}: {answer}", operation.describe()));
            } else if matches!(status, 401 | 403) && !written.is_empty() {
                failures.push(format!("{} as {caller}: refused, yet wrote {written:?}", operation.describe()));
            } else if status == 201 {
                assert!(
                    !written.is_empty(),
                    "{} as {caller} created without a write the log saw",
                    operation.describe()
                );
                creates_seen_writing += 1;
            }
        }
    }
    assert!(
        creates_seen_writing > 0,
        "the matrix creates something, and the log sees it written"
    );
    assert!(failures.is_empty(), "{} calls:\n{}", failures.len(), failures.join("\n"));
}

/// Every operation the stand-in serves has a row in the matrix, so that a new operation
/// cannot go without its authorization checks: each operation of the served document is
/// called anonymously, and one that answers other than the router's 404 (no such path) or
/// 405 (no such method on it) is served.
async fn every_served_operation_is_in_the_matrix(app: TestApp) {
    let (status, contract) = read(app.request(Method::GET, "/v1/openapi.json").send().await.unwrap()).await;
    assert_eq!(status, 200, "{contract}");
    let in_matrix: BTreeSet<&str> = implemented_operations().iter().map(|operation| operation.id).collect();
    let mut served = 0;
    let mut missing = Vec::new();
    for (path, item) in contract["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(id) = operation["operationId"].as_str() else { continue };
            let concrete = concrete_path(path);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app.request(method.clone(), &concrete).send().await.unwrap();
            let status = response.status().as_u16();
            if is_routed(status, &read(response).await.1) {
                served += 1;
                if !in_matrix.contains(id) {
                    missing.push(format!("{id} ({method} {path}): anonymous call answered {status}"));
                }
            }
        }
    }
    assert!(
        served >= in_matrix.len(),
        "{served} operations served, fewer than the matrix's {}",
        in_matrix.len()
    );
    assert!(
        missing.is_empty(),
        "served but not in the matrix (tests/src/operations.rs):\n{}",
        missing.join("\n")
    );
}

/// `path` with each `{parameter}` given a value every parameter accepts the form of.
fn concrete_path(path: &str) -> String {
    let mut concrete = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("a closed parameter");
        concrete.push_str(&rest[..open]);
        concrete.push('1');
        rest = &rest[close + 1..];
    }
    concrete.push_str(rest);
    concrete
}

/// Whether an anonymous call reached a route: the router answers 405 for a method it does
/// not serve on a path, and 404 naming no particular resource for a path it does not serve.
fn is_routed(status: u16, body: &Value) -> bool {
    match status {
        405 => false,
        404 => !body["message"].as_str().is_some_and(|message| message.contains("resource")),
        _ => true,
    }
}

/// The demo table the matrix computes from is the one the tests log in with, and its
/// rules give the answers docs/authorization.md spells out.
#[test]
fn the_rules_read_the_demo_table_as_the_docs_do() {
    assert_eq!(DEMO.map(|u| u.username), DEMO_USERS);
    let allowed = |access: Access| -> Vec<&str> { DEMO_USERS.into_iter().filter(|user| access.allows(Some(demo_user(user)))).collect() };
    assert_eq!(
        allowed(Access::MemberOf(101)),
        ["care", "dkimops", "acme.admin", "acme.it.admin", "acme.user"]
    );
    assert_eq!(allowed(Access::AdminOf(101)), ["care", "acme.admin", "acme.it.admin"]);
    assert_eq!(allowed(Access::AdminOf(100)), ["care", "acme.admin"]);
    assert_eq!(allowed(Access::MemberOf(200)), ["care", "dkimops", "globex.admin"]);
    assert_eq!(allowed(Access::AdminOfUser(&[100])), ["care", "acme.admin"]);
    assert_eq!(allowed(Access::AdminOfUserAndOf(&[101], &[102])), ["care", "acme.admin"]);
    assert_eq!(allowed(Access::AdminOfEveryUser(&[101])), ["care", "acme.admin", "acme.it.admin"]);
    assert_eq!(allowed(Access::AdminOfEveryUser(&[101, 100])), ["care", "acme.admin"]);
    assert_eq!(allowed(Access::AdminOfEveryUser(&[100, 200])), ["care"]);
    assert_eq!(allowed(Access::ServiceOf(101)), ["mta"]);
    let mailer = demo_user("acme.mailer");
    assert!(Access::ServiceOf(101).allows(Some(mailer)) && !Access::ServiceOf(200).allows(Some(mailer)));
    assert!(!Access::Service.allows(Some(mailer)), "SERVICE on a customer is not platform-wide");
    assert_eq!(allowed(Access::Care), ["care"]);
    assert_eq!(allowed(Access::Service), ["mta"]);
    assert_eq!(allowed(Access::CareOrService), ["care", "mta"]);
    assert!(
        !Access::CareOrService.allows(Some(mailer)),
        "SERVICE on a customer is not platform-wide"
    );
    assert!(!Access::User.allows(None));
    assert!(Access::Public.allows(None));
}
