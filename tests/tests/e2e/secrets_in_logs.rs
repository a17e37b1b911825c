//! Secrets never reach a log line: every line the stand-in writes (every crate, every
//! level) while passwords are reset and changed and verification codes are sent and
//! checked, and while a stream is opened with its token in the query, is captured, and
//! none holds a password, a code or a token.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use std::time::Duration;

use accountcentral_e2e::{TestApp, give_cell_phone, new_user, on_both_backends, read, unique};
use reqwest::Method;
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;

on_both_backends!(
    passwords_and_codes_never_reach_the_log,
    stream_tokens_in_the_query_never_reach_the_log
);

/// Every line written by the process's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// The process's log, captured from the first call on (the subscriber is global: the
/// server's tasks run on other threads).
fn log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");
        captured
    })
}

/// Whether `text` holds `digits` as a number of its own (not inside a longer one).
fn holds_number(text: &str, digits: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit()).any(|run| run == digits)
}

async fn call(app: &TestApp, user: &str, method: Method, path: &str, body: Value) -> (u16, Value) {
    read(app.as_user(user, method, path).await.json(&body).send().await.unwrap()).await
}

async fn passwords_and_codes_never_reach_the_log(app: TestApp) {
    let log = log();
    tracing::info!("capturing");
    let username = unique("logged");
    let user_pk = app.create_user("care", 101, &new_user(&username)).await;
    let reset_path = format!("/v1/users/{user_pk}/password/reset");
    let (status, reset) = call(&app, "care", Method::POST, &reset_path, json!({})).await;
    assert_eq!(status, 200, "{reset}");
    let generated = reset["newPassword"].as_str().unwrap().to_owned();
    let chosen = format!("Quartz lantern {} meadow", unique("p"));
    // A refused change (the new password is weak) and a good one.
    let refused = json!({"oldPassword": generated, "newPassword": "password1234"});
    assert_eq!(call(&app, &username, Method::PUT, "/v1/user/password", refused).await.0, 400);
    let change = json!({"oldPassword": generated, "newPassword": chosen});
    assert_eq!(call(&app, &username, Method::PUT, "/v1/user/password", change).await.0, 200);

    let phone = give_cell_phone(&app, user_pk).await;
    let (status, sent) = call(&app, &username, Method::POST, "/v1/user/verification-code", json!({})).await;
    assert_eq!(status, 200, "{sent}");
    let code = app.last_code_to(&phone).await;
    let wrong = (code + 1) % 1_000_000;
    let verify = "/v1/user/verification-code/verify";
    assert_eq!(call(&app, &username, Method::POST, verify, json!({"code": wrong})).await.0, 403);
    assert_eq!(call(&app, &username, Method::POST, verify, json!({"code": code})).await.0, 200);

    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(text.contains("request refused"), "the log was captured: {} bytes", text.len());
    for (what, secret) in [("the reset password", &generated), ("the chosen password", &chosen)] {
        assert!(!text.contains(secret.as_str()), "{what} is in the log");
    }
    assert!(!text.contains("password1234"), "a refused password is in the log");
    for (what, code) in [("the code", code), ("the wrong code", wrong)] {
        assert!(!holds_number(&text, &format!("{code:06}")), "{what} is in the log");
    }
    assert!(!text.contains("verification code is"), "the SMS text is in the log");
}

/// EventSource sends its token as `access_token` in the query: the request's log line,
/// the stream's closing line and every other line leave it out.
async fn stream_tokens_in_the_query_never_reach_the_log(app: TestApp) {
    let log = log();
    tracing::info!("capturing");
    let token = app.token("acme.user").await;
    let mut stream = app.subscribe_with_query_token("acme.user", "/v1/status/hub/stream").await;
    assert_eq!(stream.status, 200);
    let event = stream.next_event(Duration::from_secs(20)).await.expect("the status now");
    assert_eq!(event.event.as_deref(), Some("status"));
    drop(stream);
    let closed = tokio::time::Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
        if text.contains("stream closed") {
            break text;
        }
        assert!(tokio::time::Instant::now() < closed, "the stream's closing line was not logged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(text.contains("/v1/status/hub/stream"), "the request was logged");
    let signature = token.rsplit('.').next().unwrap();
    assert!(!text.contains(signature), "the token is in the log");
    assert!(!text.contains("access_token"), "the query is in the log");
}
