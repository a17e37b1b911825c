//! Fills a stand-in data directory with a large tenant, for load tests of the team
//! listings: customer 300 "Bench Corp" with sub-customers 301..=30N and USERS users
//! spread over the six, created through the same repository path as the API, and an
//! admin `bench.admin` (ADMIN on 300) to call it as.
//!   cargo run --release -p accountcentral-local --example populate-tenant -- DATA_DIR [USERS] [SUB_CUSTOMERS]

use std::path::PathBuf;

use accountcentral_local::{Backend, Environment};
use jiff::Timestamp;
use shared::domain::capability::{ACCOUNTCENTRAL, Capability, Resource};
use shared::domain::customer::Customer;
use shared::domain::ids::{GroupPk, UserPk};
use shared::domain::preferences::Preferences;
use shared::domain::user::{Sex, User, UserStatus};
use shared::repositories::accounts::{Accounts, NewAccount};
use shared::repositories::customers::Customers;

const ROOT: i64 = 300;
const FIRST_NAMES: [&str; 12] = [
    "Anna", "Bruno", "Carla", "Dario", "Elena", "Fabio", "Giulia", "Hugo", "Irene", "Luca", "Marta", "Nico",
];
const SURNAMES: [&str; 10] = [
    "Rossi", "Bianchi", "Verdi", "Neri", "Gallo", "Costa", "Fontana", "Conti", "Ricci", "Moretti",
];

fn customer(group: i64, name: String, ancestors: &[i64], now: Timestamp) -> Customer {
    Customer {
        country: Some("IT".into()),
        ..Customer::new(GroupPk(group), name, ancestors.iter().copied().map(GroupPk).collect(), now)
    }
}

fn user(user_pk: UserPk, username: String, name: &str, surname: &str, group: i64, status: UserStatus, now: Timestamp) -> User {
    User {
        sex: Some(Sex::F),
        status,
        ..User::new(
            user_pk,
            username.clone(),
            name,
            surname,
            format!("{username}@bench.test"),
            GroupPk(group),
            now,
        )
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data_dir = PathBuf::from(args.next().ok_or("usage: populate-tenant DATA_DIR [USERS] [SUB_CUSTOMERS]")?);
    let users: usize = args.next().map_or(Ok(10_000), |n| n.parse())?;
    let subs: i64 = args.next().map_or(Ok(5), |n| n.parse())?;
    let environment = Environment::open(&data_dir, Backend::Embedded, shared::domain::catalogue::Stage::Dev).await?;
    environment.seed().await?;
    let store = environment.state.store.as_ref();
    let now = environment.state.clock.now();
    let customers = Customers::new(store);
    customers.create(&customer(ROOT, "Bench Corp".into(), &[], now)).await?;
    for sub in 1..=subs {
        customers
            .create(&customer(ROOT + sub, format!("Bench Unit {sub}"), &[ROOT], now))
            .await?;
    }
    let accounts = Accounts::new(store);
    let capability = |id, role: &str, group| Capability {
        id,
        application: ACCOUNTCENTRAL.into(),
        version: 1,
        resource: Resource::customer(GroupPk(group)),
        role: role.into(),
        granted_at: now,
        granted_by: None,
    };
    let admin = accounts.next_user_pk().await?;
    accounts
        .create(NewAccount {
            user: user(admin, "bench.admin".into(), "Bench", "Admin", ROOT, UserStatus::Active, now),
            preferences: Preferences::defaults(),
            password: None,
            associations: vec![GroupPk(ROOT)],
            capabilities: vec![capability(accounts.next_capability_id().await?, "ADMIN", ROOT)],
        })
        .await?;
    for n in 0..users {
        let group = ROOT + (n as i64 % (subs + 1));
        let status = if n % 10 == 9 { UserStatus::Suspended } else { UserStatus::Active };
        let user_pk = accounts.next_user_pk().await?;
        let name = FIRST_NAMES[n % FIRST_NAMES.len()];
        let surname = SURNAMES[(n / FIRST_NAMES.len()) % SURNAMES.len()];
        accounts
            .create(NewAccount {
                user: user(user_pk, format!("user{n:05}"), name, surname, group, status, now),
                preferences: Preferences::defaults(),
                password: None,
                associations: vec![GroupPk(group)],
                capabilities: vec![capability(accounts.next_capability_id().await?, "USER", group)],
            })
            .await?;
    }
    println!("{users} users in customer {ROOT} and {subs} sub-customers; call as bench.admin");
    Ok(())
}
