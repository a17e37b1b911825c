//! The state every handler shares: the ports, the token verifier and the stage,
//! built once per process (a Lambda container, or the local stand-in).

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::adapters::aws::{self, dynamodb::DynamoStore, key_vault::KmsKeyVault, sns::SnsSms, sqs::SqsQueue};
use crate::adapters::embedded::{key_vault::LocalKeyVault, queue::LocalQueue, queue::QueueSettings, sms::SmsOutbox, store::EmbeddedStore};
use crate::adapters::feeds::FeedReader;
use crate::adapters::metered::MeteredStore;
use crate::adapters::unwired::Unwired;
use crate::auth::tokens::TokenVerifier;
use crate::changes::Changes;
use crate::domain::catalogue::Stage;
use crate::domain::news::NewsFeeds;
use crate::domain::security::SecurityPolicy;
use crate::domain::verification::CodeKey;
use crate::http::sse::StreamSettings;
use crate::ports::clock::{Clock, SystemClock};
use crate::ports::feeds::FeedSource;
use crate::ports::key_vault::KeyVault;
use crate::ports::queue::MessageQueue;
use crate::ports::sms::SmsSender;
use crate::ports::store::ItemStore;

/// Shared handler state: one pointer to [`StateFields`], cloned for every request
/// (axum clones the state into each route's handler), so a clone is one reference count.
/// Its fields read through it; setting one (tests, start-up) changes this state's copy only.
#[derive(Clone)]
pub struct AppState(Arc<StateFields>);

impl From<StateFields> for AppState {
    fn from(fields: StateFields) -> Self {
        Self(Arc::new(fields))
    }
}

impl Deref for AppState {
    type Target = StateFields;

    fn deref(&self) -> &StateFields {
        &self.0
    }
}

impl DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut StateFields {
        Arc::make_mut(&mut self.0)
    }
}

/// What the handlers share: the ports, the token verifier, the stage and the settings.
#[derive(Clone)]
pub struct StateFields {
    pub store: Arc<dyn ItemStore>,
    pub queues: Queues,
    pub key_vault: Arc<dyn KeyVault>,
    pub sms: Arc<dyn SmsSender>,
    pub feeds: Arc<dyn FeedSource>,
    /// The news feed of each language (`NEWS_FEED_URL_IT`, `NEWS_FEED_URL_EN`).
    pub news_feeds: NewsFeeds,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<TokenVerifier>,
    pub stage: Stage,
    pub security: SecurityPolicy,
    /// The key verification codes are hashed with, opened from the key vault on first use
    /// and kept for the life of the process (one KMS call per warm function).
    pub code_key: Arc<OnceCell<CodeKey>>,
    /// Wakes this process's event streams when what they follow changes.
    pub changes: Changes,
    /// How Server-Sent-Events streams pace themselves.
    pub streams: StreamSettings,
}

/// The queues, one per kind of work, so that each consumer drains only its own and
/// has only its own permissions.
#[derive(Clone)]
pub struct Queues {
    pub notifications: Arc<dyn MessageQueue>,
    pub news: Arc<dyn MessageQueue>,
    pub provisioning: Arc<dyn MessageQueue>,
}

/// The queue URLs, one per kind of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    pub notifications: String,
    pub news: String,
    pub provisioning: String,
}

impl QueueUrls {
    /// The environment variables that name the queues.
    pub const VARIABLES: [&str; 3] = ["NOTIFICATION_QUEUE_URL", "NEWS_QUEUE_URL", "PROVISIONING_QUEUE_URL"];

    /// The URLs as given by [`Self::VARIABLES`] (`lookup` reads one), if all are set.
    pub fn from_variables(lookup: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let [notifications, news, provisioning] = Self::VARIABLES.map(lookup);
        Some(Self {
            notifications: notifications?,
            news: news?,
            provisioning: provisioning?,
        })
    }

    /// Each variable with its URL, to hand to a process.
    pub fn variables(&self) -> [(&'static str, &str); 3] {
        let [notifications, news, provisioning] = Self::VARIABLES;
        [
            (notifications, &self.notifications),
            (news, &self.news),
            (provisioning, &self.provisioning),
        ]
    }
}

/// A missing or bad setting at start-up.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("cannot open {what}: {reason}")]
    Open { what: &'static str, reason: String },
}

/// The AWS resources the functions use, as named in the SAM template.
#[derive(Debug, Clone)]
pub struct AwsResources {
    pub table: String,
    pub queue_urls: QueueUrls,
    pub kms_key_id: String,
}

fn env(name: &'static str) -> Result<String, StartupError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(StartupError::Missing(name))
}

/// The security policy: the defaults, with the settings the environment gives
/// (`LOCKOUT_THRESHOLD`, `LOCKOUT_MINUTES`, `PASSWORD_LIFETIME_DAYS`).
pub fn security_from_env() -> Result<SecurityPolicy, StartupError> {
    SecurityPolicy::configured(|name| std::env::var(name).ok().filter(|v| !v.is_empty())).map_err(|e| StartupError::Invalid {
        name: e.name,
        reason: e.to_string(),
    })
}

/// The news feeds the environment names (`NEWS_FEED_URL_IT`, `NEWS_FEED_URL_EN`).
pub fn news_feeds_from_env() -> Result<NewsFeeds, StartupError> {
    NewsFeeds::configured(|name| std::env::var(name).ok().filter(|v| !v.is_empty())).map_err(|e| StartupError::Invalid {
        name: e.name,
        reason: e.to_string(),
    })
}

/// How streams pace themselves: the defaults, with `STREAM_POLL_MILLIS` and
/// `STREAM_LIFETIME_SECONDS` from the environment.
pub fn streams_from_env() -> Result<StreamSettings, StartupError> {
    StreamSettings::configured(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// The stage named by `STAGE` (default `dev`).
pub fn stage_from_env() -> Result<Stage, StartupError> {
    let name = std::env::var("STAGE").unwrap_or_else(|_| "dev".into());
    Stage::parse(&name).ok_or(StartupError::Invalid {
        name: "STAGE",
        reason: format!("{name} is not dev, test or prod"),
    })
}

/// The ports beyond the store that a function's routes use, as the bits of the
/// `WIRING` const generic of [`AppState::from_env`]. A function builds only the AWS
/// clients it names, so its binary links only those (and its IAM policy grants only their
/// actions); the other ports are [`Unwired`].
pub mod wiring {
    /// The queues (SQS): sending notifications, news imports and provisioning jobs.
    pub const QUEUES: u8 = 1;
    /// The key vault (KMS): sealing and opening DKIM keys and the verification-code key.
    pub const KEY_VAULT: u8 = 1 << 1;
    /// The SMS gateway (SNS).
    pub const SMS: u8 = 1 << 2;
    /// The news feeds' web servers.
    pub const FEEDS: u8 = 1 << 3;
    /// The store alone.
    pub const STORE_ONLY: u8 = 0;
}

impl AppState {
    /// The production state of a function that uses the ports `WIRING` names: AWS
    /// adapters and JWKS verification, all from the environment the SAM template sets.
    pub async fn from_env<const WIRING: u8>() -> Result<Self, StartupError> {
        let config = aws::environment_config().map_err(|reason| StartupError::Invalid {
            name: "AWS_REGION",
            reason,
        })?;
        let tokens = TokenVerifier::with_jwks_url(env("JWT_ISSUER")?, env("JWT_AUDIENCE")?, env("JWKS_URL")?, Arc::new(SystemClock));
        let mut state = on_dynamodb(&config, &env("TABLE_NAME")?, stage_from_env()?, tokens)?;
        if WIRING & wiring::QUEUES != 0 {
            let urls = QueueUrls::from_variables(|name| std::env::var(name).ok().filter(|v| !v.is_empty())).ok_or(
                StartupError::Missing("NOTIFICATION_QUEUE_URL, NEWS_QUEUE_URL or PROVISIONING_QUEUE_URL"),
            )?;
            state.queues = sqs_queues(&config, &urls);
        }
        if WIRING & wiring::KEY_VAULT != 0 {
            state.key_vault = kms_key_vault(&config, &env("KMS_KEY_ID")?);
        }
        if WIRING & wiring::SMS != 0 {
            state.sms = sns_sms(&config);
        }
        if WIRING & wiring::FEEDS != 0 {
            state.feeds = Arc::new(FeedReader::default());
        }
        Ok(state.into())
    }

    /// State on every AWS adapter, with the settings the environment gives (security
    /// policy, news feeds, streams): the local stand-in's AWS backend.
    pub fn aws(
        config: &aws_config::SdkConfig,
        resources: &AwsResources,
        stage: Stage,
        tokens: TokenVerifier,
    ) -> Result<Self, StartupError> {
        let fields = StateFields {
            queues: sqs_queues(config, &resources.queue_urls),
            key_vault: kms_key_vault(config, &resources.kms_key_id),
            sms: sns_sms(config),
            feeds: Arc::new(FeedReader::default()),
            ..on_dynamodb(config, &resources.table, stage, tokens)?
        };
        Ok(fields.into())
    }

    /// State on the embedded adapters, all files under `dir`.
    pub fn embedded(dir: &Path, stage: Stage, tokens: TokenVerifier) -> Result<Self, StartupError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = EmbeddedStore::open(&dir.join("store.sqlite"), clock.clone()).map_err(|e| StartupError::Open {
            what: "the store",
            reason: e.to_string(),
        })?;
        let queue = |name: &str| -> Result<Arc<dyn MessageQueue>, StartupError> {
            let queue =
                LocalQueue::open(&dir.join(format!("{name}.queue.sqlite")), QueueSettings::default()).map_err(|e| StartupError::Open {
                    what: "a queue",
                    reason: format!("{name}: {e}"),
                })?;
            Ok(Arc::new(queue))
        };
        let key_vault = LocalKeyVault::from_key_file(&dir.join("master.key")).map_err(|e| StartupError::Open {
            what: "the key vault",
            reason: e.to_string(),
        })?;
        let fields = StateFields {
            queues: Queues {
                notifications: queue("notifications")?,
                news: queue("news")?,
                provisioning: queue("provisioning")?,
            },
            key_vault: Arc::new(key_vault),
            sms: Arc::new(SmsOutbox::new(dir.join("sms-outbox.jsonl"), clock.clone())),
            feeds: Arc::new(FeedReader::default()),
            ..on_store(Arc::new(store), clock, stage, tokens)?
        };
        Ok(fields.into())
    }
}

/// State on the DynamoDB `table`, its other ports unwired.
fn on_dynamodb(config: &aws_config::SdkConfig, table: &str, stage: Stage, tokens: TokenVerifier) -> Result<StateFields, StartupError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(config), table, clock.clone());
    Ok(StateFields {
        streams: streams_from_env()?,
        ..on_store(Arc::new(store), clock, stage, tokens)?
    })
}

/// State on `store`, with the settings the environment gives and every other port
/// unwired.
fn on_store(store: Arc<dyn ItemStore>, clock: Arc<dyn Clock>, stage: Stage, tokens: TokenVerifier) -> Result<StateFields, StartupError> {
    let unwired = |port: &'static str| Arc::new(Unwired(port));
    Ok(StateFields {
        store: Arc::new(MeteredStore::new(store)),
        queues: Queues {
            notifications: unwired("the notification queue"),
            news: unwired("the news queue"),
            provisioning: unwired("the provisioning queue"),
        },
        key_vault: unwired("the key vault"),
        sms: unwired("the SMS gateway"),
        feeds: unwired("the news feeds"),
        news_feeds: news_feeds_from_env()?,
        clock,
        tokens: Arc::new(tokens),
        stage,
        security: security_from_env()?,
        code_key: Arc::default(),
        changes: Changes::default(),
        streams: StreamSettings::default(),
    })
}

fn sqs_queues(config: &aws_config::SdkConfig, urls: &QueueUrls) -> Queues {
    let sqs = aws_sdk_sqs::Client::new(config);
    let queue = |url: &str| -> Arc<dyn MessageQueue> { Arc::new(SqsQueue::new(sqs.clone(), url)) };
    Queues {
        notifications: queue(&urls.notifications),
        news: queue(&urls.news),
        provisioning: queue(&urls.provisioning),
    }
}

fn kms_key_vault(config: &aws_config::SdkConfig, key_id: &str) -> Arc<dyn KeyVault> {
    Arc::new(KmsKeyVault::new(aws_sdk_kms::Client::new(config), key_id))
}

fn sns_sms(config: &aws_config::SdkConfig) -> Arc<dyn SmsSender> {
    Arc::new(SnsSms::new(aws_sdk_sns::Client::new(config)))
}
