//! Time from enqueueNotification's request to the notification's event on an open
//! subscribeNotifications stream, against a running stand-in: one notification at a time,
//! COUNT times; prints p50, p99 and the maximum.
//!   stream-latency BASE_URL SERVICE_TOKEN USER_TOKEN USER_PK COUNT

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Reads an event stream's body and returns the `id:` of each event, in order.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn next_id(&mut self) -> String {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(id) = block.lines().find_map(|line| line.strip_prefix("id: ")) {
                    return id.to_owned();
                }
                continue;
            }
            let chunk = self
                .response
                .chunk()
                .await
                .expect("the stream reads")
                .expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, service_token, user_token, user_pk, count] = args.as_slice() else {
        panic!("usage: stream-latency BASE_URL SERVICE_TOKEN USER_TOKEN USER_PK COUNT");
    };
    let user_pk: i64 = user_pk.parse().expect("USER_PK is a number");
    let count: usize = count.parse().expect("COUNT is a number");
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{base}/v1/notifications/stream"))
        .bearer_auth(user_token)
        .header("Accept", "text/event-stream")
        .send()
        .await
        .expect("the stream opens");
    assert!(response.status().is_success(), "the stream opens: {}", response.status());
    let mut events = Events {
        response,
        buffer: String::new(),
    };
    let mut latencies = Vec::with_capacity(count);
    for n in 0..count {
        let body = json!({
            "destination": {"type": "USER", "userPk": user_pk},
            "notification": {"title": format!("latency {n}"), "message": "measured", "priority": "NORMAL", "application": "hub"},
        });
        let started = Instant::now();
        let answer: Value = client
            .post(format!("{base}/v1/notifications"))
            .bearer_auth(service_token)
            .json(&body)
            .send()
            .await
            .expect("enqueued")
            .json()
            .await
            .expect("a JSON answer");
        let id = answer["id"].to_string();
        while events.next_id().await != id {}
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "enqueue -> SSE event over {count} notifications: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies[count - 1].as_secs_f64() * 1e3,
    );
}
