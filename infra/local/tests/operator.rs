//! The operator commands as an operator runs them against a deployment's table:
//! `bootstrap` on an empty table, `import-config` from a file; each on the embedded
//! store and on the AWS emulator (`AWS_ENDPOINT_URL`), through the binary.

use std::path::Path;
use std::process::{Command, Output};

use accountcentral_local::{AwsNames, Backend, Environment};
use serde_json::{Value, json};
use shared::app::QueueUrls;
use shared::domain::catalogue::Stage;
use shared::domain::configuration::ApplicationName;
use shared::domain::ids::GroupPk;
use shared::domain::password::{self, PasswordRecord};
use shared::domain::secret::SecretString;
use shared::ports::store::Key;
use shared::repositories::accounts::Accounts;
use shared::repositories::configuration::Configurations;
use shared::repositories::customers::Customers;

const BINARY: &str = env!("CARGO_BIN_EXE_accountcentral-local");

/// A deployment's state as the commands see it, and the same state opened in-process
/// to prepare and inspect it.
struct Deployment {
    data_dir: tempfile::TempDir,
    environment: Environment,
}

impl Deployment {
    async fn embedded() -> Self {
        Self::open(Backend::Embedded).await
    }

    /// A table, queue and key of its own on the emulator, as `sam deploy` would have made them.
    async fn aws() -> Self {
        assert!(
            std::env::var("AWS_ENDPOINT_URL").is_ok(),
            "set AWS_ENDPOINT_URL to a running moto server, with AWS_REGION and test credentials"
        );
        let prefix = format!("operator-{}", unique_suffix());
        Self::open(Backend::Aws(AwsNames::isolated(&prefix))).await
    }

    async fn open(backend: Backend) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let environment = Environment::open(data_dir.path(), backend, Stage::Dev)
            .await
            .expect("the state opens");
        Self { data_dir, environment }
    }

    /// Runs the binary with the backend's options (on AWS, the resource names in the environment).
    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(BINARY);
        command.args(args).arg("--data-dir").arg(self.data_dir.path());
        if let Some(resources) = &self.environment.aws_resources {
            command
                .args(["--backend", "aws"])
                .env("TABLE_NAME", &resources.table)
                .envs(resources.queue_urls.variables())
                .env("KMS_KEY_ID", &resources.kms_key_id);
        }
        command.output().expect("the binary runs")
    }

    fn store(&self) -> &dyn shared::ports::store::ItemStore {
        self.environment.state.store.as_ref()
    }
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}-{}", std::process::id())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Deployment::embedded().await).await
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Deployment::aws().await).await
                }
            )*
        }
    };
}

on_both_backends!(
    bootstrap_creates_a_care_user_once,
    bootstrap_refuses_a_seeded_table,
    a_valid_file_is_imported_and_served,
    an_invalid_file_writes_nothing,
);

#[tokio::test]
async fn on_aws_the_commands_need_the_deployments_resources() {
    let deployment = Deployment::aws().await;
    let resources = deployment.environment.aws_resources.clone().unwrap();
    let missing_table = format!("{}-missing", resources.table);
    let run = |table: &str, queues: Option<&QueueUrls>| {
        let mut command = Command::new(BINARY);
        command
            .args(["bootstrap", "--email", "care@ops.example.test", "--backend", "aws", "--data-dir"])
            .arg(deployment.data_dir.path())
            .env("TABLE_NAME", table)
            .env("KMS_KEY_ID", &resources.kms_key_id)
            .env_remove("NOTIFICATION_QUEUE_URL")
            .env_remove("NEWS_QUEUE_URL")
            .env_remove("PROVISIONING_QUEUE_URL");
        if let Some(queues) = queues {
            command.envs(queues.variables());
        }
        command.output().unwrap()
    };
    let output = run(&resources.table, None);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("set TABLE_NAME, NOTIFICATION_QUEUE_URL, NEWS_QUEUE_URL, PROVISIONING_QUEUE_URL and KMS_KEY_ID"),
        "{}",
        text(&output.stderr)
    );
    let output = run(&missing_table, Some(&resources.queue_urls));
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains(&missing_table), "{}", text(&output.stderr));
    let config = shared::adapters::aws::load_config().await;
    let created = aws_sdk_dynamodb::Client::new(&config)
        .describe_table()
        .table_name(&missing_table)
        .send()
        .await;
    assert!(created.is_err(), "no table of its own");
    assert_eq!(Accounts::new(deployment.store()).find_by_username("care").await.unwrap(), None);
}

/// GET as `username` against the deployment served in-process.
async fn get(deployment: &Deployment, username: &str, path: &str) -> (u16, Value) {
    let (addr, server) = deployment.environment.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let server = tokio::spawn(server);
    let token = deployment.environment.token(username).await.unwrap();
    let response = reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let answer = (response.status().as_u16(), response.json().await.unwrap_or(Value::Null));
    server.abort();
    answer
}

async fn bootstrap_creates_a_care_user_once(deployment: Deployment) {
    let output = deployment.run(&["bootstrap"]);
    assert!(!output.status.success(), "--email is required");

    let output = deployment.run(&["bootstrap", "--email", "not-an-address"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("is not an e-mail address"),
        "{}",
        text(&output.stderr)
    );

    let output = deployment.run(&["bootstrap", "--email", "care@ops.example.test"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let printed = stdout
        .lines()
        .find_map(|line| line.split_once("change it at first login): "))
        .map(|(_, password)| password.trim().to_owned())
        .unwrap_or_else(|| panic!("the one-time password is printed: {stdout}"));

    let accounts = Accounts::new(deployment.store());
    let user = accounts.find_by_username("care").await.unwrap().expect("the care user exists");
    let account = accounts.load(user).await.unwrap().unwrap();
    assert_eq!(account.user.value.email, "care@ops.example.test");
    assert_eq!(account.associations, [GroupPk(1)]);
    let capability = &account.capabilities[0];
    assert_eq!(
        (
            capability.application.as_str(),
            capability.role.as_str(),
            capability.resource.as_slice()
        ),
        ("accountcentral", "CUSTOMER_CARE", ["platform".to_owned()].as_slice())
    );
    let stored: PasswordRecord = deployment
        .store()
        .get(&Key::new(format!("USER#{user}"), "PASSWORD"))
        .await
        .unwrap()
        .expect("a password")
        .data
        .decode()
        .unwrap();
    assert!(password::verify(&SecretString::from(printed.clone()), &stored.hash));
    assert!(stored.expires_at <= deployment.environment.state.clock.now(), "already expired");
    let platform = Customers::new(deployment.store()).get(GroupPk(1)).await.unwrap().unwrap();
    assert_eq!(platform.name, "Platform");

    let token = deployment.run(&["token", "care"]);
    if deployment.environment.aws_resources.is_some() {
        // A bootstrapped table is a deployment's own, not a demo: no development token for it.
        assert!(!token.status.success());
        assert!(text(&token.stderr).contains("not a demo deployment"), "{}", text(&token.stderr));
    } else {
        assert!(token.status.success(), "{}", text(&token.stderr));
        assert_eq!(text(&token.stdout).trim().split('.').count(), 3);
    }
    let (status, me) = get(&deployment, "care", "/v1/user").await;
    assert_eq!((status, me["username"].as_str()), (200, Some("care")), "{me}");
    assert_eq!(get(&deployment, "care", "/v1/customers/1").await.0, 200);

    let again = deployment.run(&["bootstrap", "--username", "care2", "--email", "care2@ops.example.test"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("bootstrap only initialises an empty table"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(accounts.find_by_username("care2").await.unwrap(), None, "nothing written");
}

async fn bootstrap_refuses_a_seeded_table(deployment: Deployment) {
    deployment.environment.seed().await.unwrap().expect("seeded");
    let output = deployment.run(&["bootstrap", "--username", "ops.care", "--email", "ops@ops.example.test"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("bootstrap only initialises an empty table"),
        "{}",
        text(&output.stderr)
    );
    let accounts = Accounts::new(deployment.store());
    assert_eq!(accounts.find_by_username("ops.care").await.unwrap(), None);
}

fn write(dir: &Path, name: &str, document: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    path.display().to_string()
}

const API_KEY: &str = "acme-imported-key-0123456789abcdefghijklmnop";
const SFTP_PASSWORD: &str = "imported sftp password 42";

fn valid_file() -> Value {
    json!({"customers": [
        {"groupPk": 100,
         "configuration": {"apiKey": {"value": API_KEY, "expirationDate": null}, "smartRelayEnable": false},
         "sftp": [{"username": "acme-new", "host": "sftp.acme.test", "port": 2022, "homeDirectory": "/new",
                   "authentication": "PASSWORD", "password": SFTP_PASSWORD, "enabled": true}],
         "applications": {"send": null,
                          "hub": {"enabled": true, "workspaces": [{"id": "ws-acme-main", "name": "Acme customers",
                                  "nodes": [{"id": "node-acme-web", "name": "Web shop", "count": 7}]}]}}},
        {"groupPk": 102,
         "configuration": {"apiKey": null, "smartRelayEnable": true,
                           "genericUsers": [{"username": "fr-ops", "description": "Operations", "enabled": true}],
                           "dataExchanges": []}}
    ]})
}

async fn a_valid_file_is_imported_and_served(deployment: Deployment) {
    deployment.environment.seed().await.unwrap();
    let file = write(deployment.data_dir.path(), "config.json", &valid_file());
    let output = deployment.run(&["import-config", &file]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("customer 100:") && stdout.contains("customer 102:"), "{stdout}");
    assert!(!stdout.contains(API_KEY) && !stdout.contains(SFTP_PASSWORD) && !stderr.contains(API_KEY));

    let configurations = Configurations::new(deployment.store());
    let acme = configurations.configuration(GroupPk(100)).await.unwrap().unwrap();
    let key = acme.api_key.clone().unwrap();
    assert!(key.is(&SecretString::from(API_KEY)));
    assert!(!acme.smart_relay_enable);
    assert_eq!(acme.generic_users.len(), 3, "omitted members stay as they were");
    let accounts = configurations.sftp_accounts(GroupPk(100)).await.unwrap();
    assert_eq!(accounts.len(), 1, "the file's accounts replace the stored ones");
    assert!(password::verify(
        &SecretString::from(SFTP_PASSWORD),
        &accounts[0].password.as_ref().unwrap().hash
    ));
    let applications = configurations.applications(GroupPk(100)).await.unwrap();
    assert_eq!(
        applications.keys().copied().collect::<Vec<_>>(),
        [ApplicationName::Hub, ApplicationName::Plan]
    );

    let (status, served) = get(&deployment, "care", "/v1/customers/100/configuration").await;
    assert_eq!(status, 200);
    assert_eq!(served["apiKey"]["prefix"], &API_KEY[..8]);
    assert!(!served.to_string().contains(API_KEY));
    let (_, counters) = get(
        &deployment,
        "care",
        "/v1/customers/100/applications/hub/workspaces/ws-acme-main/counters",
    )
    .await;
    assert_eq!(
        counters,
        json!({"data": [{"type": "NODE", "id": "node-acme-web", "name": "Web shop", "nodeId": null, "count": 7}]})
    );
    let (_, france) = get(&deployment, "care", "/v1/customers/102/configuration").await;
    assert_eq!(france["genericUsers"][0]["username"], "fr-ops");

    // Importing the same file again changes nothing: the key and the password keep their records.
    let output = deployment.run(&["import-config", &file]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        configurations.configuration(GroupPk(100)).await.unwrap().unwrap().api_key,
        Some(key)
    );
    assert_eq!(configurations.sftp_accounts(GroupPk(100)).await.unwrap(), accounts);

    // An account named without a password keeps the stored one.
    let mut keep = json!({"customers": [{"groupPk": 100, "sftp": [valid_file()["customers"][0]["sftp"][0].clone()]}]});
    keep["customers"][0]["sftp"][0].as_object_mut().unwrap().remove("password");
    keep["customers"][0]["sftp"][0]["port"] = json!(2222);
    let output = deployment.run(&["import-config", &write(deployment.data_dir.path(), "keep.json", &keep)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let kept = configurations.sftp_accounts(GroupPk(100)).await.unwrap();
    assert_eq!((kept[0].port, &kept[0].password), (2222, &accounts[0].password));
}

async fn an_invalid_file_writes_nothing(deployment: Deployment) {
    deployment.environment.seed().await.unwrap();
    let configurations = Configurations::new(deployment.store());
    let before = snapshot(&configurations).await;

    let mut bad = valid_file();
    bad["customers"][0]["sftp"][0]["port"] = json!(0);
    bad["customers"][0]["configuration"]["apiKey"]["value"] = json!("short secret");
    bad["customers"][1]["colour"] = json!("blue");
    bad["customers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"groupPk": 999, "configuration": {"smartRelayEnable": true}}));
    let output = deployment.run(&["import-config", &write(deployment.data_dir.path(), "bad.json", &bad)]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    for expected in [
        "/customers/0/sftp/0/port: must be 1..65535",
        "/customers/0/configuration/apiKey/value: must be 32 to 256 characters",
        "/customers/1/colour: is not a known field",
        "/customers/2/groupPk: customer 999 does not exist",
        "nothing was written",
    ] {
        assert!(stderr.contains(expected), "{expected} missing from: {stderr}");
    }
    assert!(!stderr.contains("short secret") && !stderr.contains(SFTP_PASSWORD), "{stderr}");

    // Valid in itself, but naming a customer that does not exist, and a new PASSWORD account without a password.
    let mut unknown = valid_file();
    unknown["customers"][0]["sftp"][0].as_object_mut().unwrap().remove("password");
    unknown["customers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"groupPk": 999, "configuration": {"smartRelayEnable": true}}));
    let output = deployment.run(&["import-config", &write(deployment.data_dir.path(), "unknown.json", &unknown)]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("/customers/2/groupPk: customer 999 does not exist"), "{stderr}");
    assert!(
        stderr.contains("/customers/0/sftp/0/password: is required: no password is stored for this account"),
        "{stderr}"
    );

    let output = deployment.run(&["import-config", &write(deployment.data_dir.path(), "broken.json", &json!("x"))]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("(the document): must be an object"),
        "{}",
        text(&output.stderr)
    );
    std::fs::write(deployment.data_dir.path().join("syntax.json"), "{\"customers\": [").unwrap();
    let syntax = deployment.data_dir.path().join("syntax.json").display().to_string();
    let output = deployment.run(&["import-config", &syntax]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("not JSON"), "{}", text(&output.stderr));

    assert_eq!(snapshot(&configurations).await, before, "nothing was written");
}

/// What the import could have changed.
async fn snapshot(configurations: &Configurations<'_>) -> impl PartialEq + std::fmt::Debug {
    (
        configurations.configuration(GroupPk(100)).await.unwrap(),
        configurations.sftp_accounts(GroupPk(100)).await.unwrap(),
        configurations.applications(GroupPk(100)).await.unwrap(),
        configurations.configuration(GroupPk(102)).await.unwrap(),
    )
}
