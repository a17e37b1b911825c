//! Whatever arrives as a body, a write answers 4xx in the error format — never a
//! 500, never a panic — and writes nothing.

use accountcentral_e2e::{TestApp, error_paths, on_both_backends, read};
use reqwest::Method;

on_both_backends!(malformed_bodies_are_refused_without_writing);

fn hostile_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![
        ("application/json", b"".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", b"42".to_vec()),
        ("application/json", b"\"text\"".to_vec()),
        ("application/json", b"{".to_vec()),
        ("application/json", b"{\"name\": \"\xff\xfe\"}".to_vec()),
        ("application/json", br#"{"name": {"nested": [1, 2, {"x": null}]}}"#.to_vec()),
        ("application/json", br#"{"timezone": 1e999}"#.to_vec()),
        (
            "application/json",
            br#"{"dateOfBirth": "2020-02-30", "name": "a", "surname": "b", "email": "a@b.co"}"#.to_vec(),
        ),
        ("application/json", format!(r#"{{"name": "{}"}}"#, "x".repeat(100_000)).into_bytes()),
        ("application/json", deep.into_bytes()),
        ("application/xml", b"<user/>".to_vec()),
        ("", b"{}".to_vec()),
    ]
}

async fn malformed_bodies_are_refused_without_writing(app: TestApp) {
    let (_, me_before) = app.get_as("acme.user", "/v1/user").await;
    let (_, preferences_before) = app.get_as("acme.user", "/v1/user/preferences").await;
    let token = app.token("acme.user").await;
    for path in ["/v1/user", "/v1/user/preferences"] {
        for (content_type, body) in hostile_bodies() {
            let mut request = app.request(Method::PUT, path).bearer_auth(&token).body(body.clone());
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            let (status, answer) = read(request.send().await.unwrap()).await;
            assert!(
                (400..500).contains(&status),
                "{path} with {:?}: {status} {answer}",
                String::from_utf8_lossy(&body[..body.len().min(60)])
            );
            error_paths(&answer);
        }
    }
    assert_eq!(app.get_as("acme.user", "/v1/user").await.1, me_before);
    assert_eq!(app.get_as("acme.user", "/v1/user/preferences").await.1, preferences_before);
}
