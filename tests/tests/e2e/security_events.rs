//! Security events as the authorization server reports them (recordSecurityEvent), and
//! the lockout that consecutive failed logins cause: counted exactly under concurrency,
//! refusing the user's tokens, lifted by a login, by time or by an administrator.

use accountcentral_e2e::{TestApp, error_paths, new_user, on_both_backends, unique};
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::ids::UserPk;
use shared::domain::security::{EventFilter, SecurityEvent, SecurityEventType};
use shared::repositories::accounts::Accounts;
use shared::repositories::security::SecurityLog;

on_both_backends!(
    a_report_is_stored_and_answered,
    reports_name_their_user_once_and_it_must_exist,
    consecutive_failures_lock_the_account_out,
    a_login_ends_the_streak,
    concurrent_failures_are_counted_exactly,
    a_lockout_ends_by_itself,
);

const REPORT: &str = "/v1/internal/security-events";

async fn report(app: &TestApp, body: Value) -> (u16, Value) {
    app.post_as("mta", REPORT, &body).await
}

async fn failure(app: &TestApp, user: i64) {
    let (status, body) = report(app, json!({"type": "LOGIN_FAILED", "userPk": user, "application": "hub"})).await;
    assert_eq!(status, 201, "{body}");
}

async fn lockout(app: &TestApp, user: i64) -> Value {
    let (status, body) = app.get_as("acme.admin", &format!("/v1/users/{user}/lockout")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The user's events of `event_type`, newest first, read from the store.
async fn events(app: &TestApp, user: i64, event_type: SecurityEventType) -> Vec<SecurityEvent> {
    let state = &app.environment.state;
    let filter = EventFilter {
        event_type: Some(event_type),
        ..EventFilter::default()
    };
    let (events, _) = SecurityLog::new(state.store.as_ref(), &state.security)
        .list(UserPk(user), &filter, 0, 100)
        .await
        .unwrap();
    events
}

/// A new user of 101 who can call the API: its key and a token.
async fn new_member(app: &TestApp) -> (i64, String, String) {
    let username = unique("sec");
    let user = app.create_user("acme.admin", 101, &new_user(&username)).await;
    let token = app.token(&username).await;
    (user, username, token)
}

async fn status_of_me(app: &TestApp, token: &str) -> u16 {
    app.request(Method::GET, "/v1/user")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_report_is_stored_and_answered(app: TestApp) {
    let at = Timestamp::now() - SignedDuration::from_mins(3);
    let (status, stored) = report(
        &app,
        json!({"type": "LOGIN", "username": "acme.user", "application": "hub", "timestamp": at.as_millisecond(),
               "ip": "192.0.2.10", "userAgent": "Mozilla/5.0"}),
    )
    .await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["userPk"], 12);
    assert_eq!(stored["type"], "LOGIN");
    assert_eq!(stored["timestamp"], at.as_millisecond());
    assert_eq!(stored["ip"], "192.0.2.10");
    assert_eq!(stored["byUserPk"], Value::Null);

    let logins = events(&app, 12, SecurityEventType::Login).await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].id, stored["id"].as_str().unwrap());
    assert_eq!(logins[0].user_agent.as_deref(), Some("Mozilla/5.0"));

    // Without a timestamp the event happens now.
    let before = Timestamp::now().as_millisecond();
    let (status, stored) = report(&app, json!({"type": "LOGOUT", "userPk": 12, "application": "hub"})).await;
    assert_eq!(status, 201);
    assert!(stored["timestamp"].as_i64().unwrap() >= before, "{stored}");

    // Only SERVICE callers report.
    let body = json!({"type": "LOGIN", "userPk": 12, "application": "hub"});
    for refused in ["care", "acme.admin", "acme.user"] {
        assert_eq!(app.post_as(refused, REPORT, &body).await.0, 403, "{refused}");
    }
}

async fn reports_name_their_user_once_and_it_must_exist(app: TestApp) {
    let (status, body) = report(
        &app,
        json!({"type": "LOGIN", "userPk": 12, "username": "acme.user", "application": "hub"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_paths(&body), ["/username"]);
    let (status, body) = report(&app, json!({"type": "LOGIN", "application": "hub"})).await;
    assert_eq!(status, 400);
    assert_eq!(error_paths(&body), ["/userPk"]);
    let (status, _) = report(&app, json!({"type": "LOGIN", "username": "nobody-here", "application": "hub"})).await;
    assert_eq!(status, 404);
    let (status, _) = report(&app, json!({"type": "LOGIN", "userPk": 999_999_999, "application": "hub"})).await;
    assert_eq!(status, 404);
    // Nothing was recorded for the refused reports.
    assert!(events(&app, 12, SecurityEventType::Login).await.is_empty());
}

async fn consecutive_failures_lock_the_account_out(app: TestApp) {
    let (user, _, token) = new_member(&app).await;
    let threshold = app.environment.state.security.lockout_threshold as i64;
    for _ in 1..threshold {
        failure(&app, user).await;
    }
    assert_eq!(lockout(&app, user).await["lockedOut"], false);
    assert_eq!(status_of_me(&app, &token).await, 200);

    let before = Timestamp::now();
    failure(&app, user).await;
    let locked = lockout(&app, user).await;
    assert_eq!(locked["lockedOut"], true, "{locked}");
    let until: Timestamp = locked["lockExpirationDate"].as_str().unwrap().parse().unwrap();
    let period = app.environment.state.security.lockout_period;
    assert!(until >= before + period && until <= Timestamp::now() + period, "{until}");
    assert_eq!(status_of_me(&app, &token).await, 401, "a locked-out user's token is refused");
    assert_eq!(events(&app, user, SecurityEventType::LockedOut).await.len(), 1);

    // A failure during the lockout does not extend it.
    failure(&app, user).await;
    assert_eq!(lockout(&app, user).await["lockExpirationDate"], locked["lockExpirationDate"]);

    // The user's customer's admin unlocks it; the token works again; the unlock is recorded.
    let (status, body) = app.delete_as("acme.it.admin", &format!("/v1/users/{user}/lockout")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resultCode"], "USER_UNLOCKED");
    assert_eq!(lockout(&app, user).await, json!({"lockedOut": false, "lockExpirationDate": null}));
    assert_eq!(status_of_me(&app, &token).await, 200);
    let unlocked = events(&app, user, SecurityEventType::Unlocked).await;
    assert_eq!(unlocked.len(), 1);
    assert_eq!(unlocked[0].by_user_pk, Some(UserPk(11)));
    let account = Accounts::new(app.environment.state.store.as_ref())
        .load(UserPk(user))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.lockout.consecutive_failures, 0, "the streak starts again");

    // Unlocking a user who is not locked out succeeds too.
    assert_eq!(app.delete_as("acme.admin", &format!("/v1/users/{user}/lockout")).await.0, 200);
}

async fn a_login_ends_the_streak(app: TestApp) {
    let (user, _, _) = new_member(&app).await;
    let threshold = app.environment.state.security.lockout_threshold;
    for _ in 1..threshold {
        failure(&app, user).await;
    }
    let (status, _) = report(&app, json!({"type": "LOGIN", "userPk": user, "application": "hub"})).await;
    assert_eq!(status, 201);
    for _ in 1..threshold {
        failure(&app, user).await;
    }
    assert_eq!(lockout(&app, user).await["lockedOut"], false);
    let account = Accounts::new(app.environment.state.store.as_ref())
        .load(UserPk(user))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.lockout.consecutive_failures, threshold - 1);
    assert_eq!(
        events(&app, user, SecurityEventType::LoginFailed).await.len() as u64,
        2 * (threshold - 1)
    );
}

async fn concurrent_failures_are_counted_exactly(app: TestApp) {
    const FAILURES: u64 = 20;
    let (user, _, _) = new_member(&app).await;
    let token = app.token("mta").await;
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..FAILURES {
        let call = app
            .request(Method::POST, REPORT)
            .bearer_auth(&token)
            .json(&json!({"type": "LOGIN_FAILED", "userPk": user, "application": "send"}));
        racing.spawn(async move { call.send().await.unwrap().status().as_u16() });
    }
    assert_eq!(racing.join_all().await, vec![201; FAILURES as usize]);
    let account = Accounts::new(app.environment.state.store.as_ref())
        .load(UserPk(user))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.lockout.consecutive_failures, FAILURES);
    assert_eq!(events(&app, user, SecurityEventType::LoginFailed).await.len() as u64, FAILURES);
    assert_eq!(lockout(&app, user).await["lockedOut"], true);
    assert_eq!(
        events(&app, user, SecurityEventType::LockedOut).await.len(),
        1,
        "of the failures racing past the threshold, one starts the lockout"
    );
}

async fn a_lockout_ends_by_itself(app: TestApp) {
    let (user, _, token) = new_member(&app).await;
    // Failures reported as having happened long enough ago: the lockout they caused is over.
    let period = app.environment.state.security.lockout_period;
    let long_ago = Timestamp::now() - period - SignedDuration::from_mins(1);
    for _ in 0..app.environment.state.security.lockout_threshold {
        let body = json!({"type": "LOGIN_FAILED", "userPk": user, "application": "hub", "timestamp": long_ago.as_millisecond()});
        assert_eq!(report(&app, body).await.0, 201);
    }
    assert_eq!(events(&app, user, SecurityEventType::LockedOut).await.len(), 1);
    assert_eq!(lockout(&app, user).await["lockedOut"], false);
    assert_eq!(status_of_me(&app, &token).await, 200);
    // The streak stands: the next failure locks again at once.
    failure(&app, user).await;
    assert_eq!(lockout(&app, user).await["lockedOut"], true);
}
