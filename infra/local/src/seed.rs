//! The demo tenant (docs/demo-tenant.md describes it), seeded once on an empty store.

use jiff::Timestamp;
use serde_json::Map;

use shared::domain::capability::{ACCOUNTCENTRAL, Capability};
use shared::domain::customer::{Customer, CustomerStatus};
use shared::domain::ids::{CapabilityId, GroupPk, UserPk};
use shared::domain::password::{self, PasswordRecord};
use shared::domain::preferences::{Format, Preferences};
use shared::domain::secret::{ExposeSecret, SecretString};
use shared::domain::user::{User, UserType};
use shared::error::AppError;
use shared::ports::key_vault::KeyVault;
use shared::ports::store::{Condition, Item, ItemStore, Key, StoreError};
use shared::repositories::accounts::{Accounts, NewAccount};
use shared::repositories::customers::Customers;

use crate::demo_configuration;
use crate::demo_keys;
pub use crate::demo_keys::DemoKeys;

/// Present once the demo tenant is complete: a restart never seeds again.
const MARKER: (&str, &str) = ("SEED", "demo");
/// Demo passwords must be changed within this many days.
const PASSWORD_VALIDITY_DAYS: i64 = 90;

/// A demo user, as printed at start.
#[derive(Debug, Clone, Copy)]
pub struct DemoUser {
    pub user_pk: i64,
    pub username: &'static str,
    pub user_type: UserType,
    pub group: i64,
    pub resource: &'static [&'static str],
    pub role: &'static str,
}

/// The demo users (docs/demo-tenant.md, "Users").
pub const DEMO_USERS: [DemoUser; 7] = [
    DemoUser {
        user_pk: 1,
        username: "care",
        user_type: UserType::Interactive,
        group: 1,
        resource: &["platform"],
        role: "CUSTOMER_CARE",
    },
    DemoUser {
        user_pk: 2,
        username: "dkimops",
        user_type: UserType::Interactive,
        group: 1,
        resource: &["platform"],
        role: "DKIM",
    },
    DemoUser {
        user_pk: 10,
        username: "acme.admin",
        user_type: UserType::Interactive,
        group: 100,
        resource: &["customers", "100"],
        role: "ADMIN",
    },
    DemoUser {
        user_pk: 11,
        username: "acme.it.admin",
        user_type: UserType::Interactive,
        group: 101,
        resource: &["customers", "101"],
        role: "ADMIN",
    },
    DemoUser {
        user_pk: 12,
        username: "acme.user",
        user_type: UserType::Interactive,
        group: 101,
        resource: &["customers", "101"],
        role: "USER",
    },
    DemoUser {
        user_pk: 20,
        username: "globex.admin",
        user_type: UserType::Interactive,
        group: 200,
        resource: &["customers", "200"],
        role: "ADMIN",
    },
    DemoUser {
        user_pk: 30,
        username: "mta",
        user_type: UserType::Application,
        group: 1,
        resource: &["platform"],
        role: "SERVICE",
    },
];

/// What a first start created: the demo users' passwords, shown once.
pub struct Seeded {
    pub passwords: Vec<(&'static str, SecretString)>,
}

/// Whether the store holds the demo tenant (its seed marker): a demo deployment.
pub async fn is_seeded(store: &dyn ItemStore) -> Result<bool, StoreError> {
    Ok(store.get(&Key::new(MARKER.0, MARKER.1)).await?.is_some())
}

/// The seed's random secrets, slow to make (an argon2 hash for each password, RSA key
/// generation): a first start makes them, and a test run, which seeds hundreds of stores,
/// makes one set for all of them.
pub struct DemoSecrets {
    /// Each demo user's password, in the order of [`DEMO_USERS`], with its hash.
    pub passwords: [(SecretString, String); DEMO_USERS.len()],
    /// The hashes of the SFTP accounts' passwords (acme-import, globex-drop), never shown.
    pub sftp_password_hashes: [String; 2],
    pub keys: DemoKeys,
}

impl DemoSecrets {
    /// Fresh random secrets.
    pub fn generate() -> Result<Self, AppError> {
        let hashed = |length| {
            let secret = password::generate(length);
            password::hash(&secret).map(|hash| (secret, hash)).map_err(AppError::internal)
        };
        let mut passwords = Vec::with_capacity(DEMO_USERS.len());
        for _ in DEMO_USERS {
            passwords.push(hashed(16)?);
        }
        Ok(Self {
            passwords: passwords
                .try_into()
                .map_err(|_: Vec<_>| AppError::internal("a password for each demo user"))?,
            sftp_password_hashes: [hashed(20)?.1, hashed(20)?.1],
            keys: DemoKeys::generate()?,
        })
    }
}

/// Seeds the demo tenant with the secrets `secrets` makes, unless the store already holds
/// it; `None` when it did.
pub async fn seed_if_empty(
    store: &dyn ItemStore,
    key_vault: &dyn KeyVault,
    now: Timestamp,
    secrets: impl FnOnce() -> Result<DemoSecrets, AppError>,
) -> Result<Option<Seeded>, AppError> {
    if is_seeded(store).await? {
        return Ok(None);
    }
    let DemoSecrets {
        passwords: demo_passwords,
        sftp_password_hashes,
        keys,
    } = secrets()?;
    let marker = Key::new(MARKER.0, MARKER.1);
    let customers = Customers::new(store);
    for customer in demo_customers(now) {
        customers.create(&customer).await?;
    }
    demo_configuration::seed(store, sftp_password_hashes, now).await?;
    demo_keys::seed(store, key_vault, keys, now).await?;

    let accounts = Accounts::new(store);
    let mut passwords = Vec::new();
    for (demo, (secret, hash)) in DEMO_USERS.into_iter().zip(demo_passwords) {
        let expires_at = now
            .checked_add(jiff::SignedDuration::from_hours(24 * PASSWORD_VALIDITY_DAYS))
            .unwrap_or(now);
        accounts
            .create(NewAccount {
                user: demo_user(demo, now),
                preferences: demo_preferences(demo),
                password: Some(PasswordRecord::new(hash, now, expires_at)),
                associations: vec![GroupPk(demo.group)],
                capabilities: vec![Capability {
                    id: CapabilityId(demo.user_pk),
                    application: ACCOUNTCENTRAL.into(),
                    version: 1,
                    resource: demo.resource.iter().map(|s| s.to_string()).collect(),
                    role: demo.role.into(),
                    granted_at: now,
                    granted_by: None,
                }],
            })
            .await?;
        passwords.push((demo.username, secret));
    }
    // New users get keys after the demo ones.
    accounts.reserve_keys(1000).await?;
    store.put(Item::new(marker, Map::new()), Condition::NotExists).await?;
    Ok(Some(Seeded { passwords }))
}

fn customer(group: i64, name: &str, ancestors: &[i64], premium: bool, country: &str, now: Timestamp) -> Customer {
    let domain = name.to_lowercase().replace(' ', "-");
    Customer {
        group_pk: GroupPk(group),
        name: name.into(),
        parent_group_pk: ancestors.first().copied().map(GroupPk),
        ancestors: ancestors.iter().copied().map(GroupPk).collect(),
        status: CustomerStatus::Active,
        premium,
        chat_enabled: premium,
        gid: Some(format!("G{group:06}")),
        address: Some(format!("1 Demo Street, {country}")),
        country: Some(country.into()),
        phone: Some("+390212345678".into()),
        platform_responsible: Some(format!("platform@{domain}.test")),
        technical_responsible: Some(format!("tech@{domain}.test")),
        privacy_responsible: Some(format!("privacy@{domain}.test")),
        created_at: now,
    }
}

fn demo_customers(now: Timestamp) -> [Customer; 5] {
    [
        customer(1, "Platform", &[], false, "IT", now),
        customer(100, "Acme Group", &[], true, "IT", now),
        customer(101, "Acme Italia", &[100], false, "IT", now),
        customer(102, "Acme France", &[100], false, "FR", now),
        customer(200, "Globex", &[], false, "US", now),
    ]
}

fn demo_user(demo: DemoUser, now: Timestamp) -> User {
    let (name, surname) = demo.username.split_once('.').unwrap_or((demo.username, "demo"));
    let capitalise = |s: &str| s[..1].to_uppercase() + &s[1..];
    let interactive = demo.user_type == UserType::Interactive;
    User {
        cell_phone: interactive.then(|| format!("+39340{:07}", demo.user_pk)),
        user_type: demo.user_type,
        ..User::new(
            UserPk(demo.user_pk),
            demo.username,
            capitalise(name),
            capitalise(surname),
            format!("{}@demo.accountcentral.test", demo.username),
            GroupPk(demo.group),
            now,
        )
    }
}

fn demo_preferences(demo: DemoUser) -> Preferences {
    let italian = matches!(demo.group, 100 | 101);
    Preferences {
        timezone: if demo.group == 200 {
            "America/New_York".into()
        } else {
            "Europe/Rome".into()
        },
        language: if italian { "it".into() } else { "en".into() },
        week_begin: if demo.group == 200 { "SUNDAY".into() } else { "MONDAY".into() },
        number_format: Format {
            pattern: if italian { "#.##0,00".into() } else { "#,##0.00".into() },
        },
        date_format: Format {
            pattern: if demo.group == 200 {
                "MM/dd/yyyy".into()
            } else {
                "dd/MM/yyyy".into()
            },
        },
        hour_format: Format {
            pattern: if demo.group == 200 { "hh:mm a".into() } else { "HH:mm".into() },
        },
    }
}

/// A printable password.
pub fn reveal(secret: &SecretString) -> &str {
    secret.expose_secret()
}
