//! News imported from the Explora feed: one feed per language, parsed (RSS 2.0, Atom or
//! JSON Feed) into items keyed by their id in the feed, with categories numbered once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ids::{CategoryId, UserPk};
use super::validation::{FieldError, Violations};

/// A language news are published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NewsLanguage {
    It,
    En,
}

impl NewsLanguage {
    /// Every language with a feed.
    pub const ALL: [NewsLanguage; 2] = [NewsLanguage::It, NewsLanguage::En];

    /// The language's code, as the API spells it.
    pub fn code(self) -> &'static str {
        match self {
            NewsLanguage::It => "it",
            NewsLanguage::En => "en",
        }
    }

    /// The language whose code is `code`, if news are published in it.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|language| language.code() == code.trim())
    }

    /// The environment variable naming the language's feed.
    pub fn feed_variable(self) -> &'static str {
        match self {
            NewsLanguage::It => "NEWS_FEED_URL_IT",
            NewsLanguage::En => "NEWS_FEED_URL_EN",
        }
    }
}

impl fmt::Display for NewsLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where a feed is read from: `http(s)://host/…`, or `file:///path` (the stand-in's local feed).
#[derive(Clone, PartialEq, Eq)]
pub struct FeedUrl(String);

/// A feed URL that cannot be one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be an http://, https:// or file:/// URL without spaces, not {value:?}")]
pub struct BadFeedUrl {
    pub name: &'static str,
    pub value: String,
}

/// How a feed URL is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedLocation {
    Web,
    File(PathBuf),
}

/// Bytes left as they are in a `file://` URL's path; every other byte is percent-encoded.
fn kept_in_path(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte)
}

impl FeedUrl {
    const MAX_LENGTH: usize = 2048;

    /// The URL `text`, when it is an http, https or absolute file URL.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() > Self::MAX_LENGTH || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let lower = text.to_ascii_lowercase();
        let web = ["http://", "https://"]
            .iter()
            .find_map(|scheme| lower.strip_prefix(scheme))
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        let file = lower.strip_prefix("file://").is_some_and(|path| path.starts_with('/'));
        (web || file).then(|| FeedUrl(text.to_owned()))
    }

    /// The `file://` URL of an absolute path.
    pub fn from_file_path(path: &Path) -> Option<Self> {
        let path = path.to_str().filter(|p| p.starts_with('/'))?;
        let mut url = String::from("file://");
        for byte in path.bytes() {
            if kept_in_path(byte) {
                url.push(char::from(byte));
            } else {
                url.push_str(&format!("%{byte:02X}"));
            }
        }
        Some(FeedUrl(url))
    }

    /// How to read it: over HTTP, or from the file its path names (percent-decoded).
    pub fn location(&self) -> FeedLocation {
        let Some(path) = self.0.get(..7).filter(|s| s.eq_ignore_ascii_case("file://")).map(|_| &self.0[7..]) else {
            return FeedLocation::Web;
        };
        let bytes = path.as_bytes();
        let mut decoded = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let escaped = (bytes[i] == b'%')
                .then(|| path.get(i + 1..i + 3))
                .flatten()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            match escaped {
                Some(byte) => {
                    decoded.push(byte);
                    i += 3;
                }
                None => {
                    decoded.push(bytes[i]);
                    i += 1;
                }
            }
        }
        FeedLocation::File(PathBuf::from(String::from_utf8_lossy(&decoded).into_owned()))
    }

    /// The URL to request.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL without credentials, query or fragment, for logs and error messages
    /// (a feed's query string may carry an access key).
    pub fn redacted(&self) -> String {
        let without_query = self.0.split(['?', '#']).next().unwrap_or_default();
        match without_query.split_once("://") {
            Some((scheme, rest)) => {
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                let host = authority.rsplit('@').next().unwrap_or(authority);
                format!("{scheme}://{host}{path}")
            }
            None => without_query.to_owned(),
        }
    }
}

impl fmt::Debug for FeedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FeedUrl({})", self.redacted())
    }
}

/// The feed of each language, as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewsFeeds {
    urls: BTreeMap<NewsLanguage, FeedUrl>,
}

impl NewsFeeds {
    /// The feeds `setting` names (`NEWS_FEED_URL_IT`, `NEWS_FEED_URL_EN`); a language
    /// it names none for has no feed.
    pub fn configured(setting: impl Fn(&str) -> Option<String>) -> Result<Self, BadFeedUrl> {
        let mut urls = BTreeMap::new();
        for language in NewsLanguage::ALL {
            let name = language.feed_variable();
            if let Some(value) = setting(name) {
                let url = FeedUrl::parse(&value).ok_or(BadFeedUrl { name, value })?;
                urls.insert(language, url);
            }
        }
        Ok(Self { urls })
    }

    /// The feed of `language`, if one is configured.
    pub fn url(&self, language: NewsLanguage) -> Option<&FeedUrl> {
        self.urls.get(&language)
    }

    /// These feeds, with `url` for `language` unless it has one already.
    pub fn or_default(mut self, language: NewsLanguage, url: FeedUrl) -> Self {
        self.urls.entry(language).or_insert(url);
        self
    }
}

/// A news category: a stable id and its name as the feed first gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsCategory {
    pub id: CategoryId,
    pub name: String,
}

/// What identifies a category across feeds and imports: its name, trimmed and lowercased.
pub fn category_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// One news item as stored and listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewsItem {
    /// The item's id in its feed.
    pub id: String,
    pub lang: NewsLanguage,
    pub title: String,
    pub summary: String,
    pub link: String,
    pub image: Option<String>,
    pub published: Timestamp,
    pub categories: Vec<NewsCategory>,
}

/// One entry of a feed, parsed, before its categories are numbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub link: String,
    pub image: Option<String>,
    pub published: Timestamp,
    /// Category names, each once (by [`category_key`]), in the feed's order.
    pub categories: Vec<String>,
}

impl FeedEntry {
    /// The item of `language` this entry is, its categories numbered by `categories`
    /// (by [`category_key`]; names it lacks are left out).
    pub fn into_item(self, language: NewsLanguage, categories: &BTreeMap<String, NewsCategory>) -> NewsItem {
        NewsItem {
            id: self.id,
            lang: language,
            title: self.title,
            summary: self.summary,
            link: self.link,
            image: self.image,
            published: self.published,
            categories: self
                .categories
                .iter()
                .filter_map(|name| categories.get(&category_key(name)).cloned())
                .collect(),
        }
    }
}

/// A feed's entries, and those left out with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFeed {
    pub entries: Vec<FeedEntry>,
    /// The entry (its id, else its title, else its position) and the reason.
    pub skipped: Vec<(String, &'static str)>,
}

/// A document that is not a feed.
#[derive(Debug, thiserror::Error)]
#[error("not an RSS, Atom or JSON feed: {0}")]
pub struct NotAFeed(String);

/// Longest title and summary kept, in characters: a stored item stays far below the
/// store's item size whatever the feed holds.
const MAX_TITLE: usize = 500;
const MAX_SUMMARY: usize = 4000;
/// Longest feed id, link and image URL kept, in bytes (the id is part of the item's key).
const MAX_ID: usize = 512;
const MAX_URL: usize = 2048;

fn truncated(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

/// The link of an entry: its first alternate (or unqualified) link, else its first.
fn entry_link(links: &[feed_rs::model::Link]) -> Option<&feed_rs::model::Link> {
    links
        .iter()
        .find(|link| link.rel.as_deref().is_none_or(|rel| rel == "alternate"))
        .or(links.first())
}

/// The entry's picture: a media thumbnail (MediaRSS), else an image enclosure or media
/// object, else an image link (Atom `enclosure`, JSON Feed attachment).
fn entry_image(entry: &feed_rs::model::Entry) -> Option<String> {
    let is_image = |media_type: &str| media_type.starts_with("image/");
    let thumbnail = entry.media.iter().flat_map(|m| &m.thumbnails).map(|t| t.image.uri.clone()).next();
    let content = || {
        entry
            .media
            .iter()
            .flat_map(|m| &m.content)
            .find(|c| c.content_type.as_ref().is_some_and(|t| is_image(t.as_str())))
            .and_then(|c| c.url.as_ref().map(|u| u.to_string()))
    };
    let link = || {
        entry
            .links
            .iter()
            .find(|l| l.media_type.as_deref().is_some_and(is_image))
            .map(|l| l.href.clone())
    };
    thumbnail.or_else(content).or_else(link).filter(|url| url.len() <= MAX_URL)
}

fn entry_from(entry: feed_rs::model::Entry) -> Result<FeedEntry, &'static str> {
    if entry.id.is_empty() {
        return Err("no id, and no link to derive one from");
    }
    if entry.id.len() > MAX_ID {
        return Err("id longer than 512 bytes");
    }
    let title = entry.title.as_ref().map(|t| t.content.trim()).unwrap_or_default();
    if title.is_empty() {
        return Err("no title");
    }
    let link = entry_link(&entry.links).map(|l| l.href.trim()).unwrap_or_default();
    if FeedUrl::parse(link).is_none_or(|url| url.location() != FeedLocation::Web) || link.len() > MAX_URL {
        return Err("no http(s) link");
    }
    let published = entry
        .published
        .or(entry.updated)
        .and_then(|at| Timestamp::from_millisecond(at.timestamp_millis()).ok())
        .ok_or("no publication date")?;
    let summary = entry
        .summary
        .as_ref()
        .map(|s| s.content.clone())
        .or_else(|| entry.content.as_ref().and_then(|c| c.body.clone()))
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    let categories = entry
        .categories
        .iter()
        .map(|c| c.label.as_deref().unwrap_or(&c.term).trim())
        .filter(|name| !name.is_empty() && seen.insert(category_key(name)))
        .map(|name| truncated(name, 100))
        .collect();
    Ok(FeedEntry {
        title: truncated(title, MAX_TITLE),
        summary: truncated(summary.trim(), MAX_SUMMARY),
        link: link.to_owned(),
        image: entry_image(&entry),
        published,
        categories,
        id: entry.id,
    })
}

/// Parses an RSS (2.0, 1.0, 0.9x), Atom or JSON Feed document. Entries without what a
/// news item needs (a stable id, a title, an http(s) link, a date) are skipped, and
/// so is any entry after the first with the same id.
pub fn parse_feed(document: &[u8]) -> Result<ParsedFeed, NotAFeed> {
    // An entry without an id gets one derived from its link and title, as feed-rs does
    // by default, but never a random one: a random id would duplicate the entry on
    // every import.
    let parser = feed_rs::parser::Builder::new()
        .id_generator(|links, title, _| {
            entry_link(links)
                .map(|link| feed_rs::parser::generate_id_from_link_and_title(link, title))
                .unwrap_or_default()
        })
        .build();
    let feed = parser.parse(document).map_err(|e| NotAFeed(e.to_string()))?;
    let mut parsed = ParsedFeed::default();
    let mut ids = BTreeSet::new();
    for (position, entry) in feed.entries.into_iter().enumerate() {
        let name = if !entry.id.is_empty() {
            entry.id.clone()
        } else if let Some(title) = &entry.title {
            title.content.clone()
        } else {
            format!("entry {}", position + 1)
        };
        match entry_from(entry) {
            Ok(entry) if ids.insert(entry.id.clone()) => parsed.entries.push(entry),
            Ok(_) => parsed.skipped.push((name, "the same id as an earlier entry")),
            Err(reason) => parsed.skipped.push((name, reason)),
        }
    }
    Ok(parsed)
}

/// listNews's parameters as the query string gives them, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawNewsQuery<'a> {
    /// Every `category`.
    pub categories: Vec<&'a str>,
    /// `lang`.
    pub lang: Option<&'a str>,
}

/// Which news a listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsFilter {
    pub lang: NewsLanguage,
    /// Only items having one of these; every item when empty.
    pub categories: BTreeSet<CategoryId>,
}

/// Most `category` values a listing takes.
const MAX_CATEGORIES: usize = 100;

impl RawNewsQuery<'_> {
    /// Checks the categories (integer ids) and picks the language: `lang` when it names a
    /// language news are published in, else English if `lang` is given; without `lang`,
    /// the caller's language when news are published in it, else English.
    pub fn validate(self, caller_language: Option<&str>) -> Result<NewsFilter, Violations> {
        let mut violations = Violations::new();
        let mut categories = BTreeSet::new();
        for raw in &self.categories {
            match raw.trim().parse::<i64>() {
                Ok(id) => {
                    categories.insert(CategoryId(id));
                }
                Err(_) => {
                    violations.push(FieldError::query("category", format!("{raw:?} is not a category id (an integer)")));
                    break;
                }
            }
        }
        if self.categories.len() > MAX_CATEGORIES {
            violations.push(FieldError::query("category", format!("at most {MAX_CATEGORIES} categories")));
        }
        let lang = match self.lang {
            Some(lang) => NewsLanguage::parse(lang),
            None => caller_language.and_then(NewsLanguage::parse),
        }
        .unwrap_or(NewsLanguage::En);
        violations.into_result(NewsFilter { lang, categories })
    }
}

impl NewsFilter {
    /// Whether the listing shows `item` (of the filter's language).
    pub fn admits(&self, item: &NewsItem) -> bool {
        item.lang == self.lang && (self.categories.is_empty() || item.categories.iter().any(|c| self.categories.contains(&c.id)))
    }
}

/// The message `triggerNewsUpdate` queues for the import (version 1): who asked, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewsImportRequest {
    pub version: u32,
    pub requested_by: UserPk,
    pub requested_at: Timestamp,
}

impl NewsImportRequest {
    /// The format's version.
    pub const VERSION: u32 = 1;

    /// An import asked for by `by` at `at`.
    pub fn new(by: UserPk, at: Timestamp) -> Self {
        Self {
            version: Self::VERSION,
            requested_by: by,
            requested_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Explora</title>
    <link>https://explora.example.test/</link>
    <description>News</description>
    <item>
      <guid>rss-1</guid>
      <title>Deliverability tips</title>
      <link>https://explora.example.test/news/1</link>
      <description>Keep your lists clean.</description>
      <pubDate>Tue, 10 Mar 2026 09:00:00 GMT</pubDate>
      <category>Email</category>
      <category>email</category>
      <category>Deliverability</category>
      <enclosure url="https://explora.example.test/1.png" type="image/png" length="1024"/>
    </item>
    <item>
      <title>No guid: the id comes from the link</title>
      <link>https://explora.example.test/news/2</link>
      <pubDate>Mon, 09 Mar 2026 09:00:00 GMT</pubDate>
    </item>
    <item>
      <guid>rss-3</guid>
      <title>Undated</title>
      <link>https://explora.example.test/news/3</link>
    </item>
    <item>
      <description>Nothing to name it by</description>
    </item>
  </channel>
</rss>"#;

    const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Explora</title>
  <id>urn:explora</id>
  <updated>2026-03-10T09:00:00Z</updated>
  <entry>
    <id>urn:explora:atom-1</id>
    <title>Journeys in Flow</title>
    <link rel="alternate" href="https://explora.example.test/atom/1"/>
    <link rel="enclosure" type="image/jpeg" href="https://explora.example.test/atom/1.jpg"/>
    <published>2026-03-08T10:30:00+01:00</published>
    <updated>2026-03-09T10:30:00Z</updated>
    <summary>Automate your journeys.</summary>
    <category term="automation" label="Automation"/>
  </entry>
  <entry>
    <id>urn:explora:atom-1</id>
    <title>The same id again</title>
    <link href="https://explora.example.test/atom/1b"/>
    <updated>2026-03-09T10:30:00Z</updated>
  </entry>
</feed>"#;

    const JSON_FEED: &str = r#"{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Explora",
  "items": [
    {
      "id": "json-1",
      "url": "https://explora.example.test/json/1",
      "title": "Hub segments",
      "content_text": "Segments update live.",
      "date_published": "2026-03-07T08:00:00Z",
      "tags": ["Hub", "Data"]
    },
    {
      "id": "json-2",
      "url": "ftp://explora.example.test/json/2",
      "title": "Not on the web",
      "date_published": "2026-03-07T08:00:00Z"
    }
  ]
}"#;

    #[test]
    fn rss_items_keep_their_guid_categories_and_picture() {
        let parsed = parse_feed(RSS.as_bytes()).unwrap();
        let first = &parsed.entries[0];
        assert_eq!(first.id, "rss-1");
        assert_eq!(first.title, "Deliverability tips");
        assert_eq!(first.summary, "Keep your lists clean.");
        assert_eq!(first.link, "https://explora.example.test/news/1");
        assert_eq!(first.published, "2026-03-10T09:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(first.categories, ["Email", "Deliverability"], "the same name twice is one category");
        assert_eq!(first.image.as_deref(), Some("https://explora.example.test/1.png"));
        assert_eq!(parsed.entries.len(), 2);
        assert_eq!(
            parsed.skipped.iter().map(|(_, reason)| *reason).collect::<Vec<_>>(),
            ["no publication date", "no id, and no link to derive one from"]
        );
    }

    #[test]
    fn an_item_without_guid_gets_the_same_id_on_every_parse() {
        let first = parse_feed(RSS.as_bytes()).unwrap().entries[1].id.clone();
        let again = parse_feed(RSS.as_bytes()).unwrap().entries[1].id.clone();
        assert!(!first.is_empty());
        assert_eq!(first, again);
    }

    #[test]
    fn atom_entries_are_parsed_and_a_repeated_id_is_skipped() {
        let parsed = parse_feed(ATOM.as_bytes()).unwrap();
        assert_eq!(parsed.entries.len(), 1);
        let entry = &parsed.entries[0];
        assert_eq!(entry.id, "urn:explora:atom-1");
        assert_eq!(entry.link, "https://explora.example.test/atom/1");
        assert_eq!(
            entry.published,
            "2026-03-08T09:30:00Z".parse::<Timestamp>().unwrap(),
            "published wins over updated"
        );
        assert_eq!(entry.categories, ["Automation"], "the label names the category");
        assert_eq!(entry.image.as_deref(), Some("https://explora.example.test/atom/1.jpg"));
        assert_eq!(
            parsed.skipped,
            [("urn:explora:atom-1".to_owned(), "the same id as an earlier entry")]
        );
    }

    #[test]
    fn json_feed_items_are_parsed() {
        let parsed = parse_feed(JSON_FEED.as_bytes()).unwrap();
        assert_eq!(parsed.entries.len(), 1);
        let entry = &parsed.entries[0];
        assert_eq!(entry.id, "json-1");
        assert_eq!(entry.summary, "Segments update live.");
        assert_eq!(entry.categories, ["Hub", "Data"]);
        assert_eq!(parsed.skipped, [("json-2".to_owned(), "no http(s) link")]);
    }

    #[test]
    fn a_document_that_is_no_feed_is_refused() {
        for document in ["", "<html><body>Maintenance</body></html>", "{\"items\": 3}", "not a feed"] {
            assert!(parse_feed(document.as_bytes()).is_err(), "{document:?}");
        }
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        let feed = RSS.replace("Keep your lists clean.", &"è".repeat(MAX_SUMMARY + 10));
        let summary = &parse_feed(feed.as_bytes()).unwrap().entries[0].summary;
        assert_eq!(summary.chars().count(), MAX_SUMMARY);
    }

    #[test]
    fn categories_are_numbered_by_their_key() {
        let entry = parse_feed(RSS.as_bytes()).unwrap().entries.remove(0);
        let known = BTreeMap::from([
            (
                "email".to_owned(),
                NewsCategory {
                    id: CategoryId(7),
                    name: "EMAIL".into(),
                },
            ),
            (
                "deliverability".to_owned(),
                NewsCategory {
                    id: CategoryId(8),
                    name: "Deliverability".into(),
                },
            ),
        ]);
        let item = entry.into_item(NewsLanguage::It, &known);
        assert_eq!(item.lang, NewsLanguage::It);
        assert_eq!(
            item.categories.iter().map(|c| c.id).collect::<Vec<_>>(),
            [CategoryId(7), CategoryId(8)]
        );
    }

    #[test]
    fn the_listing_language_falls_back_to_english() {
        let lang = |lang: Option<&str>, caller: Option<&str>| RawNewsQuery { categories: vec![], lang }.validate(caller).unwrap().lang;
        assert_eq!(lang(Some("it"), Some("en")), NewsLanguage::It);
        assert_eq!(lang(Some("fr"), Some("it")), NewsLanguage::En, "an unsupported lang is English");
        assert_eq!(lang(None, Some("it")), NewsLanguage::It, "else the caller's language");
        assert_eq!(lang(None, Some("de")), NewsLanguage::En);
        assert_eq!(lang(None, None), NewsLanguage::En);
    }

    #[test]
    fn categories_must_be_integers() {
        let filter = RawNewsQuery {
            categories: vec!["3", " 5", "3"],
            lang: None,
        }
        .validate(None)
        .unwrap();
        assert_eq!(filter.categories, BTreeSet::from([CategoryId(3), CategoryId(5)]));
        let errors = RawNewsQuery {
            categories: vec!["3", "email"],
            lang: None,
        }
        .validate(None)
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path.to_string(), "category");
    }

    #[test]
    fn the_filter_admits_any_of_the_categories() {
        let item = |ids: &[i64]| NewsItem {
            id: "x".into(),
            lang: NewsLanguage::En,
            title: "t".into(),
            summary: String::new(),
            link: "https://x.test/".into(),
            image: None,
            published: Timestamp::UNIX_EPOCH,
            categories: ids
                .iter()
                .map(|id| NewsCategory {
                    id: CategoryId(*id),
                    name: id.to_string(),
                })
                .collect(),
        };
        let filter = NewsFilter {
            lang: NewsLanguage::En,
            categories: BTreeSet::from([CategoryId(1), CategoryId(2)]),
        };
        assert!(filter.admits(&item(&[2, 9])));
        assert!(!filter.admits(&item(&[9])));
        assert!(!filter.admits(&NewsItem {
            lang: NewsLanguage::It,
            ..item(&[1])
        }));
        let every = NewsFilter {
            categories: BTreeSet::new(),
            ..filter
        };
        assert!(every.admits(&item(&[])));
    }

    #[test]
    fn feed_urls_are_web_or_absolute_files() {
        assert_eq!(
            FeedUrl::parse("https://explora.example.test/feed.xml?key=s3cret")
                .unwrap()
                .location(),
            FeedLocation::Web
        );
        for bad in [
            "ftp://x.test/feed",
            "https://",
            "https:///path",
            "file://relative",
            "/etc/feed.xml",
            "https://x.test/a b",
        ] {
            assert!(FeedUrl::parse(bad).is_none(), "{bad}");
        }
        let path = Path::new("/data/My feeds/news-it.xml");
        let url = FeedUrl::from_file_path(path).unwrap();
        assert_eq!(url.as_str(), "file:///data/My%20feeds/news-it.xml");
        assert_eq!(url.location(), FeedLocation::File(path.to_owned()));
    }

    #[test]
    fn a_redacted_url_shows_no_credentials_or_query() {
        let url = FeedUrl::parse("https://user:pw@explora.example.test/feed?key=s3cret#top").unwrap();
        assert_eq!(url.redacted(), "https://explora.example.test/feed");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn feeds_are_configured_per_language() {
        let feeds = NewsFeeds::configured(|name| (name == "NEWS_FEED_URL_IT").then(|| "https://x.test/it".to_owned())).unwrap();
        assert_eq!(feeds.url(NewsLanguage::It).map(FeedUrl::as_str), Some("https://x.test/it"));
        assert!(feeds.url(NewsLanguage::En).is_none());
        let local = FeedUrl::parse("file:///tmp/en.xml").unwrap();
        let feeds = feeds
            .or_default(NewsLanguage::It, local.clone())
            .or_default(NewsLanguage::En, local.clone());
        assert_eq!(
            feeds.url(NewsLanguage::It).map(FeedUrl::as_str),
            Some("https://x.test/it"),
            "configured wins"
        );
        assert_eq!(feeds.url(NewsLanguage::En), Some(&local));
        let bad = NewsFeeds::configured(|name| (name == "NEWS_FEED_URL_EN").then(|| "gopher://x".to_owned())).unwrap_err();
        assert_eq!(bad.name, "NEWS_FEED_URL_EN");
    }
}
