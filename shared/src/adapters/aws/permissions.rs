//! What each port call costs in IAM permissions on AWS: a decorator over the store, queue,
//! key-vault and SMS ports that records, for every call, the IAM action(s) the AWS adapter
//! of this directory performs for it and the resource it acts on. Tests drive a function's
//! routes through it and compare what it recorded with the function's policy in
//! template.yaml (docs/iam.md). Each mapping below mirrors the SDK calls of its adapter;
//! change them together.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::secret::SecretBytes;
use crate::ports::key_vault::{EncryptionContext, Envelope, KeyVault, KeyVaultError};
use crate::ports::queue::{MessageQueue, OutgoingMessage, QueueError, ReceivedMessage};
use crate::ports::sms::{SmsError, SmsSender};
use crate::ports::store::{Condition, Item, ItemStore, Key, MAX_TRANSACTION_OPS, Query, QueryPage, StoreError, WriteOp};

/// One permission a call needs: the IAM action, the resource (named as template.yaml
/// names it: `Table`, `Table/index/GSI1`, `NotificationQueue`, `DkimKey`, `phone-number`)
/// and, for KMS, the encryption context (which the policies' conditions test).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub action: &'static str,
    pub resource: String,
    pub context: EncryptionContext,
}

/// The resource an SMS is published to: a phone number, which has no ARN.
pub const PHONE_NUMBER: &str = "phone-number";

/// The permissions recorded so far; cheap to clone, each clone records into the same set.
#[derive(Debug, Clone, Default)]
pub struct PermissionLog(Arc<Mutex<BTreeSet<Permission>>>);

impl PermissionLog {
    fn record(&self, action: &'static str, resource: &str, context: &EncryptionContext) {
        let permission = Permission {
            action,
            resource: resource.to_owned(),
            context: context.clone(),
        };
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(permission);
    }

    /// Everything recorded so far.
    pub fn permissions(&self) -> BTreeSet<Permission> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

/// A port that records the permissions of each call into `log`, then makes the call:
/// `resource` names what the port reaches (the table, a queue, the key).
pub struct Recorded<P: ?Sized> {
    inner: Arc<P>,
    resource: String,
    log: PermissionLog,
}

impl<P: ?Sized> Recorded<P> {
    /// Records the calls of `inner`, which reaches `resource`, into `log`.
    pub fn new(inner: Arc<P>, resource: impl Into<String>, log: PermissionLog) -> Self {
        Self {
            inner,
            resource: resource.into(),
            log,
        }
    }

    fn record(&self, action: &'static str) {
        self.log.record(action, &self.resource, &EncryptionContext::new());
    }
}

#[async_trait]
impl ItemStore for Recorded<dyn ItemStore> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.record("dynamodb:GetItem");
        self.inner.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        // No key, no request.
        if !keys.is_empty() {
            self.record("dynamodb:BatchGetItem");
        }
        self.inner.batch_get(keys).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.record("dynamodb:PutItem");
        self.inner.put(item, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.record("dynamodb:DeleteItem");
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: &Query) -> Result<QueryPage, StoreError> {
        self.record_query(query);
        self.inner.query(query).await
    }

    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        self.record_query(query);
        self.inner.count(query).await
    }

    /// TransactWriteItems is no IAM action of its own: IAM authorises each of its items by
    /// the action that item performs.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        // Nothing to write, or more than DynamoDB takes: the adapter sends no request.
        if ops.len() <= MAX_TRANSACTION_OPS {
            for op in &ops {
                self.record(match op {
                    WriteOp::Put { .. } => "dynamodb:PutItem",
                    WriteOp::Delete { .. } => "dynamodb:DeleteItem",
                    WriteOp::Check { .. } => "dynamodb:ConditionCheckItem",
                    WriteOp::Add { .. } => "dynamodb:UpdateItem",
                });
            }
        }
        self.inner.transact(ops).await
    }

    async fn increment(&self, key: &Key, by: u64) -> Result<u64, StoreError> {
        self.record("dynamodb:UpdateItem");
        self.inner.increment(key, by).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.record("dynamodb:GetItem");
        self.inner.ping().await
    }
}

impl Recorded<dyn ItemStore> {
    /// A query of an index is authorised on the index's ARN, the table's followed by `/index/<name>`.
    fn record_query(&self, query: &Query) {
        match query.index {
            Some(index) => self.log.record(
                "dynamodb:Query",
                &format!("{}/index/{}", self.resource, index.name()),
                &EncryptionContext::new(),
            ),
            None => self.record("dynamodb:Query"),
        }
    }
}

#[async_trait]
impl MessageQueue for Recorded<dyn MessageQueue> {
    async fn send(&self, message: OutgoingMessage) -> Result<String, QueueError> {
        self.record("sqs:SendMessage");
        self.inner.send(message).await
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.record("sqs:ReceiveMessage");
        self.inner.receive(max, wait).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.record("sqs:DeleteMessage");
        self.inner.delete(receipt).await
    }
}

#[async_trait]
impl KeyVault for Recorded<dyn KeyVault> {
    async fn seal(&self, plaintext: &SecretBytes, context: &EncryptionContext) -> Result<Envelope, KeyVaultError> {
        self.log.record("kms:GenerateDataKey", &self.resource, context);
        self.inner.seal(plaintext, context).await
    }

    async fn open(&self, envelope: &Envelope, context: &EncryptionContext) -> Result<SecretBytes, KeyVaultError> {
        self.log.record("kms:Decrypt", &self.resource, context);
        self.inner.open(envelope, context).await
    }
}

#[async_trait]
impl SmsSender for Recorded<dyn SmsSender> {
    async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        self.record("sns:Publish");
        self.inner.send(to, text).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::store::EmbeddedStore;
    use crate::ports::clock::SystemClock;
    use crate::ports::store::Index;

    #[tokio::test]
    async fn a_transaction_needs_the_action_of_each_of_its_items() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ItemStore> = Arc::new(EmbeddedStore::open(&dir.path().join("store.sqlite"), Arc::new(SystemClock)).unwrap());
        let log = PermissionLog::default();
        let recorded = Recorded::new(store, "Table", log.clone());
        let key = Key::new("a", "b");
        recorded
            .transact(vec![
                WriteOp::Put {
                    item: Item::new(key.clone(), Default::default()),
                    condition: Condition::NotExists,
                },
                WriteOp::Add {
                    key: Key::new("a", "counter"),
                    by: 1,
                },
            ])
            .await
            .unwrap();
        recorded.batch_get(&[]).await.unwrap();
        recorded.query(&Query::index(Index::Gsi2, "p")).await.unwrap();
        let recorded: Vec<_> = log.permissions().into_iter().map(|p| (p.action, p.resource)).collect();
        assert_eq!(
            recorded,
            [
                ("dynamodb:PutItem", "Table".to_owned()),
                ("dynamodb:Query", "Table/index/GSI2".to_owned()),
                ("dynamodb:UpdateItem", "Table".to_owned()),
            ]
        );
    }
}
