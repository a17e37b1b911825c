//! The demo tenant's configuration: API key, generic users, data exchanges, SFTP accounts
//! and applications of Acme Group (100: hub, plan and send) and Globex (200: hub only).
//! The API keys are generated here; they and the SFTP passwords are stored as hashes and
//! never shown.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use shared::domain::configuration::{
    ApiKey, Application, ApplicationName, CustomerConfiguration, DataExchange, ExchangeDirection, ExchangeProtocol, GenericUser, HubNode,
    HubSource, HubWorkspace, SftpAccount, SftpAuthentication, SftpPassword, fingerprint, generate_api_key,
};
use shared::domain::ids::GroupPk;
use shared::error::AppError;
use shared::ports::store::ItemStore;
use shared::repositories::configuration::{Configurations, CustomerSetup, SetupChange};

/// Demo API keys are valid for a year.
const API_KEY_VALIDITY: SignedDuration = SignedDuration::from_hours(24 * 365);

/// Writes the configuration of customers 100 and 200 (which must exist and have none yet),
/// with the hashes of the SFTP accounts' passwords (acme-import's, then globex-drop's).
pub async fn seed(store: &dyn ItemStore, sftp_password_hashes: [String; 2], now: Timestamp) -> Result<(), AppError> {
    let configurations = Configurations::new(store);
    let empty = CustomerSetup::default();
    let [acme_import, globex_drop] = sftp_password_hashes;
    configurations.change(GroupPk(100), &empty, acme(acme_import, now)?).await?;
    Ok(configurations.change(GroupPk(200), &empty, globex(globex_drop, now)?).await?)
}

fn acme(sftp_password_hash: String, now: Timestamp) -> Result<SetupChange, AppError> {
    Ok(SetupChange {
        configuration: Some(CustomerConfiguration {
            api_key: Some(api_key(now)?),
            smart_relay_enable: true,
            generic_users: vec![
                generic_user("newsletter", Some("Sender of the weekly newsletter"), true),
                generic_user("crm-sync", Some("Nightly CRM synchronisation"), true),
                generic_user("legacy-import", None, false),
            ],
            data_exchanges: vec![
                exchange(
                    "dx-crm-import",
                    "CRM contacts import",
                    ExchangeProtocol::Sftp,
                    ExchangeDirection::Import,
                    true,
                ),
                exchange(
                    "dx-bi-export",
                    "BI events export",
                    ExchangeProtocol::Https,
                    ExchangeDirection::Export,
                    true,
                ),
                exchange(
                    "dx-loyalty-drop",
                    "Loyalty file drop",
                    ExchangeProtocol::Sftp,
                    ExchangeDirection::Import,
                    false,
                ),
            ],
        }),
        sftp: Some(vec![
            password_account("acme-import", 22, "/acme/import", sftp_password_hash, now),
            SftpAccount {
                username: "acme-export".into(),
                host: "sftp.platform.test".into(),
                port: 2222,
                home_directory: "/acme/export".into(),
                authentication: SftpAuthentication::PublicKey,
                // Fingerprints are public: made from fixed text, like any key's public half.
                public_key_fingerprints: vec![
                    fingerprint(b"ssh-ed25519 acme-export deploy key"),
                    fingerprint(b"ssh-ed25519 acme-export backup key"),
                ],
                password: None,
                enabled: true,
            },
        ]),
        applications: BTreeMap::from([
            (
                ApplicationName::Hub,
                Some(application(
                    now,
                    &[("region", "eu-west-1"), ("retentionDays", "730")],
                    vec![
                        workspace(
                            "ws-acme-main",
                            "Acme customers",
                            vec![
                                node(
                                    "node-acme-web",
                                    "Web shop",
                                    48_210,
                                    &[
                                        ("src-acme-shop", "Online shop", 39_870),
                                        ("src-acme-newsletter", "Newsletter sign-up", 8_340),
                                    ],
                                ),
                                node("node-acme-stores", "Stores", 15_120, &[("src-acme-pos", "Point of sale", 15_120)]),
                            ],
                        ),
                        workspace(
                            "ws-acme-loyalty",
                            "Acme loyalty",
                            vec![node(
                                "node-acme-card",
                                "Loyalty card",
                                9_034,
                                &[
                                    ("src-acme-card-app", "Loyalty app", 6_001),
                                    ("src-acme-card-desk", "Store desk", 3_033),
                                ],
                            )],
                        ),
                    ],
                )),
            ),
            (
                ApplicationName::Plan,
                Some(application(
                    now,
                    &[("defaultTimezone", "Europe/Rome"), ("maxCampaignsPerDay", "20")],
                    Vec::new(),
                )),
            ),
            (
                ApplicationName::Send,
                Some(application(
                    now,
                    &[("senderDomain", "news.acme.test"), ("dailyQuota", "250000")],
                    Vec::new(),
                )),
            ),
        ]),
    })
}

fn globex(sftp_password_hash: String, now: Timestamp) -> Result<SetupChange, AppError> {
    Ok(SetupChange {
        configuration: Some(CustomerConfiguration {
            api_key: Some(api_key(now)?),
            smart_relay_enable: false,
            generic_users: vec![generic_user("globex-orders", Some("Order management system"), true)],
            data_exchanges: vec![exchange(
                "dx-globex-orders",
                "Orders export",
                ExchangeProtocol::Https,
                ExchangeDirection::Export,
                true,
            )],
        }),
        sftp: Some(vec![password_account("globex-drop", 22, "/globex/in", sftp_password_hash, now)]),
        applications: BTreeMap::from([(
            ApplicationName::Hub,
            Some(application(
                now,
                &[("region", "us-east-1")],
                vec![workspace(
                    "ws-globex",
                    "Globex contacts",
                    vec![node(
                        "node-globex-crm",
                        "CRM import",
                        5_120,
                        &[("src-globex-salesforce", "Salesforce", 5_120)],
                    )],
                )],
            )),
        )]),
    })
}

/// A fresh random key, of which only the digest and prefix are kept.
fn api_key(now: Timestamp) -> Result<ApiKey, AppError> {
    let value = generate_api_key().map_err(AppError::internal)?;
    Ok(ApiKey::new(&value, now.checked_add(API_KEY_VALIDITY).ok(), now))
}

/// A PASSWORD account whose password only `hash` keeps.
fn password_account(username: &str, port: u16, home_directory: &str, hash: String, now: Timestamp) -> SftpAccount {
    SftpAccount {
        username: username.into(),
        host: "sftp.platform.test".into(),
        port,
        home_directory: home_directory.into(),
        authentication: SftpAuthentication::Password,
        public_key_fingerprints: Vec::new(),
        password: Some(SftpPassword {
            hash,
            created_at: now,
            last_used_at: None,
        }),
        enabled: true,
    }
}

fn generic_user(username: &str, description: Option<&str>, enabled: bool) -> GenericUser {
    GenericUser {
        username: username.into(),
        description: description.map(Into::into),
        enabled,
    }
}

fn exchange(id: &str, name: &str, protocol: ExchangeProtocol, direction: ExchangeDirection, enabled: bool) -> DataExchange {
    DataExchange {
        id: id.into(),
        name: name.into(),
        protocol,
        direction,
        enabled,
    }
}

fn application(now: Timestamp, settings: &[(&str, &str)], workspaces: Vec<HubWorkspace>) -> Application {
    Application {
        enabled: true,
        activated_at: Some(now),
        settings: settings.iter().map(|(name, value)| ((*name).into(), (*value).into())).collect(),
        workspaces,
    }
}

fn workspace(id: &str, name: &str, nodes: Vec<HubNode>) -> HubWorkspace {
    HubWorkspace {
        id: id.into(),
        name: name.into(),
        nodes,
    }
}

fn node(id: &str, name: &str, count: u64, sources: &[(&str, &str, u64)]) -> HubNode {
    HubNode {
        id: id.into(),
        name: name.into(),
        count,
        sources: sources
            .iter()
            .map(|(id, name, count)| HubSource {
                id: (*id).into(),
                name: (*name).into(),
                count: *count,
            })
            .collect(),
    }
}
