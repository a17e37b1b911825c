//! Which writes a request made: decorators over the store, the queues and the SMS sender
//! that log each write made while the stand-in serves a request marked with
//! [`WATCH_HEADER`], so that a test can tell that a refused call wrote nothing — not even
//! a write that leaves the data as it was, which no read-back could see.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use shared::app::AppState;
use shared::ports::queue::{MessageQueue, OutgoingMessage, QueueError, ReceivedMessage};
use shared::ports::sms::{SmsError, SmsSender};
use shared::ports::store::{Condition, Item, ItemStore, Key, Query, QueryPage, StoreError, WriteOp};

/// The request header that marks a request whose writes are logged.
pub const WATCH_HEADER: &str = "x-test-watch-writes";

tokio::task_local! {
    /// Set while a marked request is served.
    static WATCHED: ();
}

/// The writes made while serving marked requests, oldest first.
#[derive(Clone, Default)]
pub struct WriteLog(Arc<Mutex<Vec<String>>>);

impl WriteLog {
    /// Logs the write `what` describes, if a marked request is being served.
    fn record(&self, what: impl FnOnce() -> String) {
        if WATCHED.try_with(|_| ()).is_ok() {
            self.0.lock().unwrap().push(what());
        }
    }

    /// The writes logged since the last call, which empties the log.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }

    /// Puts the decorators around the state's store, queues and SMS sender.
    pub fn watch(&self, state: &mut AppState) {
        state.store = Arc::new(WatchedStore(state.store.clone(), self.clone()));
        let queues = &mut state.queues;
        for (name, queue) in [
            ("notifications", &mut queues.notifications),
            ("news", &mut queues.news),
            ("provisioning", &mut queues.provisioning),
        ] {
            *queue = Arc::new(WatchedQueue(queue.clone(), name, self.clone()));
        }
        state.sms = Arc::new(WatchedSms(state.sms.clone(), self.clone()));
    }

    /// Wraps `router` so that requests carrying [`WATCH_HEADER`] are watched.
    pub fn layer(router: Router) -> Router {
        router.layer(middleware::from_fn(watch_marked))
    }
}

async fn watch_marked(request: Request, next: Next) -> Response {
    if request.headers().contains_key(WATCH_HEADER) {
        WATCHED.scope((), next.run(request)).await
    } else {
        next.run(request).await
    }
}

struct WatchedStore(Arc<dyn ItemStore>, WriteLog);

#[async_trait]
impl ItemStore for WatchedStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.0.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.0.batch_get(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.1.record(|| format!("put {}/{}", item.key.pk, item.key.sk));
        self.0.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.1.record(|| format!("delete {}/{}", key.pk, key.sk));
        self.0.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<QueryPage, StoreError> {
        self.0.query(query).await
    }
    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        self.0.count(query).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.1.record(|| format!("transaction {ops:?}"));
        self.0.transact(ops).await
    }
    async fn increment(&self, key: &Key, by: u64) -> Result<u64, StoreError> {
        self.1.record(|| format!("increment {}/{} by {by}", key.pk, key.sk));
        self.0.increment(key, by).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.0.ping().await
    }
}

struct WatchedQueue(Arc<dyn MessageQueue>, &'static str, WriteLog);

#[async_trait]
impl MessageQueue for WatchedQueue {
    async fn send(&self, message: OutgoingMessage) -> Result<String, QueueError> {
        self.2.record(|| format!("message to the {} queue", self.1));
        self.0.send(message).await
    }
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.0.receive(max, wait).await
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.2.record(|| format!("delete from the {} queue", self.1));
        self.0.delete(receipt).await
    }
}

struct WatchedSms(Arc<dyn SmsSender>, WriteLog);

#[async_trait]
impl SmsSender for WatchedSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        self.1.record(|| format!("SMS to {to}"));
        self.0.send(to, text).await
    }
}
