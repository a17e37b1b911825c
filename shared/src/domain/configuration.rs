//! A customer's technical configuration (API key, smart relay, generic users, data
//! exchanges), its SFTP accounts and its applications (hub, plan, send; hub with its
//! workspaces, nodes, sources and their counts). Secrets are kept as hashes only.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::secret::{ExposeSecret, SecretString};

/// The customer's configuration as stored; a customer without one has the default (empty) one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerConfiguration {
    pub api_key: Option<ApiKey>,
    pub smart_relay_enable: bool,
    pub generic_users: Vec<GenericUser>,
    pub data_exchanges: Vec<DataExchange>,
}

/// The customer's API key: a SHA-256 digest to check a presented key and a prefix to
/// recognise it, never the key itself.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    pub prefix: String,
    /// Lowercase hex SHA-256 of the key. A fast hash suffices: keys are long and random.
    pub sha256: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("prefix", &self.prefix)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

/// How many leading characters of an API key are kept to recognise it.
pub const API_KEY_PREFIX_CHARS: usize = 8;

impl ApiKey {
    /// The record of the key `value`, created at `now` and never used.
    pub fn new(value: &SecretString, expires_at: Option<Timestamp>, now: Timestamp) -> ApiKey {
        ApiKey {
            id: uuid::Uuid::new_v4().to_string(),
            prefix: value.expose_secret().chars().take(API_KEY_PREFIX_CHARS).collect(),
            sha256: api_key_digest(value),
            created_at: now,
            expires_at,
            last_used_at: None,
        }
    }

    /// Whether `value` is this key.
    pub fn is(&self, value: &SecretString) -> bool {
        self.sha256 == api_key_digest(value)
    }
}

fn api_key_digest(value: &SecretString) -> String {
    digest(&SHA256, value.expose_secret().as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("no randomness available")]
pub struct RandomnessUnavailable;

/// A new random API key: 256 bits, URL-safe base64 (43 characters).
pub fn generate_api_key() -> Result<SecretString, RandomnessUnavailable> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| RandomnessUnavailable)?;
    Ok(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
}

/// A shared (non-personal) account of the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenericUser {
    pub username: String,
    pub description: Option<String>,
    pub enabled: bool,
}

/// How a data exchange moves files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExchangeProtocol {
    Sftp,
    Https,
}

/// Which way a data exchange moves files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExchangeDirection {
    Import,
    Export,
}

/// A configured file import or export of the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataExchange {
    pub id: String,
    pub name: String,
    pub protocol: ExchangeProtocol,
    pub direction: ExchangeDirection,
    pub enabled: bool,
}

/// How an SFTP account logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SftpAuthentication {
    Password,
    PublicKey,
}

/// An SFTP account of the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SftpAccount {
    pub username: String,
    pub host: String,
    pub port: u16,
    pub home_directory: String,
    pub authentication: SftpAuthentication,
    /// `SHA256:<base64>` fingerprints of the authorised keys (PUBLIC_KEY accounts).
    pub public_key_fingerprints: Vec<String>,
    /// PASSWORD accounts only.
    pub password: Option<SftpPassword>,
    pub enabled: bool,
}

/// An SFTP account's password: its argon2id hash and when it was set and last used.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SftpPassword {
    /// PHC string of the argon2id hash.
    pub hash: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl fmt::Debug for SftpPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SftpPassword")
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

/// The OpenSSH fingerprint (`SHA256:<unpadded base64>`) of a public key blob.
pub fn fingerprint(public_key_blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(digest(&SHA256, public_key_blob)))
}

/// The applications whose configuration a customer may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicationName {
    Hub,
    Plan,
    Send,
}

impl ApplicationName {
    /// Every application, in a fixed order.
    pub const ALL: [ApplicationName; 3] = [ApplicationName::Hub, ApplicationName::Plan, ApplicationName::Send];

    /// The application's name, as in paths and keys.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationName::Hub => "hub",
            ApplicationName::Plan => "plan",
            ApplicationName::Send => "send",
        }
    }
}

/// A name that is not one of [`ApplicationName::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("not hub, plan or send")]
pub struct UnknownApplication;

impl FromStr for ApplicationName {
    type Err = UnknownApplication;

    fn from_str(name: &str) -> Result<Self, UnknownApplication> {
        Self::ALL.into_iter().find(|app| app.as_str() == name).ok_or(UnknownApplication)
    }
}

/// A customer's configuration of one application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub enabled: bool,
    pub activated_at: Option<Timestamp>,
    pub settings: BTreeMap<String, String>,
    /// Hub only.
    pub workspaces: Vec<HubWorkspace>,
}

/// A hub workspace of a customer, with its nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubWorkspace {
    pub id: String,
    pub name: String,
    pub nodes: Vec<HubNode>,
}

/// A node of a hub workspace: how many customer profiles it holds, and its sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubNode {
    pub id: String,
    pub name: String,
    pub count: u64,
    pub sources: Vec<HubSource>,
}

/// A source feeding a hub node, with how many profiles it sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubSource {
    pub id: String,
    pub name: String,
    pub count: u64,
}

/// What a hub counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CounterKind {
    Node,
    Source,
}

/// One counter of a hub workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubCounter<'a> {
    pub kind: CounterKind,
    pub id: &'a str,
    pub name: &'a str,
    /// For a source, the node it feeds.
    pub node_id: Option<&'a str>,
    pub count: u64,
}

impl HubWorkspace {
    /// Each of the `wanted` nodes' counter followed by its sources', in the workspace's
    /// order; every node when `wanted` is empty. An id that is not a node here is an error.
    pub fn counters<'a>(&'a self, wanted: &[&'a str]) -> Result<Vec<HubCounter<'a>>, &'a str> {
        if let Some(unknown) = wanted.iter().find(|id| !self.nodes.iter().any(|node| node.id == **id)) {
            return Err(unknown);
        }
        Ok(self
            .nodes
            .iter()
            .filter(|node| wanted.is_empty() || wanted.contains(&node.id.as_str()))
            .flat_map(|node| {
                let own = HubCounter {
                    kind: CounterKind::Node,
                    id: &node.id,
                    name: &node.name,
                    node_id: None,
                    count: node.count,
                };
                std::iter::once(own).chain(node.sources.iter().map(|source| HubCounter {
                    kind: CounterKind::Source,
                    id: &source.id,
                    name: &source.name,
                    node_id: Some(&node.id),
                    count: source.count,
                }))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> HubWorkspace {
        let source = |id: &str, count| HubSource {
            id: id.into(),
            name: id.to_uppercase(),
            count,
        };
        HubWorkspace {
            id: "ws".into(),
            name: "Workspace".into(),
            nodes: vec![
                HubNode {
                    id: "a".into(),
                    name: "A".into(),
                    count: 10,
                    sources: vec![source("a1", 7), source("a2", 3)],
                },
                HubNode {
                    id: "b".into(),
                    name: "B".into(),
                    count: 5,
                    sources: vec![],
                },
            ],
        }
    }

    #[test]
    fn counters_list_each_node_then_its_sources() {
        let ws = workspace();
        let all = ws.counters(&[]).unwrap();
        let summary: Vec<_> = all.iter().map(|c| (c.kind, c.id, c.node_id, c.count)).collect();
        assert_eq!(
            summary,
            [
                (CounterKind::Node, "a", None, 10),
                (CounterKind::Source, "a1", Some("a"), 7),
                (CounterKind::Source, "a2", Some("a"), 3),
                (CounterKind::Node, "b", None, 5),
            ]
        );
        let only_b = ws.counters(&["b"]).unwrap();
        assert_eq!(only_b.len(), 1);
        assert_eq!(only_b[0].name, "B");
        assert_eq!(ws.counters(&["b", "zz"]), Err("zz"));
    }

    #[test]
    fn an_api_key_is_kept_as_digest_and_prefix_only() {
        let value = generate_api_key().unwrap();
        assert_eq!(value.expose_secret().len(), 43);
        let key = ApiKey::new(&value, None, Timestamp::UNIX_EPOCH);
        assert_eq!(key.prefix, value.expose_secret()[..8]);
        assert_eq!(key.sha256.len(), 64);
        assert!(key.is(&value));
        assert!(!key.is(&generate_api_key().unwrap()));
        let printed = format!("{key:?}");
        assert!(!printed.contains(&key.sha256) && !printed.contains(value.expose_secret()));
        assert_ne!(generate_api_key().unwrap().expose_secret(), value.expose_secret());
    }

    #[test]
    fn fingerprints_are_openssh_sha256() {
        let print = fingerprint(b"ssh-ed25519 blob");
        assert!(print.starts_with("SHA256:") && print.len() == 50, "{print}");
        assert_ne!(print, fingerprint(b"ssh-ed25519 other blob"));
    }

    #[test]
    fn sftp_password_hashes_never_print() {
        let password = SftpPassword {
            hash: "$argon2id$v=19$secret".into(),
            created_at: Timestamp::UNIX_EPOCH,
            last_used_at: None,
        };
        assert!(!format!("{password:?}").contains("argon2"));
    }

    #[test]
    fn application_names_round_trip() {
        for app in ApplicationName::ALL {
            assert_eq!(app.as_str().parse::<ApplicationName>().ok(), Some(app));
        }
        assert!("flow".parse::<ApplicationName>().is_err());
        assert!("Hub".parse::<ApplicationName>().is_err());
    }
}
