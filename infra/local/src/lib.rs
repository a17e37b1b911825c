//! The local stand-in: every function's routes in one axum server, on the embedded
//! adapters (files under a data directory) or on AWS emulation, with the demo tenant
//! and a development token issuer.

mod demo_configuration;
mod demo_keys;
mod demo_news;
pub mod seed;
pub mod template;

use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use shared::adapters::aws::dynamodb::DynamoStore;
use shared::adapters::aws::key_vault::KmsKeyVault;
use shared::adapters::aws::sqs::SqsQueue;
use shared::adapters::embedded::secret_file::read_or_create;
use shared::app::{AppState, AwsResources, QueueUrls, Queues, StartupError, news_feeds_from_env};
use shared::auth::tokens::{self, DevTokenIssuer, TokenError};
use shared::consumer::{Consumer, spawn_draining};
use shared::domain::catalogue::Stage;
use shared::error::AppError;
use shared::http::service::{JSON, producing, serve};
use shared::http::sse::EVENT_STREAM;
use shared::ports::clock::SystemClock;
use shared::repositories::accounts::Accounts;

/// The issuer and audience of development tokens.
pub const ISSUER: &str = "accountcentral-local";
pub const AUDIENCE: &str = "accountcentral";
const TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);
const SIGNING_KEY_FILE: &str = "dev-signing-key";
/// Where the stand-in publishes its development JWKS.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
const LOCAL_TABLE: &str = "accountcentral-local";
const LOCAL_QUEUES: &str = "accountcentral-local";
/// As the template's queues: a minute to consume a message, dead-lettered after five receives.
const QUEUE_VISIBILITY: Duration = Duration::from_secs(60);
const QUEUE_MAX_RECEIVES: u32 = 5;
const LOCAL_KEY_ALIAS: &str = "alias/accountcentral-local";

/// Where the stand-in keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// Files under the data directory.
    Embedded,
    /// DynamoDB, SQS and KMS at `AWS_ENDPOINT_URL` (an emulator such as moto) or in AWS.
    Aws(AwsNames),
}

/// Names of the AWS resources the stand-in creates or finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsNames {
    pub table: String,
    /// Queue URLs to use as they are; else queues named `<queue_prefix>-<kind>` are created.
    pub queue_urls: Option<QueueUrls>,
    pub queue_prefix: String,
    /// A key to use as is; else the alias `key_alias` is found or created.
    pub kms_key_id: Option<String>,
    pub key_alias: String,
}

impl AwsNames {
    /// `TABLE_NAME`, the three `*_QUEUE_URL`s and `KMS_KEY_ID` where set, else the
    /// stand-in's own names.
    pub fn from_env() -> Self {
        let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            table: set("TABLE_NAME").unwrap_or_else(|| LOCAL_TABLE.into()),
            queue_urls: QueueUrls::from_variables(set),
            queue_prefix: LOCAL_QUEUES.into(),
            kms_key_id: set("KMS_KEY_ID"),
            key_alias: LOCAL_KEY_ALIAS.into(),
        }
    }

    /// Fresh names with a common prefix, for an isolated run (tests).
    pub fn isolated(prefix: &str) -> Self {
        Self {
            table: format!("{prefix}-table"),
            queue_urls: None,
            queue_prefix: prefix.into(),
            kms_key_id: None,
            key_alias: format!("alias/{prefix}"),
        }
    }
}

/// What can stop the stand-in.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("development key: {0}")]
    Key(#[from] TokenError),
    #[error("{0}")]
    App(#[from] AppError),
    #[error("unknown user {0}")]
    UnknownUser(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("AWS emulation: {0}")]
    Aws(String),
    #[error(
        "table {0} is not a demo deployment (it has no demo seed marker): development tokens are for demo tables only (seed one with `serve --backend aws --seed-demo`)"
    )]
    NotDemo(String),
}

/// An HTTP function: its binary's name (as template.yaml names it), the ports it wires
/// (`shared::app::wiring`), its routes and whether they are Server-Sent-Events streams
/// (on AWS, behind Function URLs) rather than JSON operations.
pub struct Function {
    pub binary: &'static str,
    pub wiring: u8,
    pub routes: fn() -> Router<AppState>,
    pub streams: bool,
}

/// A queue consumer's function: its binary's name, the ports it wires, and its consumer.
pub struct ConsumerFunction {
    pub binary: &'static str,
    pub wiring: u8,
    pub consumer: fn() -> Arc<dyn Consumer>,
}

const fn api(binary: &'static str, wiring: u8, routes: fn() -> Router<AppState>) -> Function {
    Function {
        binary,
        wiring,
        routes,
        streams: false,
    }
}

/// Every HTTP function of template.yaml.
pub const FUNCTIONS: [Function; 15] = [
    api(
        "accountcentral-options",
        accountcentral_options::WIRING,
        accountcentral_options::routes,
    ),
    api(
        "accountcentral-service",
        accountcentral_service::WIRING,
        accountcentral_service::routes,
    ),
    api("accountcentral-user", accountcentral_user::WIRING, accountcentral_user::routes),
    api("accountcentral-users", accountcentral_users::WIRING, accountcentral_users::routes),
    api(
        "accountcentral-security",
        accountcentral_security::WIRING,
        accountcentral_security::routes,
    ),
    api(
        "accountcentral-customers",
        accountcentral_customers::WIRING,
        accountcentral_customers::routes,
    ),
    api(
        "accountcentral-capabilities",
        accountcentral_capabilities::WIRING,
        accountcentral_capabilities::routes,
    ),
    api("accountcentral-dkim", accountcentral_dkim::WIRING, accountcentral_dkim::routes),
    api(
        "accountcentral-signing",
        accountcentral_signing::WIRING,
        accountcentral_signing::routes,
    ),
    api(
        "accountcentral-provisioning",
        accountcentral_provisioning::WIRING,
        accountcentral_provisioning::routes,
    ),
    api(
        "accountcentral-notifications",
        accountcentral_notifications::WIRING,
        accountcentral_notifications::routes,
    ),
    api("accountcentral-news", accountcentral_news::WIRING, accountcentral_news::routes),
    api(
        "accountcentral-status",
        accountcentral_status::WIRING,
        accountcentral_status::routes,
    ),
    Function {
        binary: "accountcentral-notifications-stream",
        wiring: accountcentral_notifications_stream::WIRING,
        routes: accountcentral_notifications_stream::routes,
        streams: true,
    },
    Function {
        binary: "accountcentral-status-stream",
        wiring: accountcentral_status_stream::WIRING,
        routes: accountcentral_status_stream::routes,
        streams: true,
    },
];

/// Every queue consumer of template.yaml, run in-process on its queue while the stand-in
/// serves, as the SQS event sources run them on AWS.
pub const CONSUMERS: [ConsumerFunction; 3] = [
    ConsumerFunction {
        binary: "accountcentral-notifications-delivery",
        wiring: accountcentral_notifications_delivery::WIRING,
        consumer: || Arc::new(accountcentral_notifications_delivery::Delivery),
    },
    ConsumerFunction {
        binary: "accountcentral-news-import",
        wiring: accountcentral_news_import::WIRING,
        consumer: || Arc::new(accountcentral_news_import::NewsImport),
    },
    ConsumerFunction {
        binary: "accountcentral-provisioning-worker",
        wiring: accountcentral_provisioning_worker::WIRING,
        consumer: || Arc::new(accountcentral_provisioning_worker::ProvisioningWorker),
    },
];

/// Each function's routes on the state `state_of` gives it (by binary name and wiring).
pub fn served(state_of: &impl Fn(&'static str, u8) -> AppState) -> Router {
    FUNCTIONS.iter().fold(Router::new(), |app, function| {
        let produces = if function.streams { EVENT_STREAM } else { JSON };
        app.merge(producing((function.routes)(), produces).with_state(state_of(function.binary, function.wiring)))
    })
}

/// A bound server, to be awaited.
pub type Server = std::pin::Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

/// An opened data directory: the state and the token issuer.
pub struct Environment {
    pub state: AppState,
    pub issuer: DevTokenIssuer,
    pub data_dir: PathBuf,
    pub backend: Backend,
    /// The AWS resources in use, on the AWS backend.
    pub aws_resources: Option<AwsResources>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LocalError + '_ {
    move |source| LocalError::DataDir {
        path: path.to_owned(),
        source,
    }
}

/// Loads the development signing key, creating it (mode 0600) on first start.
fn signing_key(data_dir: &Path) -> Result<DevTokenIssuer, LocalError> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    let text = read_or_create(&path, || Ok(tokens::encode_key(&DevTokenIssuer::generate_key()))).map_err(io(&path))?;
    let key = tokens::decode_key(&text).ok_or_else(|| TokenError::KeysUnavailable(format!("{} is not a key", path.display())))?;
    Ok(DevTokenIssuer::new(ISSUER, AUDIENCE, &key)?)
}

impl Environment {
    /// Opens (creating if needed) the data directory and the state on `backend`.
    pub async fn open(data_dir: &Path, backend: Backend, stage: Stage) -> Result<Self, LocalError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(io(data_dir))?;
        let issuer = signing_key(data_dir)?;
        let (mut state, aws_resources) = match backend.clone() {
            Backend::Embedded => (AppState::embedded(data_dir, stage, issuer.verifier())?, None),
            Backend::Aws(names) => {
                let config = shared::adapters::aws::load_config().await;
                let resources = provision(&config, &names).await?;
                (AppState::aws(&config, &resources, stage, issuer.verifier())?, Some(resources))
            }
        };
        state.news_feeds = demo_news::local_feeds(data_dir, news_feeds_from_env()?).map_err(io(data_dir))?;
        Ok(Self {
            state,
            issuer,
            data_dir: data_dir.to_owned(),
            backend,
            aws_resources,
        })
    }

    /// A bearer token for `username`.
    pub async fn token(&self, username: &str) -> Result<String, LocalError> {
        let accounts = Accounts::new(self.state.store.as_ref());
        let user = accounts
            .find_by_username(username)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| LocalError::UnknownUser(username.into()))?;
        Ok(self.issuer.issue(user, username, self.state.clock.now().as_second(), TOKEN_TTL)?)
    }

    /// Whether the store holds the demo tenant.
    pub async fn is_demo(&self) -> Result<bool, LocalError> {
        Ok(seed::is_seeded(self.state.store.as_ref()).await.map_err(AppError::from)?)
    }

    /// Seeds the demo tenant on an empty store.
    pub async fn seed(&self) -> Result<Option<seed::Seeded>, LocalError> {
        self.seed_with(seed::DemoSecrets::generate).await
    }

    /// [`Environment::seed`] with the secrets `secrets` makes, when it seeds.
    pub async fn seed_with(
        &self,
        secrets: impl FnOnce() -> Result<seed::DemoSecrets, AppError>,
    ) -> Result<Option<seed::Seeded>, LocalError> {
        let state = &self.state;
        Ok(seed::seed_if_empty(state.store.as_ref(), state.key_vault.as_ref(), state.clock.now(), secrets).await?)
    }

    /// Binds `addr` and returns the bound address and the server, to be awaited.
    pub async fn bind(&self, addr: SocketAddr) -> Result<(SocketAddr, Server), LocalError> {
        let state = self.state.clone();
        self.bind_functions(addr, move |_, _| state.clone(), |_, queues| queues.clone())
            .await
    }

    /// [`Environment::bind`], each function on the state `state_of` gives it (by its binary's
    /// name and wiring) and each
    /// consumer draining its queue among those `event_source` makes of the queues (the stand-in: the one
    /// state, the queues themselves; the IAM test: a state per function that records what it does).
    pub async fn bind_functions(
        &self,
        addr: SocketAddr,
        state_of: impl Fn(&'static str, u8) -> AppState,
        event_source: impl Fn(&ConsumerFunction, &Queues) -> Queues,
    ) -> Result<(SocketAddr, Server), LocalError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| LocalError::Listen { addr, source })?;
        let bound = listener.local_addr().map_err(|source| LocalError::Listen { addr, source })?;
        // The development issuer's public keys, so that Lambda functions run locally can verify its tokens.
        let jwks = axum::Json(self.issuer.jwks().clone());
        let workers: Vec<_> = CONSUMERS
            .iter()
            .map(|function| {
                let consumer = (function.consumer)();
                let queue = consumer.queue(&event_source(function, &self.state.queues));
                spawn_draining(queue, state_of(function.binary, function.wiring), consumer)
            })
            .collect();
        let app = Router::new()
            .route(JWKS_PATH, get(move || async move { jwks }))
            .merge(serve(served(&state_of)));
        Ok((
            bound,
            Box::pin(async move {
                let served = axum::serve(listener, app).with_graceful_shutdown(shutdown()).await;
                // A message being consumed is left on the queue and consumed again later.
                workers.iter().for_each(|worker| worker.abort());
                served
            }),
        ))
    }
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Creates (or finds) the table, queue and key the AWS backend uses.
/// Refuses a table that is not a demo deployment's (no seed marker), before anything is
/// created: a development token on a real deployment's table would let its holder act as
/// any user, and opening the environment would create a missing table, queues and key.
pub async fn require_demo_table(names: &AwsNames) -> Result<(), LocalError> {
    let config = shared::adapters::aws::load_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), &names.table, Arc::new(SystemClock));
    match seed::is_seeded(&store).await.map_err(AppError::from)? {
        true => Ok(()),
        false => Err(LocalError::NotDemo(names.table.clone())),
    }
}

async fn provision(config: &aws_config::SdkConfig, names: &AwsNames) -> Result<AwsResources, LocalError> {
    let aws = |e: &dyn std::fmt::Display| LocalError::Aws(e.to_string());
    DynamoStore::new(
        aws_sdk_dynamodb::Client::new(config),
        &names.table,
        std::sync::Arc::new(SystemClock),
    )
    .ensure_table()
    .await
    .map_err(|e| aws(&e))?;
    let queue_urls = match &names.queue_urls {
        Some(urls) => urls.clone(),
        None => {
            let sqs = aws_sdk_sqs::Client::new(config);
            let ensure = async |kind: &str| {
                SqsQueue::ensure(
                    &sqs,
                    &format!("{}-{kind}", names.queue_prefix),
                    QUEUE_VISIBILITY,
                    QUEUE_MAX_RECEIVES,
                )
                .await
                .map_err(|e| aws(&e))
            };
            QueueUrls {
                notifications: ensure("notifications").await?,
                news: ensure("news").await?,
                provisioning: ensure("provisioning").await?,
            }
        }
    };
    let kms_key_id = match &names.kms_key_id {
        Some(id) => id.clone(),
        None => {
            let kms = aws_sdk_kms::Client::new(config);
            if kms.describe_key().key_id(&names.key_alias).send().await.is_err() {
                let id = KmsKeyVault::create_key(&kms, "AccountCentral local stand-in")
                    .await
                    .map_err(|e| aws(&e))?;
                kms.create_alias()
                    .alias_name(&names.key_alias)
                    .target_key_id(&id)
                    .send()
                    .await
                    .map_err(|e| aws(&e))?;
            }
            names.key_alias.clone()
        }
    };
    Ok(AwsResources {
        table: names.table.clone(),
        queue_urls,
        kms_key_id,
    })
}
