//! Notifications end to end: a platform service enqueues one (enqueueNotification), the
//! delivery function expands its destination (a user, a customer's subtree, the holders
//! of a role) and stores it once per user, fanning large destinations out in chunks;
//! each user lists their own (newest first, filtered, paged) and marks them read. The
//! queue message follows its published JSON Schema.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accountcentral_e2e::operations::{grant_body, notification_body};
use accountcentral_e2e::{TestApp, delivered_notification, error_paths, new_user, on_both_backends, stored_user, unique, user_pk_of};
use accountcentral_notifications_delivery::Delivery;
use serde_json::{Value, json};
use shared::actions::notifications::send;
use shared::adapters::embedded::queue::{LocalQueue, QueueSettings};
use shared::app::AppState;
use shared::consumer::{Consumer, QueueMessage, TRACING_ATTRIBUTE};
use shared::domain::ids::{NotificationId, UserPk};
use shared::domain::notification::{CHUNK, MAX_MARKED, NotificationMessage, NotificationRequest};
use shared::ports::queue::{MessageQueue, ReceivedMessage};
use shared::repositories::notifications::Notifications;

on_both_backends!(
    an_enqueued_notification_reaches_its_user,
    listings_are_newest_first_filtered_and_paged,
    only_the_callers_own_are_marked_read,
    bad_input_is_refused_naming_the_field,
    an_unknown_destination_is_not_found,
    a_customer_destination_reaches_its_subtree_only,
    a_role_destination_reaches_the_holders_of_the_role,
    a_large_destination_fans_out_in_chunks_delivered_once,
    a_redelivered_message_makes_no_duplicate_and_keeps_read,
    a_vanished_destination_is_dropped_and_a_malformed_message_fails,
    every_message_produced_follows_the_schema,
    a_stream_reads_what_follows_the_last_id_it_sent,
);

const NOTIFICATIONS: &str = "/v1/notifications";
const MARK_READ: &str = "/v1/notifications/read";
/// How long a delivery may take before a test gives up on it.
const DEADLINE: Duration = Duration::from_secs(60);

/// Polls `check` until it returns a value, failing the test at the deadline.
async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, check: impl Fn() -> F) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < DEADLINE, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A request body with this content, for `destination`.
fn body(destination: Value, title: &str, priority: &str, application: &str) -> Value {
    json!({"destination": destination,
           "notification": {"title": title, "message": format!("{title}, in full"), "priority": priority, "application": application}})
}

/// Enqueues as the platform mail system (SERVICE): the new notification's id.
async fn enqueue(app: &TestApp, body: &Value) -> i64 {
    let (status, accepted) = app.post_as("mta", NOTIFICATIONS, body).await;
    assert_eq!(status, 202, "{accepted}");
    accepted["id"].as_i64().unwrap_or_else(|| panic!("no id in {accepted}"))
}

/// The caller's notifications as listed with `query`.
async fn list(app: &TestApp, user: &str, query: &str) -> Vec<Value> {
    let (status, listed) = app.get_as(user, &format!("{NOTIFICATIONS}?{query}")).await;
    assert_eq!(status, 200, "{listed}");
    listed.as_array().expect("a bare array").clone()
}

fn ids(listed: &[Value]) -> Vec<i64> {
    listed.iter().map(|n| n["id"].as_i64().expect("an id")).collect()
}

/// Waits until `user` lists notification `id`: as listed.
async fn delivered(app: &TestApp, user: &str, id: i64) -> Value {
    eventually(&format!("notification {id} of {user}"), || async {
        list(app, user, "size=100").await.into_iter().find(|n| n["id"] == id)
    })
    .await
}

/// How many notifications with `id` the user has, read from the store.
async fn copies(app: &TestApp, user: i64, id: NotificationId) -> usize {
    let notifications = Notifications::new(app.environment.state.store.as_ref());
    let after = notifications.after(UserPk(user), None, 1000).await.unwrap();
    after.iter().filter(|n| n.id == id).count()
}

/// The users that have notification `id`, among `users`.
async fn holders_of(app: &TestApp, users: &[i64], id: NotificationId) -> BTreeSet<i64> {
    let notifications = Notifications::new(app.environment.state.store.as_ref());
    let mut holding = BTreeSet::new();
    for user in users {
        let next = notifications.after(UserPk(*user), Some(NotificationId(id.0 - 1)), 1).await.unwrap();
        if next.first().is_some_and(|n| n.id == id) {
            holding.insert(*user);
        }
    }
    holding
}

/// A queue nobody consumes, to see what a producer sends.
struct Capture {
    _dir: tempfile::TempDir,
    queue: Arc<LocalQueue>,
}

impl Capture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let queue = Arc::new(LocalQueue::open(&dir.path().join("capture.sqlite"), QueueSettings::default()).unwrap());
        Self { _dir: dir, queue }
    }

    /// The app's state, sending notifications to this queue instead.
    fn state(&self, app: &TestApp) -> AppState {
        let mut state = app.environment.state.clone();
        state.queues.notifications = self.queue.clone();
        state
    }

    /// Every message sent so far, taken off the queue.
    async fn drain(&self) -> Vec<ReceivedMessage> {
        let mut all = Vec::new();
        loop {
            let received = self.queue.receive(10, Duration::ZERO).await.unwrap();
            if received.is_empty() {
                return all;
            }
            for message in &received {
                self.queue.delete(&message.receipt).await.unwrap();
            }
            all.extend(received);
        }
    }
}

/// A message as the consumer is handed it.
fn handed(message: &NotificationMessage) -> QueueMessage {
    QueueMessage {
        id: unique("message"),
        body: serde_json::to_string(message).unwrap(),
        tracing_id: Some(message.tracing_id.clone()),
        receive_count: 1,
    }
}

/// A message of a new notification for `destination`, with a fresh id.
async fn message_for(app: &TestApp, destination: Value) -> NotificationMessage {
    let request: NotificationRequest = serde_json::from_value(body(destination, "Direct", "LOW", "hub")).unwrap();
    let state = &app.environment.state;
    let id = Notifications::new(state.store.as_ref()).next_id().await.unwrap();
    NotificationMessage::new(id, "direct-test", state.clock.now(), &request)
}

/// Consumes `message` directly, as the delivery function's run on it would.
async fn consume(state: &AppState, message: &NotificationMessage) {
    Delivery.consume(state, &handed(message)).await.expect("consumed");
}

fn schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schemas/notification-message.v1.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("the schema file")).expect("JSON");
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a valid schema")
}

fn assert_follows_schema(validator: &jsonschema::Validator, body: &str) {
    let message: Value = serde_json::from_str(body).expect("a JSON message");
    let errors: Vec<String> = validator
        .iter_errors(&message)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{message} breaks the schema: {errors:?}");
}

async fn an_enqueued_notification_reaches_its_user(app: TestApp) {
    let request = notification_body(json!({"type": "USER", "userPk": 12}));
    let (status, accepted) = app.post_as("mta", NOTIFICATIONS, &request).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_i64().expect("an id");
    assert_eq!(accepted["destination"], request["destination"]);
    assert_eq!(accepted["notification"], request["notification"]);

    let listed = delivered(&app, "acme.user", id).await;
    let content = &request["notification"];
    for field in ["title", "message", "priority", "application", "link"] {
        assert_eq!(listed[field], content[field], "{field}");
    }
    assert_eq!(listed["read"], false);
    let date: jiff::Timestamp = listed["date"].as_str().expect("a date").parse().expect("RFC 3339");
    assert!((jiff::Timestamp::now() - date).abs() < jiff::SignedDuration::from_mins(5), "{date}");
    assert!(
        ids(&list(&app, "acme.it.admin", "size=100").await).iter().all(|other| *other != id),
        "another user does not list it"
    );
}

async fn listings_are_newest_first_filtered_and_paged(app: TestApp) {
    let user = json!({"type": "USER", "userPk": 12});
    let mut sent = Vec::new();
    for (title, priority, application) in [
        ("one", "LOW", "hub"),
        ("two", "HIGH", "send"),
        ("three", "HIGH", "hub"),
        ("four", "NORMAL", "hub"),
        ("five", "HIGH", "hub"),
    ] {
        sent.push(enqueue(&app, &body(user.clone(), title, priority, application)).await);
    }
    assert!(sent.windows(2).all(|pair| pair[0] < pair[1]), "ids grow: {sent:?}");
    for id in &sent {
        delivered(&app, "acme.user", *id).await;
    }
    let newest_first: Vec<i64> = sent.iter().rev().copied().collect();
    assert_eq!(ids(&list(&app, "acme.user", "size=100").await), newest_first);
    assert_eq!(ids(&list(&app, "acme.user", "size=2").await), newest_first[..2]);
    assert_eq!(ids(&list(&app, "acme.user", "size=2&page=1").await), newest_first[2..4]);
    assert_eq!(ids(&list(&app, "acme.user", "size=2&page=2").await), newest_first[4..]);
    assert!(list(&app, "acme.user", "size=2&page=3").await.is_empty(), "past the end");

    let high = [sent[4], sent[2], sent[1]];
    assert_eq!(ids(&list(&app, "acme.user", "priority=HIGH").await), high);
    assert_eq!(
        ids(&list(&app, "acme.user", "priority=HIGH&application=hub").await),
        [sent[4], sent[2]]
    );
    assert_eq!(ids(&list(&app, "acme.user", "priority=HIGH&size=1&page=1").await), [sent[2]]);
    assert_eq!(ids(&list(&app, "acme.user", "application=send").await), [sent[1]]);
    assert!(list(&app, "acme.user", "application=flow").await.is_empty());

    let (status, answer) = app.put_as("acme.user", MARK_READ, &json!([sent[4], sent[0]])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "OK");
    assert_eq!(ids(&list(&app, "acme.user", "notRead=true").await), [sent[3], sent[2], sent[1]]);
    assert_eq!(
        ids(&list(&app, "acme.user", "notRead=true&priority=HIGH").await),
        [sent[2], sent[1]]
    );
    assert_eq!(
        ids(&list(&app, "acme.user", "notRead=false").await),
        newest_first,
        "false lists them all"
    );
}

async fn only_the_callers_own_are_marked_read(app: TestApp) {
    let own = enqueue(&app, &body(json!({"type": "USER", "userPk": 12}), "own", "LOW", "hub")).await;
    let other = enqueue(&app, &body(json!({"type": "USER", "userPk": 20}), "other", "LOW", "hub")).await;
    delivered(&app, "acme.user", own).await;
    delivered(&app, "globex.admin", other).await;

    let (status, refused) = app.put_as("acme.user", MARK_READ, &json!([own, other])).await;
    assert_eq!(status, 404, "{refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&other.to_string()) && !message.contains(&own.to_string()),
        "names the id that is not the caller's: {message}"
    );
    assert_eq!(delivered(&app, "acme.user", own).await["read"], false, "nothing changed");
    assert_eq!(delivered(&app, "globex.admin", other).await["read"], false, "nothing changed");
    let (status, _) = app.put_as("acme.user", MARK_READ, &json!([other + 1_000_000])).await;
    assert_eq!(status, 404, "an id that does not exist");

    let (status, answer) = app.put_as("acme.user", MARK_READ, &json!([own, own])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["resultCode"], "NOTIFICATIONS_READ");
    assert_eq!(delivered(&app, "acme.user", own).await["read"], true);
    assert_eq!(delivered(&app, "globex.admin", other).await["read"], false);
    let (status, _) = app.put_as("acme.user", MARK_READ, &json!([own])).await;
    assert_eq!(status, 200, "marking a read one again is no error");
}

async fn bad_input_is_refused_naming_the_field(app: TestApp) {
    let bad = json!({"destination": {"type": "ROLE", "groupPk": -1, "role": "DKIM"},
                     "notification": {"title": "", "message": "x".repeat(4001), "priority": "NORMAL",
                                      "application": "photoshop", "link": "ftp://files.test/x"}});
    let (status, refused) = app.post_as("mta", NOTIFICATIONS, &bad).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        error_paths(&refused),
        [
            "/destination/groupPk",
            "/destination/role",
            "/notification/title",
            "/notification/message",
            "/notification/application",
            "/notification/link"
        ]
    );
    let cases = [
        (
            json!({"notification": {"title": "t", "message": "m", "priority": "LOW", "application": "hub"}}),
            "/destination",
        ),
        (json!({"destination": {"type": "USER"}, "notification": {}}), "/destination/userPk"),
        (
            body(json!({"type": "USER", "userPk": 12}), "t", "URGENT", "hub"),
            "/notification/priority",
        ),
    ];
    for (body, path) in cases {
        let (status, refused) = app.post_as("mta", NOTIFICATIONS, &body).await;
        assert_eq!(status, 400, "{body}: {refused}");
        assert_eq!(error_paths(&refused), [path], "{body}");
    }
    let (status, refused) = app
        .post_as(
            "mta",
            NOTIFICATIONS,
            &body(json!({"type": "TEAM", "groupPk": 1}), "t", "LOW", "hub"),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(error_paths(&refused)[0].starts_with("/destination"), "{refused}");

    let marks = [
        (json!([]), ""),
        (json!((1..=MAX_MARKED as i64 + 1).collect::<Vec<_>>()), ""),
        (json!([1, 0]), "/1"),
        (json!(["one"]), "/0"),
        (json!({"ids": [1]}), ""),
    ];
    for (body, path) in marks {
        let (status, refused) = app.put_as("acme.user", MARK_READ, &body).await;
        assert_eq!(status, 400, "{body}: {refused}");
        assert_eq!(error_paths(&refused), [path], "{body}");
    }
    for (query, parameter) in [
        ("priority=urgent", "priority"),
        ("notRead=yes", "notRead"),
        ("application=Hub!", "application"),
        ("size=101", "size"),
        ("page=-1", "page"),
    ] {
        let (status, refused) = app.get_as("acme.user", &format!("{NOTIFICATIONS}?{query}")).await;
        assert_eq!(status, 400, "{query}: {refused}");
        assert_eq!(error_paths(&refused), [parameter], "{query}");
    }
}

async fn an_unknown_destination_is_not_found(app: TestApp) {
    for (destination, named) in [
        (json!({"type": "USER", "userPk": 999_999_999}), "user 999999999"),
        (json!({"type": "CUSTOMER", "groupPk": 999}), "customer 999"),
        (json!({"type": "ROLE", "groupPk": 999, "role": "ADMIN"}), "customer 999"),
    ] {
        let (status, refused) = app.post_as("mta", NOTIFICATIONS, &notification_body(destination.clone())).await;
        assert_eq!(status, 404, "{destination}: {refused}");
        assert!(refused["message"].as_str().unwrap_or_default().contains(named), "{refused}");
    }
    let capture = Capture::new();
    let request: NotificationRequest = serde_json::from_value(notification_body(json!({"type": "USER", "userPk": 999_999_999}))).unwrap();
    assert!(send(&capture.state(&app), &request, "trace").await.is_err());
    assert!(
        capture.drain().await.is_empty(),
        "nothing queued for a destination that does not exist"
    );
}

/// How many demo users [`everyone`] lists first.
const DEMO_COUNT: usize = 7;

/// The demo users with their customers, then a new user of each of 100, 101, 102 and 200.
async fn everyone(app: &TestApp) -> Vec<(i64, i64)> {
    let mut users = vec![(1, 1), (2, 1), (10, 100), (11, 101), (12, 101), (20, 200), (30, 1)];
    for group in [100, 101, 102, 200] {
        users.push((app.create_user("care", group, &new_user(&unique("n"))).await, group));
    }
    users
}

async fn a_customer_destination_reaches_its_subtree_only(app: TestApp) {
    let users = everyone(&app).await;
    let all: Vec<i64> = users.iter().map(|(user, _)| *user).collect();
    let in_acme: BTreeSet<i64> = users.iter().filter(|(_, g)| [100, 101, 102].contains(g)).map(|(u, _)| *u).collect();
    let in_italia: BTreeSet<i64> = users.iter().filter(|(_, g)| *g == 101).map(|(u, _)| *u).collect();

    let id = enqueue(&app, &body(json!({"type": "CUSTOMER", "groupPk": 100}), "acme", "NORMAL", "hub")).await;
    let id = NotificationId(id);
    eventually("every user of Acme's subtree", || async {
        (holders_of(&app, &all, id).await.len() >= in_acme.len()).then_some(())
    })
    .await;
    assert_eq!(holders_of(&app, &all, id).await, in_acme);
    delivered(&app, "acme.admin", id.0).await;

    // Consumed directly, so that once it returns every write is done.
    let message = message_for(&app, json!({"type": "CUSTOMER", "groupPk": 101})).await;
    consume(&app.environment.state, &message).await;
    assert_eq!(holders_of(&app, &all, message.id).await, in_italia, "a sub-customer's users only");
}

async fn a_role_destination_reaches_the_holders_of_the_role(app: TestApp) {
    let users = everyone(&app).await;
    let mut all: Vec<i64> = users.iter().map(|(user, _)| *user).collect();
    let admin_of_france = app.create_user("care", 100, &new_user(&unique("fr"))).await;
    let (status, granted) = app
        .post_as(
            "care",
            &format!("/v1/users/{admin_of_france}/capabilities"),
            &grant_body("ADMIN", Some(102)),
        )
        .await;
    assert_eq!(status, 201, "{granted}");
    all.push(admin_of_france);

    let state = &app.environment.state;
    let admins = message_for(&app, json!({"type": "ROLE", "groupPk": 101, "role": "ADMIN"})).await;
    consume(state, &admins).await;
    assert_eq!(
        holders_of(&app, &all, admins.id).await,
        BTreeSet::from([10, 11]),
        "ADMIN on 101 itself or on its parent"
    );
    let france = message_for(&app, json!({"type": "ROLE", "groupPk": 102, "role": "ADMIN"})).await;
    consume(state, &france).await;
    assert_eq!(holders_of(&app, &all, france.id).await, BTreeSet::from([10, admin_of_france]));
    // createCustomerUser makes each new user a USER of its customer: on 101 or on its parent.
    let mut users_of_101: BTreeSet<i64> = users[DEMO_COUNT..]
        .iter()
        .filter(|(_, group)| [100, 101].contains(group))
        .map(|(user, _)| *user)
        .collect();
    users_of_101.extend([12, admin_of_france]);
    let members = message_for(&app, json!({"type": "ROLE", "groupPk": 101, "role": "USER"})).await;
    consume(state, &members).await;
    assert_eq!(holders_of(&app, &all, members.id).await, users_of_101);

    // A revoked role no longer counts.
    let capability = granted["id"].as_i64().expect("the capability's id");
    let (status, revoked) = app
        .delete_as("care", &format!("/v1/users/{admin_of_france}/capabilities/{capability}"))
        .await;
    assert_eq!(status, 200, "{revoked}");
    let after = message_for(&app, json!({"type": "ROLE", "groupPk": 102, "role": "ADMIN"})).await;
    consume(state, &after).await;
    assert_eq!(holders_of(&app, &all, after.id).await, BTreeSet::from([10]));

    // End to end, over the queue.
    let id = enqueue(
        &app,
        &body(json!({"type": "ROLE", "groupPk": 200, "role": "ADMIN"}), "globex", "HIGH", "hub"),
    )
    .await;
    assert_eq!(delivered(&app, "globex.admin", id).await["priority"], "HIGH");
}

async fn a_large_destination_fans_out_in_chunks_delivered_once(app: TestApp) {
    let mut users = Vec::new();
    for n in 0..CHUNK + 30 {
        users.push(stored_user(&app, &format!("{}-{n}", unique("crowd")), 102, |_| {}, None).await);
    }
    let acme_admin = user_pk_of(&app, "acme.admin").await;
    let mut subtree: BTreeSet<i64> = users.iter().copied().collect();
    subtree.insert(acme_admin);
    let everybody: Vec<i64> = subtree.iter().copied().chain([11, 12, 20]).collect();

    // The first run sends chunks, and delivers nothing itself.
    let capture = Capture::new();
    let state = capture.state(&app);
    let message = message_for(&app, json!({"type": "CUSTOMER", "groupPk": 100})).await;
    consume(&state, &message).await;
    assert!(holders_of(&app, &everybody, message.id).await.is_empty());
    let chunks = capture.drain().await;
    assert!(chunks.len() >= 2, "{} chunks", chunks.len());
    let validator = schema();
    let mut recipients = Vec::new();
    for chunk in &chunks {
        assert_follows_schema(&validator, &chunk.body);
        assert_eq!(chunk.attributes.get(TRACING_ATTRIBUTE), Some(&message.tracing_id));
        let read = NotificationMessage::parse(&chunk.body).expect("a chunk message");
        let named = read.recipients.clone().expect("a chunk names its recipients");
        assert!(named.len() <= CHUNK);
        recipients.extend(named.iter().map(|u| u.0));
        assert_eq!(
            NotificationMessage { recipients: None, ..read },
            message,
            "a chunk carries the same notification"
        );
    }
    // Acme's subtree: the crowd of 102, acme.admin of 100, and the two users of 101.
    let expected: BTreeSet<i64> = subtree.iter().copied().chain([11, 12]).collect();
    assert_eq!(recipients.len(), expected.len(), "each user in one chunk only");
    assert_eq!(recipients.iter().copied().collect::<BTreeSet<_>>(), expected);

    // Each chunk delivered, and delivered again (a redelivery): each user has it once.
    for chunk in &chunks {
        let handed = QueueMessage {
            id: chunk.message_id.clone(),
            body: chunk.body.clone(),
            tracing_id: chunk.attributes.get(TRACING_ATTRIBUTE).cloned(),
            receive_count: 1,
        };
        Delivery.consume(&state, &handed).await.expect("a chunk consumed");
        Delivery.consume(&state, &handed).await.expect("a chunk consumed again");
    }
    for user in &everybody {
        let want = usize::from(expected.contains(user));
        assert_eq!(copies(&app, *user, message.id).await, want, "user {user}");
    }
    // A re-run of the fan-out itself (its message redelivered) changes nothing either.
    consume(&state, &message).await;
    for chunk in capture.drain().await {
        let read = NotificationMessage::parse(&chunk.body).unwrap();
        consume(&state, &read).await;
    }
    for user in &everybody {
        assert_eq!(
            copies(&app, *user, message.id).await,
            usize::from(expected.contains(user)),
            "user {user}"
        );
    }

    // End to end, through the stand-in's own consumer.
    let id = NotificationId(enqueue(&app, &body(json!({"type": "CUSTOMER", "groupPk": 102}), "crowd", "LOW", "hub")).await);
    let crowd: BTreeSet<i64> = users.iter().copied().collect();
    eventually("every user of the crowd", || async {
        (holders_of(&app, &everybody, id).await.len() >= crowd.len()).then_some(())
    })
    .await;
    assert_eq!(holders_of(&app, &everybody, id).await, crowd);
}

async fn a_redelivered_message_makes_no_duplicate_and_keeps_read(app: TestApp) {
    let state = &app.environment.state;
    let message = message_for(&app, json!({"type": "USER", "userPk": 12})).await;
    consume(state, &message).await;
    assert_eq!(copies(&app, 12, message.id).await, 1);
    let (status, answer) = app.put_as("acme.user", MARK_READ, &json!([message.id.0])).await;
    assert_eq!(status, 200, "{answer}");

    let again = QueueMessage {
        receive_count: 2,
        ..handed(&message)
    };
    Delivery.consume(state, &again).await.expect("consumed again");
    assert_eq!(copies(&app, 12, message.id).await, 1, "no duplicate");
    let listed = list(&app, "acme.user", "size=100").await;
    let copies_listed: Vec<&Value> = listed.iter().filter(|n| n["id"] == message.id.0).collect();
    assert_eq!(copies_listed.len(), 1);
    assert_eq!(copies_listed[0]["read"], true, "still read");
}

async fn a_vanished_destination_is_dropped_and_a_malformed_message_fails(app: TestApp) {
    let state = &app.environment.state;
    for destination in [
        json!({"type": "USER", "userPk": 999_999_999}),
        json!({"type": "CUSTOMER", "groupPk": 999}),
        json!({"type": "ROLE", "groupPk": 999, "role": "ADMIN"}),
    ] {
        let message = message_for(&app, destination.clone()).await;
        Delivery
            .consume(state, &handed(&message))
            .await
            .unwrap_or_else(|e| panic!("{destination}: acknowledged, not retried: {e}"));
    }
    for body in ["{}", "not json", r#"{"version": 2}"#] {
        let malformed = QueueMessage {
            id: unique("bad"),
            body: body.into(),
            tracing_id: None,
            receive_count: 1,
        };
        assert!(
            Delivery.consume(state, &malformed).await.is_err(),
            "{body}: left for the dead-letter queue"
        );
    }
}

async fn every_message_produced_follows_the_schema(app: TestApp) {
    let validator = schema();
    let capture = Capture::new();
    let state = capture.state(&app);
    let destinations = [
        json!({"type": "USER", "userPk": 12}),
        json!({"type": "CUSTOMER", "groupPk": 100}),
        json!({"type": "ROLE", "groupPk": 101, "role": "SERVICE"}),
    ];
    let mut sent = Vec::new();
    for destination in destinations {
        for body in [
            notification_body(destination.clone()),
            body(destination, "Grüße aus Zürich ✓", "HIGH", "accountcentral"),
        ] {
            let request: NotificationRequest = serde_json::from_value(body).unwrap();
            sent.push(send(&state, &request, "trace-42.a:b").await.expect("queued"));
        }
    }
    let produced = capture.drain().await;
    assert_eq!(produced.len(), sent.len());
    for message in &produced {
        assert_follows_schema(&validator, &message.body);
        assert_eq!(message.attributes.get(TRACING_ATTRIBUTE).map(String::as_str), Some("trace-42.a:b"));
        let read = NotificationMessage::parse(&message.body).expect("the consumer reads what is produced");
        assert!(sent.contains(&read.id));
        assert_eq!(read.tracing_id, "trace-42.a:b");
    }
    // The chunks of a fan-out are checked in a_large_destination_fans_out_in_chunks_delivered_once.
}

async fn a_stream_reads_what_follows_the_last_id_it_sent(app: TestApp) {
    let notifications = Notifications::new(app.environment.state.store.as_ref());
    assert_eq!(notifications.latest(UserPk(12)).await.unwrap(), None);
    let mut sent = Vec::new();
    for _ in 0..3 {
        sent.push(NotificationId(delivered_notification(&app, 12).await));
    }
    delivered_notification(&app, 11).await;
    assert_eq!(notifications.latest(UserPk(12)).await.unwrap(), Some(sent[2]));
    let ids_after = async |after: Option<NotificationId>, limit| -> Vec<NotificationId> {
        let read = notifications.after(UserPk(12), after, limit).await.unwrap();
        read.iter().map(|n| n.id).collect()
    };
    assert_eq!(ids_after(None, 2).await, sent[..2], "oldest first, at most the limit");
    assert_eq!(ids_after(Some(sent[0]), 10).await, sent[1..]);
    assert!(
        ids_after(Some(sent[2]), 10).await.is_empty(),
        "another user's newer one is not the user's"
    );
}

/// A change made to a message.
type Edit = fn(&mut Value);

/// The schema refuses every message the consumer refuses, and accepts those it reads.
#[test]
fn the_schema_refuses_what_the_consumer_refuses() {
    let validator = schema();
    let good = json!({"version": 1, "id": 42, "tracingId": "t-1", "enqueuedAt": "2026-01-02T03:04:05.123Z",
                      "destination": {"type": "ROLE", "groupPk": 101, "role": "ADMIN"},
                      "notification": {"title": "Export ready", "message": "Line one\nline two\ttabbed",
                                       "priority": "NORMAL", "application": "demo_client",
                                       "link": "https://hub.example.test:8443/a/b?c=d#e"},
                      "recipients": [12, 13]});
    let variants: Vec<(&str, Edit)> = vec![
        ("version 2", |m| m["version"] = json!(2)),
        ("id 0", |m| m["id"] = json!(0)),
        ("id beyond 2^53", |m| m["id"] = json!(9_007_199_254_740_992_i64)),
        ("id as text", |m| m["id"] = json!("42")),
        ("no tracing id", |m| drop(m.as_object_mut().unwrap().remove("tracingId"))),
        ("no date", |m| drop(m.as_object_mut().unwrap().remove("enqueuedAt"))),
        ("not a date", |m| m["enqueuedAt"] = json!("yesterday")),
        ("no such day", |m| m["enqueuedAt"] = json!("2026-02-30T00:00:00Z")),
        ("unknown type", |m| m["destination"] = json!({"type": "TEAM", "groupPk": 1})),
        ("user without key", |m| m["destination"] = json!({"type": "USER"})),
        ("negative user", |m| m["destination"] = json!({"type": "USER", "userPk": -3})),
        ("platform role", |m| m["destination"]["role"] = json!("CUSTOMER_CARE")),
        ("unknown role", |m| m["destination"]["role"] = json!("OWNER")),
        ("empty title", |m| m["notification"]["title"] = json!("")),
        ("blank title", |m| m["notification"]["title"] = json!("  \t ")),
        ("title with a line break", |m| m["notification"]["title"] = json!("a\nb")),
        ("long title", |m| m["notification"]["title"] = json!("é".repeat(201))),
        ("no message", |m| drop(m["notification"].as_object_mut().unwrap().remove("message"))),
        ("message with a bell", |m| m["notification"]["message"] = json!("ding\u{7}")),
        ("message with C1 control", |m| m["notification"]["message"] = json!("a\u{85}b")),
        ("long message", |m| m["notification"]["message"] = json!("x".repeat(4001))),
        ("unknown priority", |m| m["notification"]["priority"] = json!("URGENT")),
        ("application with capitals", |m| m["notification"]["application"] = json!("Hub")),
        ("long application", |m| m["notification"]["application"] = json!("a".repeat(65))),
        ("http link", |m| m["notification"]["link"] = json!("http://hub.test")),
        ("link with a space", |m| m["notification"]["link"] = json!("https://hub.test/a b")),
        ("link with credentials", |m| {
            m["notification"]["link"] = json!("https://me@hub.test")
        }),
        ("long link", |m| {
            m["notification"]["link"] = json!(format!("https://hub.test/{}", "x".repeat(2000)))
        }),
        ("no recipients", |m| m["recipients"] = json!([])),
        ("repeated recipient", |m| m["recipients"] = json!([12, 12])),
        ("recipient 0", |m| m["recipients"] = json!([0])),
        ("too many recipients", |m| {
            m["recipients"] = json!((1..=CHUNK as i64 + 1).collect::<Vec<_>>())
        }),
    ];
    let accepts = |message: &Value| {
        (
            NotificationMessage::parse(&message.to_string()).is_ok(),
            validator.is_valid(message),
        )
    };
    assert_eq!(accepts(&good), (true, true), "the good message");
    for (what, edit) in &variants {
        let mut message = good.clone();
        edit(&mut message);
        assert_eq!(
            accepts(&message),
            (false, false),
            "{what}: (consumer, schema) must both refuse {message}"
        );
    }
    let mut without_options = good.clone();
    without_options.as_object_mut().unwrap().remove("recipients");
    without_options["notification"].as_object_mut().unwrap().remove("link");
    assert_eq!(accepts(&without_options), (true, true), "link and recipients are optional");
}
