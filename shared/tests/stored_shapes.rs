//! The stored shape of every record kind, pinned: each repository writes its records
//! into the embedded store from fixed inputs at a fixed time, the raw items are read
//! back and compared with the snapshot committed under `tests/snapshots/`. Renaming a
//! stored field, or moving a record to another key, fails here rather than in a read
//! of the production table.
//!
//! A missing snapshot is written and the test fails, so that it is reviewed and
//! committed; `UPDATE_SNAPSHOTS=1` rewrites them all after an intended change of the
//! stored shape. Sealed key material and public keys, which are random, are masked.

use std::path::PathBuf;
use std::sync::Arc;

use dkim_engine::Algorithm;
use dkim_engine::key::DkimKeyPair;
use jiff::Timestamp;
use jiff::civil::date;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use shared::adapters::embedded::key_vault::LocalKeyVault;
use shared::adapters::embedded::store::EmbeddedStore;
use shared::domain::capability::Capability;
use shared::domain::configuration::{
    ApiKey, Application, ApplicationName, CustomerConfiguration, DataExchange, ExchangeDirection, ExchangeProtocol, GenericUser, HubNode,
    HubSource, HubWorkspace, SftpAccount, SftpAuthentication, SftpPassword,
};
use shared::domain::customer::Customer;
use shared::domain::dkim::records::{KeyMaterial, ValidFbl, ValidKey};
use shared::domain::ids::{CapabilityId, DkimId, GroupPk, UserPk};
use shared::domain::news::{FeedEntry, NewsLanguage};
use shared::domain::notification::{Notification, Priority};
use shared::domain::password::PasswordRecord;
use shared::domain::preferences::Preferences;
use shared::domain::provisioning::{ActionType, Job, KeyRef, ProvisioningOperation, Step, Targets};
use shared::domain::security::{SecurityEvent, SecurityEventType, SecurityPolicy};
use shared::domain::status::AppStatus;
use shared::domain::user::{Sex, Suspension, User, UserStatus, UserType};
use shared::domain::verification::{Code, Verification};
use shared::ports::clock::Clock;
use shared::ports::store::{Index, Item, ItemStore, Key, Query, query_all};
use shared::repositories::accounts::{Accounts, NewAccount};
use shared::repositories::configuration::{Configurations, CustomerSetup, SetupChange};
use shared::repositories::credentials::Credentials;
use shared::repositories::customers::Customers;
use shared::repositories::dkims::Dkims;
use shared::repositories::news::News;
use shared::repositories::notifications::Notifications;
use shared::repositories::provisioning::Jobs;
use shared::repositories::status::Statuses;

/// The fixed time of every write.
fn at() -> Timestamp {
    "2026-01-02T03:04:05Z".parse().unwrap()
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        at()
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: EmbeddedStore,
    key_vault: LocalKeyVault,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("store.sqlite"), Arc::new(FixedClock)).unwrap();
    let key_vault = LocalKeyVault::from_key_file(&dir.path().join("master.key")).unwrap();
    Fixture {
        _dir: dir,
        store,
        key_vault,
    }
}

/// An item as stored: keys, index keys, version, expiry and the record, masked.
fn render(item: &Item) -> Value {
    let mut rendered = Map::new();
    rendered.insert("pk".into(), json!(item.key.pk));
    rendered.insert("sk".into(), json!(item.key.sk));
    for index in Index::ALL {
        if let Some(key) = item.index_key(index) {
            rendered.insert(index.name().to_lowercase(), json!({"pk": key.pk, "sk": key.sk}));
        }
    }
    rendered.insert("version".into(), json!(item.version));
    rendered.insert("expiresAt".into(), json!(item.expires_at));
    let mut data = Value::Object(item.data.object().expect("a JSON object").into_owned());
    mask(&mut data);
    rendered.insert("data".into(), data);
    Value::Object(rendered)
}

/// Replaces what is random in a key record (the public key, the sealed private key's
/// bytes) by placeholders, keeping every field name.
fn mask(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                match (name.as_str(), field) {
                    ("publicKey", field @ Value::String(_)) => *field = json!("<public key>"),
                    // Sealed bytes (an envelope stored on its own) and keyed hashes.
                    ("wrappedKey" | "nonce" | "ciphertext" | "digest", field @ Value::String(_)) => *field = json!("<sealed>"),
                    ("privateKey", Value::Object(envelope)) => {
                        for part in ["wrappedKey", "nonce", "ciphertext"] {
                            if let Some(bytes) = envelope.get_mut(part) {
                                *bytes = json!("<sealed>");
                            }
                        }
                    }
                    (_, field) => mask(field),
                }
            }
        }
        Value::Array(values) => values.iter_mut().for_each(mask),
        _ => {}
    }
}

/// Compares the items with the snapshot `name`, writing it when missing or asked to.
fn check(name: &str, items: &[Item]) {
    assert!(!items.is_empty(), "{name}: nothing was stored");
    let actual = Value::Array(items.iter().map(render).collect());
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"));
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    if update || !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
        assert!(update, "{name}: no snapshot yet; wrote {}: review it and commit it", path.display());
        return;
    }
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        actual,
        expected,
        "the stored shape of {name} changed; if intended, run with UPDATE_SNAPSHOTS=1 and commit {}",
        path.display()
    );
}

async fn get(store: &dyn ItemStore, pk: &str, sk: &str) -> Item {
    store
        .get(&Key::new(pk, sk))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no item {pk} / {sk}"))
}

async fn partition(store: &dyn ItemStore, pk: &str) -> Vec<Item> {
    query_all(store, &Query::partition(pk)).await.unwrap()
}

const ROOT: GroupPk = GroupPk(100);
const CHILD: GroupPk = GroupPk(101);
const USER: UserPk = UserPk(1001);

fn customers() -> [Customer; 2] {
    let root = Customer {
        country: Some("ES".into()),
        ..Customer::new(ROOT, "Acme Group", Vec::new(), at())
    };
    let child = Customer {
        gid: Some("acme-it".into()),
        address: Some("1 Main Street".into()),
        phone: Some("+34600000000".into()),
        platform_responsible: Some("platform@acme.test".into()),
        technical_responsible: Some("tech@acme.test".into()),
        privacy_responsible: Some("privacy@acme.test".into()),
        premium: true,
        chat_enabled: true,
        ..Customer::new(CHILD, "Acme IT", vec![ROOT], at())
    };
    [root, child]
}

fn user() -> User {
    User {
        user_pk: USER,
        username: "Ada.Admin".into(),
        name: "Ada".into(),
        surname: "Admin".into(),
        email: "Ada@Acme.test".into(),
        phone: Some("+34911111111".into()),
        cell_phone: Some("+34622222222".into()),
        date_of_birth: Some(date(1990, 5, 17)),
        sex: Some(Sex::F),
        cell_phone_verified: true,
        status: UserStatus::Suspended,
        user_type: UserType::Interactive,
        creation_group_pk: CHILD,
        picture: Some("https://acme.test/ada.png".into()),
        external: false,
        suspension: Some(Suspension {
            date: at(),
            by_user_pk: Some(UserPk(10)),
        }),
        two_factor: true,
        created_at: at(),
    }
}

async fn seed_customers(store: &dyn ItemStore) {
    let repository = Customers::new(store);
    for customer in customers() {
        repository.create(&customer).await.unwrap();
    }
}

#[tokio::test]
async fn accounts() {
    let fixture = fixture();
    let store: &dyn ItemStore = &fixture.store;
    seed_customers(store).await;
    Accounts::new(store)
        .create(NewAccount {
            user: user(),
            preferences: Preferences::defaults(),
            password: Some(PasswordRecord::new(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                at(),
                "2026-04-02T03:04:05Z".parse().unwrap(),
            )),
            associations: vec![CHILD],
            capabilities: vec![Capability {
                id: CapabilityId(7),
                application: "accountcentral".into(),
                version: 1,
                resource: vec!["customers".into(), CHILD.to_string()],
                role: "ADMIN".into(),
                granted_at: at(),
                granted_by: Some(UserPk(10)),
            }],
        })
        .await
        .unwrap();

    let account = partition(store, "USER#1001").await;
    let kind = |prefix: &str| -> Vec<Item> { account.iter().filter(|item| item.key.sk.starts_with(prefix)).cloned().collect() };
    check("accounts-profile", &kind("PROFILE"));
    check("accounts-preferences", &kind("PREFERENCES"));
    check("accounts-password", &kind("PASSWORD"));
    check("accounts-association", &kind("CUSTOMER#"));
    check("accounts-capability", &kind("CAPABILITY#"));
    check(
        "accounts-guards",
        &[
            get(store, "USERNAME#ada.admin", "UNIQUE").await,
            get(store, "EMAIL#ada@acme.test", "UNIQUE").await,
        ],
    );
    // The user reaches the customer it is associated with and its ancestor.
    let mut rosters = partition(store, "ROSTER#100").await;
    rosters.extend(partition(store, "ROSTER#101").await);
    check("accounts-roster", &rosters);
    check("accounts-capability-log", &partition(store, "CAPLOG#1001").await);
}

/// A delivered notification (with its expiry), after its recipient marked it read.
#[tokio::test]
async fn notifications() {
    let fixture = fixture();
    let store: &dyn ItemStore = &fixture.store;
    let repository = Notifications::new(store);
    let id = repository.next_id().await.unwrap();
    let notification = Notification {
        id,
        title: "Export ready".into(),
        message: "Your export is ready".into(),
        priority: Priority::High,
        application: "hub".into(),
        link: Some("https://hub.example.test/exports/1".into()),
        date: at(),
        read: false,
    };
    assert!(repository.deliver(UserPk(1001), &notification).await.unwrap());
    repository.mark_read(UserPk(1001), &[id].into()).await.unwrap();
    check("notifications", &partition(store, "NOTIFICATIONS#1001").await);
}

/// The password with its history, the verification state (a code in force and the SMS
/// sent) and the sealed key codes are hashed with.
#[tokio::test]
async fn credentials() {
    let fixture = fixture();
    let store: &dyn ItemStore = &fixture.store;
    let policy = SecurityPolicy::default();
    let repository = Credentials::new(store, &policy);
    let first = PasswordRecord::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b2xk".into(), at(), at());
    let first_event = SecurityEvent::new(UserPk(1001), SecurityEventType::PasswordReset, at(), Some(UserPk(1)));
    repository.set_password(UserPk(1001), 0, &first, &first_event).await.unwrap();
    let changed = first.replaced(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3".into(),
        at(),
        "2026-04-02T03:04:05Z".parse().unwrap(),
    );
    let event = SecurityEvent::new(UserPk(1001), SecurityEventType::PasswordChanged, at(), None);
    repository.set_password(UserPk(1001), 1, &changed, &event).await.unwrap();
    check("credentials-password", &[get(store, "USER#1001", "PASSWORD").await]);

    let key = repository.code_key(&fixture.key_vault).await.unwrap();
    check("credentials-code-key", &[get(store, "PLATFORM", "VERIFICATION_KEY").await]);
    let code = Code::parse(123_456).unwrap();
    let issued = Verification::default()
        .issue(key.digest(UserPk(1001), "+393401234567", &code), "+393401234567", at())
        .unwrap();
    repository.set_verification(UserPk(1001), 0, &issued).await.unwrap();
    check("credentials-verification", &[get(store, "USER#1001", "VERIFICATION").await]);
}

#[tokio::test]
async fn customers_and_their_gid() {
    let fixture = fixture();
    let store: &dyn ItemStore = &fixture.store;
    seed_customers(store).await;
    check(
        "customers",
        &[
            get(store, "CUSTOMER#100", "PROFILE").await,
            get(store, "CUSTOMER#101", "PROFILE").await,
            get(store, "GID#acme-it", "UNIQUE").await,
        ],
    );
}

#[tokio::test]
async fn configuration() {
    let fixture = fixture();
    let store: &dyn ItemStore = &fixture.store;
    seed_customers(store).await;
    let configuration = CustomerConfiguration {
        api_key: Some(ApiKey {
            id: "6a1c2a4e-0000-4000-8000-000000000001".into(),
            prefix: "abcdefgh".into(),
            sha256: "00".repeat(32),
            created_at: at(),
            expires_at: Some("2027-01-02T03:04:05Z".parse().unwrap()),
            last_used_at: Some(at()),
        }),
        smart_relay_enable: true,
        generic_users: vec![GenericUser {
            username: "relay".into(),
            description: Some("the relay".into()),
            enabled: true,
        }],
        data_exchanges: vec![DataExchange {
            id: "x1".into(),
            name: "nightly".into(),
            protocol: ExchangeProtocol::Sftp,
            direction: ExchangeDirection::Import,
            enabled: false,
        }],
    };
    let sftp = vec![SftpAccount {
        username: "acme-drop".into(),
        host: "sftp.acme.test".into(),
        port: 22,
        home_directory: "/drop".into(),
        authentication: SftpAuthentication::Password,
        public_key_fingerprints: Vec::new(),
        password: Some(SftpPassword {
            hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at: at(),
            last_used_at: None,
        }),
        enabled: true,
    }];
    let hub = Application {
        enabled: true,
        activated_at: Some(at()),
        settings: [("region".to_owned(), "eu".to_owned())].into(),
        workspaces: vec![HubWorkspace {
            id: "w1".into(),
            name: "Main".into(),
            nodes: vec![HubNode {
                id: "n1".into(),
                name: "Customers".into(),
                count: 3,
                sources: vec![HubSource {
                    id: "s1".into(),
                    name: "Shop".into(),
                    count: 3,
                }],
            }],
        }],
    };
    let change = SetupChange {
        configuration: Some(configuration),
        sftp: Some(sftp),
        applications: [(ApplicationName::Hub, Some(hub))].into(),
    };
    Configurations::new(store)
        .change(CHILD, &CustomerSetup::default(), change)
        .await
        .unwrap();
    check(
        "configuration",
        &[
            get(store, "CUSTOMER#101", "CONFIG").await,
            get(store, "CUSTOMER#101", "SFTP").await,
            get(store, "CUSTOMER#101", "APP#hub").await,
        ],
    );
}

fn new_key(algorithm: Algorithm, domain: &str, selector: &str) -> ValidKey {
    ValidKey {
        domain: domain.into(),
        selector: selector.into(),
        material: KeyMaterial::New(DkimKeyPair::generate(algorithm).unwrap()),
    }
}

#[tokio::test]
async fn dkims() {
    let fixture = fixture();
    let store: &dyn ItemStore = &fixture.store;
    let dkims = Dkims::new(store, &fixture.key_vault);
    dkims
        .create(ROOT, new_key(Algorithm::Ed25519Sha256, "acme.test", "ed1"), true, at())
        .await
        .unwrap();
    check(
        "dkims-customer-key",
        &[
            get(store, "CUSTOMER#100", "DKIM#KEY#000000000001").await,
            get(store, "CUSTOMER#100", "DKIM#NAME#acme.test#ed1").await,
            get(store, "DKIMS", "COUNT").await,
            get(store, "SEQUENCE", "dkimId").await,
        ],
    );
    check("dkims-key-set", &[get(store, "CUSTOMER#100", "DKIM#SET").await]);

    dkims
        .put_platform_key(new_key(Algorithm::Ed25519Sha256, "mail.platform.test", "pf1"), None, at())
        .await
        .unwrap();
    check("dkims-platform-key", &[get(store, "PLATFORM", "DKIM").await]);

    let id = Uuid::from_u128(0x6a1c_2a4e_0000_4000_8000_0000_0000_0002);
    let fbl = ValidFbl {
        esp: "platform".into(),
        recipient_domain: "gmail.com".into(),
        signable_headers: vec!["From".into(), "Feedback-ID".into()],
        dkim: new_key(Algorithm::Ed25519Sha256, "fbl.platform.test", "fbl1"),
    };
    dkims.create_fbl(id, fbl, at()).await.unwrap();
    check(
        "dkims-fbl",
        &[
            get(store, &format!("FBL#{id}"), "FBL").await,
            get(store, "FBL_DOMAIN#gmail.com", "UNIQUE").await,
            get(store, "FBLS", "COUNT").await,
        ],
    );
}

/// A DEACTIVATE job once planned (its plan's steps and the actions they became) and the
/// lock it holds on its customer.
#[tokio::test]
async fn provisioning() {
    let fixture = fixture();
    let store: &dyn ItemStore = &fixture.store;
    let (mut job, actions) = Job::new(CHILD, ProvisioningOperation::Deactivate, UserPk(1), at());
    job.id = "0b5e0c1e-7d7b-4e59-9d43-2a1f0e3c9a11".into();
    let jobs = Jobs::new(store);
    jobs.create(&job, &actions).await.unwrap();
    let stored = jobs.get(&job.id).await.unwrap().unwrap();
    let running = jobs.update(&stored.job, &stored.job.value.started(at()), None).await.unwrap();
    let plan = &stored.actions[0];
    let plan = jobs.update_action(&job.id, plan, &plan.value.started(at())).await.unwrap();
    let step = |action_type, targets| Step { action_type, targets };
    let steps = [
        step(
            ActionType::DisableUsers,
            Targets {
                users_to_disable: vec![USER],
                ..Targets::default()
            },
        ),
        step(
            ActionType::DeactivateDkimKeys,
            Targets {
                dkim_keys: vec![KeyRef {
                    group_pk: CHILD,
                    id: DkimId(3),
                }],
                ..Targets::default()
            },
        ),
        step(
            ActionType::DeactivateCustomers,
            Targets {
                customers: vec![CHILD],
                ..Targets::default()
            },
        ),
    ];
    let (planned, added) = running.value.planned(&steps, at());
    jobs.record_plan(&running, &planned, &steps, &added, (&plan, &plan.value.done(at())))
        .await
        .unwrap();
    check("provisioning-job", &partition(store, &format!("PROVISIONING#{}", job.id)).await);
    check("provisioning-lock", &[get(store, "PROVISIONING_LOCK#101", "LOCK").await]);
}

#[tokio::test]
async fn news() {
    let fixture = fixture();
    let store: &dyn ItemStore = &fixture.store;
    let entry = FeedEntry {
        id: "explora-1".into(),
        title: "Deliverability tips".into(),
        summary: "Keep your lists clean.".into(),
        link: "https://explora.example.test/news/1".into(),
        image: Some("https://explora.example.test/news/1.png".into()),
        published: at(),
        categories: vec!["Email".into()],
    };
    News::new(store).import(NewsLanguage::It, vec![entry]).await.unwrap();
    check(
        "news",
        &[
            get(store, "NEWS#it#explora-1", "ITEM").await,
            get(store, "NEWS_CATEGORY#email", "CATEGORY").await,
            get(store, "SEQUENCE", "newsCategoryId").await,
        ],
    );
}

#[tokio::test]
async fn application_status() {
    let fixture = fixture();
    let store: &dyn ItemStore = &fixture.store;
    let statuses = Statuses::new(store);
    let change = statuses
        .current("hub")
        .await
        .unwrap()
        .change_to("hub", AppStatus::Down, UserPk(1), at())
        .unwrap();
    statuses.record(&change).await.unwrap();
    check("status", &partition(store, "STATUS#hub").await);
}
