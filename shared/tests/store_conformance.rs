//! The item store's conformance suite: every case runs against the embedded store
//! (SQLite) and against DynamoDB (moto), so the two cannot drift.

mod support;

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use shared::ports::store::{Condition, Index, Item, ItemStore, Key, Query, StoreError, WriteOp, query_all};

conformance!(store =>
    put_get_round_trip,
    put_replaces_the_whole_item,
    get_of_missing_key_is_none,
    not_exists_refuses_a_second_put,
    not_exists_allows_put_over_expired_item,
    version_is_refuses_stale_and_accepts_current,
    exists_guards_delete,
    query_partition_by_range_and_direction,
    query_orders_sort_keys_by_utf8_bytes,
    query_pages_read_every_item_once_in_order,
    query_each_index_with_paging,
    count_matches_query,
    expired_items_are_invisible,
    batch_get_many_keys_skips_missing,
    batch_get_returns_each_item_once,
    transact_is_all_or_nothing,
    transact_applies_puts_deletes_and_checks_together,
    increment_counts_up_from_zero,
    transact_adds_to_counters_with_the_rest,
    concurrent_increments_yield_distinct_values,
    concurrent_creates_exactly_one_wins,
    ping_answers,
);

// ---------------------------------------------------------------- helpers

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// An epoch second well in the past: items expiring then are gone for every reader.
fn expired() -> i64 {
    now() - 3600
}

/// A JSON object literal as item data.
fn data(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("item data must be an object, not {other}"),
    }
}

/// An item whose data names its own key, so that reads can be checked against it.
fn item(pk: &str, sk: &str) -> Item {
    Item::new(Key::new(pk, sk), data(json!({ "pk": pk, "sk": sk })))
}

async fn put_all(store: &dyn ItemStore, items: impl IntoIterator<Item = Item>) {
    let results = support::join_all(items.into_iter().map(|item| store.put(item, Condition::Always))).await;
    for result in results {
        result.expect("put");
    }
}

async fn get(store: &dyn ItemStore, pk: &str, sk: &str) -> Option<Item> {
    store.get(&Key::new(pk, sk)).await.expect("get")
}

fn sort_keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|item| item.key.sk.clone()).collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

async fn query_sort_keys(store: &dyn ItemStore, query: &Query) -> Vec<String> {
    sort_keys(&store.query(query).await.expect("query").items)
}

/// Reads a query page by page, `page_size` items at a time, checking each page's size.
async fn read_in_pages(store: &dyn ItemStore, query: &Query, page_size: usize) -> Vec<Item> {
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = store
            .query(&query.clone().limit(page_size).after(cursor))
            .await
            .expect("query a page");
        assert!(
            page.items.len() <= page_size,
            "a page of {} items exceeds the limit {page_size}",
            page.items.len()
        );
        if page.next.is_some() {
            assert_eq!(page.items.len(), page_size, "only the last page may be short");
        }
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
    panic!("paging never ended");
}

fn assert_condition_failed(result: Result<(), StoreError>, what: &str) {
    match result {
        Err(StoreError::ConditionFailed) => {}
        other => panic!("{what}: expected ConditionFailed, got {other:?}"),
    }
}

// ---------------------------------------------------------------- cases

async fn put_get_round_trip(store: &dyn ItemStore) {
    let record = data(json!({
        "name": "Grüße ✉ \"quoted\"",
        "empty": "",
        "digits": "0123",
        "zero": 0,
        "negative": -17,
        "big": 12_345_678_901_234_567_i64,
        "fraction": 1.5,
        "tenth": 0.1,
        "yes": true,
        "no": false,
        "nothing": null,
        "list": [1, "two", null, false, {"three": 3}, [], [4.25]],
        "emptyList": [],
        "emptyObject": {},
        "nested": {"deeper": {"deepest": ["a", {"b": null}], "n": -0.5}},
    }));
    let full = Item::new(Key::new("USER#1", "PROFILE"), record)
        .with_index(Index::Gsi1, "CUSTOMER#9", "USER#1")
        .with_index(Index::Gsi2, "USERNAME#alice", "USER")
        .with_index(Index::Gsi3, "EMAIL#alice@example.com", "USER#1")
        .with_version(7)
        .with_expiry(now() + 86_400);
    let plain = Item::new(Key::new("USER#1", "PLAIN"), Map::new());
    put_all(store, [full.clone(), plain.clone()]).await;

    assert_eq!(get(store, "USER#1", "PROFILE").await, Some(full), "full item");
    let read = get(store, "USER#1", "PLAIN").await.expect("plain item");
    assert_eq!(read, plain, "item with no data, index keys or expiry");
    assert_eq!((read.version, read.expires_at), (1, None));
    for index in Index::ALL {
        assert_eq!(read.index_key(index), None, "{index:?}");
    }
}

async fn put_replaces_the_whole_item(store: &dyn ItemStore) {
    let first = Item::new(Key::new("P", "S"), data(json!({"a": 1, "b": 2})))
        .with_index(Index::Gsi1, "G", "S")
        .with_expiry(now() + 600)
        .with_version(3);
    let second = Item::new(Key::new("P", "S"), data(json!({"c": 3})));
    put_all(store, [first]).await;
    put_all(store, [second.clone()]).await;

    assert_eq!(
        get(store, "P", "S").await,
        Some(second),
        "the second put replaces data, indexes, version and expiry"
    );
    assert!(
        query_sort_keys(store, &Query::index(Index::Gsi1, "G")).await.is_empty(),
        "the old index entry is gone"
    );
}

async fn get_of_missing_key_is_none(store: &dyn ItemStore) {
    assert_eq!(get(store, "NOBODY", "HERE").await, None);
    put_all(store, [item("P", "S")]).await;
    assert_eq!(get(store, "P", "S2").await, None, "same partition, other sort key");
    assert_eq!(get(store, "P2", "S").await, None, "same sort key, other partition");
}

async fn not_exists_refuses_a_second_put(store: &dyn ItemStore) {
    let first = Item::new(Key::new("USERNAME", "alice"), data(json!({"owner": "first"})));
    let second = Item::new(Key::new("USERNAME", "alice"), data(json!({"owner": "second"})));
    store.put(first.clone(), Condition::NotExists).await.expect("first create");
    assert_condition_failed(store.put(second, Condition::NotExists).await, "second create");
    assert_eq!(get(store, "USERNAME", "alice").await, Some(first), "the first item is untouched");
}

async fn not_exists_allows_put_over_expired_item(store: &dyn ItemStore) {
    let stale = item("CODE", "user-1").with_expiry(expired());
    let fresh = Item::new(Key::new("CODE", "user-1"), data(json!({"code": "123456"}))).with_expiry(now() + 600);
    put_all(store, [stale]).await;
    store
        .put(fresh.clone(), Condition::NotExists)
        .await
        .expect("create over an expired item");
    assert_eq!(get(store, "CODE", "user-1").await, Some(fresh));
}

async fn version_is_refuses_stale_and_accepts_current(store: &dyn ItemStore) {
    let v1 = Item::new(Key::new("DOC", "1"), data(json!({"text": "one"})));
    let v2 = Item::new(Key::new("DOC", "1"), data(json!({"text": "two"}))).with_version(2);
    let stale = Item::new(Key::new("DOC", "1"), data(json!({"text": "lost update"}))).with_version(2);
    store.put(v1, Condition::NotExists).await.expect("create");
    store
        .put(v2.clone(), Condition::VersionIs(1))
        .await
        .expect("update at the current version");
    assert_condition_failed(store.put(stale.clone(), Condition::VersionIs(1)).await, "update at a stale version");
    assert_condition_failed(
        store.put(stale.clone(), Condition::VersionIs(3)).await,
        "update at a future version",
    );
    assert_eq!(get(store, "DOC", "1").await, Some(v2), "the refused writes changed nothing");

    assert_condition_failed(
        store.put(item("DOC", "missing"), Condition::VersionIs(1)).await,
        "update of a missing item",
    );
    assert_eq!(get(store, "DOC", "missing").await, None);
    put_all(store, [item("DOC", "old").with_expiry(expired())]).await;
    assert_condition_failed(
        store.put(item("DOC", "old"), Condition::VersionIs(1)).await,
        "update of an expired item",
    );
}

async fn exists_guards_delete(store: &dyn ItemStore) {
    put_all(store, [item("P", "live"), item("P", "expired").with_expiry(expired())]).await;

    assert_condition_failed(
        store.delete(&Key::new("P", "missing"), Condition::Exists).await,
        "delete of a missing item",
    );
    assert_condition_failed(
        store.delete(&Key::new("P", "expired"), Condition::Exists).await,
        "delete of an expired item",
    );
    assert_condition_failed(
        store.delete(&Key::new("P", "live"), Condition::VersionIs(2)).await,
        "delete at a stale version",
    );
    assert!(get(store, "P", "live").await.is_some(), "refused deletes leave the item");

    store
        .delete(&Key::new("P", "live"), Condition::Exists)
        .await
        .expect("delete of a live item");
    assert_eq!(get(store, "P", "live").await, None);
    store
        .delete(&Key::new("P", "live"), Condition::Always)
        .await
        .expect("an unconditional delete of a missing item is fine");
}

async fn query_partition_by_range_and_direction(store: &dyn ItemStore) {
    let keys = ["A#1", "A#2", "B#1", "B#2", "B#3", "C#1"];
    put_all(store, keys.iter().map(|sk| item("P", sk))).await;
    put_all(store, [item("P2", "B#1"), item("PP", "B#1"), item("p", "B#1")]).await;

    let all = store.query(&Query::partition("P")).await.expect("query");
    assert_eq!(sort_keys(&all.items), strings(&keys), "whole partition, ascending");
    assert!(all.next.is_none(), "no cursor without a limit");
    assert!(
        all.items
            .iter()
            .all(|i| i.key.pk == "P" && i.data.object().unwrap()["sk"] == i.key.sk.as_str()),
        "items come back whole"
    );

    let cases = [
        (Query::partition("P").prefix("B#"), vec!["B#1", "B#2", "B#3"]),
        (Query::partition("P").prefix("B#").backward(), vec!["B#3", "B#2", "B#1"]),
        (Query::partition("P").prefix("D"), vec![]),
        (Query::partition("P").between("A#2", "B#2"), vec!["A#2", "B#1", "B#2"]),
        (Query::partition("P").between("A#2", "B#2").backward(), vec!["B#2", "B#1", "A#2"]),
        (Query::partition("P").between("A#15", "B#15"), vec!["A#2", "B#1"]),
        (Query::partition("P").backward(), vec!["C#1", "B#3", "B#2", "B#1", "A#2", "A#1"]),
        (Query::partition("P").limit(2), vec!["A#1", "A#2"]),
        (Query::partition("P").backward().limit(2), vec!["C#1", "B#3"]),
        (Query::partition("P").prefix("B#").limit(10), vec!["B#1", "B#2", "B#3"]),
        (Query::partition("NONE"), vec![]),
    ];
    for (query, expected) in cases {
        assert_eq!(query_sort_keys(store, &query).await, strings(&expected), "{query:?}");
    }
    let limited = store.query(&Query::partition("P").limit(2)).await.expect("query");
    assert!(limited.next.is_some(), "a page cut short by its limit has a cursor");
}

async fn query_orders_sort_keys_by_utf8_bytes(store: &dyn ItemStore) {
    // Byte order, as DynamoDB: upper case before lower case, non-ASCII last.
    let ordered = ["B", "Z", "a", "a#", "ab", "z", "é", "\u{1F600}"];
    put_all(store, ordered.iter().rev().map(|sk| item("ORDER", sk))).await;
    assert_eq!(query_sort_keys(store, &Query::partition("ORDER")).await, strings(&ordered));
    assert_eq!(
        query_sort_keys(store, &Query::partition("ORDER").prefix("a")).await,
        strings(&["a", "a#", "ab"])
    );
}

async fn query_pages_read_every_item_once_in_order(store: &dyn ItemStore) {
    let keys: Vec<String> = (0..25).map(|i| format!("ITEM#{i:02}")).collect();
    put_all(store, keys.iter().map(|sk| item("PAGED", sk))).await;
    put_all(store, [item("PAGED", "OTHER#1"), item("PAGED", "AAA")]).await;

    let forward = Query::partition("PAGED").prefix("ITEM#");
    let reversed: Vec<String> = keys.iter().rev().cloned().collect();
    for page_size in [1, 7, 25, 30] {
        assert_eq!(
            sort_keys(&read_in_pages(store, &forward, page_size).await),
            keys,
            "forward, pages of {page_size}"
        );
        let backward = forward.clone().backward();
        assert_eq!(
            sort_keys(&read_in_pages(store, &backward, page_size).await),
            reversed,
            "backward, pages of {page_size}"
        );
    }
    let between = Query::partition("PAGED").between("ITEM#05", "ITEM#14");
    assert_eq!(
        sort_keys(&read_in_pages(store, &between, 4).await),
        keys[5..15].to_vec(),
        "between, pages of 4"
    );
    assert_eq!(
        sort_keys(&query_all(store, &forward.clone().limit(12)).await.expect("query_all")),
        keys[..12].to_vec()
    );
    assert_eq!(sort_keys(&query_all(store, &forward).await.expect("query_all")), keys);
}

async fn query_each_index_with_paging(store: &dyn ItemStore) {
    for index in Index::ALL {
        let partition = format!("{}#members", index.name());
        // Members come from many table partitions; their index sort keys interleave
        // differently from their table keys, and two of them share an index sort key.
        let member =
            |i: usize, index_sk: &str| item(&format!("{}-USER#{i:02}", index.name()), "PROFILE").with_index(index, &partition, index_sk);
        let members: Vec<Item> = (0..12).map(|i| member(i, &format!("NAME#{:02}", 11 - i))).collect();
        let twins = [member(20, "NAME#05"), member(21, "NAME#05")];
        put_all(store, members.iter().chain(&twins).cloned()).await;
        // Not members: the same index partition name in the other indexes, and an item in no index.
        let others = Index::ALL.into_iter().filter(|other| *other != index);
        put_all(
            store,
            others.map(|other| item("OUTSIDER", other.name()).with_index(other, &partition, "NAME#00")),
        )
        .await;
        put_all(store, [item("OUTSIDER", "NO-INDEX")]).await;

        let index_keys =
            |items: &[Item]| -> Vec<String> { items.iter().map(|i| i.index_key(index).expect("index key").sk.clone()).collect() };
        let users = |items: &[Item]| -> BTreeSet<String> { items.iter().map(|i| i.key.pk.clone()).collect() };
        let query = Query::index(index, &partition);

        let all = store.query(&query).await.expect("query the index").items;
        assert_eq!(all.len(), 14, "{index:?}: members only");
        let mut expected: Vec<String> = (0..12)
            .map(|i| format!("NAME#{i:02}"))
            .chain(strings(&["NAME#05", "NAME#05"]))
            .collect();
        expected.sort();
        assert_eq!(index_keys(&all), expected, "{index:?}: ascending index sort key");
        assert!(
            all.iter()
                .all(|i| i.key.sk == "PROFILE" && i.data.object().unwrap()["pk"] == i.key.pk.as_str()),
            "{index:?}: whole items"
        );

        for page_size in [1, 3, 5] {
            let pages = read_in_pages(store, &query, page_size).await;
            assert_eq!(index_keys(&pages), expected, "{index:?}: pages of {page_size}");
            assert_eq!(users(&pages), users(&all), "{index:?}: pages of {page_size} hold every member");
            assert_eq!(pages.len(), 14, "{index:?}: pages of {page_size} hold no member twice");
            let backward = read_in_pages(store, &query.clone().backward(), page_size).await;
            let reversed: Vec<String> = expected.iter().rev().cloned().collect();
            assert_eq!(index_keys(&backward), reversed, "{index:?}: backward pages of {page_size}");
            assert_eq!(
                users(&backward),
                users(&all),
                "{index:?}: backward pages of {page_size} hold every member"
            );
        }

        let page = store.query(&query.clone().limit(2)).await.expect("query a page");
        let cursor = page.next.expect("cursor");
        assert_eq!(cursor.key, page.items[1].key, "{index:?}: the cursor names the last item");
        assert_eq!(
            cursor.index_key.as_ref(),
            page.items[1].index_key(index),
            "{index:?}: with its index key"
        );

        let prefix = store.query(&query.clone().prefix("NAME#1")).await.expect("prefix").items;
        assert_eq!(index_keys(&prefix), strings(&["NAME#10", "NAME#11"]), "{index:?}: prefix");
        let between = read_in_pages(store, &query.clone().between("NAME#04", "NAME#06").backward(), 2).await;
        assert_eq!(
            index_keys(&between),
            strings(&["NAME#06", "NAME#05", "NAME#05", "NAME#05", "NAME#04"]),
            "{index:?}: between"
        );
    }
}

async fn count_matches_query(store: &dyn ItemStore) {
    let items = (0..30).map(|i| item("COUNTED", &format!("{}#{i:02}", if i % 3 == 0 { "X" } else { "Y" })));
    put_all(
        store,
        items.map(|i| {
            let index_sk = i.key.sk.clone();
            i.with_index(Index::Gsi2, "COUNTED-INDEX", index_sk)
        }),
    )
    .await;
    put_all(store, [item("COUNTED-NOT", "X#00")]).await;

    let queries = [
        (Query::partition("COUNTED"), 30),
        (Query::partition("COUNTED").prefix("X#"), 10),
        (Query::partition("COUNTED").between("X#03", "Y#04"), 12),
        (Query::partition("COUNTED").backward().limit(3).prefix("Y#"), 20),
        (Query::index(Index::Gsi2, "COUNTED-INDEX").prefix("Y#"), 20),
        (Query::index(Index::Gsi1, "COUNTED-INDEX"), 0),
        (Query::partition("EMPTY"), 0),
    ];
    for (query, expected) in queries {
        let count = store.count(&query).await.expect("count");
        assert_eq!(count, expected, "{query:?}");
        let mut unlimited = query.clone();
        unlimited.limit = None;
        assert_eq!(
            count,
            query_all(store, &unlimited).await.expect("query_all").len() as u64,
            "{query:?}: count = items"
        );
    }
}

async fn expired_items_are_invisible(store: &dyn ItemStore) {
    // Live and expired items interleave, so that a page of live items spans expired ones.
    let items: Vec<Item> = (0..12)
        .map(|i| {
            let item = item("TTL", &format!("ITEM#{i:02}")).with_index(Index::Gsi3, "TTL-INDEX", format!("{i:02}"));
            if i % 3 == 0 {
                item.with_expiry(now() + 3600)
            } else {
                item.with_expiry(expired())
            }
        })
        .collect();
    put_all(store, items.clone()).await;
    let live = strings(&["ITEM#00", "ITEM#03", "ITEM#06", "ITEM#09"]);

    assert_eq!(get(store, "TTL", "ITEM#01").await, None, "get");
    assert!(get(store, "TTL", "ITEM#00").await.is_some(), "get of a live item");
    for query in [
        Query::partition("TTL"),
        Query::index(Index::Gsi3, "TTL-INDEX"),
        Query::partition("TTL").prefix("ITEM#"),
    ] {
        assert_eq!(query_sort_keys(store, &query).await, live, "{query:?}");
        assert_eq!(sort_keys(&read_in_pages(store, &query, 2).await), live, "{query:?} in pages of 2");
        assert_eq!(store.count(&query).await.expect("count"), 4, "{query:?}: count");
    }
    let found = store
        .batch_get(&items.iter().map(|i| i.key.clone()).collect::<Vec<_>>())
        .await
        .expect("batch_get");
    let mut found = sort_keys(&found);
    found.sort();
    assert_eq!(found, live, "batch_get");
}

async fn batch_get_many_keys_skips_missing(store: &dyn ItemStore) {
    let items: Vec<Item> = (0..150).map(|i| item(&format!("BATCH#{}", i % 7), &format!("{i:03}"))).collect();
    put_all(store, items.clone()).await;
    // Missing keys interleaved with present ones, across more than one request's worth of keys.
    let keys: Vec<Key> = items
        .iter()
        .flat_map(|i| [i.key.clone(), Key::new(i.key.pk.clone(), format!("{}-missing", i.key.sk))])
        .collect();
    assert_eq!(keys.len(), 300);

    let mut found = store.batch_get(&keys).await.expect("batch_get");
    found.sort_by(|a, b| a.key.cmp(&b.key));
    let mut expected = items;
    expected.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(found, expected, "every present item exactly once, whole");

    assert!(store.batch_get(&[]).await.expect("batch_get of nothing").is_empty());
    let missing = [Key::new("NONE", "1"), Key::new("NONE", "2")];
    assert!(store.batch_get(&missing).await.expect("batch_get of missing keys").is_empty());
}

async fn batch_get_returns_each_item_once(store: &dyn ItemStore) {
    let items: Vec<Item> = (0..60).map(|i| item("DUPLICATE", &format!("{i:02}"))).collect();
    put_all(store, items.clone()).await;
    // Each key three times over, so that repeats fall within and across requests' worth of keys.
    let keys: Vec<Key> = (0..3).flat_map(|_| items.iter().map(|i| i.key.clone())).collect();

    let mut found = store.batch_get(&keys).await.expect("batch_get");
    found.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        sort_keys(&found),
        sort_keys(&items),
        "each item once, however often its key is asked for"
    );
}

async fn transact_is_all_or_nothing(store: &dyn ItemStore) {
    let taken = item("USERNAME", "taken");
    let victim = item("USER", "victim");
    put_all(store, [taken.clone(), victim.clone(), item("USER", "guard")]).await;

    let ops = vec![
        WriteOp::Put {
            item: item("USER", "new"),
            condition: Condition::NotExists,
        },
        WriteOp::Delete {
            key: victim.key.clone(),
            condition: Condition::Exists,
        },
        WriteOp::Put {
            item: item("USERNAME", "taken"),
            condition: Condition::NotExists,
        },
        WriteOp::Check {
            key: Key::new("USER", "guard"),
            condition: Condition::VersionIs(1),
        },
    ];
    match store.transact(ops).await {
        Err(StoreError::TransactionCancelled { failed }) => assert_eq!(failed, vec![2], "the failing operation"),
        other => panic!("expected TransactionCancelled, got {other:?}"),
    }
    assert_eq!(get(store, "USER", "new").await, None, "the put was not applied");
    assert_eq!(
        get(store, "USER", "victim").await,
        Some(victim.clone()),
        "the delete was not applied"
    );
    assert_eq!(
        get(store, "USERNAME", "taken").await,
        Some(taken),
        "the conflicting item is untouched"
    );

    let ops = vec![
        WriteOp::Check {
            key: Key::new("USER", "ghost"),
            condition: Condition::Exists,
        },
        WriteOp::Put {
            item: item("USER", "new"),
            condition: Condition::Always,
        },
        WriteOp::Delete {
            key: victim.key.clone(),
            condition: Condition::VersionIs(5),
        },
    ];
    match store.transact(ops).await {
        Err(StoreError::TransactionCancelled { failed }) => assert_eq!(failed, vec![0, 2], "the failing operations"),
        other => panic!("expected TransactionCancelled, got {other:?}"),
    }
    assert_eq!(
        get(store, "USER", "new").await,
        None,
        "the unconditional put was not applied either"
    );
    assert_eq!(get(store, "USER", "victim").await, Some(victim));
}

async fn transact_applies_puts_deletes_and_checks_together(store: &dyn ItemStore) {
    let counter = item("CUSTOMER#1", "COUNTER").with_version(4);
    put_all(
        store,
        [item("USERNAME", "old"), counter, item("CUSTOMER#1", "GUARD").with_version(2)],
    )
    .await;

    let renamed = Item::new(Key::new("USER", "1"), data(json!({"username": "new"}))).with_index(Index::Gsi1, "CUSTOMER#1", "USER#1");
    let ops = vec![
        WriteOp::Put {
            item: item("USERNAME", "new"),
            condition: Condition::NotExists,
        },
        WriteOp::Delete {
            key: Key::new("USERNAME", "old"),
            condition: Condition::Exists,
        },
        WriteOp::Put {
            item: item("CUSTOMER#1", "COUNTER").with_version(5),
            condition: Condition::VersionIs(4),
        },
        WriteOp::Check {
            key: Key::new("CUSTOMER#1", "GUARD"),
            condition: Condition::VersionIs(2),
        },
        WriteOp::Put {
            item: renamed.clone(),
            condition: Condition::Always,
        },
    ];
    store.transact(ops).await.expect("transaction");

    assert!(get(store, "USERNAME", "new").await.is_some(), "put applied");
    assert_eq!(get(store, "USERNAME", "old").await, None, "delete applied");
    assert_eq!(
        get(store, "CUSTOMER#1", "COUNTER").await.map(|i| i.version),
        Some(5),
        "conditional update applied"
    );
    assert_eq!(
        get(store, "CUSTOMER#1", "GUARD").await.map(|i| i.version),
        Some(2),
        "the check wrote nothing"
    );
    assert_eq!(get(store, "USER", "1").await, Some(renamed), "unconditional put applied");
    assert_eq!(
        query_sort_keys(store, &Query::index(Index::Gsi1, "CUSTOMER#1")).await,
        strings(&["1"]),
        "and indexed"
    );

    store.transact(Vec::new()).await.expect("an empty transaction is a no-op");
}

async fn increment_counts_up_from_zero(store: &dyn ItemStore) {
    let key = Key::new("COUNTER", "users");
    assert_eq!(
        store.increment(&key, 0).await.expect("read a new counter"),
        0,
        "a counter starts at zero"
    );
    let mut values = Vec::new();
    for _ in 0..3 {
        values.push(store.increment(&key, 1).await.expect("increment"));
    }
    assert_eq!(values, vec![1, 2, 3]);
    assert_eq!(
        store.increment(&key, 0).await.expect("read the counter"),
        3,
        "adding zero reads the counter"
    );
    assert_eq!(store.increment(&key, 10).await.expect("increment by 10"), 13);
    let counter = store.get(&key).await.expect("get").expect("the counter item exists");
    assert_eq!(counter.version, 13, "the counter is the item's version");
    assert!(counter.data.object().unwrap().is_empty(), "a counter item has no data");
    assert_eq!(
        store.increment(&Key::new("COUNTER", "other"), 1).await.expect("increment"),
        1,
        "counters are independent"
    );
}

async fn transact_adds_to_counters_with_the_rest(store: &dyn ItemStore) {
    let members = Key::new("ROSTER#1", "COUNT");
    let add = |by| WriteOp::Add { key: members.clone(), by };
    let create = |sk: &str| WriteOp::Put {
        item: item("ROSTER#1", sk),
        condition: Condition::NotExists,
    };
    store.transact(vec![create("USER#a"), add(1)]).await.expect("first member");
    store.transact(vec![create("USER#b"), add(1)]).await.expect("second member");
    assert_eq!(store.increment(&members, 0).await.unwrap(), 2, "a new counter starts at zero");

    let refused = store.transact(vec![create("USER#a"), add(1)]).await;
    assert!(matches!(refused, Err(StoreError::TransactionCancelled { .. })), "{refused:?}");
    assert_eq!(
        store.increment(&members, 0).await.unwrap(),
        2,
        "a cancelled transaction adds nothing"
    );

    let leave = WriteOp::Delete {
        key: Key::new("ROSTER#1", "USER#a"),
        condition: Condition::Exists,
    };
    store.transact(vec![leave, add(-1)]).await.expect("a member leaves");
    assert_eq!(
        store.get(&members).await.unwrap().map(|c| c.version),
        Some(1),
        "counters go down too"
    );
}

async fn concurrent_increments_yield_distinct_values(store: &dyn ItemStore) {
    const TASKS: u64 = 20;
    let key = Key::new("COUNTER", "concurrent");
    let values = support::join_all((0..TASKS).map(|_| store.increment(&key, 1))).await;
    let values: BTreeSet<u64> = values.into_iter().map(|v| v.expect("increment")).collect();
    assert_eq!(values, (1..=TASKS).collect(), "every increment got its own value");
    assert_eq!(store.get(&key).await.expect("get").map(|i| i.version), Some(TASKS));
}

async fn concurrent_creates_exactly_one_wins(store: &dyn ItemStore) {
    const TASKS: usize = 20;
    let attempt = |i: usize| Item::new(Key::new("EMAIL", "alice@example.com"), data(json!({ "owner": i })));
    let results = support::join_all((0..TASKS).map(|i| store.put(attempt(i), Condition::NotExists))).await;

    let mut winners = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(()) => winners.push(i),
            Err(StoreError::ConditionFailed) => {}
            Err(other) => panic!("attempt {i}: expected success or ConditionFailed, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create succeeds: {winners:?}");
    assert_eq!(
        get(store, "EMAIL", "alice@example.com").await,
        Some(attempt(winners[0])),
        "and its item is stored"
    );
}

async fn ping_answers(store: &dyn ItemStore) {
    store.ping().await.expect("ping");
}
