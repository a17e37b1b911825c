//! The bounds on the work of one request (docs/limits.md), over HTTP: arrays beyond their
//! documented maximum are refused at the first item too many, an error answer lists the
//! first 100 bad fields and counts them all, a customer's DKIM keys and the platform's
//! FBLs stop at their maximum however many creates race for the last place, and no mail
//! is signed for a customer that is not ACTIVE.

use accountcentral_e2e::dkim::{fbl_body, key_body};
use accountcentral_e2e::{TestApp, assert_refused, error_paths, on_both_backends, read, unique, user_pk_of};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    arrays_beyond_their_maximum_are_refused_naming_them,
    an_error_answer_lists_the_first_hundred_violations_and_counts_them_all,
    a_customer_has_at_most_fifty_dkim_keys_even_when_created_at_once,
    the_platform_has_at_most_its_maximum_of_fbls_even_when_created_at_once,
    no_mail_is_signed_for_a_customer_that_is_not_active,
);

/// Most keys a customer has, and FBLs the platform has (docs/limits.md).
const MAX_KEYS_PER_CUSTOMER: usize = 50;
const MAX_FBLS: usize = 500;

async fn arrays_beyond_their_maximum_are_refused_naming_them(app: TestApp) {
    let user = user_pk_of(&app, "acme.user").await;
    let associations = format!("/v1/users/{user}/customers");
    let before = app.get_as("acme.admin", &associations).await;

    // A 2 MB array of a million bad keys: one error, for the 101st item, not a million.
    let huge = format!("[{}0]", "0,".repeat(999_999));
    assert!(huge.len() > 1_999_000);
    let request = app
        .as_user("acme.admin", Method::POST, &associations)
        .await
        .header("content-type", "application/json")
        .body(huge);
    let (status, answer) = read(request.send().await.unwrap()).await;
    assert_refused((status, &answer), 400, "", "at most 100 items", "a million customer keys");

    let cases = [
        (
            "acme.admin",
            Method::POST,
            associations.clone(),
            json!(vec![101; 101]),
            "",
            "at most 100 items",
        ),
        (
            "acme.user",
            Method::PUT,
            "/v1/notifications/read".to_owned(),
            json!((1..=101).collect::<Vec<i64>>()),
            "",
            "at most 100 items",
        ),
        (
            "acme.admin",
            Method::POST,
            format!("/v1/users/{user}/capabilities"),
            json!({"application": "hub", "version": 1, "resource": ["customers", "101", "a", "b", "c", "d", "e", "f", "g"], "role": "EDITOR"}),
            "/resource",
            "at most 8 items",
        ),
    ];
    for (caller, method, path, body, field, says) in &cases {
        let (status, _, answer) = app.send_as(caller, method.clone(), path, Some(body)).await;
        assert_refused((status, &answer), 400, field, says, &format!("{caller} {method} {path}"));
    }
    // At the maximum the list is read, and each bad item is named.
    let (status, answer) = app.post_as("acme.admin", &associations, &json!(vec![0; 100])).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(error_paths(&answer).len(), 100);
    assert_eq!((&answer["errors"][99]["path"], &answer["errorCount"]), (&json!("/99"), &json!(100)));

    let mut fbl = fbl_body(&format!("{}.test", unique("inbox")));
    fbl["signableHeaders"] = json!((0..33).map(|i| format!("X-Header-{i}")).collect::<Vec<_>>());
    let (status, answer) = app.post_as("dkimops", "/v1/fbls", &fbl).await;
    assert_refused(
        (status, &answer),
        400,
        "/signableHeaders",
        "at most 32 items",
        "33 signable headers",
    );

    assert_eq!(app.get_as("acme.admin", &associations).await, before, "nothing associated");
    let (_, fbls) = app.get_as("dkimops", "/v1/fbls?size=100").await;
    assert!(
        !fbls["elements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["recipientDomain"] == fbl["recipientDomain"]),
        "no FBL created: {fbls}"
    );
}

async fn an_error_answer_lists_the_first_hundred_violations_and_counts_them_all(app: TestApp) {
    let user = user_pk_of(&app, "acme.user").await;
    let path = format!("/v1/users/{user}/roles");
    let before = app.get_as("acme.admin", &path).await;
    let unknown: serde_json::Map<String, Value> = (0..150).map(|i| (format!("app{i:03}"), json!("EDITOR"))).collect();
    let (status, answer) = app.put_as("acme.admin", &path, &Value::Object(unknown)).await;
    assert_eq!(status, 400, "{answer}");
    let paths = error_paths(&answer);
    assert_eq!(paths.len(), 100, "the first hundred: {answer}");
    assert_eq!((paths[0].as_str(), paths[99].as_str()), ("/app000", "/app099"));
    assert_eq!(answer["errorCount"], 150, "all of them counted");
    assert_eq!(app.get_as("acme.admin", &path).await, before, "nothing assigned");
}

/// The number of customer `group`'s keys, as care lists them.
async fn key_count(app: &TestApp, group: i64) -> usize {
    let (status, page) = app.get_as("care", &format!("/v1/customers/{group}/dkims?size=100")).await;
    assert_eq!(status, 200, "{page}");
    page["elements"].as_array().unwrap().len()
}

async fn create_key(app: &TestApp, group: i64) -> (u16, Value) {
    let body = key_body(&format!("{}.test", unique("limit")), "s1", true);
    app.post_as("care", &format!("/v1/customers/{group}/dkims"), &body).await
}

/// A 409 whose message names the limit `limit`.
fn assert_limit(status: u16, answer: &Value, limit: &str) {
    assert_eq!(status, 409, "{answer}");
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(message.contains(limit), "{message:?} does not name {limit:?}");
}

async fn a_customer_has_at_most_fifty_dkim_keys_even_when_created_at_once(app: TestApp) {
    let group = 200;
    for _ in key_count(&app, group).await..MAX_KEYS_PER_CUSTOMER - 1 {
        let (status, answer) = create_key(&app, group).await;
        assert_eq!(status, 201, "{answer}");
    }
    // One place left, four creates racing for it: exactly one takes it.
    let answers = tokio::join!(
        create_key(&app, group),
        create_key(&app, group),
        create_key(&app, group),
        create_key(&app, group)
    );
    let answers = [answers.0, answers.1, answers.2, answers.3];
    assert_eq!(answers.iter().filter(|(status, _)| *status == 201).count(), 1, "{answers:?}");
    for (status, answer) in answers.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(*status, 409, "{answer}");
    }
    assert_eq!(key_count(&app, group).await, MAX_KEYS_PER_CUSTOMER);

    let (status, answer) = create_key(&app, group).await;
    assert_limit(status, &answer, "at most 50 DKIM keys");
    assert_eq!(key_count(&app, group).await, MAX_KEYS_PER_CUSTOMER);

    // Room again once a key goes (not the default, which goes last).
    let (_, keys) = app.get_as("care", &format!("/v1/customers/{group}/dkims?default=false")).await;
    let id = keys["elements"][0]["id"].as_i64().unwrap();
    let (status, answer) = app.delete_as("care", &format!("/v1/customers/{group}/dkims/{id}")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(create_key(&app, group).await.0, 201);
}

async fn fbl_count(app: &TestApp) -> usize {
    let (status, page) = app.get_as("dkimops", "/v1/fbls?size=1").await;
    assert_eq!(status, 200, "{page}");
    page["page"]["totalElements"].as_u64().unwrap() as usize
}

async fn create_fbl(app: &TestApp) -> (u16, Value) {
    app.post_as("dkimops", "/v1/fbls", &fbl_body(&format!("{}.test", unique("inbox"))))
        .await
}

async fn the_platform_has_at_most_its_maximum_of_fbls_even_when_created_at_once(app: TestApp) {
    for _ in fbl_count(&app).await..MAX_FBLS - 1 {
        let (status, answer) = create_fbl(&app).await;
        assert_eq!(status, 201, "{answer}");
    }
    let answers = tokio::join!(create_fbl(&app), create_fbl(&app), create_fbl(&app), create_fbl(&app));
    let answers = [answers.0, answers.1, answers.2, answers.3];
    assert_eq!(answers.iter().filter(|(status, _)| *status == 201).count(), 1, "{answers:?}");
    for (status, answer) in answers.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(*status, 409, "{answer}");
    }
    assert_eq!(fbl_count(&app).await, MAX_FBLS);
    let (status, answer) = create_fbl(&app).await;
    assert_limit(status, &answer, "at most 500 FBLs");
    assert_eq!(fbl_count(&app).await, MAX_FBLS);
}

async fn no_mail_is_signed_for_a_customer_that_is_not_active(app: TestApp) {
    let message = "From: news@acme.test\r\nTo: someone@example.com\r\nSubject: hi\r\n\r\nHello\r\n";
    let sign = json!({"message": message, "data": {}});
    let (status, _, customer) = app
        .send_as("care", Method::PATCH, "/v1/customers/200", Some(&json!({"status": "SUSPENDED"})))
        .await;
    assert_eq!(status, 200, "{customer}");
    let (status, answer) = app.post_as("mta", "/v1/customers/200/sign", &sign).await;
    assert_eq!(status, 409, "{answer}");
    let said = answer["message"].as_str().unwrap_or_default();
    assert!(said.contains("SUSPENDED"), "the status is named: {said:?}");
    assert!(
        answer.get("message").is_some() && answer.get("dkim").is_none(),
        "nothing signed: {answer}"
    );
}
