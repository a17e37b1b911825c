//! A built Lambda function binary, driven through cargo-lambda's runtime emulator
//! with an API Gateway v2 event, on the AWS emulator: the production code path.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use accountcentral_e2e::TestApp;
use accountcentral_local::{AUDIENCE, ISSUER, JWKS_PATH};
use serde_json::{Value, json};

/// Kills the child process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The function exits if the runtime API is not up yet: wait for the emulator first.
async fn wait_until_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "the runtime emulator did not start listening on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The function binaries next to this test's target directory (built by `cargo build --workspace`).
fn function_binary(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let path = deps.parent().and_then(|d| d.parent()).unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (scripts/test does)",
        path.display()
    );
    path
}

/// An API Gateway HTTP API (payload 2.0) event, as the JWT authorizer passes it on.
fn http_api_event(method: &str, path: &str, query: &str, token: &str, user_pk: &str) -> Value {
    let route = format!("{method} {path}");
    json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "authorization": format!("Bearer {token}"),
            "accept": "application/json",
            "x-tracing-id": "emulator-trace-1",
            "host": "api.example.test"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.test",
            "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "emulator-test"},
            "requestId": "request-1",
            "routeKey": route,
            "stage": "$default",
            "time": "27/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_000_000_000_i64,
            "authorizer": {"jwt": {"claims": {"sub": user_pk, "iss": ISSUER, "aud": AUDIENCE}, "scopes": null}}
        },
        "isBase64Encoded": false
    })
}

/// A function binary run against the emulator's runtime API on `port`, on the test's AWS resources.
fn start_function(binary: &str, port: u16, app: &TestApp, extra: &[(&str, &str)]) -> Running {
    let resources = app.environment.aws_resources.clone().expect("the AWS backend");
    Running(
        Command::new(function_binary(binary))
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true")
            .env("STAGE", "dev")
            .env("TABLE_NAME", &resources.table)
            .envs(resources.queue_urls.variables())
            .env("KMS_KEY_ID", &resources.kms_key_id)
            .env("JWT_ISSUER", ISSUER)
            .env("JWT_AUDIENCE", AUDIENCE)
            .env("JWKS_URL", format!("{}{JWKS_PATH}", app.base))
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the function binary starts"),
    )
}

/// cargo-lambda's runtime emulator on a free port, once it listens.
async fn start_emulator() -> (Running, u16) {
    let cargo_lambda = std::env::var("CARGO_LAMBDA").unwrap_or_else(|_| "cargo-lambda".into());
    let port = free_port();
    let emulator = Running(
        Command::new(&cargo_lambda)
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cargo_lambda} (set CARGO_LAMBDA; scripts/test installs it): {e}")),
    );
    wait_until_listening(port).await;
    (emulator, port)
}

/// A Function URL (payload 2.0) event for a stream, the token in the query as EventSource sends it.
fn function_url_event(path: &str, token: &str) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": format!("access_token={token}"),
        "queryStringParameters": {"access_token": token},
        "headers": {"accept": "text/event-stream", "x-tracing-id": "emulator-stream-1", "host": "abc.lambda-url.eu-west-1.on.aws"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abc",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "emulator-test"},
            "requestId": "request-2",
            "routeKey": "$default",
            "stage": "$default",
            "time": "27/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_000_000_000_i64
        },
        "isBase64Encoded": false
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_stream_function_streams_events_through_the_runtime_emulator() {
    let app = TestApp::aws().await;
    let (_emulator, port) = start_emulator().await;
    let _function = start_function("accountcentral-status-stream", port, &app, &[("STREAM_LIFETIME_SECONDS", "2")]);
    let token = app.token("acme.user").await;
    let invoke = format!("http://127.0.0.1:{port}/2015-03-31/functions/_/invocations");
    let event = function_url_event("/v1/status/hub/stream", &token);
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        match reqwest::Client::new()
            .post(&invoke)
            .json(&event)
            .timeout(Duration::from_secs(30))
            .send()
            .await
        {
            Ok(response) => break response.bytes().await.expect("the whole stream, once it ends"),
            Err(error) if Instant::now() < deadline && error.is_connect() => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(error) => panic!("invocation failed: {error}"),
        }
    };
    // The whole body came back: the stream ended on its own at its lifetime.
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with("retry: 1000\n"), "a reconnect hint first: {text}");
    assert!(
        text.contains("id: 0\nevent: status\ndata: {\"data\":{\"application\":\"hub\",\"status\":\"UP\"}}\n\n"),
        "the status now, with its id: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_function_answers_an_http_api_event_through_the_runtime_emulator() {
    let app = TestApp::aws().await;
    let (_emulator, port) = start_emulator().await;
    let _function = start_function("accountcentral-user", port, &app, &[]);

    let token = app.token("acme.user").await;
    let invoke = format!("http://127.0.0.1:{port}/2015-03-31/functions/_/invocations");
    let client = reqwest::Client::new();
    let call = |event: Value| {
        let client = client.clone();
        let invoke = invoke.clone();
        async move {
            // The emulator may still be starting: retry connection failures for a while.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                match client.post(&invoke).json(&event).timeout(Duration::from_secs(30)).send().await {
                    Ok(response) => return response.json::<Value>().await.expect("a JSON invocation result"),
                    Err(error) if Instant::now() < deadline && error.is_connect() => tokio::time::sleep(Duration::from_millis(200)).await,
                    Err(error) => panic!("invocation failed: {error}"),
                }
            }
        }
    };

    let answer = call(http_api_event("GET", "/v1/user", "", &token, "12")).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(answer["headers"]["x-tracing-id"], "emulator-trace-1");
    let body: Value = serde_json::from_str(answer["body"].as_str().expect("a body")).unwrap();
    assert_eq!(body["userPk"], 12);
    assert_eq!(body["username"], "acme.user");
    assert_eq!(body["groupName"], "Acme Italia");

    let denied = call(http_api_event("GET", "/v1/user/role", "groupPk=100", &token, "12")).await;
    assert_eq!(denied["statusCode"], 403, "{denied}");
    let allowed = call(http_api_event("GET", "/v1/user/role", "groupPk=101", &token, "12")).await;
    assert_eq!(allowed["statusCode"], 200, "{allowed}");
    assert_eq!(
        serde_json::from_str::<Value>(allowed["body"].as_str().unwrap()).unwrap()["role"],
        "USER"
    );

    let forged = call(http_api_event("GET", "/v1/user", "", "not-a-token", "12")).await;
    assert_eq!(forged["statusCode"], 401, "the function checks the token again: {forged}");
}
