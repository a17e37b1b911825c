//! Shared by the conformance suites: how to build each adapter of each port, and
//! the macro that instantiates a suite for both of them.
//!
//! The embedded adapters live in a fresh temporary directory per test; the AWS ones
//! talk to the emulator at `AWS_ENDPOINT_URL` (moto's server, started by
//! `scripts/test`), each test on its own freshly created table, queue or key.

// Each test crate uses only the part of this module that concerns its port.
#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use shared::adapters::aws::dynamodb::DynamoStore;
use shared::adapters::aws::key_vault::KmsKeyVault;
use shared::adapters::aws::sqs::SqsQueue;
use shared::adapters::embedded::key_vault::LocalKeyVault;
use shared::adapters::embedded::queue::{LocalQueue, QueueSettings};
use shared::adapters::embedded::store::EmbeddedStore;
use shared::ports::clock::SystemClock;
use shared::ports::key_vault::KeyVault;
use shared::ports::queue::MessageQueue;
use shared::ports::store::ItemStore;
use tempfile::TempDir;

/// Visibility timeout of every queue under test: short, so that redelivery is quick to observe.
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(1);

/// Receives after which a queue under test dead-letters a message.
pub const MAX_RECEIVES: u32 = 2;

const REGION: &str = "eu-west-1";

/// Which adapter a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Aws,
}

/// Instantiates a conformance suite for both adapters: for each case, a test
/// `embedded::<case>` and a test `aws::<case>`, each on a fresh fixture built by the
/// function of this module named before `=>` (`store`, `queue` or `key_vault`). A case is
/// an async function taking a reference to the port (`&dyn ItemStore`…) or, when it
/// needs more, to the fixture.
#[macro_export]
macro_rules! conformance {
    ($fixture:ident => $($case:ident),+ $(,)?) => {
        $crate::conformance!(@backend embedded, Embedded, $fixture => $($case),+);
        $crate::conformance!(@backend aws, Aws, $fixture => $($case),+);
    };
    (@backend $module:ident, $backend:ident, $fixture:ident => $($case:ident),+) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let fixture = $crate::support::$fixture($crate::support::Backend::$backend).await;
                    super::$case((&fixture).into()).await;
                }
            )+
        }
    };
}

/// A name no other test uses, for tables, queues and keys.
pub fn unique_name(kind: &str) -> String {
    format!("conformance-{kind}-{}", uuid::Uuid::new_v4().simple())
}

/// The emulator's endpoint; the AWS tests cannot run without it, and must not pass silently.
fn endpoint() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!("AWS_ENDPOINT_URL is not set: set AWS_ENDPOINT_URL to a running moto server; scripts/test does this"),
    }
}

/// SDK configuration for the emulator: fixed region and static test credentials.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint())
        .load()
        .await
}

fn temp_dir() -> TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

/// An item store under test, with whatever keeps it alive.
pub struct StoreFixture {
    store: Box<dyn ItemStore>,
    _dir: Option<TempDir>,
}

impl<'a> From<&'a StoreFixture> for &'a dyn ItemStore {
    fn from(fixture: &'a StoreFixture) -> Self {
        &*fixture.store
    }
}

/// An empty store: a fresh SQLite file, or a fresh DynamoDB table with its indexes.
pub async fn store(backend: Backend) -> StoreFixture {
    let clock = Arc::new(SystemClock);
    match backend {
        Backend::Embedded => {
            let dir = temp_dir();
            let store = EmbeddedStore::open(&dir.path().join("store.db"), clock).expect("open the embedded store");
            StoreFixture {
                store: Box::new(store),
                _dir: Some(dir),
            }
        }
        Backend::Aws => {
            let client = aws_sdk_dynamodb::Client::new(&aws_config().await);
            let store = DynamoStore::new(client, unique_name("table"), clock);
            store.ensure_table().await.expect("create the DynamoDB table");
            StoreFixture {
                store: Box::new(store),
                _dir: None,
            }
        }
    }
}

/// A queue under test, with access to its dead letters.
pub struct QueueFixture {
    /// The adapter it runs on, for a case that needs a queue of other settings.
    pub backend: Backend,
    queue: Arc<dyn MessageQueue>,
    dead_letters: DeadLetters,
    _dir: Option<TempDir>,
}

enum DeadLetters {
    Local(Arc<LocalQueue>),
    /// The SQS dead-letter queue is a queue like any other.
    Sqs(SqsQueue),
}

impl<'a> From<&'a QueueFixture> for &'a dyn MessageQueue {
    fn from(fixture: &'a QueueFixture) -> Self {
        &*fixture.queue
    }
}

impl QueueFixture {
    /// The queue, to share.
    pub fn queue(&self) -> Arc<dyn MessageQueue> {
        self.queue.clone()
    }

    /// Bodies of the messages dead-lettered so far.
    pub async fn dead_letter_bodies(&self) -> Vec<String> {
        match &self.dead_letters {
            DeadLetters::Local(queue) => queue
                .dead_letters()
                .await
                .expect("read the dead letters")
                .into_iter()
                .map(|(_, body)| body)
                .collect(),
            DeadLetters::Sqs(queue) => {
                let messages = queue
                    .receive(10, Duration::from_secs(1))
                    .await
                    .expect("receive from the dead-letter queue");
                messages.into_iter().map(|message| message.body).collect()
            }
        }
    }
}

/// An empty queue with [`VISIBILITY_TIMEOUT`] and [`MAX_RECEIVES`]: a fresh SQLite file,
/// or a fresh SQS queue with its dead-letter queue.
pub async fn queue(backend: Backend) -> QueueFixture {
    queue_dead_lettering_after(backend, MAX_RECEIVES).await
}

/// An empty queue with [`VISIBILITY_TIMEOUT`] that dead-letters after `max_receives`.
pub async fn queue_dead_lettering_after(backend: Backend, max_receives: u32) -> QueueFixture {
    queue_with(backend, VISIBILITY_TIMEOUT, max_receives).await
}

/// An empty queue with `visibility_timeout` that dead-letters after `max_receives`.
pub async fn queue_with(backend: Backend, visibility_timeout: Duration, max_receives: u32) -> QueueFixture {
    match backend {
        Backend::Embedded => {
            let dir = temp_dir();
            let settings = QueueSettings {
                visibility_timeout,
                max_receives,
            };
            let queue = Arc::new(LocalQueue::open(&dir.path().join("queue.db"), settings).expect("open the local queue"));
            QueueFixture {
                backend,
                queue: queue.clone(),
                dead_letters: DeadLetters::Local(queue),
                _dir: Some(dir),
            }
        }
        Backend::Aws => {
            let client = aws_sdk_sqs::Client::new(&aws_config().await);
            let name = unique_name("queue");
            let url = SqsQueue::ensure(&client, &name, visibility_timeout, max_receives)
                .await
                .expect("create the SQS queue");
            let dead_url = client
                .get_queue_url()
                .queue_name(format!("{name}-dlq"))
                .send()
                .await
                .expect("find the dead-letter queue")
                .queue_url
                .expect("dead-letter queue URL");
            QueueFixture {
                backend,
                queue: Arc::new(SqsQueue::new(client.clone(), url)),
                dead_letters: DeadLetters::Sqs(SqsQueue::new(client, dead_url)),
                _dir: None,
            }
        }
    }
}

/// A key vault under test, and the means to open it again on the same master key.
pub struct KeyVaultFixture {
    vault: Box<dyn KeyVault>,
    master: Master,
}

enum Master {
    /// The key file, and the directory that holds it (removed on drop).
    Local {
        path: PathBuf,
        _dir: TempDir,
    },
    Kms {
        key_id: String,
    },
}

impl<'a> From<&'a KeyVaultFixture> for &'a dyn KeyVault {
    fn from(fixture: &'a KeyVaultFixture) -> Self {
        &*fixture.vault
    }
}

impl KeyVaultFixture {
    /// A second vault on the same master key, as after a restart: the key file read
    /// again, or a new KMS client on the same key.
    pub async fn restart(&self) -> Box<dyn KeyVault> {
        match &self.master {
            Master::Local { path, .. } => Box::new(LocalKeyVault::from_key_file(path).expect("read the local key vault again")),
            Master::Kms { key_id } => Box::new(KmsKeyVault::new(aws_sdk_kms::Client::new(&aws_config().await), key_id)),
        }
    }

    /// The embedded vault's key file (`None` for KMS).
    pub fn key_file(&self) -> Option<&Path> {
        match &self.master {
            Master::Local { path, .. } => Some(path),
            Master::Kms { .. } => None,
        }
    }
}

/// A key vault on a new master key: a key file created in a fresh directory, or a new KMS key.
pub async fn key_vault(backend: Backend) -> KeyVaultFixture {
    match backend {
        Backend::Embedded => {
            let dir = temp_dir();
            let path = dir.path().join("master.key");
            let vault = LocalKeyVault::from_key_file(&path).expect("create the local key vault");
            KeyVaultFixture {
                vault: Box::new(vault),
                master: Master::Local { path, _dir: dir },
            }
        }
        Backend::Aws => {
            let client = aws_sdk_kms::Client::new(&aws_config().await);
            let key_id = KmsKeyVault::create_key(&client, &unique_name("key"))
                .await
                .expect("create the KMS key");
            KeyVaultFixture {
                vault: Box::new(KmsKeyVault::new(client, key_id.clone())),
                master: Master::Kms { key_id },
            }
        }
    }
}

/// Runs futures concurrently on the current task and returns their outputs in order
/// (the futures borrow the port, so they cannot be spawned).
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Option<Pin<Box<F>>>> = futures.into_iter().map(|future| Some(Box::pin(future))).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut done = true;
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(context) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs.into_iter().map(|output| output.expect("every future completed")).collect()
}
