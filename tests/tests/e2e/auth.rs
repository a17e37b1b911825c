//! Authentication: every bad token is a 401 in the error format, and so is a
//! valid token of a user who may not act.

use std::time::Duration;

use accountcentral_e2e::{TestApp, error_paths, on_both_backends, read};
use accountcentral_local::{AUDIENCE, ISSUER};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use shared::auth::tokens::DevTokenIssuer;
use shared::domain::ids::UserPk;
use shared::domain::security::{SecurityEvent, SecurityEventType};
use shared::domain::user::UserStatus;
use shared::repositories::accounts::{AccountChange, Accounts};
use shared::repositories::security::SecurityLog;

on_both_backends!(bad_tokens_are_refused, users_who_may_not_act_are_refused,);

async fn status_with(app: &TestApp, authorization: Option<String>) -> u16 {
    let mut request = app.request(Method::GET, "/v1/user");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 401 {
        assert_eq!(response.headers().get("www-authenticate").unwrap(), "Bearer");
        error_paths(&read(response).await.1);
    }
    status
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn bad_tokens_are_refused(app: TestApp) {
    let good = app.token("acme.user").await;
    assert_eq!(status_with(&app, Some(format!("Bearer {good}"))).await, 200);
    assert_eq!(status_with(&app, None).await, 401);
    assert_eq!(status_with(&app, Some("Bearer".into())).await, 401);
    assert_eq!(status_with(&app, Some(format!("Basic {good}"))).await, 401);
    assert_eq!(status_with(&app, Some("Bearer not.a.token".into())).await, 401);

    let now = app.environment.state.clock.now().as_second();
    let issuer = &app.environment.issuer;
    let expired = issuer
        .issue(UserPk(12), "acme.user", now - 7200, Duration::from_secs(3600))
        .unwrap();
    assert_eq!(status_with(&app, Some(format!("Bearer {expired}"))).await, 401, "expired");
    let future = issuer
        .issue(UserPk(12), "acme.user", now + 3600, Duration::from_secs(3600))
        .unwrap();
    assert_eq!(status_with(&app, Some(format!("Bearer {future}"))).await, 401, "not yet valid");
    let ghost = issuer.issue(UserPk(4242), "ghost", now, Duration::from_secs(600)).unwrap();
    assert_eq!(status_with(&app, Some(format!("Bearer {ghost}"))).await, 401, "unknown user");

    let stranger = DevTokenIssuer::new(ISSUER, AUDIENCE, &DevTokenIssuer::generate_key()).unwrap();
    let foreign = stranger.issue(UserPk(12), "acme.user", now, Duration::from_secs(600)).unwrap();
    assert_eq!(status_with(&app, Some(format!("Bearer {foreign}"))).await, 401, "another key");

    // Same header and signature, changed payload: the signature no longer matches.
    let parts: Vec<&str> = good.split('.').collect();
    let tampered_payload = b64(format!(
        r#"{{"sub":"1","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{},"iat":{now}}}"#,
        now + 600
    )
    .as_bytes());
    let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);
    assert_eq!(status_with(&app, Some(format!("Bearer {tampered}"))).await, 401, "tampered");

    let none_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    assert_eq!(status_with(&app, Some(format!("Bearer {unsigned}"))).await, 401, "alg none");
    let hs_header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let symmetric = format!("{hs_header}.{}.{}", parts[1], parts[2]);
    assert_eq!(
        status_with(&app, Some(format!("Bearer {symmetric}"))).await,
        401,
        "algorithm confusion"
    );
}

async fn users_who_may_not_act_are_refused(app: TestApp) {
    let token = app.token("acme.user").await;
    let accounts = Accounts::new(app.environment.state.store.as_ref());
    let now = app.environment.state.clock.now();
    let set = |change: fn(&mut shared::domain::user::User, jiff::Timestamp)| {
        let accounts = &accounts;
        async move {
            let current = accounts.load(UserPk(12)).await.unwrap().unwrap();
            let mut edit = AccountChange::of(&current, None, now);
            change(&mut edit.user, now);
            accounts.save(edit).await.unwrap();
        }
    };
    set(|user, _| user.status = UserStatus::Suspended).await;
    assert_eq!(status_with(&app, Some(format!("Bearer {token}"))).await, 401, "suspended");
    set(|user, _| user.status = UserStatus::Disabled).await;
    assert_eq!(status_with(&app, Some(format!("Bearer {token}"))).await, 401, "disabled");
    set(|user, _| user.status = UserStatus::Active).await;
    let policy = app.environment.state.security;
    let log = SecurityLog::new(app.environment.state.store.as_ref(), &policy);
    for _ in 0..policy.lockout_threshold {
        let account = accounts.load(UserPk(12)).await.unwrap().unwrap();
        let failure = SecurityEvent::new(UserPk(12), SecurityEventType::LoginFailed, now, None);
        log.record_failure(&account, &failure).await.unwrap();
    }
    assert_eq!(status_with(&app, Some(format!("Bearer {token}"))).await, 401, "locked out");
    let account = accounts.load(UserPk(12)).await.unwrap().unwrap();
    log.unlock(&account, &SecurityEvent::new(UserPk(12), SecurityEventType::Unlocked, now, None))
        .await
        .unwrap();
    assert_eq!(status_with(&app, Some(format!("Bearer {token}"))).await, 200, "active again");
}
