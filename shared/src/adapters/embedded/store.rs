//! The embedded item store: one SQLite file in WAL mode, so that the stand-in
//! and its `token` command can use the same data directory at once.

use std::borrow::Cow;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::config::DbConfig;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params_from_iter};
use serde_json::Map;

use crate::ports::clock::Clock;
use crate::ports::store::{Condition, Cursor, Data, Index, Item, ItemStore, Key, Query, QueryPage, SortRange, StoreError, WriteOp};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL, sk TEXT NOT NULL,
    gsi1pk TEXT, gsi1sk TEXT, gsi2pk TEXT, gsi2sk TEXT, gsi3pk TEXT, gsi3sk TEXT,
    version INTEGER NOT NULL, expires_at INTEGER, data TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi3 ON items (gsi3pk, gsi3sk, pk, sk) WHERE gsi3pk IS NOT NULL;
";

/// An item's columns, in the order [`row_to_item`] reads them.
macro_rules! columns {
    () => {
        "pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi3pk, gsi3sk, version, expires_at, data"
    };
}
const COLUMNS: &str = columns!();
const READ_ITEM: &str = concat!("SELECT ", columns!(), " FROM items WHERE pk = ?1 AND sk = ?2");
const WRITE_ITEM: &str = concat!(
    "INSERT OR REPLACE INTO items (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
);
const DELETE_ITEM: &str = "DELETE FROM items WHERE pk = ?1 AND sk = ?2";

/// Distinct statements a connection keeps prepared: the fixed ones and the query
/// shapes (index, range, cursor, direction) in use.
const PREPARED_STATEMENTS: usize = 64;

/// Sorts after every character a key can hold: the upper bound of a prefix range.
const PREFIX_END: char = '\u{10FFFF}';

/// Reader connections: WAL lets them read while the writer writes.
const READERS: usize = 4;

/// The file-backed store.
#[derive(Clone)]
pub struct EmbeddedStore {
    connections: Arc<Connections>,
    clock: Arc<dyn Clock>,
}

/// One writer (SQLite allows one at a time) and a few readers, each used by one task at a time.
struct Connections {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

/// Whether work only reads (any reader) or writes (the writer).
#[derive(Clone, Copy)]
enum Access {
    Read,
    Write,
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path).map_err(unavailable)?;
    connection
        .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
        .map_err(unavailable)?;
    // Statements are prepared once per connection and reused. Without the query planner
    // stability guarantee, SQLite re-plans a statement whenever a new `LIMIT ?` is bound,
    // which cost more than the query itself; the plans here do not depend on values.
    connection
        .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(unavailable)?;
    connection.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
    Ok(connection)
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store file at `path`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let writer = connect(path)?;
        writer.execute_batch(SCHEMA).map_err(unavailable)?;
        let readers = (0..READERS).map(|_| connect(path).map(Mutex::new)).collect::<Result<_, _>>()?;
        let connections = Connections {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        };
        Ok(Self {
            connections: Arc::new(connections),
            clock,
        })
    }

    fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    /// Runs SQLite work on a reader or on the writer. A read that finds a free reader
    /// runs in place: it takes microseconds, less than a hop to the blocking pool and
    /// back. Writes, and reads when every reader is busy, go to the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        access: Access,
        work: impl FnOnce(&mut Connection, i64) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let now = self.now();
        if let Access::Read = access
            && let Some(mut reader) = self.connections.readers.iter().find_map(|reader| reader.try_lock().ok())
        {
            return work(&mut reader, now);
        }
        let connections = self.connections.clone();
        tokio::task::spawn_blocking(move || {
            let connection = match access {
                Access::Write => &connections.writer,
                Access::Read => {
                    let next = connections.next_reader.fetch_add(1, Ordering::Relaxed);
                    &connections.readers[next % connections.readers.len()]
                }
            };
            let mut connection = connection
                .lock()
                .map_err(|_| StoreError::Unavailable("store lock poisoned".into()))?;
            work(&mut connection, now)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
    }
}

fn unavailable(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DatabaseBusy => StoreError::Conflict,
        other => StoreError::Unavailable(other.to_string()),
    }
}

fn row_to_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let pk: String = row.get(0)?;
    let sk: String = row.get(1)?;
    // Left as text: its reader decodes it straight into the record it wants.
    let data = Data::Json(row.get(10)?);
    let mut item = Item::with_data(Key::new(pk, sk), data).with_version(row.get::<_, i64>(8)? as u64);
    item.expires_at = row.get(9)?;
    for (position, index) in Index::ALL.into_iter().enumerate() {
        let ipk: Option<String> = row.get(2 + position * 2)?;
        let isk: Option<String> = row.get(3 + position * 2)?;
        if let (Some(ipk), Some(isk)) = (ipk, isk) {
            item = item.with_index(index, ipk, isk);
        }
    }
    Ok(item)
}

fn read(tx: &Connection, key: &Key, now: i64) -> Result<Option<Item>, StoreError> {
    let item = tx
        .prepare_cached(READ_ITEM)
        .and_then(|mut statement| statement.query_row([&key.pk, &key.sk], row_to_item).optional())
        .map_err(unavailable)?;
    Ok(item.filter(|item| !item.is_expired(now)))
}

fn holds(tx: &Connection, key: &Key, condition: Condition, now: i64) -> Result<bool, StoreError> {
    if condition == Condition::Always {
        return Ok(true);
    }
    let current = read(tx, key, now)?;
    Ok(match condition {
        Condition::Always => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(version) => current.is_some_and(|item| item.version == version),
    })
}

fn write(tx: &Connection, item: &Item) -> Result<(), StoreError> {
    let index = |i: Index| {
        item.index_key(i)
            .map(|k| (Some(k.pk.clone()), Some(k.sk.clone())))
            .unwrap_or((None, None))
    };
    let (g1p, g1s) = index(Index::Gsi1);
    let (g2p, g2s) = index(Index::Gsi2);
    let (g3p, g3s) = index(Index::Gsi3);
    let data = match &item.data {
        Data::Json(text) => Cow::Borrowed(text.as_str()),
        Data::Object(object) => Cow::Owned(serde_json::to_string(object).map_err(|e| StoreError::Invalid(e.to_string()))?),
    };
    let values = rusqlite::params![
        item.key.pk,
        item.key.sk,
        g1p,
        g1s,
        g2p,
        g2s,
        g3p,
        g3s,
        item.version as i64,
        item.expires_at,
        data
    ];
    tx.prepare_cached(WRITE_ITEM)
        .and_then(|mut statement| statement.execute(values))
        .map_err(unavailable)?;
    Ok(())
}

fn remove(tx: &Connection, key: &Key) -> Result<(), StoreError> {
    tx.prepare_cached(DELETE_ITEM)
        .and_then(|mut statement| statement.execute([&key.pk, &key.sk]))
        .map_err(unavailable)?;
    Ok(())
}

/// Like DynamoDB's ADD on the version: the rest of the item stays as it is, and a
/// missing counter starts at zero. Returns the new value.
fn add(tx: &Connection, key: &Key, by: i64, now: i64) -> Result<u64, StoreError> {
    let item = read(tx, key, now)?.unwrap_or_else(|| Item::new(key.clone(), Map::new()).with_version(0));
    let version = item
        .version
        .checked_add_signed(by)
        .ok_or_else(|| StoreError::Invalid(format!("counter {}/{} would leave 0..=u64::MAX", key.pk, key.sk)))?;
    write(tx, &item.with_version(version))?;
    Ok(version)
}

fn immediate(connection: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(unavailable)
}

/// The WHERE clause and parameters selecting a query's rows.
fn selection(query: &Query, now: i64, with_cursor: bool) -> (String, Vec<SqlValue>, &'static str) {
    let (pk_col, sk_col) = query.index.map_or(("pk", "sk"), Index::attributes);
    let mut clause = format!("{pk_col} = ? AND (expires_at IS NULL OR expires_at > ?)");
    let mut values = vec![SqlValue::Text(query.partition.clone()), SqlValue::Integer(now)];
    match &query.range {
        SortRange::All => {}
        SortRange::Prefix(prefix) => {
            clause.push_str(&format!(" AND {sk_col} >= ? AND {sk_col} < ?"));
            values.push(SqlValue::Text(prefix.clone()));
            values.push(SqlValue::Text(format!("{prefix}{PREFIX_END}")));
        }
        SortRange::Between(from, to) => {
            clause.push_str(&format!(" AND {sk_col} BETWEEN ? AND ?"));
            values.push(SqlValue::Text(from.clone()));
            values.push(SqlValue::Text(to.clone()));
        }
    }
    if let (true, Some(cursor)) = (with_cursor, &query.start_after) {
        let op = if query.forward { ">" } else { "<" };
        let position = match (&query.index, &cursor.index_key) {
            (Some(_), Some(index_key)) => vec![index_key.sk.clone(), cursor.key.pk.clone(), cursor.key.sk.clone()],
            _ => vec![cursor.key.sk.clone()],
        };
        let columns = if query.index.is_some() {
            format!("({sk_col}, pk, sk)")
        } else {
            "(sk)".to_string()
        };
        let marks = vec!["?"; position.len()].join(", ");
        clause.push_str(&format!(" AND {columns} {op} ({marks})"));
        values.extend(position.into_iter().map(SqlValue::Text));
    }
    (clause, values, sk_col)
}

#[async_trait]
impl ItemStore for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let key = key.clone();
        self.run(Access::Read, move |connection, now| read(connection, &key, now)).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        let mut keys = keys.to_vec();
        keys.sort();
        keys.dedup();
        self.run(Access::Read, move |connection, now| {
            let mut items = Vec::with_capacity(keys.len());
            for key in &keys {
                items.extend(read(connection, key, now)?);
            }
            Ok(items)
        })
        .await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.run(Access::Write, move |connection, now| {
            let tx = immediate(connection)?;
            if !holds(&tx, &item.key, condition, now)? {
                return Err(StoreError::ConditionFailed);
            }
            write(&tx, &item)?;
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let key = key.clone();
        self.run(Access::Write, move |connection, now| {
            let tx = immediate(connection)?;
            if !holds(&tx, &key, condition, now)? {
                return Err(StoreError::ConditionFailed);
            }
            remove(&tx, &key)?;
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<QueryPage, StoreError> {
        let query = query.clone();
        self.run(Access::Read, move |connection, now| {
            let (clause, mut values, sk_col) = selection(&query, now, true);
            let dir = if query.forward { "ASC" } else { "DESC" };
            let order = if query.index.is_some() {
                format!("{sk_col} {dir}, pk {dir}, sk {dir}")
            } else {
                format!("sk {dir}")
            };
            // One more than asked tells whether another page follows.
            let limit = query.limit.map(|l| l as i64 + 1).unwrap_or(-1);
            values.push(SqlValue::Integer(limit));
            let sql = format!("SELECT {COLUMNS} FROM items WHERE {clause} ORDER BY {order} LIMIT ?");
            let mut statement = connection.prepare_cached(&sql).map_err(unavailable)?;
            let rows = statement.query_map(params_from_iter(values), row_to_item).map_err(unavailable)?;
            let mut items = Vec::new();
            for row in rows {
                items.push(row.map_err(unavailable)?);
            }
            let next = match query.limit {
                Some(limit) if items.len() > limit => {
                    items.truncate(limit);
                    items.last().map(|last| Cursor {
                        key: last.key.clone(),
                        index_key: query.index.and_then(|i| last.index_key(i).cloned()),
                    })
                }
                _ => None,
            };
            Ok(QueryPage { items, next })
        })
        .await
    }

    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        let query = query.clone();
        self.run(Access::Read, move |connection, now| {
            let (clause, values, _) = selection(&query, now, false);
            let sql = format!("SELECT COUNT(*) FROM items WHERE {clause}");
            let count: i64 = connection
                .prepare_cached(&sql)
                .and_then(|mut statement| statement.query_row(params_from_iter(values), |row| row.get(0)))
                .map_err(unavailable)?;
            Ok(count as u64)
        })
        .await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.run(Access::Write, move |connection, now| {
            let tx = immediate(connection)?;
            let mut failed = Vec::new();
            for (position, op) in ops.iter().enumerate() {
                let (key, condition) = match op {
                    WriteOp::Put { item, condition } => (&item.key, *condition),
                    WriteOp::Delete { key, condition } | WriteOp::Check { key, condition } => (key, *condition),
                    WriteOp::Add { key, .. } => (key, Condition::Always),
                };
                if !holds(&tx, key, condition, now)? {
                    failed.push(position);
                }
            }
            if !failed.is_empty() {
                return Err(StoreError::TransactionCancelled { failed });
            }
            for op in &ops {
                match op {
                    WriteOp::Put { item, .. } => write(&tx, item)?,
                    WriteOp::Delete { key, .. } => remove(&tx, key)?,
                    WriteOp::Check { .. } => {}
                    WriteOp::Add { key, by } => {
                        add(&tx, key, *by, now)?;
                    }
                }
            }
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn increment(&self, key: &Key, by: u64) -> Result<u64, StoreError> {
        let key = key.clone();
        self.run(Access::Write, move |connection, now| {
            let tx = immediate(connection)?;
            let by = i64::try_from(by).map_err(|_| StoreError::Invalid(format!("increment by {by}")))?;
            let next = add(&tx, &key, by, now)?;
            tx.commit().map_err(unavailable)?;
            Ok(next)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run(Access::Read, |connection, _| {
            connection
                .prepare_cached("SELECT 1")
                .and_then(|mut statement| statement.query_row([], |_| Ok(())))
                .map_err(unavailable)
        })
        .await
    }
}
