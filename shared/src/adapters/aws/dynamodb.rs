//! The item store on DynamoDB: one table, `pk`/`sk`, three GSIs, a `version`
//! attribute for optimistic locking and `expiresAt` for TTL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    KeysAndAttributes, Projection, ProjectionType, Put, ScalarAttributeType, Select, TimeToLiveSpecification, TransactWriteItem, Update,
};
use serde_json::{Map, Value};

use crate::ports::clock::Clock;
use crate::ports::store::{
    Condition, Cursor, Index, Item, ItemStore, Key, MAX_TRANSACTION_OPS, Query, QueryPage, SortRange, StoreError, WriteOp,
};

type Attributes = HashMap<String, AttributeValue>;

const VERSION: &str = "version";
const EXPIRES_AT: &str = "expiresAt";
const DATA: &str = "data";
const LIVE: &str = "(attribute_not_exists(expiresAt) OR expiresAt > :now)";
const BATCH_GET_LIMIT: usize = 100;

/// The DynamoDB store.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn classify<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug + 'static>(error: SdkError<E, R>) -> StoreError {
    match error.code() {
        Some("ConditionalCheckFailedException") => StoreError::ConditionFailed,
        Some("TransactionConflictException") => StoreError::Conflict,
        Some("ValidationException") => StoreError::Invalid(error.message().unwrap_or("validation failed").to_owned()),
        _ => StoreError::Unavailable(format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&error))),
    }
}

fn key_attributes(key: &Key) -> Attributes {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

fn to_attributes(item: &Item) -> Result<Attributes, StoreError> {
    let mut attributes = key_attributes(&item.key);
    for index in Index::ALL {
        if let Some(key) = item.index_key(index) {
            let (pk, sk) = index.attributes();
            attributes.insert(pk.to_owned(), s(&key.pk));
            attributes.insert(sk.to_owned(), s(&key.sk));
        }
    }
    attributes.insert(VERSION.to_owned(), n(item.version));
    if let Some(at) = item.expires_at {
        attributes.insert(EXPIRES_AT.to_owned(), n(at));
    }
    let data = item.data.object().map_err(|e| StoreError::Invalid(e.to_string()))?;
    let data: Attributes = serde_dynamo::to_item(data.as_ref()).map_err(|e| StoreError::Invalid(e.to_string()))?;
    attributes.insert(DATA.to_owned(), AttributeValue::M(data));
    Ok(attributes)
}

fn text(attributes: &Attributes, name: &str) -> Option<String> {
    attributes.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(attributes: &Attributes, name: &str) -> Option<i64> {
    attributes.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

fn from_attributes(mut attributes: Attributes) -> Result<Item, StoreError> {
    let (Some(pk), Some(sk)) = (text(&attributes, "pk"), text(&attributes, "sk")) else {
        return Err(StoreError::Corrupt {
            pk: "?".into(),
            sk: "?".into(),
            reason: "no key attributes".into(),
        });
    };
    let data: Map<String, Value> = match attributes.remove(DATA) {
        Some(AttributeValue::M(map)) => serde_dynamo::from_item(map).map_err(|e| StoreError::Corrupt {
            pk: pk.clone(),
            sk: sk.clone(),
            reason: e.to_string(),
        })?,
        _ => Map::new(),
    };
    let mut item = Item::new(Key::new(pk, sk), data).with_version(number(&attributes, VERSION).unwrap_or(0) as u64);
    item.expires_at = number(&attributes, EXPIRES_AT);
    for index in Index::ALL {
        let (pk, sk) = index.attributes();
        if let (Some(ipk), Some(isk)) = (text(&attributes, pk), text(&attributes, sk)) {
            item = item.with_index(index, ipk, isk);
        }
    }
    Ok(item)
}

/// A condition as an expression with its values.
fn condition_expression(condition: Condition, now: i64) -> Option<(String, Attributes)> {
    let now = (":now".to_owned(), n(now));
    match condition {
        Condition::Always => None,
        Condition::NotExists => Some(("attribute_not_exists(pk) OR expiresAt <= :now".into(), HashMap::from([now]))),
        Condition::Exists => Some((format!("attribute_exists(pk) AND {LIVE}"), HashMap::from([now]))),
        Condition::VersionIs(version) => Some((
            format!("version = :expected AND {LIVE}"),
            HashMap::from([now, (":expected".to_owned(), n(version))]),
        )),
    }
}

impl DynamoStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            clock,
        }
    }

    fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    fn cursor_attributes(query: &Query, cursor: &Cursor) -> Attributes {
        let mut attributes = key_attributes(&cursor.key);
        if let (Some(index), Some(index_key)) = (query.index, &cursor.index_key) {
            let (pk, sk) = index.attributes();
            attributes.insert(pk.to_owned(), s(&index_key.pk));
            attributes.insert(sk.to_owned(), s(&index_key.sk));
        }
        attributes
    }

    fn cursor_from(query: &Query, attributes: &Attributes) -> Option<Cursor> {
        let key = Key::new(text(attributes, "pk")?, text(attributes, "sk")?);
        let index_key = query.index.and_then(|index| {
            let (pk, sk) = index.attributes();
            Some(Key::new(text(attributes, pk)?, text(attributes, sk)?))
        });
        Some(Cursor { key, index_key })
    }

    fn query_request(&self, query: &Query) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let (pk_name, sk_name) = query.index.map_or(("pk", "sk"), Index::attributes);
        let mut key_condition = "#pk = :pk".to_owned();
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.map(|i| i.name().to_owned()))
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(&query.partition))
            .expression_attribute_values(":now", n(self.now()))
            .filter_expression(LIVE)
            .scan_index_forward(query.forward);
        match &query.range {
            SortRange::All => {}
            SortRange::Prefix(prefix) => {
                key_condition.push_str(" AND begins_with(#sk, :from)");
                request = request
                    .expression_attribute_names("#sk", sk_name)
                    .expression_attribute_values(":from", s(prefix));
            }
            SortRange::Between(from, to) => {
                key_condition.push_str(" AND #sk BETWEEN :from AND :to");
                request = request
                    .expression_attribute_names("#sk", sk_name)
                    .expression_attribute_values(":from", s(from))
                    .expression_attribute_values(":to", s(to));
            }
        }
        request.key_condition_expression(key_condition)
    }

    fn put_parts(&self, item: &Item, condition: Condition) -> Result<Put, StoreError> {
        let (expression, values) = condition_expression(condition, self.now()).unzip();
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attributes(item)?))
            .set_condition_expression(expression)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| StoreError::Invalid(e.to_string()))
    }

    /// Creates the table with its indexes and TTL unless it exists (for local emulation and tests;
    /// in AWS the SAM template owns the table).
    pub async fn ensure_table(&self) -> Result<(), StoreError> {
        if self.client.describe_table().table_name(&self.table).send().await.is_ok() {
            return Ok(());
        }
        let element = |name: &str, key_type: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(key_type).build();
        let definition = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let mut request = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(element("pk", KeyType::Hash).map_err(|e| StoreError::Invalid(e.to_string()))?)
            .key_schema(element("sk", KeyType::Range).map_err(|e| StoreError::Invalid(e.to_string()))?)
            .attribute_definitions(definition("pk").map_err(|e| StoreError::Invalid(e.to_string()))?)
            .attribute_definitions(definition("sk").map_err(|e| StoreError::Invalid(e.to_string()))?);
        for index in Index::ALL {
            let (pk, sk) = index.attributes();
            let gsi = GlobalSecondaryIndex::builder()
                .index_name(index.name())
                .key_schema(element(pk, KeyType::Hash).map_err(|e| StoreError::Invalid(e.to_string()))?)
                .key_schema(element(sk, KeyType::Range).map_err(|e| StoreError::Invalid(e.to_string()))?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            request = request
                .global_secondary_indexes(gsi)
                .attribute_definitions(definition(pk).map_err(|e| StoreError::Invalid(e.to_string()))?)
                .attribute_definitions(definition(sk).map_err(|e| StoreError::Invalid(e.to_string()))?);
        }
        match request.send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
            Err(e) => return Err(classify(e)),
        }
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(EXPIRES_AT)
            .build()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

#[async_trait]
impl ItemStore for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let now = self.now();
        output
            .item
            .map(from_attributes)
            .transpose()
            .map(|item| item.filter(|i| !i.is_expired(now)))
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        let now = self.now();
        // A key asked for twice is read once, in one request or across several.
        let mut unique: Vec<&Key> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let mut items = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_LIMIT) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().copied().map(key_attributes).collect()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
            );
            let mut backoff = Duration::from_millis(20);
            while let Some(request) = pending.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(classify)?;
                for attributes in output.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default() {
                    let item = from_attributes(attributes)?;
                    if !item.is_expired(now) {
                        items.push(item);
                    }
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
                if pending.is_some() {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
        Ok(items)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let put = self.put_parts(&item, condition)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(put.item))
            .set_condition_expression(put.condition_expression)
            .set_expression_attribute_values(put.expression_attribute_values)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let (expression, values) = condition_expression(condition, self.now()).unzip();
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .set_condition_expression(expression)
            .set_expression_attribute_values(values)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<QueryPage, StoreError> {
        let mut items = Vec::new();
        let mut start = query.start_after.as_ref().map(|c| Self::cursor_attributes(query, c));
        // The TTL filter applies after DynamoDB's limit: read on until the page is full or the partition ends.
        loop {
            let wanted = query.limit.map(|limit| (limit - items.len()) as i32);
            let output = self
                .query_request(query)
                .set_limit(wanted)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for attributes in output.items.unwrap_or_default() {
                items.push(from_attributes(attributes)?);
            }
            match output.last_evaluated_key {
                Some(last) if query.limit.is_none_or(|limit| items.len() < limit) => start = Some(last),
                Some(last) => {
                    return Ok(QueryPage {
                        next: Self::cursor_from(query, &last),
                        items,
                    });
                }
                None => return Ok(QueryPage { items, next: None }),
            }
        }
    }

    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let output = self
                .query_request(query)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            total += output.count as u64;
            match output.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(total),
            }
        }
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        if ops.len() > MAX_TRANSACTION_OPS {
            return Err(StoreError::Invalid(format!("{} operations in one transaction", ops.len())));
        }
        let now = self.now();
        let mut items = Vec::with_capacity(ops.len());
        for op in &ops {
            let invalid = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Invalid(e.to_string());
            let item = match op {
                WriteOp::Put { item, condition } => TransactWriteItem::builder().put(self.put_parts(item, *condition)?).build(),
                WriteOp::Delete { key, condition } => {
                    let (expression, values) = condition_expression(*condition, now).unzip();
                    let delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attributes(key)))
                        .set_condition_expression(expression)
                        .set_expression_attribute_values(values)
                        .build()
                        .map_err(invalid)?;
                    TransactWriteItem::builder().delete(delete).build()
                }
                WriteOp::Check { key, condition } => {
                    let (expression, values) =
                        condition_expression(*condition, now).ok_or_else(|| StoreError::Invalid("a check needs a condition".into()))?;
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attributes(key)))
                        .condition_expression(expression)
                        .set_expression_attribute_values(Some(values))
                        .build()
                        .map_err(invalid)?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
                WriteOp::Add { key, by } => {
                    let update = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attributes(key)))
                        .update_expression("ADD #version :by")
                        .expression_attribute_names("#version", VERSION)
                        .expression_attribute_values(":by", AttributeValue::N(by.to_string()))
                        .build()
                        .map_err(invalid)?;
                    TransactWriteItem::builder().update(update).build()
                }
            };
            items.push(item);
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(error) => {
                let reasons = match error.as_service_error() {
                    Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e)) => {
                        Some(e.cancellation_reasons())
                    }
                    _ => None,
                };
                match reasons {
                    Some(reasons) => {
                        let failed: Vec<usize> = reasons
                            .iter()
                            .enumerate()
                            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                            .map(|(position, _)| position)
                            .collect();
                        if failed.is_empty() {
                            Err(StoreError::Conflict)
                        } else {
                            Err(StoreError::TransactionCancelled { failed })
                        }
                    }
                    None => Err(classify(error)),
                }
            }
        }
    }

    async fn increment(&self, key: &Key, by: u64) -> Result<u64, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .update_expression("ADD #version :by")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(":by", n(by))
            // Not UPDATED_NEW: adding zero (reading the counter) may change nothing and return nothing.
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        output
            .attributes
            .and_then(|a| number(&a, VERSION))
            .map(|v| v as u64)
            .ok_or_else(|| StoreError::Unavailable("counter update returned no value".into()))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.get(&Key::new("HEALTH", "PING")).await.map(|_| ())
    }
}
