//! The demo news feeds: a small Explora feed per language, written into the data
//! directory at first start (Italian as RSS 2.0, English as Atom), which the stand-in
//! imports unless the environment names feeds of its own (`NEWS_FEED_URL_IT`,
//! `NEWS_FEED_URL_EN`). Both feeds share category names (Deliverability, Email, Hub), so
//! one category id stands for the same subject in both languages.

use std::io;
use std::path::Path;

use shared::domain::news::{FeedUrl, NewsFeeds, NewsLanguage};

/// The Italian feed, RSS 2.0: four items, newest first.
const ITALIAN_RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Explora (demo)</title>
    <link>https://explora.demo.accountcentral.test/it/</link>
    <description>Novità della piattaforma</description>
    <language>it</language>
    <item>
      <guid isPermaLink="false">explora-it-2026-03-deliverability</guid>
      <title>Cinque consigli di deliverability</title>
      <link>https://explora.demo.accountcentral.test/it/deliverability</link>
      <description>Liste pulite, autenticazione DKIM e invii regolari: come arrivare in inbox.</description>
      <pubDate>Tue, 10 Mar 2026 09:00:00 GMT</pubDate>
      <category>Deliverability</category>
      <category>Email</category>
      <enclosure url="https://explora.demo.accountcentral.test/it/deliverability.png" type="image/png" length="20480"/>
    </item>
    <item>
      <guid isPermaLink="false">explora-it-2026-02-hub-segmenti</guid>
      <title>Segmenti in tempo reale in Hub</title>
      <link>https://explora.demo.accountcentral.test/it/hub-segmenti</link>
      <description>I segmenti di Hub si aggiornano a ogni evento dei clienti.</description>
      <pubDate>Fri, 20 Feb 2026 09:00:00 GMT</pubDate>
      <category>Hub</category>
      <category>Dati</category>
    </item>
    <item>
      <guid isPermaLink="false">explora-it-2026-02-flow</guid>
      <title>Nuovi percorsi in Flow</title>
      <link>https://explora.demo.accountcentral.test/it/flow-percorsi</link>
      <description>Attese, condizioni e rami paralleli nei percorsi automatici.</description>
      <pubDate>Thu, 05 Feb 2026 09:00:00 GMT</pubDate>
      <category>Automazione</category>
    </item>
    <item>
      <guid isPermaLink="false">explora-it-2026-01-send-report</guid>
      <title>Send: report più veloci</title>
      <link>https://explora.demo.accountcentral.test/it/send-report</link>
      <description>I report delle campagne ora si aprono in meno di un secondo.</description>
      <pubDate>Thu, 15 Jan 2026 09:00:00 GMT</pubDate>
      <category>Email</category>
      <category>Prodotto</category>
    </item>
  </channel>
</rss>
"#;

/// The English feed, Atom: five entries, newest first.
const ENGLISH_ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>Explora (demo)</title>
  <id>urn:explora:demo:en</id>
  <link rel="self" href="https://explora.demo.accountcentral.test/en/feed.atom"/>
  <updated>2026-03-10T09:00:00Z</updated>
  <entry>
    <id>urn:explora:en:2026-03-deliverability</id>
    <title>Five deliverability tips</title>
    <link rel="alternate" href="https://explora.demo.accountcentral.test/en/deliverability"/>
    <link rel="enclosure" type="image/png" href="https://explora.demo.accountcentral.test/en/deliverability.png"/>
    <published>2026-03-10T09:00:00Z</published>
    <updated>2026-03-10T09:00:00Z</updated>
    <summary>Clean lists, DKIM authentication and a steady pace: how to reach the inbox.</summary>
    <category term="deliverability" label="Deliverability"/>
    <category term="email" label="Email"/>
  </entry>
  <entry>
    <id>urn:explora:en:2026-02-hub-segments</id>
    <title>Real-time segments in Hub</title>
    <link rel="alternate" href="https://explora.demo.accountcentral.test/en/hub-segments"/>
    <published>2026-02-20T09:00:00Z</published>
    <updated>2026-02-20T09:00:00Z</updated>
    <summary>Hub's segments now follow every customer event as it happens.</summary>
    <category term="hub" label="Hub"/>
    <category term="data" label="Data"/>
  </entry>
  <entry>
    <id>urn:explora:en:2026-02-flow</id>
    <title>New journeys in Flow</title>
    <link rel="alternate" href="https://explora.demo.accountcentral.test/en/flow-journeys"/>
    <published>2026-02-05T09:00:00Z</published>
    <updated>2026-02-05T09:00:00Z</updated>
    <summary>Waits, conditions and parallel branches in automated journeys.</summary>
    <category term="automation" label="Automation"/>
  </entry>
  <entry>
    <id>urn:explora:en:2026-01-send-reports</id>
    <title>Send: faster reports</title>
    <link rel="alternate" href="https://explora.demo.accountcentral.test/en/send-reports"/>
    <published>2026-01-15T09:00:00Z</published>
    <updated>2026-01-15T09:00:00Z</updated>
    <summary>Campaign reports now open in under a second.</summary>
    <category term="email" label="Email"/>
    <category term="product" label="Product"/>
  </entry>
  <entry>
    <id>urn:explora:en:2026-01-two-factor</id>
    <title>Two-factor authentication for every user</title>
    <link rel="alternate" href="https://explora.demo.accountcentral.test/en/two-factor"/>
    <published>2026-01-02T09:00:00Z</published>
    <updated>2026-01-02T09:00:00Z</updated>
    <summary>Administrators can now require a second factor at login.</summary>
    <category term="security" label="Security"/>
  </entry>
</feed>
"#;

/// Each language's demo feed: its file in the data directory and its document.
const FEEDS: [(NewsLanguage, &str, &str); 2] = [
    (NewsLanguage::It, "news-it.rss.xml", ITALIAN_RSS),
    (NewsLanguage::En, "news-en.atom.xml", ENGLISH_ATOM),
];

/// `configured`, with the demo feed (written under `data_dir` unless it is there
/// already, and then kept as it is) for each language it names no feed for.
pub fn local_feeds(data_dir: &Path, configured: NewsFeeds) -> io::Result<NewsFeeds> {
    let mut feeds = configured;
    for (language, file, document) in FEEDS {
        if feeds.url(language).is_some() {
            continue;
        }
        let path = std::path::absolute(data_dir.join(file))?;
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut created) => io::Write::write_all(&mut created, document.as_bytes())?,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
        let url = FeedUrl::from_file_path(&path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a UTF-8 path", path.display())))?;
        feeds = feeds.or_default(language, url);
    }
    Ok(feeds)
}

#[cfg(test)]
mod tests {
    use shared::domain::news::{FeedLocation, parse_feed};

    use super::*;

    #[test]
    fn the_demo_feeds_parse_whole() {
        for (language, _, document) in FEEDS {
            let parsed = parse_feed(document.as_bytes()).unwrap();
            assert!(parsed.skipped.is_empty(), "{language}: {:?}", parsed.skipped);
            assert!(parsed.entries.len() >= 4, "{language}");
            assert!(parsed.entries.iter().all(|entry| !entry.categories.is_empty()), "{language}");
        }
    }

    #[test]
    fn the_demo_feeds_are_written_once_and_fill_only_what_is_not_configured() {
        let dir = tempfile::tempdir().unwrap();
        let mine = FeedUrl::parse("https://explora.example.test/en.json").unwrap();
        let feeds = local_feeds(dir.path(), NewsFeeds::default().or_default(NewsLanguage::En, mine.clone())).unwrap();
        assert_eq!(feeds.url(NewsLanguage::En), Some(&mine));
        assert!(!dir.path().join("news-en.atom.xml").exists(), "no file for a configured feed");
        let italian = dir.path().join("news-it.rss.xml");
        assert_eq!(
            feeds.url(NewsLanguage::It).map(FeedUrl::location),
            Some(FeedLocation::File(std::path::absolute(&italian).unwrap()))
        );
        std::fs::write(&italian, "edited").unwrap();
        local_feeds(dir.path(), NewsFeeds::default()).unwrap();
        assert_eq!(std::fs::read_to_string(&italian).unwrap(), "edited", "an existing feed is kept");
        assert!(dir.path().join("news-en.atom.xml").exists());
    }
}
