//! An operator's configuration file: read in full, every bad value named by its JSON
//! pointer, before anything is written.
//!
//! ```json
//! {"customers": [{"groupPk": 100,
//!   "configuration": {"apiKey": {"value": "...", "expirationDate": null}, "smartRelayEnable": true,
//!                     "genericUsers": [...], "dataExchanges": [...]},
//!   "sftp": [{"username": "...", "host": "...", "port": 22, "homeDirectory": "/in",
//!             "authentication": "PASSWORD", "password": "...", "enabled": true}],
//!   "applications": {"hub": {"enabled": true, "activationDate": null, "settings": {}, "workspaces": [...]},
//!                    "plan": null}}]}
//! ```
//! An omitted section or member leaves what is stored as it is; `null` removes an API key
//! or an application; `sftp` replaces every account.

use std::collections::BTreeMap;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use jiff::Timestamp;
use serde_json::{Map, Value};
use shared::domain::configuration::{
    ApiKey, Application, ApplicationName, CustomerConfiguration, DataExchange, ExchangeDirection, ExchangeProtocol, GenericUser, HubNode,
    HubSource, HubWorkspace, SftpAccount, SftpAuthentication, SftpPassword,
};
use shared::domain::ids::GroupPk;
use shared::domain::password::{self, HashError};
use shared::domain::secret::SecretString;
use shared::domain::validation::Violations;

const MAX_TEXT: usize = 200;
const MAX_ID: usize = 64;
const MAX_DESCRIPTION: usize = 1000;
const MAX_HOST: usize = 253;
const MAX_PATH: usize = 1024;
const API_KEY_CHARS: (usize, usize) = (32, 256);
const SFTP_PASSWORD_CHARS: (usize, usize) = (12, 128);

/// A validated configuration file: what to change, customer by customer.
#[derive(Debug)]
pub struct ConfigurationFile {
    pub customers: Vec<CustomerImport>,
}

/// What the file says about one customer.
#[derive(Debug)]
pub struct CustomerImport {
    pub group_pk: GroupPk,
    pub configuration: Option<ConfigurationInput>,
    /// Every SFTP account of the customer, when given.
    pub sftp: Option<Vec<SftpAccountInput>>,
    /// `Some` replaces the application, `None` removes it; one not listed stays as it is.
    pub applications: BTreeMap<ApplicationName, Option<Application>>,
}

/// Configuration members; `None` leaves the stored value.
#[derive(Debug, Default)]
pub struct ConfigurationInput {
    /// `Some(None)` removes the key.
    pub api_key: Option<Option<ApiKeyInput>>,
    pub smart_relay_enable: Option<bool>,
    pub generic_users: Option<Vec<GenericUser>>,
    pub data_exchanges: Option<Vec<DataExchange>>,
}

/// A plaintext API key from the file, hashed when stored.
#[derive(Debug)]
pub struct ApiKeyInput {
    pub value: SecretString,
    pub expires_at: Option<Timestamp>,
}

/// An SFTP account from the file, with its plaintext password if one is given.
#[derive(Debug, Clone)]
pub struct SftpAccountInput {
    /// The account, its password left out.
    pub account: SftpAccount,
    pub password: Option<SecretString>,
    /// Where the account is in the file.
    pub pointer: String,
}

/// Why an SFTP account cannot be stored.
#[derive(Debug, thiserror::Error)]
pub enum SftpInputError {
    /// A PASSWORD account without a password in the file or in the store.
    #[error("is required: no password is stored for this account")]
    PasswordRequired,
    #[error(transparent)]
    Hash(#[from] HashError),
}

impl ConfigurationInput {
    /// `stored` with the given members replaced. The same API key as the stored one
    /// keeps its id and dates, so that importing a file twice changes nothing.
    pub fn apply(self, stored: Option<&CustomerConfiguration>, now: Timestamp) -> CustomerConfiguration {
        let mut configuration = stored.cloned().unwrap_or_default();
        if let Some(key) = self.api_key {
            configuration.api_key = key.map(|key| match &configuration.api_key {
                Some(current) if current.is(&key.value) => ApiKey {
                    expires_at: key.expires_at,
                    ..current.clone()
                },
                _ => ApiKey::new(&key.value, key.expires_at, now),
            });
        }
        if let Some(enabled) = self.smart_relay_enable {
            configuration.smart_relay_enable = enabled;
        }
        if let Some(users) = self.generic_users {
            configuration.generic_users = users;
        }
        if let Some(exchanges) = self.data_exchanges {
            configuration.data_exchanges = exchanges;
        }
        configuration
    }
}

impl SftpAccountInput {
    /// The account to store, given the stored account of the same username: a new
    /// password is hashed; the same password, or none given, keeps the stored one and its dates.
    pub fn resolve(self, stored: Option<&SftpAccount>, now: Timestamp) -> Result<SftpAccount, SftpInputError> {
        let kept = stored.and_then(|s| s.password.as_ref());
        let password = match (self.account.authentication, self.password) {
            (SftpAuthentication::PublicKey, _) => None,
            (SftpAuthentication::Password, None) => Some(kept.cloned().ok_or(SftpInputError::PasswordRequired)?),
            (SftpAuthentication::Password, Some(given)) => Some(match kept {
                Some(kept) if password::verify(&given, &kept.hash) => kept.clone(),
                _ => SftpPassword {
                    hash: password::hash(&given)?,
                    created_at: now,
                    last_used_at: None,
                },
            }),
        };
        Ok(SftpAccount { password, ..self.account })
    }
}

/// Reads the file's JSON document; every violation is reported, each at its pointer.
pub fn parse(document: &Value, now: Timestamp) -> Result<ConfigurationFile, Violations> {
    let mut v = Violations::new();
    let items = Obj::read(document, String::new(), &["customers"], &mut v)
        .and_then(|root| root.array("customers", &mut v))
        .unwrap_or_default();
    // Over the raw items, so that a repeated customer is named even when an entry is bad otherwise.
    unique(
        items.iter().filter_map(|(at, value)| {
            let group = value.get("groupPk")?.as_i64()?;
            Some((format!("{at}/groupPk"), group.to_string()))
        }),
        "customer",
        &mut v,
    );
    let customers = items
        .into_iter()
        .filter_map(|(at, value)| customer(value, at, now, &mut v))
        .collect();
    v.into_result(ConfigurationFile { customers })
}

fn customer(value: &Value, at: String, now: Timestamp, v: &mut Violations) -> Option<CustomerImport> {
    let obj = Obj::read(value, at, &["groupPk", "configuration", "sftp", "applications"], v)?;
    let group_pk = obj.group_pk(v);
    let configuration = obj
        .get("configuration")
        .map(|value| configuration(value, obj.at("configuration"), now, v));
    let sftp = obj.array_if_present("sftp", v).map(|items| {
        let accounts: Vec<_> = items?.into_iter().map(|(at, value)| sftp_account(value, at, v)).collect();
        unique(
            accounts
                .iter()
                .flatten()
                .map(|a| (format!("{}/username", a.pointer), a.account.username.clone())),
            "username",
            v,
        );
        accounts.into_iter().collect::<Option<Vec<_>>>()
    });
    let applications = obj.get("applications").map(|value| applications(value, obj.at("applications"), v));
    Some(CustomerImport {
        group_pk: group_pk?,
        configuration: omittable(configuration)?,
        sftp: omittable(sftp)?,
        applications: omittable(applications)?.unwrap_or_default(),
    })
}

fn configuration(value: &Value, at: String, now: Timestamp, v: &mut Violations) -> Option<ConfigurationInput> {
    let obj = Obj::read(value, at, &["apiKey", "smartRelayEnable", "genericUsers", "dataExchanges"], v)?;
    let api_key = obj.get("apiKey").map(|value| match value {
        Value::Null => Some(None),
        value => api_key(value, obj.at("apiKey"), now, v).map(Some),
    });
    let smart_relay_enable = obj.get("smartRelayEnable").map(|_| obj.flag("smartRelayEnable", v));
    let generic_users = obj.array_if_present("genericUsers", v).map(|items| {
        let users: Vec<_> = items?.into_iter().map(|(at, value)| generic_user(value, at, v)).collect();
        unique(
            users
                .iter()
                .flatten()
                .map(|(at, user)| (format!("{at}/username"), user.username.to_lowercase())),
            "username",
            v,
        );
        users.into_iter().map(|user| user.map(|(_, user)| user)).collect::<Option<Vec<_>>>()
    });
    let data_exchanges = obj.array_if_present("dataExchanges", v).map(|items| {
        let exchanges: Vec<_> = items?.into_iter().map(|(at, value)| data_exchange(value, at, v)).collect();
        unique(
            exchanges
                .iter()
                .flatten()
                .map(|(at, exchange)| (format!("{at}/id"), exchange.id.clone())),
            "id",
            v,
        );
        exchanges.into_iter().map(|e| e.map(|(_, e)| e)).collect::<Option<Vec<_>>>()
    });
    Some(ConfigurationInput {
        api_key: omittable(api_key)?,
        smart_relay_enable: omittable(smart_relay_enable)?,
        generic_users: omittable(generic_users)?,
        data_exchanges: omittable(data_exchanges)?,
    })
}

fn api_key(value: &Value, at: String, now: Timestamp, v: &mut Violations) -> Option<ApiKeyInput> {
    let obj = Obj::read(value, at, &["value", "expirationDate"], v)?;
    let key = obj.secret(
        "value",
        API_KEY_CHARS,
        |c| c.is_ascii_graphic(),
        "printable ASCII without spaces",
        v,
    );
    let expires_at = obj.optional_time("expirationDate", v).and_then(|at| match at {
        Some(at) if at <= now => {
            v.body(obj.at("expirationDate"), "must be in the future");
            None
        }
        at => Some(at),
    });
    Some(ApiKeyInput {
        value: key?,
        expires_at: expires_at?,
    })
}

fn generic_user(value: &Value, at: String, v: &mut Violations) -> Option<(String, GenericUser)> {
    let obj = Obj::read(value, at, &["username", "description", "enabled"], v)?;
    let username = obj.id("username", v);
    let description = obj.optional_text("description", MAX_DESCRIPTION, v);
    let enabled = obj.flag("enabled", v);
    Some((
        obj.pointer,
        GenericUser {
            username: username?,
            description: description?,
            enabled: enabled?,
        },
    ))
}

fn data_exchange(value: &Value, at: String, v: &mut Violations) -> Option<(String, DataExchange)> {
    let obj = Obj::read(value, at, &["id", "name", "protocol", "direction", "enabled"], v)?;
    let id = obj.id("id", v);
    let name = obj.text("name", MAX_TEXT, v);
    let protocol = obj.choice(
        "protocol",
        &[("SFTP", ExchangeProtocol::Sftp), ("HTTPS", ExchangeProtocol::Https)],
        v,
    );
    let direction = obj.choice(
        "direction",
        &[("IMPORT", ExchangeDirection::Import), ("EXPORT", ExchangeDirection::Export)],
        v,
    );
    let enabled = obj.flag("enabled", v);
    Some((
        obj.pointer,
        DataExchange {
            id: id?,
            name: name?,
            protocol: protocol?,
            direction: direction?,
            enabled: enabled?,
        },
    ))
}

fn sftp_account(value: &Value, at: String, v: &mut Violations) -> Option<SftpAccountInput> {
    let obj = Obj::read(
        value,
        at,
        &[
            "username",
            "host",
            "port",
            "homeDirectory",
            "authentication",
            "password",
            "publicKeyFingerprints",
            "enabled",
        ],
        v,
    )?;
    let username = obj.id("username", v);
    let host = obj.text("host", MAX_HOST, v).and_then(|host| {
        let valid = is_host(&host);
        if !valid {
            v.body(obj.at("host"), "must be a host name or an IP address");
        }
        valid.then_some(host)
    });
    let port = obj.required("port", v).and_then(|value| {
        let port = value.as_u64().filter(|p| (1..=65535).contains(p)).map(|p| p as u16);
        if port.is_none() {
            v.body(obj.at("port"), "must be 1..65535");
        }
        port
    });
    let home_directory = obj.text("homeDirectory", MAX_PATH, v).and_then(|path| {
        let valid = path.starts_with('/') && !path.split('/').any(|part| part == "..");
        if !valid {
            v.body(obj.at("homeDirectory"), "must be an absolute path without ..");
        }
        valid.then_some(path)
    });
    let authentication = obj.choice(
        "authentication",
        &[
            ("PASSWORD", SftpAuthentication::Password),
            ("PUBLIC_KEY", SftpAuthentication::PublicKey),
        ],
        v,
    );
    // Absent on a PASSWORD account: the stored password stays (checked against the store before writing).
    let password = match (authentication, obj.get("password")) {
        (Some(SftpAuthentication::Password), Some(_)) => obj
            .secret(
                "password",
                SFTP_PASSWORD_CHARS,
                |c| !c.is_control(),
                "without control characters",
                v,
            )
            .map(Some),
        (Some(SftpAuthentication::PublicKey), Some(_)) => {
            v.body(obj.at("password"), "is only for PASSWORD authentication");
            None
        }
        _ => Some(None),
    };
    let fingerprints = match (authentication, obj.get("publicKeyFingerprints")) {
        (Some(SftpAuthentication::Password), Some(_)) => {
            v.body(obj.at("publicKeyFingerprints"), "is only for PUBLIC_KEY authentication");
            None
        }
        (Some(SftpAuthentication::PublicKey), _) => obj.array("publicKeyFingerprints", v).and_then(|items| fingerprints(items, &obj, v)),
        _ => Some(Vec::new()),
    };
    let enabled = obj.flag("enabled", v);
    Some(SftpAccountInput {
        account: SftpAccount {
            username: username?,
            host: host?,
            port: port?,
            home_directory: home_directory?,
            authentication: authentication?,
            public_key_fingerprints: fingerprints?,
            password: None,
            enabled: enabled?,
        },
        password: password?,
        pointer: obj.pointer,
    })
}

fn fingerprints(items: Vec<(String, &Value)>, obj: &Obj, v: &mut Violations) -> Option<Vec<String>> {
    if items.is_empty() {
        v.body(obj.at("publicKeyFingerprints"), "must list at least one key");
        return None;
    }
    let prints: Vec<Option<(String, String)>> = items
        .into_iter()
        .map(|(at, value)| match value.as_str() {
            Some(print) if is_fingerprint(print) => Some((at, print.to_owned())),
            _ => {
                v.body(at, "must be SHA256:<43 base64 characters>");
                None
            }
        })
        .collect();
    unique(prints.iter().flatten().cloned(), "fingerprint", v);
    prints.into_iter().map(|p| p.map(|(_, print)| print)).collect()
}

fn applications(value: &Value, at: String, v: &mut Violations) -> Option<BTreeMap<ApplicationName, Option<Application>>> {
    let names: Vec<&str> = ApplicationName::ALL.iter().map(|app| app.as_str()).collect();
    let obj = Obj::read(value, at, &names, v)?;
    let entries: Vec<_> = ApplicationName::ALL
        .into_iter()
        .filter_map(|app| {
            let value = obj.get(app.as_str())?;
            let at = obj.at(app.as_str());
            Some(match value {
                Value::Null => Some((app, None)),
                value => application(app, value, at, v).map(|config| (app, Some(config))),
            })
        })
        .collect();
    entries.into_iter().collect()
}

fn application(app: ApplicationName, value: &Value, at: String, v: &mut Violations) -> Option<Application> {
    let obj = Obj::read(value, at, &["enabled", "activationDate", "settings", "workspaces"], v)?;
    let enabled = obj.flag("enabled", v);
    let activated_at = obj.optional_time("activationDate", v);
    let settings = match obj.get("settings") {
        None => Some(BTreeMap::new()),
        Some(value) => settings(value, obj.at("settings"), v),
    };
    let workspaces = match (app, obj.get("workspaces")) {
        (ApplicationName::Hub, Some(_)) => obj.array("workspaces", v).and_then(|items| {
            let workspaces: Vec<_> = items.into_iter().map(|(at, value)| workspace(value, at, v)).collect();
            unique(
                workspaces.iter().flatten().map(|(at, ws)| (format!("{at}/id"), ws.id.clone())),
                "workspace id",
                v,
            );
            workspaces.into_iter().map(|w| w.map(|(_, w)| w)).collect::<Option<Vec<_>>>()
        }),
        (_, Some(_)) => {
            v.body(obj.at("workspaces"), "is only for hub");
            None
        }
        (_, None) => Some(Vec::new()),
    };
    Some(Application {
        enabled: enabled?,
        activated_at: activated_at?,
        settings: settings?,
        workspaces: workspaces?,
    })
}

fn settings(value: &Value, at: String, v: &mut Violations) -> Option<BTreeMap<String, String>> {
    let Some(map) = value.as_object() else {
        v.body(at, "must be an object of names to text values");
        return None;
    };
    let entries: Vec<_> = map
        .iter()
        .map(|(name, value)| {
            let here = format!("{at}/{}", escape(name));
            let name_ok = !name.trim().is_empty() && name.chars().count() <= MAX_ID;
            let text = value.as_str().filter(|text| text.chars().count() <= MAX_DESCRIPTION);
            match (name_ok, text) {
                (true, Some(text)) => Some((name.clone(), text.to_owned())),
                (false, _) => {
                    v.body(here, format!("setting names must be 1 to {MAX_ID} characters"));
                    None
                }
                (true, None) => {
                    v.body(here, format!("must be text of at most {MAX_DESCRIPTION} characters"));
                    None
                }
            }
        })
        .collect();
    entries.into_iter().collect()
}

fn workspace(value: &Value, at: String, v: &mut Violations) -> Option<(String, HubWorkspace)> {
    let obj = Obj::read(value, at, &["id", "name", "nodes"], v)?;
    let id = obj.id("id", v);
    let name = obj.text("name", MAX_TEXT, v);
    let nodes = obj.array("nodes", v).and_then(|items| {
        let nodes: Vec<_> = items.into_iter().map(|(at, value)| node(value, at, v)).collect();
        unique(
            nodes.iter().flatten().map(|(at, n)| (format!("{at}/id"), n.id.clone())),
            "node id",
            v,
        );
        nodes.into_iter().map(|n| n.map(|(_, n)| n)).collect::<Option<Vec<_>>>()
    });
    Some((
        obj.pointer,
        HubWorkspace {
            id: id?,
            name: name?,
            nodes: nodes?,
        },
    ))
}

fn node(value: &Value, at: String, v: &mut Violations) -> Option<(String, HubNode)> {
    let obj = Obj::read(value, at, &["id", "name", "count", "sources"], v)?;
    let id = obj.id("id", v);
    let name = obj.text("name", MAX_TEXT, v);
    let count = obj.count("count", v);
    let sources = match obj.get("sources") {
        None => Some(Vec::new()),
        Some(_) => obj.array("sources", v).and_then(|items| {
            let sources: Vec<_> = items.into_iter().map(|(at, value)| source(value, at, v)).collect();
            unique(
                sources.iter().flatten().map(|(at, s)| (format!("{at}/id"), s.id.clone())),
                "source id",
                v,
            );
            sources.into_iter().map(|s| s.map(|(_, s)| s)).collect::<Option<Vec<_>>>()
        }),
    };
    Some((
        obj.pointer,
        HubNode {
            id: id?,
            name: name?,
            count: count?,
            sources: sources?,
        },
    ))
}

fn source(value: &Value, at: String, v: &mut Violations) -> Option<(String, HubSource)> {
    let obj = Obj::read(value, at, &["id", "name", "count"], v)?;
    let id = obj.id("id", v);
    let name = obj.text("name", MAX_TEXT, v);
    let count = obj.count("count", v);
    Some((
        obj.pointer,
        HubSource {
            id: id?,
            name: name?,
            count: count?,
        },
    ))
}

/// A member that may be omitted, from `None` (omitted) or `Some(checked)`: `None` when it
/// was given but bad, else `Some(None)` (omitted) or `Some(Some(value))`.
fn omittable<T>(member: Option<Option<T>>) -> Option<Option<T>> {
    member.map_or(Some(None), |checked| checked.map(Some))
}

/// Names each repeated key after its first occurrence.
fn unique(entries: impl Iterator<Item = (String, String)>, what: &str, v: &mut Violations) {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (at, key) in entries {
        match seen.get(&key) {
            Some(first) => v.body(at, format!("{what} {key} is already given at {first}")),
            None => {
                seen.insert(key, at);
            }
        }
    }
}

/// A JSON pointer reference token.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Whether `text` is an OpenSSH SHA-256 fingerprint (`SHA256:` and 32 bytes in unpadded base64).
fn is_fingerprint(text: &str) -> bool {
    text.strip_prefix("SHA256:")
        .is_some_and(|encoded| encoded.len() == 43 && STANDARD_NO_PAD.decode(encoded).is_ok_and(|bytes| bytes.len() == 32))
}

/// A host name (dot-separated labels of letters, digits and inner hyphens) or an IP address.
fn is_host(text: &str) -> bool {
    text.parse::<std::net::IpAddr>().is_ok()
        || text.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// One JSON object of the file, and where it is.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    pointer: String,
}

impl<'a> Obj<'a> {
    /// `value` as an object whose members are among `known`; each other member is named.
    fn read(value: &'a Value, pointer: String, known: &[&str], v: &mut Violations) -> Option<Self> {
        let Some(map) = value.as_object() else {
            v.body(pointer, "must be an object");
            return None;
        };
        for name in map.keys().filter(|name| !known.contains(&name.as_str())) {
            v.body(format!("{pointer}/{}", escape(name)), "is not a known field");
        }
        Some(Obj { map, pointer })
    }

    fn at(&self, name: &str) -> String {
        format!("{}/{name}", self.pointer)
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name)
    }

    fn required(&self, name: &str, v: &mut Violations) -> Option<&'a Value> {
        match self.get(name) {
            None | Some(Value::Null) => {
                v.body(self.at(name), "is required");
                None
            }
            value => value,
        }
    }

    fn group_pk(&self, v: &mut Violations) -> Option<GroupPk> {
        let value = self.required("groupPk", v)?;
        let group = value.as_i64().filter(|g| *g > 0).map(GroupPk);
        if group.is_none() {
            v.body(self.at("groupPk"), "must be a positive integer");
        }
        group
    }

    fn text(&self, name: &str, max: usize, v: &mut Violations) -> Option<String> {
        let value = self.required(name, v)?;
        match value.as_str().map(str::trim) {
            Some(text) if !text.is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control) => Some(text.to_owned()),
            _ => {
                v.body(self.at(name), format!("must be text of 1 to {max} characters"));
                None
            }
        }
    }

    /// An identifier or user name, safe in a URL path: letters, digits, `.`, `_`, `-`.
    fn id(&self, name: &str, v: &mut Violations) -> Option<String> {
        let value = self.required(name, v)?;
        match value.as_str() {
            Some(text) if (1..=MAX_ID).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) => {
                Some(text.to_owned())
            }
            _ => {
                v.body(self.at(name), format!("must be 1 to {MAX_ID} letters, digits, '.', '_' or '-'"));
                None
            }
        }
    }

    /// Text that may be absent or null.
    fn optional_text(&self, name: &str, max: usize, v: &mut Violations) -> Option<Option<String>> {
        match self.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(_) => self.text(name, max, v).map(Some),
        }
    }

    /// A secret: checked without ever repeating it in a message.
    fn secret(
        &self,
        name: &str,
        (min, max): (usize, usize),
        allowed: impl Fn(char) -> bool,
        what: &str,
        v: &mut Violations,
    ) -> Option<SecretString> {
        let value = self.required(name, v)?;
        match value.as_str() {
            Some(text) if (min..=max).contains(&text.chars().count()) && text.chars().all(allowed) => Some(SecretString::from(text)),
            _ => {
                v.body(self.at(name), format!("must be {min} to {max} characters, {what}"));
                None
            }
        }
    }

    fn flag(&self, name: &str, v: &mut Violations) -> Option<bool> {
        let flag = self.required(name, v)?.as_bool();
        if flag.is_none() {
            v.body(self.at(name), "must be true or false");
        }
        flag
    }

    fn count(&self, name: &str, v: &mut Violations) -> Option<u64> {
        let count = self.required(name, v)?.as_u64();
        if count.is_none() {
            v.body(self.at(name), "must be a non-negative integer");
        }
        count
    }

    fn choice<T: Copy>(&self, name: &str, options: &[(&str, T)], v: &mut Violations) -> Option<T> {
        let value = self.required(name, v)?;
        let chosen = value
            .as_str()
            .and_then(|text| options.iter().find(|(option, _)| *option == text))
            .map(|(_, choice)| *choice);
        if chosen.is_none() {
            let names: Vec<&str> = options.iter().map(|(option, _)| *option).collect();
            v.body(self.at(name), format!("must be one of {}", names.join(", ")));
        }
        chosen
    }

    /// An RFC 3339 instant that may be absent or null.
    fn optional_time(&self, name: &str, v: &mut Violations) -> Option<Option<Timestamp>> {
        match self.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(value) => match value.as_str().map(Timestamp::from_str) {
                Some(Ok(at)) => Some(Some(at)),
                _ => {
                    v.body(self.at(name), "must be an RFC 3339 date-time, such as 2027-01-31T00:00:00Z");
                    None
                }
            },
        }
    }

    /// A required array's elements with their pointers.
    fn array(&self, name: &str, v: &mut Violations) -> Option<Vec<(String, &'a Value)>> {
        let value = self.required(name, v)?;
        let Some(items) = value.as_array() else {
            v.body(self.at(name), "must be an array");
            return None;
        };
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| (format!("{}/{i}", self.at(name)), item))
                .collect(),
        )
    }

    /// An array that may be omitted: `None` when absent, `Some(None)` when bad.
    fn array_if_present(&self, name: &str, v: &mut Violations) -> Option<Option<Vec<(String, &'a Value)>>> {
        self.get(name).map(|_| self.array(name, v))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use shared::domain::configuration::fingerprint as fingerprint_of;
    use shared::domain::secret::ExposeSecret;

    use super::*;

    fn now() -> Timestamp {
        "2026-11-27T12:00:00Z".parse().unwrap()
    }

    fn fingerprint() -> String {
        fingerprint_of(b"ssh-ed25519 test key")
    }

    fn full() -> Value {
        json!({"customers": [{
            "groupPk": 100,
            "configuration": {
                "apiKey": {"value": "k".repeat(40), "expirationDate": "2027-06-30T00:00:00Z"},
                "smartRelayEnable": true,
                "genericUsers": [{"username": "newsletter", "description": "Newsletter sender", "enabled": true},
                                 {"username": "ops", "enabled": false}],
                "dataExchanges": [{"id": "crm-in", "name": "CRM import", "protocol": "SFTP", "direction": "IMPORT", "enabled": true}]
            },
            "sftp": [
                {"username": "acme-in", "host": "sftp.acme.test", "port": 22, "homeDirectory": "/in",
                 "authentication": "PASSWORD", "password": "correct horse battery", "enabled": true},
                {"username": "acme-keys", "host": "10.0.0.5", "port": 2222, "homeDirectory": "/keys",
                 "authentication": "PUBLIC_KEY", "publicKeyFingerprints": [fingerprint()], "enabled": true}
            ],
            "applications": {
                "hub": {"enabled": true, "activationDate": "2025-01-01T00:00:00Z", "settings": {"region": "eu"},
                        "workspaces": [{"id": "ws-1", "name": "Main", "nodes": [
                            {"id": "n-1", "name": "Web", "count": 12, "sources": [{"id": "s-1", "name": "Shop", "count": 12}]}]}]},
                "plan": null
            }
        }, {"groupPk": 200}]})
    }

    fn errors(document: Value) -> Vec<String> {
        let mut found: Vec<String> = parse(&document, now())
            .expect_err("the document is invalid")
            .into_iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn a_complete_file_reads_into_changes() {
        let file = parse(&full(), now()).unwrap();
        assert_eq!(file.customers.len(), 2);
        let acme = &file.customers[0];
        assert_eq!(acme.group_pk, GroupPk(100));
        let configuration = acme.configuration.as_ref().unwrap();
        assert_eq!(configuration.smart_relay_enable, Some(true));
        assert_eq!(configuration.generic_users.as_ref().unwrap()[1].description, None);
        let sftp = acme.sftp.as_ref().unwrap();
        assert_eq!(sftp[0].password.as_ref().unwrap().expose_secret(), "correct horse battery");
        assert_eq!(sftp[1].account.public_key_fingerprints, [fingerprint()]);
        assert_eq!(
            acme.applications[&ApplicationName::Hub].as_ref().unwrap().workspaces[0].nodes[0].sources[0].count,
            12
        );
        assert_eq!(acme.applications[&ApplicationName::Plan], None);
        assert!(!acme.applications.contains_key(&ApplicationName::Send), "omitted means unchanged");

        let globex = &file.customers[1];
        assert!(globex.configuration.is_none() && globex.sftp.is_none() && globex.applications.is_empty());
    }

    #[test]
    fn every_bad_value_is_named_by_its_pointer() {
        let mut document = full();
        let acme = &mut document["customers"][0];
        acme["configuration"]["apiKey"] = json!({"value": "short", "expirationDate": "2020-01-01T00:00:00Z"});
        acme["configuration"]["genericUsers"][1]["username"] = json!("NewsLetter");
        acme["configuration"]["dataExchanges"][0]["protocol"] = json!("FTP");
        acme["sftp"][0]["port"] = json!(70000);
        acme["sftp"][0]["publicKeyFingerprints"] = json!([]);
        acme["sftp"][1]["port"] = json!(0);
        acme["sftp"][1]["publicKeyFingerprints"] = json!(["MD5:aa:bb"]);
        acme["sftp"][1]["password"] = json!("a password here");
        acme["sftp"][1]["homeDirectory"] = json!("/keys/../etc");
        acme["applications"]["plan"] = json!({"enabled": true, "workspaces": []});
        acme["applications"]["hub"]["workspaces"][0]["nodes"][0]["count"] = json!(-1);
        acme["applications"]["flow"] = json!(null);
        acme["colour"] = json!("red");
        document["customers"][1]["groupPk"] = json!(100);
        assert_eq!(
            errors(document),
            [
                "/customers/0/applications/flow: is not a known field",
                "/customers/0/applications/hub/workspaces/0/nodes/0/count: must be a non-negative integer",
                "/customers/0/applications/plan/workspaces: is only for hub",
                "/customers/0/colour: is not a known field",
                "/customers/0/configuration/apiKey/expirationDate: must be in the future",
                "/customers/0/configuration/apiKey/value: must be 32 to 256 characters, printable ASCII without spaces",
                "/customers/0/configuration/dataExchanges/0/protocol: must be one of SFTP, HTTPS",
                "/customers/0/configuration/genericUsers/1/username: username newsletter is already given at /customers/0/configuration/genericUsers/0/username",
                "/customers/0/sftp/0/port: must be 1..65535",
                "/customers/0/sftp/0/publicKeyFingerprints: is only for PUBLIC_KEY authentication",
                "/customers/0/sftp/1/homeDirectory: must be an absolute path without ..",
                "/customers/0/sftp/1/password: is only for PASSWORD authentication",
                "/customers/0/sftp/1/port: must be 1..65535",
                "/customers/0/sftp/1/publicKeyFingerprints/0: must be SHA256:<43 base64 characters>",
                "/customers/1/groupPk: customer 100 is already given at /customers/0/groupPk",
            ]
        );
    }

    #[test]
    fn missing_and_mistyped_members_are_named() {
        assert_eq!(errors(json!([])), [": must be an object"]);
        assert_eq!(errors(json!({})), ["/customers: is required"]);
        assert_eq!(
            errors(json!({"customers": [{"groupPk": "100", "sftp": {}, "configuration": {"smartRelayEnable": "yes"}}, 7]})),
            [
                "/customers/0/configuration/smartRelayEnable: must be true or false",
                "/customers/0/groupPk: must be a positive integer",
                "/customers/0/sftp: must be an array",
                "/customers/1: must be an object",
            ]
        );
        assert_eq!(
            errors(json!({"customers": [{"groupPk": 1, "sftp": [{"authentication": "PUBLIC_KEY", "a/b": 1}]}]})),
            [
                "/customers/0/sftp/0/a~1b: is not a known field",
                "/customers/0/sftp/0/enabled: is required",
                "/customers/0/sftp/0/homeDirectory: is required",
                "/customers/0/sftp/0/host: is required",
                "/customers/0/sftp/0/port: is required",
                "/customers/0/sftp/0/publicKeyFingerprints: is required",
                "/customers/0/sftp/0/username: is required",
            ]
        );
    }

    #[test]
    fn secrets_never_appear_in_messages() {
        let mut document = full();
        document["customers"][0]["configuration"]["apiKey"]["value"] = json!("secret with spaces that is long enough to count");
        document["customers"][0]["sftp"][0]["password"] = json!("tiny-secret");
        let all = errors(document).join("\n");
        assert!(all.contains("/apiKey/value") && all.contains("/sftp/0/password"), "{all}");
        assert!(!all.contains("secret with spaces") && !all.contains("tiny-secret"), "{all}");
    }

    #[test]
    fn fingerprints_are_openssh_sha256() {
        let print = fingerprint();
        assert!(is_fingerprint(&print));
        for bad in [
            "",
            "SHA256:",
            "MD5:aa",
            "SHA256:abc",
            &print.replace("SHA256:", "sha256:"),
            &format!("{print}="),
        ] {
            assert!(!is_fingerprint(bad), "{bad}");
        }
    }

    #[test]
    fn omitted_members_keep_what_is_stored_and_the_same_key_keeps_its_dates() {
        let key = SecretString::from("k".repeat(40));
        let created: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let stored = CustomerConfiguration {
            api_key: Some(ApiKey {
                last_used_at: Some(created),
                ..ApiKey::new(&key, None, created)
            }),
            smart_relay_enable: true,
            generic_users: vec![GenericUser {
                username: "ops".into(),
                description: None,
                enabled: true,
            }],
            data_exchanges: vec![],
        };
        let unchanged = ConfigurationInput::default().apply(Some(&stored), now());
        assert_eq!(unchanged, stored);

        let same_key = ConfigurationInput {
            api_key: Some(Some(ApiKeyInput {
                value: SecretString::from("k".repeat(40)),
                expires_at: Some(now()),
            })),
            smart_relay_enable: Some(false),
            ..ConfigurationInput::default()
        }
        .apply(Some(&stored), now());
        let kept = same_key.api_key.as_ref().unwrap();
        let before = stored.api_key.as_ref().unwrap();
        assert_eq!((&kept.id, kept.created_at, kept.last_used_at), (&before.id, created, Some(created)));
        assert_eq!(kept.expires_at, Some(now()));
        assert!(!same_key.smart_relay_enable);
        assert_eq!(same_key.generic_users, stored.generic_users);

        let new_key = ConfigurationInput {
            api_key: Some(Some(ApiKeyInput {
                value: SecretString::from("n".repeat(40)),
                expires_at: None,
            })),
            ..ConfigurationInput::default()
        }
        .apply(Some(&stored), now());
        let replaced = new_key.api_key.unwrap();
        assert_ne!(replaced.id, before.id);
        assert_eq!(
            (replaced.created_at, replaced.last_used_at, replaced.prefix.as_str()),
            (now(), None, "nnnnnnnn")
        );

        let removed = ConfigurationInput {
            api_key: Some(None),
            ..ConfigurationInput::default()
        }
        .apply(Some(&stored), now());
        assert_eq!(removed.api_key, None);
    }

    #[test]
    fn sftp_passwords_are_hashed_or_kept() {
        let file = parse(&full(), now()).unwrap();
        let mut accounts = file.customers.into_iter().next().unwrap().sftp.unwrap().into_iter();
        let with_password = accounts.next().unwrap();
        let with_keys = accounts.next().unwrap();

        let stored = with_keys.resolve(None, now()).unwrap();
        assert_eq!(stored.password, None);

        let template = SftpAccountInput {
            password: None,
            ..with_password.clone()
        };
        let first = with_password.resolve(None, now()).unwrap();
        let hashed = first.password.clone().unwrap();
        assert!(hashed.hash.starts_with("$argon2id$") && !hashed.hash.contains("correct horse"));
        assert_eq!(hashed.created_at, now());

        let later: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let again = SftpAccountInput {
            password: Some(SecretString::from("correct horse battery")),
            ..template.clone()
        }
        .resolve(Some(&first), later)
        .unwrap();
        assert_eq!(again.password, first.password, "the same password keeps its hash and dates");

        let kept = template.clone().resolve(Some(&first), later).unwrap();
        assert_eq!(kept.password, first.password, "no password in the file keeps the stored one");

        let changed = SftpAccountInput {
            password: Some(SecretString::from("another long password")),
            ..template.clone()
        }
        .resolve(Some(&first), later)
        .unwrap();
        assert_eq!(changed.password.unwrap().created_at, later);

        assert!(matches!(template.resolve(None, later), Err(SftpInputError::PasswordRequired)));
    }
}
