//! The platform's REST conventions, as any operation shows them.

use accountcentral_e2e::{TestApp, error_paths, new_user, on_both_backends, read};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::ids::UserPk;
use shared::repositories::RepositoryError;
use shared::repositories::accounts::{AccountChange, Accounts};

on_both_backends!(
    tracing_ids_are_echoed_or_made,
    malformed_tracing_ids_are_refused_naming_the_header,
    integers_spelled_with_a_zero_fraction_are_integers,
    cors_preflight_is_answered,
    method_override_turns_a_post_into_the_named_method,
    unknown_paths_and_methods_use_the_error_format,
    unacceptable_accept_headers_are_406,
    a_stale_write_is_a_conflict_not_a_lost_update,
);

async fn tracing_ids_are_echoed_or_made(app: TestApp) {
    let given = app
        .request(Method::GET, "/v1/health")
        .header("x-tracing-id", "trace-123.abc")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-tracing-id"], "trace-123.abc");
    let made = app.request(Method::GET, "/v1/health").send().await.unwrap();
    let id = made.headers()["x-tracing-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a generated UUID");
    let other = app.request(Method::GET, "/v1/health").send().await.unwrap();
    assert_ne!(other.headers()["x-tracing-id"].to_str().unwrap(), id);
    let refused = app
        .request(Method::GET, "/v1/user")
        .header("x-tracing-id", "t-401")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.headers()["x-tracing-id"], "t-401", "errors carry it too");
}

/// The contract bounds `X-Tracing-ID` (1 to 128 letters, digits, `.`, `_`, `:`, `-`): one
/// outside it is refused before anything runs, not silently replaced, and the answer
/// carries a new id of its own.
async fn malformed_tracing_ids_are_refused_naming_the_header(app: TestApp) {
    let longest = "t".repeat(128);
    let accepted = app
        .as_user("acme.admin", Method::GET, "/v1/user")
        .await
        .header("x-tracing-id", &longest)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    assert_eq!(accepted.headers()["x-tracing-id"], longest.as_str());
    let (_, before) = app.get_as("acme.admin", "/v1/user/preferences").await;
    let other_language = if before["language"] == "fr" { "de" } else { "fr" };
    for malformed in ["t".repeat(129), "two words".into(), String::new()] {
        let refused = app
            .as_user("acme.admin", Method::PUT, "/v1/user/preferences")
            .await
            .header("x-tracing-id", &malformed)
            .json(&json!({"language": other_language}))
            .send()
            .await
            .unwrap();
        let made = refused.headers()["x-tracing-id"].to_str().unwrap().to_owned();
        assert_eq!(made.len(), 36, "a generated UUID instead of {malformed:?}");
        let (status, body) = read(refused).await;
        assert_eq!(status, 400, "{malformed:?}: {body}");
        assert_eq!(error_paths(&body), ["X-Tracing-ID"]);
    }
    let (status, after) = app.get_as("acme.admin", "/v1/user/preferences").await;
    assert_eq!(status, 200);
    assert_eq!(after, before, "nothing ran for a refused request");
}

/// JSON Schema, and so the contract, counts `102.0` as the integer 102: a client whose
/// JSON library writes integers that way is understood; a fraction is still refused.
async fn integers_spelled_with_a_zero_fraction_are_integers(app: TestApp) {
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("zero.fraction")).await;
    let path = format!("/v1/users/{user_pk}/customers");
    let (status, body) = app.post_as("acme.admin", &path, &json!([102.5])).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_paths(&body), ["/0"]);
    let (status, body) = app.post_as("acme.admin", &path, &json!([102.0])).await;
    assert_eq!(status, 200, "{body}");
    let (status, page) = app.get_as("acme.admin", &format!("{path}?size=100")).await;
    assert_eq!(status, 200, "{page}");
    let mut customers: Vec<&Value> = page["elements"].as_array().unwrap().iter().map(|c| &c["groupPk"]).collect();
    customers.sort_by_key(|g| g.as_i64());
    assert_eq!(customers, [&json!(101), &json!(102)]);
}

async fn cors_preflight_is_answered(app: TestApp) {
    let preflight = app
        .request(Method::OPTIONS, "/v1/user/preferences")
        .header("origin", "https://app.example.test")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization,content-type,x-tracing-id")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    assert!(
        preflight.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PUT")
    );
    let simple = app
        .request(Method::GET, "/v1/options/sites")
        .header("origin", "https://app.example.test")
        .send()
        .await
        .unwrap();
    assert_eq!(simple.headers()["access-control-allow-origin"], "*");
}

async fn method_override_turns_a_post_into_the_named_method(app: TestApp) {
    let (_, preferences) = app.get_as("acme.admin", "/v1/user/preferences").await;
    let mut changed = preferences.clone();
    changed["weekBegin"] = json!("SATURDAY");
    let response = app
        .as_user("acme.admin", Method::POST, "/v1/user/preferences")
        .await
        .header("x-http-method-override", "PUT")
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(app.get_as("acme.admin", "/v1/user/preferences").await.1["weekBegin"], "SATURDAY");

    let (status, body) = read(
        app.as_user("acme.admin", Method::POST, "/v1/user")
            .await
            .header("x-http-method-override", "TRACE")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_paths(&body), ["X-HTTP-Method-Override"]);
}

async fn unknown_paths_and_methods_use_the_error_format(app: TestApp) {
    let (status, body) = read(app.request(Method::GET, "/v1/nothing-here").send().await.unwrap()).await;
    assert_eq!(status, 404);
    error_paths(&body);
    let (status, body) = read(app.as_user("acme.user", Method::DELETE, "/v1/user").await.send().await.unwrap()).await;
    assert_eq!(status, 405);
    error_paths(&body);
}

async fn unacceptable_accept_headers_are_406(app: TestApp) {
    let (status, body) = read(
        app.as_user("acme.user", Method::GET, "/v1/user")
            .await
            .header("accept", "text/html")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 406);
    error_paths(&body);
    let ok = app
        .as_user("acme.user", Method::GET, "/v1/user")
        .await
        .header("accept", "text/html, application/json;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
}

async fn a_stale_write_is_a_conflict_not_a_lost_update(app: TestApp) {
    let accounts = Accounts::new(app.environment.state.store.as_ref());
    let read = accounts.load(UserPk(20)).await.unwrap().unwrap();
    let now = app.environment.state.clock.now();
    let mut first = AccountChange::of(&read, None, now);
    first.user.name = "First".into();
    let mut second = AccountChange::of(&read, None, now);
    second.user.name = "Second".into();
    accounts.save(first).await.expect("the first write wins");
    assert!(matches!(accounts.save(second).await, Err(RepositoryError::ChangedMeanwhile(_))));
    assert_eq!(accounts.user(UserPk(20)).await.unwrap().unwrap().value.name, "First");

    // Over HTTP, concurrent updates of the same user each win or get 409; none is lost silently.
    let (_, me) = app.get_as("globex.admin", "/v1/user").await;
    let mut tasks = Vec::new();
    for n in 0..8 {
        let mut body = me.clone();
        body["surname"] = json!(format!("Writer{n}"));
        let request = app.as_user("globex.admin", Method::PUT, "/v1/user").await.json(&body);
        tasks.push(tokio::spawn(async move { (n, request.send().await.unwrap().status().as_u16()) }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (n, status) = task.await.unwrap();
        assert!(status == 200 || status == 409, "{status}");
        if status == 200 {
            winners.push(format!("Writer{n}"));
        }
    }
    assert!(!winners.is_empty());
    let (_, after) = app.get_as("globex.admin", "/v1/user").await;
    assert!(winners.contains(&after["surname"].as_str().unwrap().to_owned()));
}
