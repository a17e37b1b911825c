//! News: `triggerNewsUpdate` queues an import of the demo feeds (Italian RSS 2.0, English
//! Atom, in the stand-in's data directory), the news import consumer upserts their items
//! by feed id, and `listNews` lists them newest first, by language, category and page.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use accountcentral_e2e::{TestApp, error_paths, on_both_backends};
use accountcentral_news_import::NewsImport;
use reqwest::Method;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};
use shared::consumer::{Consumer, QueueMessage};
use shared::domain::ids::UserPk;
use shared::domain::news::{FeedLocation, FeedUrl, NewsFeeds, NewsImportRequest, NewsLanguage};
use shared::ports::store::{Index, Query, query_all};

on_both_backends!(
    an_import_twice_changes_nothing,
    a_changed_feed_is_upserted_by_feed_id,
    categories_filter_by_any_of_several_ids,
    the_language_falls_back_to_english,
    news_are_paged,
    a_feed_that_cannot_be_read_fails_the_import,
    racing_imports_number_each_category_once,
);

/// The demo feeds hold 4 Italian and 5 English items.
const ITALIAN: u64 = 4;
const ENGLISH: u64 = 5;

async fn list(app: &TestApp, user: &str, query: &str) -> Value {
    let (status, page) = app.get_as(user, &format!("/v1/news{query}")).await;
    assert_eq!(status, 200, "{user} lists news{query}: {page}");
    page
}

fn total(page: &Value) -> u64 {
    page["page"]["totalElements"].as_u64().expect("a page")
}

fn elements(page: &Value) -> &Vec<Value> {
    page["elements"].as_array().expect("a page's elements")
}

fn ids(page: &Value) -> Vec<&str> {
    elements(page).iter().map(|item| item["id"].as_str().unwrap()).collect()
}

/// Customer care asks for an import: 202.
async fn trigger(app: &TestApp) {
    let (status, _, answer) = app.send_as("care", Method::POST, "/v1/news/update", None).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["result"], "OK", "{answer}");
}

/// Lists `query` as care until `done` holds of the page, within a deadline.
async fn poll(app: &TestApp, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = list(app, "care", query).await;
        if done(&page) {
            return page;
        }
        assert!(Instant::now() < deadline, "news{query} never became as expected: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Triggers an import of the demo feeds and waits until it is done: the English and
/// Italian listings, whole.
async fn import_demo_feeds(app: &TestApp) -> (Value, Value) {
    trigger(app).await;
    let english = poll(app, "?lang=en&size=100", |page| total(page) == ENGLISH).await;
    let italian = poll(app, "?lang=it&size=100", |page| total(page) == ITALIAN).await;
    (english, italian)
}

/// Every stored news item's version, by key: a write of an item raises its version.
async fn stored_versions(app: &TestApp) -> BTreeMap<String, u64> {
    let store = app.environment.state.store.as_ref();
    let mut versions = BTreeMap::new();
    for language in NewsLanguage::ALL {
        for item in query_all(store, &Query::index(Index::Gsi1, format!("NEWS#{language}")))
            .await
            .unwrap()
        {
            versions.insert(item.key.pk.clone(), item.version);
        }
    }
    versions
}

/// The demo feed file of `language`.
fn feed_file(app: &TestApp, language: NewsLanguage) -> std::path::PathBuf {
    match app.environment.state.news_feeds.url(language).map(FeedUrl::location) {
        Some(FeedLocation::File(path)) => path,
        other => panic!("the stand-in reads a local {language} feed, not {other:?}"),
    }
}

fn import_message() -> QueueMessage {
    QueueMessage {
        id: uuid::Uuid::new_v4().to_string(),
        body: serde_json::to_string(&NewsImportRequest::new(UserPk(1), jiff::Timestamp::now())).unwrap(),
        tracing_id: Some("news-test".into()),
        receive_count: 1,
    }
}

/// Category id by name, from listings.
fn categories(pages: &[&Value]) -> BTreeMap<String, i64> {
    let mut ids = BTreeMap::new();
    for page in pages {
        for category in elements(page).iter().flat_map(|item| item["categories"].as_array().unwrap()) {
            let (name, id) = (category["name"].as_str().unwrap(), category["id"].as_i64().unwrap());
            assert_eq!(*ids.entry(name.to_owned()).or_insert(id), id, "{name} has one id");
        }
    }
    ids
}

async fn an_import_twice_changes_nothing(app: TestApp) {
    assert_eq!(total(&list(&app, "care", "?lang=en").await), 0, "no news before an import");
    let (english, italian) = import_demo_feeds(&app).await;
    assert_eq!(
        ids(&english),
        [
            "urn:explora:en:2026-03-deliverability",
            "urn:explora:en:2026-02-hub-segments",
            "urn:explora:en:2026-02-flow",
            "urn:explora:en:2026-01-send-reports",
            "urn:explora:en:2026-01-two-factor",
        ],
        "newest published first"
    );
    let first = &elements(&english)[0];
    assert_eq!(first["title"], "Five deliverability tips");
    assert_eq!(first["link"], "https://explora.demo.accountcentral.test/en/deliverability");
    assert_eq!(first["image"], "https://explora.demo.accountcentral.test/en/deliverability.png");
    assert_eq!(first["publishDate"], "2026-03-10T09:00:00Z");
    assert_eq!(first["lang"], "en");
    assert!(first["summary"].as_str().unwrap().starts_with("Clean lists"));
    assert_eq!(elements(&italian)[0]["id"], "explora-it-2026-03-deliverability");
    assert!(elements(&italian).iter().all(|item| item["lang"] == "it"));
    let names: BTreeSet<String> = categories(&[&english, &italian]).into_keys().collect();
    assert!(
        names.is_superset(&["Deliverability", "Email", "Automazione", "Security"].map(String::from).into()),
        "{names:?}"
    );
    let versions = stored_versions(&app).await;
    assert_eq!(versions.len() as u64, ENGLISH + ITALIAN);
    assert!(versions.values().all(|version| *version == 1), "{versions:?}");

    // The same feeds again: the same items, ids, dates and categories, and no write.
    NewsImport.consume(&app.environment.state, &import_message()).await.unwrap();
    assert_eq!(list(&app, "care", "?lang=en&size=100").await, english);
    assert_eq!(list(&app, "care", "?lang=it&size=100").await, italian);
    assert_eq!(stored_versions(&app).await, versions, "nothing was written");
}

async fn a_changed_feed_is_upserted_by_feed_id(app: TestApp) {
    let (english, italian) = import_demo_feeds(&app).await;
    let versions = stored_versions(&app).await;
    let ids_before = categories(&[&english, &italian]);

    // The client's copy stays valid until the news change.
    let response = app.as_user("acme.user", Method::GET, "/v1/news").await.send().await.unwrap();
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    let revalidate = || async {
        app.as_user("acme.user", Method::GET, "/v1/news")
            .await
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(revalidate().await, 304);

    // One item renamed, one added with a known category and a new one.
    let path = feed_file(&app, NewsLanguage::It);
    let feed = std::fs::read_to_string(&path).unwrap();
    let added = r#"<item>
      <guid isPermaLink="false">explora-it-2026-03-novita</guid>
      <title>Novità di marzo</title>
      <link>https://explora.demo.accountcentral.test/it/novita</link>
      <description>Tutte le novità del mese.</description>
      <pubDate>Fri, 20 Mar 2026 09:00:00 GMT</pubDate>
      <category>Email</category>
      <category>Novità</category>
    </item>
    <item>"#;
    let changed = feed
        .replacen("<item>", added, 1)
        .replace("Nuovi percorsi in Flow", "Nuovi percorsi in Flow, aggiornato");
    std::fs::write(&path, changed).unwrap();

    trigger(&app).await;
    let after = poll(&app, "?lang=it&size=100", |page| total(page) == ITALIAN + 1).await;
    let newest = &elements(&after)[0];
    assert_eq!(newest["id"], "explora-it-2026-03-novita", "the newest first");
    let ids_after = categories(&[&after]);
    assert_eq!(ids_after["Email"], ids_before["Email"], "a known category keeps its id");
    assert!(
        !ids_before.values().any(|id| *id == ids_after["Novità"]),
        "a new category gets a new id"
    );

    let flow = elements(&after)
        .iter()
        .find(|item| item["id"] == "explora-it-2026-02-flow")
        .unwrap();
    let flow_before = elements(&italian)
        .iter()
        .find(|item| item["id"] == "explora-it-2026-02-flow")
        .unwrap();
    assert_eq!(flow["title"], "Nuovi percorsi in Flow, aggiornato");
    assert_eq!(flow["publishDate"], flow_before["publishDate"]);
    assert_eq!(flow["categories"], flow_before["categories"]);
    let versions_after = stored_versions(&app).await;
    for (key, version) in &versions {
        let expected = if key == "NEWS#it#explora-it-2026-02-flow" {
            version + 1
        } else {
            *version
        };
        assert_eq!(versions_after[key], expected, "{key}");
    }
    assert_eq!(
        list(&app, "care", "?lang=en&size=100").await,
        english,
        "the English news are as they were"
    );
    assert_eq!(revalidate().await, 200, "the client's copy is stale");
}

async fn categories_filter_by_any_of_several_ids(app: TestApp) {
    let (english, italian) = import_demo_feeds(&app).await;
    let id = categories(&[&english, &italian]);
    let having = |page: &Value, wanted: &[i64]| -> Vec<String> {
        elements(page)
            .iter()
            .filter(|item| {
                item["categories"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| wanted.contains(&c["id"].as_i64().unwrap()))
            })
            .map(|item| item["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let wanted = [id["Deliverability"], id["Automation"]];
    let page = list(
        &app,
        "acme.user",
        &format!("?lang=en&category={}&category={}", wanted[0], wanted[1]),
    )
    .await;
    assert_eq!(
        ids(&page),
        ["urn:explora:en:2026-03-deliverability", "urn:explora:en:2026-02-flow"],
        "either category, newest first"
    );
    assert_eq!(ids(&page), having(&english, &wanted));
    assert_eq!(total(&page), 2);

    // A category of both feeds has one id: it filters either language.
    let email = format!("?category={}", id["Email"]);
    let italian_email = list(&app, "acme.user", &format!("{email}&lang=it")).await;
    assert_eq!(ids(&italian_email), having(&italian, &[id["Email"]]));
    assert_eq!(total(&italian_email), 2);
    assert_eq!(ids(&list(&app, "acme.user", &format!("{email}&lang=en")).await).len(), 2);

    // An id no item has.
    let none = list(&app, "acme.user", "?lang=en&category=999999").await;
    assert_eq!((total(&none), elements(&none).len()), (0, 0));
}

async fn the_language_falls_back_to_english(app: TestApp) {
    import_demo_feeds(&app).await;
    let language = |page: &Value| -> String {
        let languages: BTreeSet<&str> = elements(page).iter().map(|item| item["lang"].as_str().unwrap()).collect();
        assert_eq!(languages.len(), 1, "one language per listing: {page}");
        languages.into_iter().next().unwrap().to_owned()
    };
    // Without lang: the caller's language (Acme's users speak Italian, Globex's English).
    assert_eq!(language(&list(&app, "acme.user", "").await), "it");
    assert_eq!(language(&list(&app, "globex.admin", "").await), "en");
    // lang overrides it; any language news are not published in is English.
    assert_eq!(language(&list(&app, "globex.admin", "?lang=it").await), "it");
    for other in ["fr", "EN", "IT", "", "xx-yy"] {
        let page = list(&app, "acme.user", &format!("?lang={other}")).await;
        assert_eq!(language(&page), "en", "lang={other}");
        assert_eq!(total(&page), ENGLISH, "lang={other}");
    }
}

async fn news_are_paged(app: TestApp) {
    let (english, _) = import_demo_feeds(&app).await;
    let mut read = Vec::new();
    for number in 0..3 {
        let page = list(&app, "globex.admin", &format!("?size=2&page={number}")).await;
        assert_eq!(
            page["page"],
            json!({"size": 2, "number": number, "totalElements": ENGLISH, "totalPages": 3})
        );
        read.extend(elements(&page).iter().cloned());
    }
    assert_eq!(&read, elements(&english), "the pages are the listing in order");
    let past = list(&app, "globex.admin", "?size=2&page=3").await;
    assert!(elements(&past).is_empty());
    assert_eq!(total(&past), ENGLISH);
    for (query, field) in [
        ("size=0", "size"),
        ("size=101", "size"),
        ("page=-1", "page"),
        ("category=email", "category"),
    ] {
        let (status, answer) = app.get_as("globex.admin", &format!("/v1/news?{query}")).await;
        assert_eq!(status, 400, "{query}: {answer}");
        assert_eq!(error_paths(&answer), [field], "{query}");
    }
}

async fn a_feed_that_cannot_be_read_fails_the_import(app: TestApp) {
    let english = app.environment.state.news_feeds.url(NewsLanguage::En).unwrap().clone();
    let not_a_feed = app.data_dir().join("maintenance.html");
    std::fs::write(&not_a_feed, "<html><body>Down for maintenance</body></html>").unwrap();
    let missing = app.data_dir().join("missing.xml");
    for broken in [&not_a_feed, &missing] {
        let mut state = app.environment.state.clone();
        state.news_feeds = NewsFeeds::default()
            .or_default(NewsLanguage::It, FeedUrl::from_file_path(broken).unwrap())
            .or_default(NewsLanguage::En, english.clone());
        let error = NewsImport.consume(&state, &import_message()).await.unwrap_err();
        assert!(error.to_string().contains("it: "), "the failure names the feed: {error}");
    }
    // The other language's feed was imported all the same.
    assert_eq!(total(&list(&app, "care", "?lang=en").await), ENGLISH);
    assert_eq!(total(&list(&app, "care", "?lang=it").await), 0);

    let mut unconfigured = app.environment.state.clone();
    unconfigured.news_feeds = NewsFeeds::default().or_default(NewsLanguage::En, english);
    let error = NewsImport.consume(&unconfigured, &import_message()).await.unwrap_err();
    assert!(error.to_string().contains("NEWS_FEED_URL_IT"), "{error}");

    let garbled = QueueMessage {
        body: "{\"not\": \"an import\"}".into(),
        ..import_message()
    };
    assert!(NewsImport.consume(&app.environment.state, &garbled).await.is_err());
}

async fn racing_imports_number_each_category_once(app: TestApp) {
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let state = app.environment.state.clone();
        racing.spawn(async move { NewsImport.consume(&state, &import_message()).await });
    }
    let mut succeeded = 0;
    while let Some(outcome) = racing.join_next().await {
        // An import that lost a race on an item fails, to be received again.
        if outcome.unwrap().is_ok() {
            succeeded += 1;
        }
    }
    assert!(succeeded >= 1, "one import at least got through");
    // A loser's retry finds everything in place.
    NewsImport.consume(&app.environment.state, &import_message()).await.unwrap();
    let english = list(&app, "care", "?lang=en&size=100").await;
    let italian = list(&app, "care", "?lang=it&size=100").await;
    assert_eq!((total(&english), total(&italian)), (ENGLISH, ITALIAN), "each item once");
    let ids = categories(&[&english, &italian]);
    let distinct: BTreeSet<i64> = ids.values().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "one id per category, one category per id: {ids:?}");
    assert!(
        stored_versions(&app).await.values().all(|version| *version == 1),
        "no item written twice"
    );
}
