//! Every answer of the implemented operations — successes and refusals, for every
//! demo user — has a status the served contract documents and a body its schema accepts.

use accountcentral_e2e::operations::{callers, implemented_operations};
use accountcentral_e2e::{TestApp, on_both_backends, read};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(answers_match_the_served_contract);

/// The operation's response schema for `status`, with the document's components so that `$ref`s resolve.
fn response_schema(contract: &Value, operation_id: &str, status: u16) -> Result<Value, String> {
    let operation = contract["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .find(|op| op["operationId"] == operation_id)
        .ok_or_else(|| format!("{operation_id} is not in the contract"))?;
    let mut response = operation["responses"]
        .get(status.to_string())
        .ok_or_else(|| format!("{operation_id} does not document status {status}"))?
        .clone();
    if let Some(reference) = response["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        response = contract["components"]["responses"][name].clone();
    }
    let mut schema = response["content"]["application/json"]["schema"].clone();
    if schema.is_null() {
        return Err(format!("{operation_id} documents no JSON body for {status}"));
    }
    schema["components"] = contract["components"].clone();
    Ok(schema)
}

fn check(contract: &Value, operation_id: &str, status: u16, body: &Value, failures: &mut Vec<String>) {
    if body.is_null() {
        return;
    }
    match response_schema(contract, operation_id, status) {
        Err(problem) => failures.push(problem),
        Ok(schema) => {
            let validator = jsonschema::draft202012::new(&schema).expect("a valid schema");
            for error in validator.iter_errors(body) {
                failures.push(format!("{operation_id} {status}: {error} at {}", error.instance_path()));
            }
        }
    }
}

async fn answers_match_the_served_contract(app: TestApp) {
    let (_, contract) = read(app.request(Method::GET, "/v1/openapi.json").send().await.unwrap()).await;
    let mut failures = Vec::new();
    for operation in implemented_operations() {
        for user in callers() {
            let (status, body) = operation.call(&app, user).await;
            check(&contract, operation.id, status, &body, &mut failures);
        }
    }
    // Refusals of bad input use the documented error format too.
    let user = "acme.user";
    let bad_input = [
        (
            "updateMyPreferences",
            app.as_user(user, Method::PUT, "/v1/user/preferences")
                .await
                .json(&json!({"timezone": "Nowhere"})),
        ),
        (
            "updateMe",
            app.as_user(user, Method::PUT, "/v1/user").await.json(&json!({"username": "x"})),
        ),
        (
            "updateMe",
            app.as_user(user, Method::PUT, "/v1/user")
                .await
                .header("content-type", "text/plain")
                .body("x"),
        ),
        (
            "getMyAccountCentralRole",
            app.as_user(user, Method::GET, "/v1/user/role?groupPk=x").await,
        ),
        (
            "getMe",
            app.as_user(user, Method::GET, "/v1/user").await.header("accept", "text/html"),
        ),
    ];
    for (operation_id, request) in bad_input {
        let (status, body) = read(request.send().await.unwrap()).await;
        assert!(status >= 400, "{operation_id}: {status}");
        check(&contract, operation_id, status, &body, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
