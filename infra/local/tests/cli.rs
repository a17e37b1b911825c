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
    let mut child = Command::new(BINARY)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut banner = Vec::new();
    let mut base = None;
    // The banner ends with the example curl line.
    for line in lines.by_ref() {
        let line = line.expect("a banner line");
        if let Some(rest) = line.trim().strip_prefix("API:") {
            base = rest.split_whitespace().next().map(|url| url.trim_end_matches("/v1").to_owned());
        }
        let done = line.trim().starts_with("Try:");
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
    Command::new(BINARY)
        .args(["token", username, "--data-dir"])
        .arg(data_dir)
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
