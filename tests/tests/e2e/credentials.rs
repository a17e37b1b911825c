//! Credentials: password change, policy and history, password info and reset, cell phone
//! verification codes (sent by SMS: the embedded outbox or SNS on the emulator), their
//! attempts and rate limits, two-factor and the PIN reset.

use accountcentral_e2e::{TestApp, assert_refused, error_paths, give_cell_phone, new_user, on_both_backends, read, unique, unique_phone};
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::ids::UserPk;
use shared::domain::security::{EventFilter, SecurityEvent, SecurityEventType};
use shared::repositories::security::SecurityLog;

on_both_backends!(
    a_password_change_needs_the_current_password_and_a_good_new_one,
    none_of_the_last_five_passwords_comes_back,
    a_reset_password_is_shown_once_already_expired_and_works_once,
    a_verification_code_verifies_the_phone_once,
    five_wrong_codes_kill_the_code,
    one_sms_a_minute_and_five_an_hour,
    two_factor_needs_a_verified_phone,
    a_pin_reset_turns_two_factor_off_and_unverifies_the_phone,
    a_new_cell_phone_must_be_verified_again,
    codes_need_a_cell_phone,
    racing_wrong_codes_never_get_extra_attempts,
);

/// A member of customer 101, made by care: its userPk and username.
async fn member(app: &TestApp) -> (i64, String) {
    let username = unique("cred");
    let user_pk = app.create_user("care", 101, &new_user(&username)).await;
    (user_pk, username)
}

/// A request as the holder of `token`: status, `Retry-After` and JSON body.
async fn call(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Option<u64>, Value) {
    let mut request = app.request(method, path).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the stand-in answers");
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok()?.parse().ok());
    let (status, body) = read(response).await;
    (status, retry_after, body)
}

/// Resets the user's password as care: the generated password.
async fn reset(app: &TestApp, user_pk: i64) -> String {
    let (status, answer) = app
        .post_as("care", &format!("/v1/users/{user_pk}/password/reset"), &json!({}))
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["newPassword"].as_str().expect("the generated password").to_owned()
}

async fn change(app: &TestApp, token: &str, old: &str, new: &str) -> (u16, Value) {
    let body = json!({"oldPassword": old, "newPassword": new});
    let (status, _, answer) = call(app, token, Method::PUT, "/v1/user/password", Some(body)).await;
    (status, answer)
}

/// The user's security events of `event_type`, read through the repository.
async fn events(app: &TestApp, user_pk: i64, event_type: SecurityEventType) -> Vec<SecurityEvent> {
    let state = &app.environment.state;
    let filter = EventFilter {
        event_type: Some(event_type),
        ..EventFilter::default()
    };
    SecurityLog::new(state.store.as_ref(), &state.security)
        .list(UserPk(user_pk), &filter, 0, 100)
        .await
        .unwrap()
        .0
}

fn today(app: &TestApp) -> jiff::civil::Date {
    jiff::tz::TimeZone::UTC.to_datetime(app.environment.state.clock.now()).date()
}

/// A strong password nobody else uses, different for each `n`.
fn strong(n: u32) -> String {
    format!("Quartz-lantern-{n}-over-meadows!")
}

async fn a_password_change_needs_the_current_password_and_a_good_new_one(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    let first = reset(&app, user_pk).await;
    // A wrong current password fails the proof (403), and then the new one is not judged,
    // however bad: only `/oldPassword` is named.
    for new in [strong(1), "short".to_owned()] {
        let (status, answer) = change(&app, &token, "not-the-password-at-all", &new).await;
        assert_refused((status, &answer), 403, "/oldPassword", "current password", &new);
    }
    // With the current password, a new one the policy refuses is bad input (400).
    let refusals = [
        ("Ab1!short".to_owned(), "at least 10"),
        ("x".repeat(129), "at most 128"),
        ("password1234".to_owned(), "too easy to guess"),
        ("qwertyuiop123".to_owned(), "too easy to guess"),
        (format!("{username}-Zebra-77!"), "username"),
        // The e-mail address contains the username here; the domain's unit tests tell them apart.
        (format!("Zebra {username}@e2e.test"), "username"),
    ];
    for (new, says) in refusals {
        let (status, answer) = change(&app, &token, &first, &new).await;
        assert_refused((status, &answer), 400, "/newPassword", says, &new);
    }

    let (status, answer) = change(&app, &token, &first, &strong(1)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["resultCode"], "PASSWORD_CHANGED");
    let (status, _, info) = call(&app, &token, Method::GET, "/v1/user/password", None).await;
    assert_eq!(status, 200, "{info}");
    let today = today(&app);
    assert_eq!(info["updateDate"], today.to_string());
    assert_eq!(info["now"], today.to_string());
    assert_eq!(
        info["expireDate"],
        today.checked_add(jiff::Span::new().days(90)).unwrap().to_string()
    );
    let changed = events(&app, user_pk, SecurityEventType::PasswordChanged).await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].by_user_pk, None);
    // The old password is gone.
    let (status, answer) = change(&app, &token, &first, &strong(2)).await;
    assert_eq!((status, error_paths(&answer)), (403, vec!["/oldPassword".to_owned()]));
}

async fn none_of_the_last_five_passwords_comes_back(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    // The reset password, then five of the user's own: the reset one is the sixth-oldest.
    let generated = reset(&app, user_pk).await;
    let mut current = generated.clone();
    for n in 1..=5 {
        let (status, answer) = change(&app, &token, &current, &strong(n)).await;
        assert_eq!(status, 200, "change {n}: {answer}");
        current = strong(n);
    }
    for n in 1..=5 {
        let (status, answer) = change(&app, &token, &current, &strong(n)).await;
        assert_refused((status, &answer), 400, "/newPassword", "last 5", &format!("reuse of {n}"));
    }
    let (status, answer) = change(&app, &token, &current, &generated).await;
    assert_eq!(status, 200, "the sixth-oldest password is allowed again: {answer}");
}

async fn a_reset_password_is_shown_once_already_expired_and_works_once(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    let (status, answer) = app
        .post_as("acme.it.admin", &format!("/v1/users/{user_pk}/password/reset"), &json!({}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["resultCode"], "PASSWORD_RESET");
    let generated = answer["newPassword"].as_str().unwrap().to_owned();
    assert_eq!(generated.chars().count(), 16);
    let (_, _, info) = call(&app, &token, Method::GET, "/v1/user/password", None).await;
    assert_eq!(info["expireDate"], today(&app).to_string(), "already expired: {info}");
    let recorded = events(&app, user_pk, SecurityEventType::PasswordReset).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].by_user_pk, Some(UserPk(11)), "the admin who reset it");
    // Never stored in clear.
    let stored = shared::repositories::credentials::Credentials::new(app.environment.state.store.as_ref(), &app.environment.state.security)
        .password(UserPk(user_pk))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.value.hash.starts_with("$argon2id$") && !stored.value.hash.contains(&generated));

    let (status, answer) = change(&app, &token, &generated, &strong(7)).await;
    assert_eq!(status, 200, "the generated password works: {answer}");
    // A second reset makes a different password.
    assert_ne!(reset(&app, user_pk).await, generated);
}

/// Asks for a code as the holder of `token` and reads it where the SMS went.
async fn request_code(app: &TestApp, token: &str, phone: &str) -> u32 {
    let (status, _, answer) = call(app, token, Method::POST, "/v1/user/verification-code", None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["resultCode"], "CODE_SENT");
    app.last_code_to(phone).await
}

async fn verify(app: &TestApp, token: &str, code: u32) -> (u16, Option<u64>, Value) {
    call(
        app,
        token,
        Method::POST,
        "/v1/user/verification-code/verify",
        Some(json!({ "code": code })),
    )
    .await
}

async fn me(app: &TestApp, token: &str) -> Value {
    call(app, token, Method::GET, "/v1/user", None).await.2
}

async fn a_verification_code_verifies_the_phone_once(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    let phone = give_cell_phone(&app, user_pk).await;
    // No code requested yet: a conflict with the state, whatever the code.
    let (status, _, answer) = verify(&app, &token, 123_456).await;
    let asked = "a code before any was sent";
    assert_refused((status, &answer), 409, "/code", "request a verification code first", asked);
    let code = request_code(&app, &token, &phone).await;
    let texts = app.sms_to(&phone).await;
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].starts_with("Your AccountCentral verification code is"),
        "in English: {}",
        texts[0]
    );
    let wrong = (code + 1) % 1_000_000;
    let (status, _, answer) = verify(&app, &token, wrong).await;
    assert_refused((status, &answer), 403, "/code", "4 attempts left", "a wrong code");
    assert_eq!(me(&app, &token).await["cellPhoneVerified"], false);

    let (status, _, answer) = verify(&app, &token, code).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["resultCode"], "CODE_VERIFIED");
    assert_eq!(me(&app, &token).await["cellPhoneVerified"], true);
    assert_eq!(events(&app, user_pk, SecurityEventType::CellPhoneVerified).await.len(), 1);
    // Consumed.
    let (status, _, answer) = verify(&app, &token, code).await;
    assert_eq!((status, error_paths(&answer)), (409, vec!["/code".to_owned()]), "{answer}");

    // An administrator does the same for the user, in the user's language.
    let mut preferences = app.get_as("care", &format!("/v1/users/{user_pk}/preferences")).await.1;
    preferences["language"] = json!("it");
    let (status, answer) = app.put_as("care", &format!("/v1/users/{user_pk}/preferences"), &preferences).await;
    assert_eq!(status, 200, "{answer}");
    let phone = give_cell_phone(&app, user_pk).await;
    // Past the limit of one SMS a minute (care's token was read before the clock moves).
    let admin = app.token("acme.it.admin").await;
    app.clock.advance(SignedDuration::from_secs(61));
    let (status, _, answer) = call(&app, &admin, Method::POST, &format!("/v1/users/{user_pk}/verification-code"), None).await;
    assert_eq!(status, 200, "{answer}");
    let text = app.sms_to(&phone).await.pop().unwrap();
    assert!(text.starts_with("Il tuo codice di verifica"), "in Italian: {text}");
    let code = app.last_code_to(&phone).await;
    let path = format!("/v1/users/{user_pk}/verification-code/verify");
    let (status, _, answer) = call(&app, &admin, Method::POST, &path, Some(json!({ "code": code }))).await;
    assert_eq!(status, 200, "{answer}");
    let verified = events(&app, user_pk, SecurityEventType::CellPhoneVerified).await;
    assert_eq!(verified[0].by_user_pk, Some(UserPk(11)), "newest first, by the admin");

    // A code expires after 10 minutes, even the right one: a conflict with the state.
    app.clock.advance(SignedDuration::from_secs(61));
    let code = request_code(&app, &token, &phone).await;
    app.clock.advance(SignedDuration::from_secs(601));
    let (status, _, answer) = verify(&app, &token, code).await;
    assert_refused((status, &answer), 409, "/code", "expired", "the right code, too late");
}

async fn five_wrong_codes_kill_the_code(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    let phone = give_cell_phone(&app, user_pk).await;
    let code = request_code(&app, &token, &phone).await;
    let wrong = (code + 500_000) % 1_000_000;
    for left in (0..5).rev() {
        let (status, _, answer) = verify(&app, &token, wrong).await;
        let says = format!("{left} attempts left");
        assert_refused((status, &answer), 403, "/code", &says, "a wrong code");
    }
    let (status, retry_after, answer) = verify(&app, &token, code).await;
    assert_eq!(status, 429, "even the right code is refused now: {answer}");
    assert!(retry_after.is_some_and(|seconds| (1..=60).contains(&seconds)), "{retry_after:?}");
    error_paths(&answer);
    assert_eq!(me(&app, &token).await["cellPhoneVerified"], false);
    // A new code, a minute later, works.
    app.clock.advance(SignedDuration::from_secs(61));
    let code = request_code(&app, &token, &phone).await;
    assert_eq!(verify(&app, &token, code).await.0, 200);
}

async fn one_sms_a_minute_and_five_an_hour(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    // Tokens are read before the clock moves: a token issued in the stand-in's future
    // would not be valid yet.
    let token = app.token(&username).await;
    let care = app.token("care").await;
    let phone = give_cell_phone(&app, user_pk).await;
    let path = "/v1/user/verification-code";
    for sent in 1..=5 {
        let (status, _, answer) = call(&app, &token, Method::POST, path, None).await;
        assert_eq!(status, 200, "SMS {sent}: {answer}");
        let (status, retry_after, answer) = call(&app, &token, Method::POST, path, None).await;
        assert_eq!(status, 429, "a second SMS within the minute: {answer}");
        assert!(retry_after.is_some_and(|s| (1..=60).contains(&s)), "{retry_after:?}");
        assert!(answer["message"].as_str().unwrap().contains("a minute"), "{answer}");
        // The administrator's requests count against the same limits.
        let admin_path = format!("/v1/users/{user_pk}/verification-code");
        assert_eq!(call(&app, &care, Method::POST, &admin_path, None).await.0, 429);
        app.clock.advance(SignedDuration::from_secs(61));
    }
    let (status, retry_after, answer) = call(&app, &token, Method::POST, path, None).await;
    assert_eq!(status, 429, "a sixth SMS within the hour: {answer}");
    assert!(answer["message"].as_str().unwrap().contains("an hour"), "{answer}");
    let wait = retry_after.expect("Retry-After");
    assert!(
        (3_000..=3_600 - 5 * 61 + 1).contains(&wait),
        "until the first SMS is an hour old: {wait}"
    );
    assert_eq!(app.sms_to(&phone).await.len(), 5, "no SMS was sent when refused");
    app.clock.advance(SignedDuration::from_secs(wait as i64));
    assert_eq!(call(&app, &token, Method::POST, path, None).await.0, 200);
}

/// Gives the user a verified cell phone: the token is the user's.
async fn verified_phone(app: &TestApp, token: &str, user_pk: i64) -> String {
    let phone = give_cell_phone(app, user_pk).await;
    let code = request_code(app, token, &phone).await;
    assert_eq!(verify(app, token, code).await.0, 200);
    phone
}

async fn two_factor_needs_a_verified_phone(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    let set = |active: bool| json!({ "active": active });
    let (status, _, answer) = call(&app, &token, Method::PUT, "/v1/user/two-factor", Some(set(true))).await;
    assert_eq!((status, error_paths(&answer)), (409, vec!["/active".to_owned()]), "{answer}");
    give_cell_phone(&app, user_pk).await;
    let (status, _, answer) = call(&app, &token, Method::PUT, "/v1/user/two-factor", Some(set(true))).await;
    assert_eq!(
        (status, error_paths(&answer)),
        (409, vec!["/active".to_owned()]),
        "unverified: {answer}"
    );
    // The administrator's operation answers the same.
    let (status, answer) = app
        .put_as("acme.it.admin", &format!("/v1/users/{user_pk}/two-factor"), &set(true))
        .await;
    assert_eq!((status, error_paths(&answer)), (409, vec!["/active".to_owned()]), "{answer}");

    verified_phone(&app, &token, user_pk).await;
    let (status, _, answer) = call(&app, &token, Method::PUT, "/v1/user/two-factor", Some(set(true))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["resultCode"], "TWO_FACTOR_ENABLED");
    assert_eq!(call(&app, &token, Method::GET, "/v1/user/two-factor", None).await.2, set(true));
    assert_eq!(call(&app, &token, Method::GET, "/v1/user/pin", None).await.2, set(true));
    assert_eq!(
        app.get_as("acme.it.admin", &format!("/v1/users/{user_pk}/two-factor")).await,
        (200, set(true))
    );
    // The admin turns it off; asking again changes nothing and records nothing.
    for _ in 0..2 {
        let (status, answer) = app
            .put_as("acme.it.admin", &format!("/v1/users/{user_pk}/two-factor"), &set(false))
            .await;
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(call(&app, &token, Method::GET, "/v1/user/pin", None).await.2, set(false));
    assert_eq!(events(&app, user_pk, SecurityEventType::TwoFactorEnabled).await[0].by_user_pk, None);
    let disabled = events(&app, user_pk, SecurityEventType::TwoFactorDisabled).await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].by_user_pk, Some(UserPk(11)));
}

async fn a_pin_reset_turns_two_factor_off_and_unverifies_the_phone(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    verified_phone(&app, &token, user_pk).await;
    let (status, _, _) = call(&app, &token, Method::PUT, "/v1/user/two-factor", Some(json!({"active": true}))).await;
    assert_eq!(status, 200);
    let (status, answer) = app.post_as("care", &format!("/v1/users/{user_pk}/pin/reset"), &json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["resultCode"], "PIN_RESET");
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/user/pin", None).await.2,
        json!({"active": false})
    );
    assert_eq!(me(&app, &token).await["cellPhoneVerified"], false);
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/user/two-factor", None).await.2,
        json!({"active": false})
    );
    let reset = events(&app, user_pk, SecurityEventType::PinReset).await;
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0].by_user_pk, Some(UserPk(1)));
}

async fn a_new_cell_phone_must_be_verified_again(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    verified_phone(&app, &token, user_pk).await;
    let (status, _, _) = call(&app, &token, Method::PUT, "/v1/user/two-factor", Some(json!({"active": true}))).await;
    assert_eq!(status, 200);
    // A code pending for the old number does not verify the new one.
    let mut user = me(&app, &token).await;
    user["cellPhone"] = json!(unique_phone());
    let (status, _, answer) = call(&app, &token, Method::PUT, "/v1/user", Some(user)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["cellPhoneVerified"], false);
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/user/two-factor", None).await.2,
        json!({"active": false})
    );
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/user/pin", None).await.2,
        json!({"active": false})
    );
}

async fn codes_need_a_cell_phone(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    let (status, _, answer) = call(&app, &token, Method::POST, "/v1/user/verification-code", None).await;
    assert_eq!((status, error_paths(&answer)), (409, vec!["/cellPhone".to_owned()]), "{answer}");
    let (status, answer) = app
        .post_as("care", &format!("/v1/users/{user_pk}/verification-code"), &json!({}))
        .await;
    assert_eq!((status, error_paths(&answer)), (409, vec!["/cellPhone".to_owned()]), "{answer}");
    let (status, _, answer) = verify(&app, &token, 123_456).await;
    assert_eq!((status, error_paths(&answer)), (409, vec!["/cellPhone".to_owned()]), "{answer}");
}

async fn racing_wrong_codes_never_get_extra_attempts(app: TestApp) {
    let (user_pk, username) = member(&app).await;
    let token = app.token(&username).await;
    let phone = give_cell_phone(&app, user_pk).await;
    let code = request_code(&app, &token, &phone).await;
    let wrong = (code + 1) % 1_000_000;
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = app
            .request(Method::POST, "/v1/user/verification-code/verify")
            .bearer_auth(&token)
            .json(&json!({ "code": wrong }))
            .send();
        racing.spawn(async move { read(request.await.expect("the stand-in answers")).await });
    }
    let answers = racing.join_all().await;
    let counted = answers.iter().filter(|(status, _)| *status == 403).count();
    for (status, answer) in &answers {
        assert!([403, 409, 429].contains(status), "{status}: {answer}");
        if *status == 403 {
            assert_eq!(error_paths(answer), ["/code"], "{answer}");
        }
    }
    let state = &app.environment.state;
    let stored = shared::repositories::credentials::Credentials::new(state.store.as_ref(), &state.security)
        .verification(UserPk(user_pk))
        .await
        .unwrap();
    let stored_attempts = stored.value.code.expect("the code").attempts as usize;
    assert_eq!(
        stored_attempts, counted,
        "each wrong attempt answered 403 is counted, and only those: {answers:?}"
    );
    assert!(counted <= 5);
}
