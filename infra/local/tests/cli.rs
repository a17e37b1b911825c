//! The stand-in as a newcomer uses it: `serve` in one terminal, `token` in another.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_accountcentral-local");

/// A running `serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
    banner: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &Path) -> Server {
    serve_with(data_dir, &[], &[])
}

/// `serve` with more arguments and environment variables.
fn serve_with(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
    let mut child = Command::new(BINARY)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut banner = Vec::new();
    let mut base = None;
    // The banner ends with the example curl line, or, without a demo tenant, with the line that says so.
    for line in lines.by_ref() {
        let line = line.expect("a banner line");
        if let Some(rest) = line.trim().strip_prefix("API:") {
            base = rest.split_whitespace().next().map(|url| url.trim_end_matches("/v1").to_owned());
        }
        let done = line.trim().starts_with("Try:") || line.trim().starts_with("Demo:");
        banner.push(line);
        if done {
            break;
        }
    }
    drain(lines);
    Server {
        child,
        base: base.expect("the banner names the URL"),
        banner,
    }
}

/// Keeps reading stdout so the server never blocks on a full pipe.
fn drain(rest: std::io::Lines<BufReader<ChildStdout>>) {
    std::thread::spawn(move || rest.for_each(drop));
}

fn token(data_dir: &Path, username: &str) -> Output {
    token_with(data_dir, username, &[], &[])
}

fn token_with(data_dir: &Path, username: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(BINARY)
        .args(["token", username, "--data-dir"])
        .arg(data_dir)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("token runs")
}

#[tokio::test]
async fn serve_seeds_once_and_token_works_while_it_runs() {
    let data_dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    {
        let server = serve(data_dir.path());
        let banner = server.banner.join("\n");
        assert!(banner.contains(&data_dir.path().display().to_string()), "{banner}");
        for user in ["care", "dkimops", "acme.admin", "acme.it.admin", "acme.user", "globex.admin", "mta"] {
            let line = server
                .banner
                .iter()
                .find(|l| l.trim_start().starts_with(user))
                .unwrap_or_else(|| panic!("{user} listed"));
            assert!(line.contains("password "), "first start shows the password: {line}");
        }

        let output = token(data_dir.path(), "acme.user");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let bearer = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        assert_eq!(bearer.split('.').count(), 3, "only the token is printed");

        let me = client
            .get(format!("{}/v1/user", server.base))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status().as_u16(), 200);
        let preferences = serde_json::json!({
            "timezone": "Asia/Tokyo", "language": "en", "weekBegin": "MONDAY",
            "numberFormat": {"pattern": "#,##0.00"}, "dateFormat": {"pattern": "yyyy-MM-dd"}, "hourFormat": {"pattern": "HH:mm"}
        });
        let put = client
            .put(format!("{}/v1/user/preferences", server.base))
            .bearer_auth(&bearer)
            .json(&preferences)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status().as_u16(), 200);

        let unknown = token(data_dir.path(), "nobody");
        assert!(!unknown.status.success());
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown user nobody"));
    }

    let restarted = serve(data_dir.path());
    assert!(
        restarted.banner.iter().all(|l| !l.contains("password ")),
        "a restart never seeds again"
    );
    let bearer = String::from_utf8(token(data_dir.path(), "acme.user").stdout)
        .unwrap()
        .trim()
        .to_owned();
    let kept = client
        .get(format!("{}/v1/user/preferences", restarted.base))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    let kept: serde_json::Value = kept.json().await.unwrap();
    assert_eq!(kept["timezone"], "Asia/Tokyo", "data survives a restart");
}

/// On AWS the stand-in may be pointed at a real deployment's table: it seeds demo users
/// (known passwords, care, DKIM and SERVICE roles) only when asked, and issues development
/// tokens only for a table that holds the demo tenant.
#[tokio::test]
async fn on_aws_only_an_explicit_flag_seeds_and_token_refuses_a_table_without_the_demo() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "set AWS_ENDPOINT_URL to a running moto server (scripts/test does this), with AWS_REGION and test credentials"
    );
    let data_dir = tempfile::tempdir().unwrap();
    let table = format!("cli-{}", uuid::Uuid::new_v4().simple());
    let env = [("TABLE_NAME", table.as_str())];
    let aws = ["--backend", "aws"];
    let passwords = |server: &Server| server.banner.iter().filter(|l| l.contains("password ")).count();

    let unseeded = serve_with(data_dir.path(), &aws, &env);
    assert_eq!(passwords(&unseeded), 0, "{:?}", unseeded.banner);
    assert!(unseeded.banner.iter().any(|l| l.contains("--seed-demo")), "{:?}", unseeded.banner);
    drop(unseeded);
    let refused = token_with(data_dir.path(), "care", &aws, &env);
    assert!(!refused.status.success(), "a table serve did not seed is no demo one");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("not a demo deployment") && message.contains(&table), "{message}");
    assert!(refused.stdout.is_empty(), "no token is printed");

    let seeded = serve_with(data_dir.path(), &["--backend", "aws", "--seed-demo"], &env);
    assert_eq!(passwords(&seeded), 7, "{:?}", seeded.banner);
    let output = token_with(data_dir.path(), "acme.user", &aws, &env);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let bearer = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let me = reqwest::Client::new()
        .get(format!("{}/v1/user", seeded.base))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
}

#[tokio::test]
async fn on_aws_token_refuses_a_missing_table_without_creating_it() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "set AWS_ENDPOINT_URL to a running moto server (scripts/test does this), with AWS_REGION and test credentials"
    );
    let data_dir = tempfile::tempdir().unwrap();
    let table = format!("cli-{}", uuid::Uuid::new_v4().simple());
    let refused = token_with(data_dir.path(), "care", &["--backend", "aws"], &[("TABLE_NAME", table.as_str())]);
    assert!(!refused.status.success(), "a table that does not exist is no demo one");
    assert!(refused.stdout.is_empty(), "no token is printed");

    let config = shared::adapters::aws::load_config().await;
    let described = aws_sdk_dynamodb::Client::new(&config)
        .describe_table()
        .table_name(&table)
        .send()
        .await;
    assert!(
        described.is_err_and(|error| error
            .as_service_error()
            .is_some_and(|error| error.is_resource_not_found_exception())),
        "token created the table {table}"
    );
}
