//! The Server-Sent-Events streams over HTTP: subscribeApplicationStatus and
//! subscribeNotifications push what changes, with an id on every event, resume after
//! `Last-Event-ID`, take the token from the header or the `access_token` query
//! parameter, keep idle connections open with heartbeats, and end so that clients
//! reconnect.

use std::time::Duration;

use accountcentral_e2e::{EventStream, Frame, TestApp, on_both_backends, read};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    status_subscribers_get_the_status_then_each_change,
    a_status_stream_resumes_after_its_last_event_id,
    a_delivered_notification_reaches_its_recipients_stream_only,
    a_notification_stream_resumes_after_its_last_event_id,
    streams_refuse_what_they_cannot_serve,
);

/// Long enough for a change made by another request to be pushed, on any machine.
const PUSHED_WITHIN: Duration = Duration::from_secs(20);

async fn set_status(app: &TestApp, application: &str, status: &str) {
    let (code, body) = app
        .put_as("care", &format!("/v1/status/{application}"), &json!({ "status": status }))
        .await;
    assert_eq!(code, 200, "{body}");
}

async fn status_event(stream: &mut EventStream) -> (u64, Value) {
    let frame = stream.next_event(PUSHED_WITHIN).await.expect("the stream is open");
    assert_eq!(frame.event.as_deref(), Some("status"), "{frame:?}");
    let id = frame.id.as_deref().expect("an id").parse().expect("a numeric id");
    let event: Value = serde_json::from_str(&frame.data).expect("JSON data");
    (id, event["data"].clone())
}

async fn status_subscribers_get_the_status_then_each_change(app: TestApp) {
    let mut stream = app.subscribe("acme.user", "/v1/status/hub/stream", None).await;
    assert_eq!(stream.status, 200);
    assert!(stream.content_type.starts_with("text/event-stream"), "{}", stream.content_type);
    let greeting = stream.next_frame(PUSHED_WITHIN).await.expect("a greeting");
    assert!(greeting.comment.is_some() && greeting.retry.is_some(), "{greeting:?}");

    let (first, now) = status_event(&mut stream).await;
    assert_eq!(now["application"], "hub");
    assert_eq!(now["status"], "UP", "never set: UP");

    set_status(&app, "hub", "DOWN").await;
    let (second, down) = status_event(&mut stream).await;
    assert_eq!(down["status"], "DOWN");
    assert!(down["date"].is_string(), "{down}");
    assert!(second > first);

    set_status(&app, "hub", "UP").await;
    let (third, up) = status_event(&mut stream).await;
    assert_eq!(up["status"], "UP");
    assert!(third > second);
}

async fn a_status_stream_resumes_after_its_last_event_id(app: TestApp) {
    let mut stream = app.subscribe("acme.user", "/v1/status/hub/stream", None).await;
    let (start, _) = status_event(&mut stream).await;
    set_status(&app, "hub", "DOWN").await;
    let (down, _) = status_event(&mut stream).await;
    drop(stream);
    set_status(&app, "hub", "UP").await;
    set_status(&app, "hub", "DOWN").await;

    let mut resumed = app.subscribe("acme.user", "/v1/status/hub/stream", Some(&down.to_string())).await;
    let (missed_up, up) = status_event(&mut resumed).await;
    assert_eq!(
        (missed_up, up["status"].as_str()),
        (down + 1, Some("UP")),
        "the first change missed"
    );
    let (missed_down, again) = status_event(&mut resumed).await;
    assert_eq!((missed_down, again["status"].as_str()), (down + 2, Some("DOWN")));
    assert!(start < down);
}

async fn user_pk(app: &TestApp, username: &str) -> i64 {
    let (status, me) = app.get_as(username, "/v1/user").await;
    assert_eq!(status, 200, "{me}");
    me["userPk"].as_i64().expect("a userPk")
}

/// Enqueues a notification for `user_pk` as the platform service; its id.
async fn notify(app: &TestApp, user_pk: i64, title: &str) -> i64 {
    let body = json!({
        "destination": {"type": "USER", "userPk": user_pk},
        "notification": {"title": title, "message": "streamed", "priority": "HIGH", "application": "hub"},
    });
    let (status, answer) = read(
        app.as_user("mta", Method::POST, "/v1/notifications")
            .await
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    answer["id"].as_i64().expect("the notification's id")
}

async fn notification_event(stream: &mut EventStream) -> (Frame, Value) {
    let frame = stream.next_event(PUSHED_WITHIN).await.expect("the stream is open");
    assert_eq!(frame.event.as_deref(), Some("notification"), "{frame:?}");
    let data = serde_json::from_str(&frame.data).expect("JSON data");
    (frame, data)
}

async fn a_delivered_notification_reaches_its_recipients_stream_only(app: TestApp) {
    let recipient = user_pk(&app, "acme.user").await;
    let other = user_pk(&app, "acme.it.admin").await;
    let mut stream = app.subscribe("acme.user", "/v1/notifications/stream", None).await;
    assert_eq!(stream.status, 200);
    stream.next_frame(PUSHED_WITHIN).await.expect("a greeting");

    notify(&app, other, "for someone else").await;
    let id = notify(&app, recipient, "for the subscriber").await;

    let (frame, notification) = notification_event(&mut stream).await;
    assert_eq!(
        frame.id,
        Some(id.to_string()),
        "the first event is the subscriber's own: {notification}"
    );
    assert_eq!(notification["id"], id);
    assert_eq!(notification["title"], "for the subscriber");
    assert_eq!(notification["priority"], "HIGH");
    assert_eq!(notification["read"], false);
}

async fn a_notification_stream_resumes_after_its_last_event_id(app: TestApp) {
    let recipient = user_pk(&app, "acme.user").await;
    let mut stream = app.subscribe("acme.user", "/v1/notifications/stream", None).await;
    let first = notify(&app, recipient, "first").await;
    let (frame, _) = notification_event(&mut stream).await;
    assert_eq!(frame.id, Some(first.to_string()));
    drop(stream);
    let missed = notify(&app, recipient, "missed").await;
    // Delivered while nobody listened: wait until the listing shows it.
    let deadline = tokio::time::Instant::now() + PUSHED_WITHIN;
    loop {
        let (_, listed) = app.get_as("acme.user", "/v1/notifications").await;
        if listed.as_array().is_some_and(|all| all.iter().any(|n| n["id"] == missed)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not delivered: {listed}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut resumed = app
        .subscribe("acme.user", "/v1/notifications/stream", Some(&first.to_string()))
        .await;
    let (frame, notification) = notification_event(&mut resumed).await;
    assert_eq!(frame.id, Some(missed.to_string()));
    assert_eq!(notification["title"], "missed");
}

async fn streams_refuse_what_they_cannot_serve(app: TestApp) {
    let unknown = app.subscribe("acme.user", "/v1/status/no-such-app/stream", None).await;
    assert_eq!(unknown.status, 404);
    let bad_resume = app.subscribe("acme.user", "/v1/status/hub/stream", Some("yesterday")).await;
    assert_eq!(bad_resume.status, 400);
    let body = bad_resume.error_body().await;
    assert!(body.to_string().contains("Last-Event-ID"), "names the header: {body}");
    let bad_resume = app.subscribe("acme.user", "/v1/notifications/stream", Some("not-an-id")).await;
    assert_eq!(bad_resume.status, 400);

    for path in ["/v1/status/hub/stream", "/v1/notifications/stream"] {
        let anonymous = EventStream::open(app.request(Method::GET, path).header("Accept", "text/event-stream")).await;
        assert_eq!(anonymous.status, 401, "{path}");
        let forged = EventStream::open(app.request(Method::GET, &format!("{path}?access_token=forged"))).await;
        assert_eq!(forged.status, 401, "{path}");
        let json_only = EventStream::open(
            app.as_user("acme.user", Method::GET, path)
                .await
                .header("Accept", "application/json"),
        )
        .await;
        assert_eq!(json_only.status, 406, "{path}");
    }
}

/// EventSource cannot send headers: the token comes in the query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_may_come_in_the_query() {
    let app = TestApp::embedded().await;
    let mut stream = app.subscribe_with_query_token("acme.user", "/v1/status/hub/stream").await;
    assert_eq!(stream.status, 200);
    let (_, now) = status_event(&mut stream).await;
    assert_eq!(now["application"], "hub");
}

/// Idle connections get heartbeat comments, and a stream ends when its lifetime is up,
/// telling the client how soon to reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_gets_heartbeats_and_ends_at_its_lifetime() {
    let app = TestApp::embedded_with(|state| {
        state.streams.heartbeat = Duration::from_millis(200);
        state.streams.lifetime = Duration::from_secs(2);
    })
    .await;
    let mut stream = app.subscribe("acme.user", "/v1/status/hub/stream", None).await;
    let mut frames = Vec::new();
    while let Some(frame) = stream.next_frame(PUSHED_WITHIN).await {
        frames.push(frame);
    }
    let greeting = &frames[0];
    assert_eq!(greeting.retry, Some(1000), "{frames:?}");
    assert_eq!(frames.iter().filter(|frame| frame.event.as_deref() == Some("status")).count(), 1);
    assert!(
        frames.iter().filter(|frame| frame.comment.as_deref() == Some("heartbeat")).count() >= 2,
        "heartbeats while idle: {frames:?}"
    );
}
