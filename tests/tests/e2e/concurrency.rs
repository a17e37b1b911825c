//! Races: usernames, e-mails and gids stay unique under concurrent writes, concurrent
//! creations get distinct user keys, and concurrent changes of one user or customer
//! based on the same version never lose an update (optimistic locking).

use std::sync::{Arc, Mutex};

use accountcentral_e2e::dkim::key_body;
use accountcentral_e2e::{TestApp, error_paths, new_user, on_both_backends, read};
use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::ids::UserPk;
use shared::ports::store::{Condition, Item, ItemStore, Key, Query, QueryPage, StoreError, WriteOp};
use shared::repositories::RepositoryError;
use shared::repositories::accounts::{AccountChange, Accounts};
use tokio::sync::oneshot;

on_both_backends!(
    racing_creations_of_one_username_make_one_user,
    racing_creations_of_one_email_make_one_user,
    concurrent_creations_get_distinct_keys,
    racing_claims_of_one_email_give_it_to_one_user,
    two_saves_of_one_loaded_account_are_one_success_and_one_conflict,
    racing_user_updates_lose_nothing,
    a_change_based_on_a_read_another_change_overtook_is_refused,
    racing_changes_of_different_parts_of_a_user_lose_nothing,
    racing_customer_updates_lose_nothing,
    racing_changes_of_different_parts_of_a_customer_lose_nothing,
    racing_claims_of_one_gid_give_it_to_one_customer,
    racing_first_keys_make_one_default,
    racing_keys_of_one_domain_and_selector_make_one_key,
);

/// How many times each race is run.
const ROUNDS: usize = 5;

/// One request of a race.
struct Call {
    caller: &'static str,
    method: Method,
    path: String,
    body: Value,
}

impl Call {
    fn new(caller: &'static str, method: Method, path: impl Into<String>, body: Value) -> Self {
        Self {
            caller,
            method,
            path: path.into(),
            body,
        }
    }
}

/// Sends every call at once (tokens fetched and requests built first): the answers, in
/// the order of the calls.
async fn race(app: &TestApp, calls: &[Call]) -> Vec<(u16, Value)> {
    let mut requests = Vec::new();
    for call in calls {
        let token = app.token(call.caller).await;
        requests.push(
            app.request(call.method.clone(), &call.path)
                .bearer_auth(token)
                .json(&call.body)
                .send(),
        );
    }
    let mut racing = tokio::task::JoinSet::new();
    for (index, request) in requests.into_iter().enumerate() {
        racing.spawn(async move { (index, read(request.await.expect("the stand-in answers")).await) });
    }
    let mut answers = racing.join_all().await;
    answers.sort_by_key(|(index, _)| *index);
    answers.into_iter().map(|(_, answer)| answer).collect()
}

/// Asserts that exactly one call succeeded with `success` and every other one is a 409
/// in the error format; the index of the winner.
fn one_winner(answers: &[(u16, Value)], success: u16, what: &str) -> usize {
    let winners: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, (status, _))| *status == success)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "{what}: exactly one {success} among {answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != success) {
        assert_eq!(*status, 409, "{what}: the others are conflicts: {body}");
        error_paths(body);
    }
    winners[0]
}

/// Where each contender creates its user: different admins, different customers.
const CREATORS: [(&str, i64); 4] = [("acme.admin", 102), ("acme.it.admin", 101), ("care", 200), ("globex.admin", 200)];

async fn racing_creations_of_one_username_make_one_user(app: TestApp) {
    for round in 0..ROUNDS {
        let username = format!("race.name.{round}");
        let bodies: Vec<Value> = (0..CREATORS.len())
            .map(|contender| {
                let mut body = new_user(&username);
                body["email"] = json!(format!("name.{round}.{contender}@race.test"));
                body
            })
            .collect();
        let calls: Vec<Call> = CREATORS
            .iter()
            .zip(&bodies)
            .map(|((caller, group), body)| Call::new(caller, Method::POST, format!("/v1/customers/{group}/users"), body.clone()))
            .collect();
        let answers = race(&app, &calls).await;
        let winner = one_winner(&answers, 201, &username);

        // The user is the winner's, whatever the case of the name asked for.
        let (status, me) = app.get_as(&username, "/v1/user").await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(
            (&me["userPk"], &me["email"]),
            (&answers[winner].1["userPk"], &bodies[winner]["email"])
        );
        let mut shouted = new_user(&username.to_uppercase());
        shouted["email"] = json!(format!("shouted.{round}@race.test"));
        assert_eq!(app.post_as("care", "/v1/customers/1/users", &shouted).await.0, 409);

        // The losers wrote nothing: their e-mails are free.
        for (contender, body) in bodies.iter().enumerate().filter(|(c, _)| *c != winner) {
            let mut again = new_user(&format!("name.{round}.{contender}"));
            again["email"] = body["email"].clone();
            app.create_user("care", 1, &again).await;
        }
    }
}

async fn racing_creations_of_one_email_make_one_user(app: TestApp) {
    for round in 0..ROUNDS {
        let email = format!("shared.{round}@race.test");
        let usernames: Vec<String> = (0..CREATORS.len()).map(|contender| format!("mail.{round}.{contender}")).collect();
        let calls: Vec<Call> = CREATORS
            .iter()
            .zip(&usernames)
            .enumerate()
            .map(|(contender, ((caller, group), username))| {
                let mut body = new_user(username);
                // The same address, in a different case for each contender.
                body["email"] = json!(if contender % 2 == 0 { email.clone() } else { email.to_uppercase() });
                Call::new(caller, Method::POST, format!("/v1/customers/{group}/users"), body)
            })
            .collect();
        let answers = race(&app, &calls).await;
        let winner = one_winner(&answers, 201, &email);

        let (status, me) = app.get_as(&usernames[winner], "/v1/user").await;
        assert_eq!((status, &me["userPk"]), (200, &answers[winner].1["userPk"]));
        for (contender, username) in usernames.iter().enumerate().filter(|(c, _)| *c != winner) {
            assert!(app.environment.token(username).await.is_err(), "{username} was created");
            // The losers wrote nothing: their usernames are free.
            let mut again = new_user(username);
            again["email"] = json!(format!("again.{round}.{contender}@race.test"));
            app.create_user("care", 1, &again).await;
        }
    }
}

async fn concurrent_creations_get_distinct_keys(app: TestApp) {
    let calls: Vec<Call> = (0..16)
        .map(|i| {
            let (caller, group) = CREATORS[i % CREATORS.len()];
            Call::new(
                caller,
                Method::POST,
                format!("/v1/customers/{group}/users"),
                new_user(&format!("many.{i}")),
            )
        })
        .collect();
    let answers = race(&app, &calls).await;
    let mut keys = Vec::new();
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, 201, "many.{i}: {body}");
        let user_pk = body["userPk"].as_i64().unwrap();
        let (status, user) = app.get_as("care", &format!("/v1/users/{user_pk}")).await;
        assert_eq!((status, &user["username"]), (200, &json!(format!("many.{i}"))));
        keys.push(user_pk);
    }
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), calls.len(), "distinct keys: {keys:?}");
    for demo in [1, 2, 10, 11, 12, 20, 30] {
        assert!(!keys.contains(&demo), "a demo user's key was handed out again");
    }
}

async fn racing_claims_of_one_email_give_it_to_one_user(app: TestApp) {
    let first = app.create_user("acme.it.admin", 101, &new_user("claimer.one")).await;
    let second = app.create_user("acme.admin", 102, &new_user("claimer.two")).await;
    for round in 0..ROUNDS {
        let email = format!("claimed.{round}@race.test");
        let mut calls = Vec::new();
        let mut old = Vec::new();
        for (caller, user_pk) in [("acme.it.admin", first), ("acme.admin", second)] {
            let (_, mut body) = app.get_as(caller, &format!("/v1/users/{user_pk}")).await;
            body.as_object_mut().unwrap().remove("suspensionInfo");
            old.push(body["email"].clone());
            body["email"] = json!(email);
            calls.push(Call::new(caller, Method::PUT, format!("/v1/users/{user_pk}"), body));
        }
        // And a new user asking for the same address.
        let mut newcomer = new_user(&format!("claimer.new.{round}"));
        newcomer["email"] = json!(email.to_uppercase());
        calls.push(Call::new("care", Method::POST, "/v1/customers/200/users", newcomer));
        let answers = race(&app, &calls).await;
        let successes: Vec<usize> = answers
            .iter()
            .enumerate()
            .filter(|(_, (s, _))| *s == 200 || *s == 201)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(successes.len(), 1, "one claim of {email} wins: {answers:?}");
        for (status, body) in answers.iter().enumerate().filter(|(i, _)| !successes.contains(i)).map(|(_, a)| a) {
            assert_eq!(*status, 409, "{body}");
        }
        let winner = successes[0];

        // Exactly the winner holds the address; the losers kept theirs.
        for (index, user_pk) in [first, second].into_iter().enumerate() {
            let (_, user) = app.get_as("care", &format!("/v1/users/{user_pk}")).await;
            let expected = if index == winner { json!(email) } else { old[index].clone() };
            assert_eq!(user["email"], expected, "user {user_pk} after round {round}");
        }
        assert_eq!(app.environment.token(&format!("claimer.new.{round}")).await.is_ok(), winner == 2);
        // The guards followed: the winner's previous address is free, the claimed one is not.
        if winner < 2 {
            let mut reuse = new_user(&format!("reuse.{round}"));
            reuse["email"] = old[winner].clone();
            app.create_user("care", 1, &reuse).await;
        }
        let mut late = new_user(&format!("late.{round}"));
        late["email"] = json!(email);
        assert_eq!(app.post_as("care", "/v1/customers/1/users", &late).await.0, 409);
    }
}

async fn two_saves_of_one_loaded_account_are_one_success_and_one_conflict(app: TestApp) {
    let accounts = Accounts::new(app.environment.state.store.as_ref());
    let mut last_winner = String::new();
    for round in 0..ROUNDS {
        let account = accounts.load(UserPk(12)).await.unwrap().expect("acme.user");
        let now = Timestamp::now();
        let mut first = AccountChange::of(&account, Some(UserPk(11)), now);
        first.user.name = format!("First {round}");
        let mut second = AccountChange::of(&account, Some(UserPk(10)), now);
        second.user.name = format!("Second {round}");
        let (a, b) = tokio::join!(accounts.save(first), accounts.save(second));
        assert!(a.is_ok() != b.is_ok(), "exactly one wins: {a:?} {b:?}");
        let (winner, loser) = if a.is_ok() { ("First", b) } else { ("Second", a) };
        assert!(matches!(loser, Err(RepositoryError::ChangedMeanwhile(_))), "{loser:?}");
        let after = accounts.load(UserPk(12)).await.unwrap().unwrap();
        last_winner = format!("{winner} {round}");
        assert_eq!(after.user.value.name, last_winner);
        assert!(after.user.version > account.user.version);

        // A change based on the old version is refused even with nobody racing it.
        let mut stale = AccountChange::of(&account, Some(UserPk(11)), Timestamp::now());
        stale.user.surname = "Stale".into();
        assert!(matches!(accounts.save(stale).await, Err(RepositoryError::ChangedMeanwhile(_))));
    }
    let (_, me) = app.get_as("acme.user", "/v1/user").await;
    assert_eq!(me["name"], last_winner, "what the API serves is the last winner");
    assert_ne!(me["surname"], "Stale");
}

async fn racing_user_updates_lose_nothing(app: TestApp) {
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("raced.member")).await;
    let path = format!("/v1/users/{user_pk}");
    let callers = ["acme.it.admin", "acme.admin", "care"];
    let mut conflicts = 0;
    for round in 0..ROUNDS {
        let (_, mut before) = app.get_as("acme.admin", &path).await;
        before.as_object_mut().unwrap().remove("suspensionInfo");
        let calls: Vec<Call> = (0..6)
            .map(|i| {
                let mut body = before.clone();
                body["name"] = json!(format!("Racer {round}.{i}"));
                body["phone"] = json!(format!("+39 02 {round}{i}00000"));
                Call::new(callers[i % callers.len()], Method::PUT, path.clone(), body)
            })
            .collect();
        let answers = race(&app, &calls).await;
        let mut winners = Vec::new();
        for (call, (status, answer)) in calls.iter().zip(&answers) {
            match status {
                200 => {
                    assert_eq!(answer, &call.body, "the answer is what was written");
                    winners.push(answer.clone());
                }
                409 => {
                    error_paths(answer);
                    conflicts += 1;
                }
                other => panic!("{other}: {answer}"),
            }
        }
        assert!(!winners.is_empty(), "round {round}: {answers:?}");
        let (_, mut after) = app.get_as("care", &path).await;
        after.as_object_mut().unwrap().remove("suspensionInfo");
        assert!(winners.contains(&after), "round {round}: {after} is none of {winners:?}");
        let (_, listed) = app.get_as("acme.admin", "/v1/customers/101/users?search=raced.member").await;
        assert_eq!(listed["elements"][0]["name"], after["name"], "the list follows the winner");
    }
    eprintln!("{conflicts} of {} racing updates were conflicts", ROUNDS * 6);
}

/// A store that holds the first write made through it until released: a request made
/// through it has read and is about to write when the test makes another.
struct HoldFirstWrite {
    store: Arc<dyn ItemStore>,
    /// Told when the first write arrives; then waits to be released.
    hold: Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
}

impl HoldFirstWrite {
    async fn before_writing(&self) {
        let hold = self.hold.lock().unwrap().take();
        if let Some((arrived, release)) = hold {
            arrived.send(()).unwrap();
            release.await.unwrap();
        }
    }
}

#[async_trait::async_trait]
impl ItemStore for HoldFirstWrite {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.store.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.store.batch_get(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.before_writing().await;
        self.store.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.before_writing().await;
        self.store.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<QueryPage, StoreError> {
        self.store.query(query).await
    }
    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        self.store.count(query).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.before_writing().await;
        self.store.transact(ops).await
    }
    async fn increment(&self, key: &Key, by: u64) -> Result<u64, StoreError> {
        self.before_writing().await;
        self.store.increment(key, by).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}

/// The race the others leave to chance, forced: a change has read the user (or customer)
/// and is about to write when another change of it is made and answered 200. Written over
/// it (last writer wins), the second change would be lost though answered 200; it must be
/// refused with 409 instead, and the state is the change that was answered 200.
async fn a_change_based_on_a_read_another_change_overtook_is_refused(app: TestApp) {
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("overtaken.member")).await;
    for path in [format!("/v1/users/{user_pk}"), "/v1/customers/101".to_owned()] {
        let (status, mut before) = app.get_as("care", &path).await;
        assert_eq!(status, 200, "{before}");
        before.as_object_mut().unwrap().remove("suspensionInfo");
        let (arrived, arrival) = oneshot::channel();
        let (release, released) = oneshot::channel();
        let held = Arc::new(HoldFirstWrite {
            store: app.environment.state.store.clone(),
            hold: Mutex::new(Some((arrived, released))),
        });
        let holding = app.variant(|state| state.store = held).await;

        let mut first = before.clone();
        first["name"] = json!("First Writer");
        let token = app.token("care").await;
        let request = app.client.put(format!("{holding}{path}")).bearer_auth(&token).json(&first).send();
        let first_call = tokio::spawn(async move { read(request.await.expect("the stand-in answers")).await });
        arrival.await.expect("the first change reaches its write");

        let mut second = before.clone();
        second["name"] = json!("Second Writer");
        let (status, answer) = app.put_as("care", &path, &second).await;
        assert_eq!(status, 200, "{path}: the overtaking change: {answer}");
        release.send(()).unwrap();
        let (status, answer) = first_call.await.unwrap();
        assert_eq!(status, 409, "{path}: a change based on an overtaken read: {answer}");
        error_paths(&answer);
        let (_, after) = app.get_as("care", &path).await;
        assert_eq!(after["name"], "Second Writer", "{path}: the change answered 200 stays");
    }
}

/// A full replacement racing with other operations that rewrite the same user (its
/// roles, its customers): every change answered 200 is in the final state, and every
/// change answered 409 is not. A write based on a stale read would undo the others.
async fn racing_changes_of_different_parts_of_a_user_lose_nothing(app: TestApp) {
    let user_pk = app.create_user("acme.it.admin", 101, &new_user("many.sided")).await;
    let (_, roles) = app.get_as("acme.admin", "/v1/options/app-roles").await;
    let hub_roles: Vec<Value> = roles["hub"].as_array().unwrap().clone();
    let path = format!("/v1/users/{user_pk}");
    let mut conflicts = 0;
    for round in 0..ROUNDS * 2 {
        let (_, mut info) = app.get_as("acme.admin", &path).await;
        info.as_object_mut().unwrap().remove("suspensionInfo");
        let (_, held) = app.get_as("acme.admin", &format!("{path}/roles")).await;
        let (_, associated) = app.get_as("acme.admin", &format!("{path}/customers")).await;
        let in_france = associated["elements"].as_array().unwrap().iter().any(|c| c["groupPk"] == 102);

        let mut renamed = info.clone();
        renamed["name"] = json!(format!("Round {round}"));
        let hub = hub_roles[round % hub_roles.len()].clone();
        let calls = [
            Call::new("acme.admin", Method::PUT, path.clone(), renamed.clone()),
            Call::new("acme.it.admin", Method::PUT, format!("{path}/roles"), json!({ "hub": hub })),
            if in_france {
                Call::new("care", Method::DELETE, format!("{path}/customers?groupPk=102"), Value::Null)
            } else {
                Call::new("care", Method::POST, format!("{path}/customers"), json!([102]))
            },
        ];
        let answers = race(&app, &calls).await;
        for (status, body) in &answers {
            assert!(matches!(status, 200 | 409), "round {round}: {status} {body}");
            conflicts += usize::from(*status == 409);
        }
        let applied = |index: usize| answers[index].0 == 200;

        let (_, mut after) = app.get_as("care", &path).await;
        after.as_object_mut().unwrap().remove("suspensionInfo");
        assert_eq!(
            after,
            if applied(0) { renamed } else { info },
            "round {round}: the profile, {answers:?}"
        );
        let (_, roles_after) = app.get_as("care", &format!("{path}/roles")).await;
        let hub_after = if applied(1) { json!([hub]) } else { held["hub"].clone() };
        assert_eq!(roles_after["hub"], hub_after, "round {round}: the roles, {answers:?}");
        assert_eq!(roles_after["accountcentral"], held["accountcentral"], "round {round}");
        let (_, customers_after) = app.get_as("care", &format!("{path}/customers")).await;
        let now_in_france = customers_after["elements"].as_array().unwrap().iter().any(|c| c["groupPk"] == 102);
        assert_eq!(now_in_france, in_france != applied(2), "round {round}: the customers, {answers:?}");
        let (_, listed) = app.get_as("acme.admin", "/v1/customers/102/users?search=many.sided").await;
        assert_eq!(
            listed["page"]["totalElements"],
            u64::from(now_in_france),
            "round {round}: 102's roster"
        );
    }
    eprintln!("{conflicts} of {} racing changes were conflicts", ROUNDS * 2 * 3);
}

async fn racing_customer_updates_lose_nothing(app: TestApp) {
    let callers = ["acme.admin", "acme.it.admin", "care"];
    for round in 0..ROUNDS {
        let (_, before) = app.get_as("care", "/v1/customers/101").await;
        let calls: Vec<Call> = (0..6)
            .map(|i| {
                let mut body = before.clone();
                body["name"] = json!(format!("Acme Italia {round}.{i}"));
                body["address"] = json!(format!("Via Corsa {round}{i}, Milano"));
                Call::new(callers[i % callers.len()], Method::PUT, "/v1/customers/101", body)
            })
            .collect();
        let answers = race(&app, &calls).await;
        let mut winners = Vec::new();
        for (call, (status, answer)) in calls.iter().zip(&answers) {
            match status {
                200 => {
                    assert_eq!((&answer["name"], &answer["address"]), (&call.body["name"], &call.body["address"]));
                    winners.push(answer.clone());
                }
                409 => {
                    error_paths(answer);
                }
                other => panic!("{other}: {answer}"),
            }
        }
        assert!(!winners.is_empty(), "round {round}: {answers:?}");
        let (_, after) = app.get_as("acme.it.admin", "/v1/customers/101").await;
        assert!(winners.contains(&after), "round {round}: {after} is none of {winners:?}");
        let (_, listed) = app.get_as("acme.admin", "/v1/customers?name=corsa").await;
        assert_eq!(listed["elements"].as_array().map(Vec::len), Some(0), "the address is not the name");
        let (_, named) = app
            .get_as(
                "acme.admin",
                &format!("/v1/customers?name={}", after["name"].as_str().unwrap().replace(' ', "%20")),
            )
            .await;
        assert_eq!(named["page"]["totalElements"], 1, "the name index follows the winner: {named}");
    }
}

async fn racing_claims_of_one_gid_give_it_to_one_customer(app: TestApp) {
    let groups = [101, 102, 200];
    for round in 0..ROUNDS {
        let gid = format!("RACE-{round}");
        let mut calls = Vec::new();
        let mut old = Vec::new();
        for group in groups {
            let (_, mut body) = app.get_as("care", &format!("/v1/customers/{group}")).await;
            old.push(body["gid"].clone());
            body["gid"] = json!(gid);
            calls.push(Call::new("care", Method::PUT, format!("/v1/customers/{group}"), body));
        }
        let answers = race(&app, &calls).await;
        let winner = one_winner(&answers, 200, &gid);
        for (index, group) in groups.into_iter().enumerate() {
            let (_, customer) = app.get_as("care", &format!("/v1/customers/{group}")).await;
            let expected = if index == winner { json!(gid) } else { old[index].clone() };
            assert_eq!(customer["gid"], expected, "{group} after round {round}");
        }
        // The guards followed: the winner's previous gid is free for a loser.
        let loser = (winner + 1) % groups.len();
        let (_, mut body) = app.get_as("care", &format!("/v1/customers/{}", groups[loser])).await;
        body["gid"] = old[winner].clone();
        let (status, answer) = app.put_as("care", &format!("/v1/customers/{}", groups[loser]), &body).await;
        assert_eq!(status, 200, "{answer}");
    }
}

/// An admin's full replacement racing with care's status change: every change answered
/// 200 is in the final state. The admin's body carries the status it read; once care has
/// changed it, that body is stale (409) or asks for a status change the admin may not
/// make (400 naming /status): either way it must not undo care's change.
async fn racing_changes_of_different_parts_of_a_customer_lose_nothing(app: TestApp) {
    let mut conflicts = 0;
    for round in 0..ROUNDS * 2 {
        let (_, before) = app.get_as("care", "/v1/customers/102").await;
        let mut renamed = before.clone();
        renamed["name"] = json!(format!("Acme France {round}"));
        let status = if before["status"] == "ACTIVE" { "INACTIVE" } else { "ACTIVE" };
        let calls = [
            Call::new("acme.admin", Method::PUT, "/v1/customers/102", renamed.clone()),
            Call::new("care", Method::PATCH, "/v1/customers/102", json!({ "status": status })),
        ];
        let answers = race(&app, &calls).await;
        match &answers[0] {
            (200 | 409, _) => {}
            (400, error) => assert_eq!(error_paths(error), ["/status"], "round {round}"),
            (other, body) => panic!("round {round}: update {other} {body}"),
        }
        assert!(matches!(answers[1].0, 200 | 409), "round {round}: status {answers:?}");
        conflicts += answers.iter().filter(|(status, _)| *status == 409).count();

        let (_, after) = app.get_as("care", "/v1/customers/102").await;
        let name = if answers[0].0 == 200 { &renamed["name"] } else { &before["name"] };
        assert_eq!(&after["name"], name, "round {round}: the name, {answers:?}");
        let expected_status = if answers[1].0 == 200 {
            json!(status)
        } else {
            before["status"].clone()
        };
        assert_eq!(after["status"], expected_status, "round {round}: the status, {answers:?}");
        for field in ["address", "country", "phone", "gid", "premium"] {
            assert_eq!(after[field], before[field], "round {round}: {field}");
        }
    }
    eprintln!("{conflicts} of {} racing changes were conflicts", ROUNDS * 2 * 2);
}

/// Keys created at once for a customer without keys: all are created, and exactly one of
/// them is the default (the key set is written conditioned on its version).
async fn racing_first_keys_make_one_default(app: TestApp) {
    for round in 0..ROUNDS {
        let group = [101, 102, 200][round % 3];
        let before = app.get_as("care", &format!("/v1/customers/{group}/dkims?size=100")).await.1;
        let had_default = before["elements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|key| key["default"] == json!(true));
        let calls: Vec<Call> = (0..4)
            .map(|i| {
                let body = key_body(&format!("r{round}k{i}.race.test"), "s1", true);
                Call::new("care", Method::POST, format!("/v1/customers/{group}/dkims"), body)
            })
            .collect();
        let answers = race(&app, &calls).await;
        assert!(answers.iter().all(|(status, _)| *status == 201), "{answers:?}");
        let after = app.get_as("care", &format!("/v1/customers/{group}/dkims?size=100")).await.1;
        let keys = after["elements"].as_array().unwrap();
        assert_eq!(keys.len(), before["elements"].as_array().unwrap().len() + 4);
        assert_eq!(keys.iter().filter(|key| key["default"] == json!(true)).count(), 1, "{after}");
        let defaults_answered = answers.iter().filter(|(_, key)| key["default"] == json!(true)).count();
        assert_eq!(defaults_answered, usize::from(!had_default), "{answers:?}");
    }
}

/// The same domain and selector sent at once: one key, conflicts for the others.
async fn racing_keys_of_one_domain_and_selector_make_one_key(app: TestApp) {
    for round in 0..ROUNDS {
        let body = key_body(&format!("r{round}.same.test"), "s1", true);
        let calls: Vec<Call> = (0..4)
            .map(|_| Call::new("care", Method::POST, "/v1/customers/100/dkims", body.clone()))
            .collect();
        let mut statuses: Vec<u16> = race(&app, &calls).await.into_iter().map(|(status, _)| status).collect();
        statuses.sort();
        assert_eq!(statuses, [201, 409, 409, 409]);
        let listed = app
            .get_as("care", &format!("/v1/customers/100/dkims?domain=r{round}.same.test"))
            .await
            .1;
        assert_eq!(listed["page"]["totalElements"], 1);
    }
}
