//! Application status: every user reads whether an application is UP or DOWN (UP until
//! set); customer care and platform services set it; every change is kept with who made
//! it and when, in order, and wakes the streams that follow the application.

use std::time::Duration;

use accountcentral_e2e::{TestApp, error_paths, on_both_backends, user_pk_of};
use jiff::Timestamp;
use serde_json::{Value, json};
use shared::changes::Topic;
use shared::domain::ids::UserPk;
use shared::domain::status::{AppStatus, ChangeId, StatusChange};
use shared::repositories::status::Statuses;

on_both_backends!(
    a_status_never_set_is_up,
    changes_are_kept_with_who_and_when_in_order,
    setting_the_status_it_has_changes_nothing,
    racing_changes_are_all_kept_in_order,
    only_the_platform_applications_have_a_status,
    a_bad_status_is_refused_naming_it,
);

async fn status_of(app: &TestApp, user: &str, application: &str) -> Value {
    let (status, body) = app.get_as(user, &format!("/v1/status/{application}")).await;
    assert_eq!(status, 200, "{user} reads the status of {application}: {body}");
    body
}

/// Sets the status as `user`: the answer's resultCode.
async fn set(app: &TestApp, user: &str, application: &str, status: &str) -> String {
    let (code, body) = app
        .put_as(user, &format!("/v1/status/{application}"), &json!({ "status": status }))
        .await;
    assert_eq!(code, 200, "{user} sets {application} {status}: {body}");
    assert_eq!(body["result"], "OK", "{body}");
    body["resultCode"].as_str().unwrap().to_owned()
}

async fn history(app: &TestApp, application: &str) -> Vec<StatusChange> {
    Statuses::new(app.environment.state.store.as_ref())
        .changes_after(application, None, 1000)
        .await
        .unwrap()
}

async fn a_status_never_set_is_up(app: TestApp) {
    for user in ["acme.user", "globex.admin", "mta"] {
        assert_eq!(status_of(&app, user, "hub").await, json!({"status": "UP"}), "{user}");
    }
    assert!(history(&app, "hub").await.is_empty());
}

async fn changes_are_kept_with_who_and_when_in_order(app: TestApp) {
    let mut watch = app.environment.state.changes.watch(Topic::ApplicationStatus("send".into()));
    let before = Timestamp::now();
    assert_eq!(set(&app, "care", "send", "DOWN").await, "STATUS_SET");
    tokio::time::timeout(Duration::from_secs(10), watch.changed())
        .await
        .expect("the change wakes the application's streams");
    assert_eq!(status_of(&app, "acme.user", "send").await, json!({"status": "DOWN"}));
    assert_eq!(
        status_of(&app, "acme.user", "hub").await,
        json!({"status": "UP"}),
        "other applications untouched"
    );

    assert_eq!(set(&app, "mta", "send", "UP").await, "STATUS_SET");
    let after = Timestamp::now();
    assert_eq!(status_of(&app, "globex.admin", "send").await, json!({"status": "UP"}));

    let changes = history(&app, "send").await;
    let who_what: Vec<(ChangeId, AppStatus, UserPk)> = changes.iter().map(|c| (c.id, c.status, c.by)).collect();
    let (care, mta) = (UserPk(user_pk_of(&app, "care").await), UserPk(user_pk_of(&app, "mta").await));
    assert_eq!(who_what, [(ChangeId(1), AppStatus::Down, care), (ChangeId(2), AppStatus::Up, mta)]);
    assert!(changes.iter().all(|c| c.application == "send"));
    assert!(before <= changes[0].at && changes[0].at <= changes[1].at && changes[1].at <= after);

    let statuses = Statuses::new(app.environment.state.store.as_ref());
    assert_eq!(statuses.changes_after("send", Some(ChangeId(1)), 10).await.unwrap(), changes[1..]);
    assert_eq!(statuses.changes_after("send", None, 1).await.unwrap(), changes[..1]);
    assert!(statuses.changes_after("send", Some(ChangeId(2)), 10).await.unwrap().is_empty());
    let current = statuses.current("send").await.unwrap();
    assert_eq!((current.status, current.last_change.as_ref()), (AppStatus::Up, changes.last()));
}

async fn setting_the_status_it_has_changes_nothing(app: TestApp) {
    assert_eq!(set(&app, "care", "flow", "UP").await, "STATUS_UNCHANGED", "never set is UP");
    assert!(history(&app, "flow").await.is_empty());
    set(&app, "care", "flow", "DOWN").await;
    assert_eq!(set(&app, "mta", "flow", "DOWN").await, "STATUS_UNCHANGED");
    let changes = history(&app, "flow").await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].by, UserPk(user_pk_of(&app, "care").await), "the change is still care's");
}

async fn racing_changes_are_all_kept_in_order(app: TestApp) {
    let token = app.token("care").await;
    let mut racing = tokio::task::JoinSet::new();
    for n in 0..8 {
        let request = app
            .request(reqwest::Method::PUT, "/v1/status/content")
            .bearer_auth(&token)
            .json(&json!({"status": if n % 2 == 0 { "DOWN" } else { "UP" }}));
        racing.spawn(async move { accountcentral_e2e::read(request.send().await.unwrap()).await });
    }
    let mut set_count = 0;
    while let Some(answer) = racing.join_next().await {
        let (status, body) = answer.unwrap();
        // A change that lost its race more often than retried is refused whole (409);
        // none is half-written.
        assert!(status == 200 || status == 409, "{status} {body}");
        if body["resultCode"] == "STATUS_SET" {
            set_count += 1;
        }
    }
    let changes = history(&app, "content").await;
    assert_eq!(changes.len(), set_count, "every change answered STATUS_SET is kept, and only those");
    assert!(!changes.is_empty());
    let ids: Vec<u64> = changes.iter().map(|c| c.id.0).collect();
    assert_eq!(ids, (1..=changes.len() as u64).collect::<Vec<_>>(), "no gap, no duplicate");
    assert_eq!(changes[0].status, AppStatus::Down, "the first change leaves UP");
    assert!(
        changes.windows(2).all(|pair| pair[0].status != pair[1].status),
        "each change changes the status"
    );
    assert!(changes.windows(2).all(|pair| pair[0].at <= pair[1].at), "in the order made");
    let now = if changes.last().unwrap().status == AppStatus::Up {
        "UP"
    } else {
        "DOWN"
    };
    assert_eq!(status_of(&app, "acme.user", "content").await, json!({ "status": now }));
}

async fn only_the_platform_applications_have_a_status(app: TestApp) {
    for application in ["nonexistent", "HUB", "hub.send"] {
        let (status, body) = app.get_as("acme.user", &format!("/v1/status/{application}")).await;
        assert_eq!(status, 404, "{application}: {body}");
        error_paths(&body);
        let (status, body) = app
            .put_as("care", &format!("/v1/status/{application}"), &json!({"status": "DOWN"}))
            .await;
        assert_eq!(status, 404, "{application}: {body}");
        assert!(history(&app, application).await.is_empty());
    }
    // The development stage's own application has one.
    assert_eq!(status_of(&app, "acme.user", "demo_client").await, json!({"status": "UP"}));
}

async fn a_bad_status_is_refused_naming_it(app: TestApp) {
    for body in [
        json!({"status": "up"}),
        json!({"status": "MAINTENANCE"}),
        json!({"status": ""}),
        json!({"status": null}),
        json!({"status": 1}),
        json!({"status": ["UP"]}),
        json!({}),
    ] {
        let (status, answer) = app.put_as("care", "/v1/status/hub", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(error_paths(&answer), ["/status"], "{body}");
    }
    assert!(history(&app, "hub").await.is_empty(), "nothing was written");
    assert_eq!(status_of(&app, "acme.user", "hub").await, json!({"status": "UP"}));
}
