//! Every answer of the implemented operations — successes and refusals, for every
//! demo user — has a status the served contract documents and a body its schema accepts.

use accountcentral_e2e::operations::{Tokens, callers, implemented_operations};
use accountcentral_e2e::{TestApp, read};
use reqwest::Method;
use serde_json::{Value, json};

/// The shape of an answer is the handler's, whichever backend holds the data (keeping the
/// backends alike is the conformance suites' and the authorization matrix's job), so the
/// embedded store suffices here; on the emulator this test alone took minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_served_contract() {
    answers_match_the_served_contract(TestApp::embedded().await).await
}

/// The operation's documented response for `status`, its `$ref` resolved.
fn documented_response(contract: &Value, operation_id: &str, status: u16) -> Result<Value, String> {
    let operation = contract["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .find(|op| op["operationId"] == operation_id)
        .ok_or_else(|| format!("{operation_id} is not in the contract"))?;
    let response = operation["responses"]
        .get(status.to_string())
        .ok_or_else(|| format!("{operation_id} does not document status {status}"))?;
    Ok(match response["$ref"].as_str() {
        Some(reference) => contract["components"]["responses"][reference.rsplit('/').next().unwrap()].clone(),
        None => response.clone(),
    })
}

/// Checks an answer: its status is documented for the operation, with or without a
/// body; a JSON body matches the documented schema (with the document's components, so
/// that `$ref`s resolve).
fn check(contract: &Value, operation_id: &str, status: u16, body: &Value, failures: &mut Vec<String>) {
    let response = match documented_response(contract, operation_id, status) {
        Ok(response) => response,
        Err(problem) => return failures.push(problem),
    };
    if body.is_null() {
        return;
    }
    let mut schema = response["content"]["application/json"]["schema"].clone();
    if schema.is_null() {
        return failures.push(format!("{operation_id} documents no JSON body for {status}"));
    }
    schema["components"] = contract["components"].clone();
    let validator = jsonschema::draft202012::new(&schema).expect("a valid schema");
    for error in validator.iter_errors(body) {
        failures.push(format!("{operation_id} {status}: {error} at {}", error.instance_path()));
    }
}

async fn answers_match_the_served_contract(app: TestApp) {
    let (_, contract) = read(app.request(Method::GET, "/v1/openapi.json").send().await.unwrap()).await;
    let mut failures = Vec::new();
    let tokens = Tokens::of_matrix_callers(&app).await;
    for operation in implemented_operations() {
        for user in callers() {
            let (status, body) = operation.call_with(&app, &tokens, user).await;
            check(&contract, operation.id, status, &body, &mut failures);
        }
    }
    // Refusals of bad input have the status the conventions fix (400 bad input, 415 a
    // body that is not JSON, 406 an Accept it cannot serve) and
    // use the documented error format: the caller's own operations, then those on a team
    // or a customer (as care, who may call them all).
    let user = "acme.user";
    let bad_input = [
        (
            "updateMyPreferences",
            400,
            app.as_user(user, Method::PUT, "/v1/user/preferences")
                .await
                .json(&json!({"timezone": "Nowhere"})),
        ),
        (
            "updateMe",
            400,
            app.as_user(user, Method::PUT, "/v1/user").await.json(&json!({"username": "x"})),
        ),
        (
            "updateMe",
            415,
            app.as_user(user, Method::PUT, "/v1/user")
                .await
                .header("content-type", "text/plain")
                .body("x"),
        ),
        (
            "getMyAccountCentralRole",
            400,
            app.as_user(user, Method::GET, "/v1/user/role?groupPk=x").await,
        ),
        (
            "getMe",
            406,
            app.as_user(user, Method::GET, "/v1/user").await.header("accept", "text/html"),
        ),
        ("getUser", 400, app.as_user("care", Method::GET, "/v1/users/abc").await),
        (
            "updateUser",
            400,
            app.as_user("care", Method::PUT, "/v1/users/12")
                .await
                .json(&json!({"email": "nope"})),
        ),
        (
            "setUserSuspension",
            400,
            app.as_user("care", Method::PUT, "/v1/users/12/suspension")
                .await
                .json(&json!({"suspended": "yes"})),
        ),
        (
            "listUserCustomers",
            400,
            app.as_user("care", Method::GET, "/v1/users/12/customers?groupNameMode=middle")
                .await,
        ),
        (
            "associateUserCustomers",
            400,
            app.as_user("care", Method::POST, "/v1/users/12/customers").await.json(&json!([0])),
        ),
        (
            "removeUserCustomers",
            400,
            app.as_user("care", Method::DELETE, "/v1/users/12/customers").await,
        ),
        (
            "updateUserPreferences",
            400,
            app.as_user("care", Method::PUT, "/v1/users/12/preferences")
                .await
                .json(&json!({"timezone": "Nowhere"})),
        ),
        (
            "assignUserRoles",
            400,
            app.as_user("care", Method::PUT, "/v1/users/12/roles")
                .await
                .json(&json!({"jira": "ADMIN"})),
        ),
        (
            "grantCapability",
            400,
            app.as_user("care", Method::POST, "/v1/users/12/capabilities")
                .await
                .json(&json!({"application": "accountcentral"})),
        ),
        (
            "revokeCapability",
            400,
            app.as_user("care", Method::DELETE, "/v1/users/12/capabilities/abc").await,
        ),
        (
            "listCapabilityLog",
            400,
            app.as_user("care", Method::GET, "/v1/users/12/capabilities/log?size=0").await,
        ),
        (
            "getAuthServerCapabilities",
            400,
            app.as_user("mta", Method::GET, "/v1/internal/capabilities").await,
        ),
        (
            "listCustomers",
            400,
            app.as_user("care", Method::GET, "/v1/customers?excludeUserPk=abc").await,
        ),
        (
            "listCustomerParents",
            400,
            app.as_user("care", Method::GET, "/v1/customers/101/parents?page=-1").await,
        ),
        ("getCustomer", 400, app.as_user("care", Method::GET, "/v1/customers/abc").await),
        (
            "updateCustomer",
            400,
            app.as_user("care", Method::PUT, "/v1/customers/101")
                .await
                .json(&json!({"name": ""})),
        ),
        (
            "patchCustomerStatus",
            400,
            app.as_user("care", Method::PATCH, "/v1/customers/101")
                .await
                .json(&json!({"status": "CLOSED"})),
        ),
        (
            "listCustomerUsers",
            400,
            app.as_user("care", Method::GET, "/v1/customers/101/users?sort=password").await,
        ),
        (
            "createCustomerUser",
            400,
            app.as_user("care", Method::POST, "/v1/customers/101/users").await.json(&json!({})),
        ),
        (
            "listCustomerApplicationUsers",
            400,
            app.as_user("care", Method::GET, "/v1/customers/101/application-users?size=101")
                .await,
        ),
        (
            "getCustomerConfiguration",
            400,
            app.as_user("care", Method::GET, "/v1/customers/abc/configuration").await,
        ),
        (
            "getCustomerSftpConfiguration",
            400,
            app.as_user("care", Method::GET, "/v1/customers/abc/configuration/sftp").await,
        ),
        (
            "getCustomerApplications",
            400,
            app.as_user("care", Method::GET, "/v1/customers/abc/applications").await,
        ),
        (
            "getCustomerApplication",
            400,
            app.as_user("care", Method::GET, "/v1/customers/100/applications/mail").await,
        ),
        (
            "getHubWorkspaceCounters",
            400,
            app.as_user(
                "care",
                Method::GET,
                "/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters?nodes=",
            )
            .await,
        ),
        ("listNews", 400, app.as_user(user, Method::GET, "/v1/news?category=email").await),
        (
            "setApplicationStatus",
            400,
            app.as_user("care", Method::PUT, "/v1/status/hub")
                .await
                .json(&json!({"status": "SIDEWAYS"})),
        ),
        (
            "setApplicationStatus",
            415,
            app.as_user("care", Method::PUT, "/v1/status/hub")
                .await
                .header("content-type", "text/plain")
                .body("DOWN"),
        ),
        // A secret that does not match (403) and a valid request the state refuses (409)
        // name their field in the same format.
        (
            "changeMyPassword",
            403,
            app.as_user(user, Method::PUT, "/v1/user/password")
                .await
                .json(&json!({"oldPassword": "not the password", "newPassword": "Quartz lantern over meadows"})),
        ),
        (
            "verifyMyVerificationCode",
            409,
            app.as_user(user, Method::POST, "/v1/user/verification-code/verify")
                .await
                .json(&json!({"code": 123_456})),
        ),
        (
            "grantCapability",
            409,
            app.as_user("care", Method::POST, "/v1/users/12/capabilities")
                .await
                .json(&json!({"application": "hub", "version": 1, "resource": ["customers", "200"], "role": "VIEWER"})),
        ),
    ];
    for (operation_id, expected, request) in bad_input {
        let (status, body) = read(request.send().await.unwrap()).await;
        if status != expected {
            failures.push(format!("{operation_id}: {status}, expected {expected}: {body}"));
        } else if [403, 409].contains(&status) && body["errors"].as_array().is_none_or(|errors| errors.len() != 1) {
            failures.push(format!("{operation_id}: {status} names no field: {body}"));
        }
        check(&contract, operation_id, status, &body, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
