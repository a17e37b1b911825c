//! News items, upserted by their id in the feed, and the categories they have, numbered
//! the first time an import meets them and the same number ever after.
//!
//! An item is `NEWS#<lang>#<feed id>` / `ITEM`, in GSI1 `NEWS#<lang>` /
//! `<published, epoch ms>#<feed id>`: one language's news, newest first, are one index
//! partition read backwards. A category is `NEWS_CATEGORY#<lowercase name>` / `CATEGORY`;
//! their ids come from the counter `SEQUENCE` / `newsCategoryId`. Items a feed no longer
//! carries stay: the feed is a window on the news, not their whole history.

use std::collections::{BTreeMap, BTreeSet};

use super::RepositoryError;
use super::record::{Transaction, TransactionFailure, from_item, put, to_item};
use crate::domain::ids::CategoryId;
use crate::domain::news::{FeedEntry, NewsCategory, NewsFilter, NewsItem, NewsLanguage, category_key};
use crate::ports::store::{Condition, Index, ItemStore, Key, Query, StoreError, query_all};

const ITEM: &str = "ITEM";
const CATEGORY: &str = "CATEGORY";
const CATEGORY_SEQUENCE: &str = "newsCategoryId";
/// Writes per transaction: items are a few kilobytes each, far below a transaction's size limit.
const WRITES_PER_TRANSACTION: usize = 25;

fn item_key(language: NewsLanguage, feed_id: &str) -> Key {
    Key::new(format!("NEWS#{language}#{feed_id}"), ITEM)
}

fn listing_partition(language: NewsLanguage) -> String {
    format!("NEWS#{language}")
}

fn listing_sort_key(item: &NewsItem) -> String {
    format!("{:015}#{}", item.published.as_millisecond().max(0), item.id)
}

fn category_item_key(key: &str) -> Key {
    Key::new(format!("NEWS_CATEGORY#{key}"), CATEGORY)
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// The news repository.
pub struct News<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> News<'a> {
    /// The repository over `store`.
    pub fn new(store: &'a dyn ItemStore) -> Self {
        Self { store }
    }

    /// The categories named `names`, by [`category_key`]: those known as stored, the
    /// others numbered now. Of imports racing to number the same name, one id wins and
    /// every import uses it.
    pub async fn categories(&self, names: &BTreeSet<&str>) -> Result<BTreeMap<String, NewsCategory>, StoreError> {
        let wanted: BTreeMap<String, &str> = names.iter().map(|name| (category_key(name), *name)).collect();
        let keys: Vec<Key> = wanted.keys().map(|key| category_item_key(key)).collect();
        let mut known = BTreeMap::new();
        for item in self.store.batch_get(&keys).await? {
            let category: NewsCategory = from_item(&item)?;
            known.insert(category_key(&category.name), category);
        }
        for (key, name) in wanted {
            if known.contains_key(&key) {
                continue;
            }
            let category = self.number(&key, name).await?;
            known.insert(key, category);
        }
        Ok(known)
    }

    async fn number(&self, key: &str, name: &str) -> Result<NewsCategory, StoreError> {
        let next = self.store.increment(&Key::new("SEQUENCE", CATEGORY_SEQUENCE), 1).await?;
        let id = i64::try_from(next).map_err(|_| StoreError::Invalid("the news category sequence overflowed".into()))?;
        let category = NewsCategory {
            id: CategoryId(id),
            name: name.to_owned(),
        };
        match self
            .store
            .put(to_item(category_item_key(key), &category)?, Condition::NotExists)
            .await
        {
            Ok(()) => Ok(category),
            Err(StoreError::ConditionFailed) => {
                let item = self.store.get(&category_item_key(key)).await?;
                let item = item.ok_or_else(|| StoreError::Invalid(format!("news category {key:?} vanished")))?;
                from_item(&item)
            }
            Err(error) => Err(error),
        }
    }

    /// Upserts the entries of `language`'s feed by their feed id: a new item is added,
    /// a changed one rewritten, and one stored exactly so is not written at all, so that
    /// importing the same feed again writes nothing. A write that races with another
    /// import of the same item fails the import as `ChangedMeanwhile` (it is retried).
    pub async fn import(&self, language: NewsLanguage, entries: Vec<FeedEntry>) -> Result<ImportOutcome, RepositoryError> {
        let names: BTreeSet<&str> = entries.iter().flat_map(|e| e.categories.iter().map(String::as_str)).collect();
        let categories = self.categories(&names).await?;
        let items: Vec<NewsItem> = entries.into_iter().map(|e| e.into_item(language, &categories)).collect();
        let keys: Vec<Key> = items.iter().map(|item| item_key(language, &item.id)).collect();
        let mut stored = BTreeMap::new();
        for item in self.store.batch_get(&keys).await? {
            let news: NewsItem = from_item(&item)?;
            stored.insert(news.id.clone(), (news, item.version));
        }
        let mut outcome = ImportOutcome::default();
        let mut writes = Vec::new();
        for item in items {
            let record =
                to_item(item_key(language, &item.id), &item)?.with_index(Index::Gsi1, listing_partition(language), listing_sort_key(&item));
            match stored.get(&item.id) {
                None => {
                    outcome.added += 1;
                    writes.push(put(record, Condition::NotExists));
                }
                Some((before, version)) if *before != item => {
                    outcome.updated += 1;
                    writes.push(put(record.with_version(version + 1), Condition::VersionIs(*version)));
                }
                Some(_) => outcome.unchanged += 1,
            }
        }
        for chunk in writes.chunks(WRITES_PER_TRANSACTION) {
            let mut transaction = Transaction::new();
            for write in chunk {
                transaction.push((), write.clone());
            }
            transaction.commit(self.store).await.map_err(|failure| match failure {
                TransactionFailure::Conditions(_) => {
                    RepositoryError::ChangedMeanwhile(format!("news in {language} changed during the import"))
                }
                TransactionFailure::Store(error) => error.into(),
            })?;
        }
        Ok(outcome)
    }

    /// The news `filter` admits, newest published first: one page (from `offset`, at
    /// most `size`) and how many there are in all.
    pub async fn list(&self, filter: &NewsFilter, offset: usize, size: usize) -> Result<(Vec<NewsItem>, u64), StoreError> {
        let query = Query::index(Index::Gsi1, listing_partition(filter.lang)).backward();
        if filter.categories.is_empty() {
            let total = self.store.count(&query).await?;
            let page = query_all(self.store, &query.limit(offset.saturating_add(size))).await?;
            let items = page.iter().skip(offset).map(from_item).collect::<Result<_, _>>()?;
            return Ok((items, total));
        }
        let mut matching = Vec::new();
        for item in query_all(self.store, &query).await? {
            let news: NewsItem = from_item(&item)?;
            if filter.admits(&news) {
                matching.push(news);
            }
        }
        let total = matching.len() as u64;
        Ok((matching.into_iter().skip(offset).take(size).collect(), total))
    }
}
