//! Load test of changeMyPassword against a running stand-in: for each concurrency level,
//! that many users change their own password over and over (each through a cycle of more
//! passwords than the history remembers), and the latency percentiles and throughput of
//! the changes are printed. Every change hashes the new password and verifies the old
//! one and the remembered ones with argon2id, so this measures what the CPU allows.
//!   password-load BASE_URL ACCOUNTS_FILE SECONDS LEVEL...
//! ACCOUNTS_FILE holds one `token password` line per user (at least max(LEVEL) lines).

use std::time::{Duration, Instant};

use serde_json::json;

/// More than the 5 passwords the history keeps, so that the cycle never reuses one it remembers.
const CYCLE: usize = 7;

struct Account {
    token: String,
    passwords: Vec<String>,
    current: usize,
}

impl Account {
    fn new(token: &str, first: &str, index: usize) -> Self {
        let mut passwords = vec![first.to_owned()];
        passwords.extend((1..CYCLE).map(|n| format!("Quiet-Harbor-{index}-Lantern-{n}-Mosaic")));
        Self {
            token: token.to_owned(),
            passwords,
            current: 0,
        }
    }
}

/// Changes `account`'s password until `deadline`; the latency of each change.
async fn change_until(client: reqwest::Client, url: String, mut account: Account, deadline: Instant) -> (Vec<Duration>, Account) {
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let next = (account.current + 1) % CYCLE;
        let body = json!({"oldPassword": account.passwords[account.current], "newPassword": account.passwords[next]});
        let started = Instant::now();
        let response = client.put(&url).bearer_auth(&account.token).json(&body).send().await;
        let status = response.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
        if status != 200 {
            let text = match response {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            panic!("changeMyPassword answered {status}: {text}");
        }
        latencies.push(started.elapsed());
        account.current = next;
    }
    (latencies, account)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, file, seconds, levels @ ..] = args.as_slice() else {
        eprintln!("usage: password-load BASE_URL ACCOUNTS_FILE SECONDS LEVEL...");
        std::process::exit(2);
    };
    let seconds: u64 = seconds.parse().expect("SECONDS is a number");
    let levels: Vec<usize> = levels.iter().map(|l| l.parse().expect("each LEVEL is a number")).collect();
    let lines = std::fs::read_to_string(file).expect("the accounts file");
    let mut accounts: Vec<Account> = lines
        .lines()
        .enumerate()
        .filter_map(|(index, line)| line.split_once(' ').map(|(token, password)| Account::new(token, password, index)))
        .collect();
    assert!(
        levels.iter().all(|level| *level <= accounts.len()),
        "more users are needed than the file holds"
    );
    let client = reqwest::Client::new();
    let url = format!("{base}/v1/user/password");
    println!(
        "{:>11} {:>9} {:>9} {:>9} {:>11}",
        "concurrent", "p50 ms", "p99 ms", "changes", "changes/s"
    );
    for level in levels {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let running: Vec<_> = accounts
            .drain(..level)
            .map(|account| tokio::spawn(change_until(client.clone(), url.clone(), account, deadline)))
            .collect();
        let mut latencies = Vec::new();
        for task in running {
            let (measured, account) = task.await.expect("a load task");
            latencies.extend(measured);
            accounts.push(account);
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort();
        println!(
            "{level:>11} {:>9.1} {:>9.1} {:>9} {:>11.1}",
            percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.len(),
            latencies.len() as f64 / elapsed
        );
    }
}
