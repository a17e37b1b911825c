//! Nothing acknowledged is lost: an operation that queues work answers 202 only once its
//! queue took the message; a queue that refuses makes the answer 503, in the error format.
//! (createProvisioningJob's refusal, which also withdraws the job, is in provisioning.rs.)

use std::sync::Arc;

use accountcentral_e2e::{RefusingQueue, TestApp, error_paths, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(work_a_queue_refuses_is_503_not_202);

async fn post(app: &TestApp, base: &str, username: &str, path: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{base}{path}"))
        .bearer_auth(app.token(username).await)
        .json(&body)
        .send()
        .await
        .expect("the stand-in answers");
    (response.status().as_u16(), response.json().await.expect("a JSON body"))
}

async fn work_a_queue_refuses_is_503_not_202(app: TestApp) {
    let notification = json!({
        "destination": {"type": "USER", "userPk": 12},
        "notification": {"title": "Not lost", "message": "queued or refused", "priority": "LOW", "application": "hub"},
    });
    // The same API on the same data, in front of queues that refuse.
    let base = app
        .variant(|state| {
            state.queues.notifications = Arc::new(RefusingQueue);
            state.queues.news = Arc::new(RefusingQueue);
        })
        .await;

    let (status, refused) = post(&app, &base, "mta", "/v1/notifications", notification.clone()).await;
    assert_eq!(status, 503, "enqueueNotification: {refused}");
    error_paths(&refused);
    let (status, refused) = post(&app, &base, "care", "/v1/news/update", json!({})).await;
    assert_eq!(status, 503, "triggerNewsUpdate: {refused}");
    error_paths(&refused);

    // The same requests where the queues take them: 202.
    let (status, accepted) = post(&app, &app.base, "mta", "/v1/notifications", notification).await;
    assert_eq!(status, 202, "{accepted}");
    let (status, accepted) = post(&app, &app.base, "care", "/v1/news/update", json!({})).await;
    assert_eq!(status, 202, "{accepted}");
}
