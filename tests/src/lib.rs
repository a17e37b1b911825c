//! `TestApp`: the local stand-in started in-process on a random port, on the
//! embedded store or on the AWS emulator, with helpers to call it as a demo user.

pub mod demo_secrets;
pub mod dkim;
pub mod operations;
pub mod verifiers;
pub mod writes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use accountcentral_local::{AwsNames, Backend, ConsumerFunction, Environment};
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use shared::adapters::embedded::sms::SmsOutbox;
use shared::app::{AppState, Queues};
use shared::domain::catalogue::Stage;
use shared::domain::customer::Customer;
use shared::domain::ids::{GroupPk, UserPk};
use shared::domain::notification::{Notification, Priority};
use shared::domain::password::PasswordRecord;
use shared::domain::preferences::Preferences;
use shared::domain::user::{User, UserType};
use shared::domain::verification::{Code, Verification};
use shared::http::service::serve;
use shared::ports::clock::Clock;
use shared::ports::queue::{MessageQueue, OutgoingMessage, QueueError, ReceivedMessage};
use shared::ports::sms::{SmsError, SmsSender};
use shared::repositories::accounts::{Accounts, NewAccount};
use shared::repositories::credentials::Credentials;
use shared::repositories::customers::Customers;
use shared::repositories::notifications::Notifications;

/// The demo users of the seed.
pub const DEMO_USERS: [&str; 7] = ["care", "dkimops", "acme.admin", "acme.it.admin", "acme.user", "globex.admin", "mta"];

/// A running stand-in with the demo tenant.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub environment: Environment,
    /// The handlers' clock, which a test may move forward.
    pub clock: Arc<TestClock>,
    _data_dir: tempfile::TempDir,
}

/// The system clock, moved forward by what a test asks for (rate limits, expiries).
#[derive(Debug, Default)]
pub struct TestClock {
    offset_ms: AtomicI64,
}

impl TestClock {
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: SignedDuration) {
        self.offset_ms.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::now() + SignedDuration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl TestApp {
    /// The stand-in on the embedded store, in a fresh directory.
    pub async fn embedded() -> Self {
        Self::start(Backend::Embedded).await
    }

    /// The stand-in on the AWS emulator at `AWS_ENDPOINT_URL`, with its own table, queue and key.
    pub async fn aws() -> Self {
        assert!(
            std::env::var("AWS_ENDPOINT_URL").is_ok(),
            "set AWS_ENDPOINT_URL to a running moto server (scripts/test does this), with AWS_REGION and test credentials"
        );
        let prefix = format!("e2e-{}", uuid::Uuid::new_v4().simple());
        Self::start(Backend::Aws(AwsNames::isolated(&prefix))).await
    }

    /// The stand-in on the embedded store, its state adjusted by `adjust` before it serves
    /// (stream settings, for instance).
    pub async fn embedded_with(adjust: impl FnOnce(&mut AppState)) -> Self {
        Self::start_with(Backend::Embedded, adjust).await
    }

    async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    async fn start_with(backend: Backend, adjust: impl FnOnce(&mut AppState)) -> Self {
        Self::start_per_function(backend, adjust, |_, _, state| state.clone(), |_, queues| queues.clone()).await
    }

    /// The stand-in on the embedded store, each function on the state `state_of` makes of
    /// the shared one (given its binary's name and wiring), each consumer draining its queue
    /// among those `event_source` makes of the queues: as on AWS, where each runs in a Lambda function of its own.
    pub async fn embedded_per_function(
        state_of: impl Fn(&'static str, u8, &AppState) -> AppState,
        event_source: impl Fn(&ConsumerFunction, &Queues) -> Queues,
    ) -> Self {
        Self::start_per_function(Backend::Embedded, |_| {}, state_of, event_source).await
    }

    async fn start_per_function(
        backend: Backend,
        adjust: impl FnOnce(&mut AppState),
        state_of: impl Fn(&'static str, u8, &AppState) -> AppState,
        event_source: impl Fn(&ConsumerFunction, &Queues) -> Queues,
    ) -> Self {
        let data_dir = tempfile::tempdir().expect("a temporary directory");
        let mut environment = Environment::open(data_dir.path(), backend, Stage::Dev)
            .await
            .expect("the stand-in opens its state");
        adjust(&mut environment.state);
        let clock = Arc::new(TestClock::default());
        environment.state.clock = clock.clone();
        if let Backend::Aws(_) = &environment.backend {
            // Every SMS still goes through SNS to the emulator (a failed publish fails the
            // request); a copy in the outbox lets the test read it without asking the
            // emulator, whose data dump grows with everything it holds.
            environment.state.sms = Arc::new(Tee {
                sns: environment.state.sms.clone(),
                copy: SmsOutbox::new(data_dir.path().join("sms-outbox.jsonl"), clock.clone()),
            });
        }
        environment
            .seed_with(demo_secrets::for_this_run)
            .await
            .expect("the demo tenant is seeded");
        let shared = environment.state.clone();
        let (addr, server): (SocketAddr, _) = environment
            .bind_functions(
                "127.0.0.1:0".parse().unwrap(),
                |binary, wiring| state_of(binary, wiring, &shared),
                event_source,
            )
            .await
            .expect("a free port");
        tokio::spawn(server);
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Self {
            base: format!("http://{addr}"),
            client,
            environment,
            clock,
            _data_dir: data_dir,
        }
    }

    /// The texts of the SMS sent to `phone`, oldest first: from the outbox (on the AWS
    /// backend, the copy of what went through SNS).
    pub async fn sms_to(&self, phone: &str) -> Vec<String> {
        let outbox = std::fs::read_to_string(self.data_dir().join("sms-outbox.jsonl")).unwrap_or_default();
        outbox
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("an outbox line is JSON"))
            .filter(|sms| sms["to"] == phone)
            .map(|sms| sms["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The 6-digit code of the last SMS sent to `phone`.
    pub async fn last_code_to(&self, phone: &str) -> u32 {
        let texts = self.sms_to(phone).await;
        let text = texts.last().unwrap_or_else(|| panic!("no SMS to {phone}"));
        six_digits(text).unwrap_or_else(|| panic!("no code in {text:?}"))
    }

    /// Where the stand-in keeps its data (the embedded store, the key file).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// A bearer token for a demo user.
    pub async fn token(&self, username: &str) -> String {
        self.environment.token(username).await.expect("a demo user")
    }

    /// A request without credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// A request as `username`.
    pub async fn as_user(&self, username: &str, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(self.token(username).await)
    }

    /// GET as `username`: status and JSON body.
    pub async fn get_as(&self, username: &str, path: &str) -> (u16, Value) {
        read(
            self.as_user(username, Method::GET, path)
                .await
                .send()
                .await
                .expect("the stand-in answers"),
        )
        .await
    }

    /// Opens the Server-Sent-Events stream at `path` as `username` (the token in the
    /// header), resuming after `last_event_id` if given.
    pub async fn subscribe(&self, username: &str, path: &str, last_event_id: Option<&str>) -> EventStream {
        let mut request = self
            .as_user(username, Method::GET, path)
            .await
            .header("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        EventStream::open(request).await
    }

    /// The same API on the same data, its state adjusted by `adjust` (a queue that refuses,
    /// say), served on a port of its own: its base URL.
    pub async fn variant(&self, adjust: impl FnOnce(&mut AppState)) -> String {
        self.wrapped_variant(adjust, |api| api).await
    }

    /// [`TestApp::variant`], its application wrapped by `wrap` (a layer, say).
    pub async fn wrapped_variant(&self, adjust: impl FnOnce(&mut AppState), wrap: impl FnOnce(axum::Router) -> axum::Router) -> String {
        let mut state = self.environment.state.clone();
        adjust(&mut state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("a bound port"));
        let api = accountcentral_local::served(&|_, _| state.clone());
        tokio::spawn(axum::serve(listener, wrap(serve(api))).into_future());
        base
    }

    /// Opens the stream at `path` as `username` the way EventSource does: the token in the
    /// `access_token` query parameter, no Authorization header.
    pub async fn subscribe_with_query_token(&self, username: &str, path: &str) -> EventStream {
        let token = self.token(username).await;
        EventStream::open(
            self.request(Method::GET, &format!("{path}?access_token={token}"))
                .header("Accept", "text/event-stream"),
        )
        .await
    }

    /// PUT a JSON body as `username`: status and JSON body.
    pub async fn put_as(&self, username: &str, path: &str, body: &Value) -> (u16, Value) {
        read(
            self.as_user(username, Method::PUT, path)
                .await
                .json(body)
                .send()
                .await
                .expect("the stand-in answers"),
        )
        .await
    }
}

/// A queue that takes nothing, as an unreachable SQS.
pub struct RefusingQueue;

#[async_trait::async_trait]
impl MessageQueue for RefusingQueue {
    async fn send(&self, _: OutgoingMessage) -> Result<String, QueueError> {
        Err(QueueError::Unavailable("the test's queue refuses everything".into()))
    }
    async fn receive(&self, _: usize, _: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        Ok(Vec::new())
    }
    async fn delete(&self, _: &str) -> Result<(), QueueError> {
        Err(QueueError::InvalidReceipt)
    }
}

/// One frame of a Server-Sent-Events stream: an event, or a comment (heartbeat).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
    pub comment: Option<String>,
    pub retry: Option<u64>,
}

/// An open Server-Sent-Events response, read frame by frame.
pub struct EventStream {
    pub status: u16,
    pub content_type: String,
    response: Response,
    buffer: String,
}

impl EventStream {
    /// Sends `request` and keeps its response open.
    pub async fn open(request: RequestBuilder) -> Self {
        // A stream outlives the client's default request timeout.
        let response = request
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .expect("the stand-in answers");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Self {
            status: response.status().as_u16(),
            content_type,
            response,
            buffer: String::new(),
        }
    }

    /// The body of a response that is not a stream (an error), as JSON.
    pub async fn error_body(self) -> Value {
        self.response.json().await.expect("a JSON error body")
    }

    /// The next frame, `None` when the stream ended; panics if none comes within `within`.
    pub async fn next_frame(&mut self, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse_frame(&block));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no frame within {within:?}; buffered {:?}", self.buffer))
                .expect("the stream reads");
            match chunk {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).expect("UTF-8 frames")),
                None => return None,
            }
        }
    }

    /// The next event, skipping comments; `None` when the stream ended.
    pub async fn next_event(&mut self, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_frame(left).await?;
            if frame.comment.is_none() || !frame.data.is_empty() || frame.id.is_some() {
                return Some(frame);
            }
        }
    }
}

fn parse_frame(block: &str) -> Frame {
    let mut frame = Frame::default();
    let mut data = Vec::new();
    for line in block.lines().filter(|line| !line.is_empty()) {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "" => frame.comment = Some(value.to_owned()),
            "id" => frame.id = Some(value.to_owned()),
            "event" => frame.event = Some(value.to_owned()),
            "data" => data.push(value.to_owned()),
            "retry" => frame.retry = value.parse().ok(),
            _ => {}
        }
    }
    frame.data = data.join("\n");
    frame
}

/// Sends every SMS through SNS, then copies it to the outbox once SNS took it.
struct Tee {
    sns: Arc<dyn SmsSender>,
    copy: SmsOutbox,
}

#[async_trait::async_trait]
impl SmsSender for Tee {
    async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        self.sns.send(to, text).await?;
        self.copy.send(to, text).await
    }
}

/// The first run of exactly six digits in `text`.
pub fn six_digits(text: &str) -> Option<u32> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .and_then(|run| run.parse().ok())
}

/// A cell phone number no other test uses (E.164).
pub fn unique_phone() -> String {
    format!("+39340{:07}", uuid::Uuid::new_v4().as_u128() % 10_000_000)
}

/// Gives the user a new cell phone number, as customer care: the number.
pub async fn give_cell_phone(app: &TestApp, user_pk: i64) -> String {
    let phone = unique_phone();
    let (status, mut user) = app.get_as("care", &format!("/v1/users/{user_pk}")).await;
    assert_eq!(status, 200, "care reads user {user_pk}: {user}");
    user.as_object_mut().expect("a user").remove("suspensionInfo");
    user["cellPhone"] = serde_json::json!(phone);
    let (status, answer) = app.put_as("care", &format!("/v1/users/{user_pk}"), &user).await;
    assert_eq!(status, 200, "care gives user {user_pk} a cell phone: {answer}");
    phone
}

/// Gives the user a cell phone and a verification code pending for it, stored directly
/// (no SMS, so no rate limit): the code.
pub async fn pending_code(app: &TestApp, user_pk: i64) -> u32 {
    let phone = give_cell_phone(app, user_pk).await;
    let state = &app.environment.state;
    let key = shared::actions::credentials::code_key(state).await.expect("the code key");
    let repository = Credentials::new(state.store.as_ref(), &state.security);
    let before = repository.verification(UserPk(user_pk)).await.unwrap();
    let code = Code::generate();
    let issued = Verification::default()
        .issue(key.digest(UserPk(user_pk), &phone, &code), &phone, state.clock.now())
        .unwrap();
    repository.set_verification(UserPk(user_pk), before.version, &issued).await.unwrap();
    code.digits().parse().unwrap()
}

/// Stores a new unread notification for the user directly, as the delivery function
/// would (for fixtures that need one at once): its id.
pub async fn delivered_notification(app: &TestApp, user_pk: i64) -> i64 {
    let state = &app.environment.state;
    let notifications = Notifications::new(state.store.as_ref());
    let id = notifications.next_id().await.unwrap();
    let notification = Notification {
        id,
        title: "Stored".into(),
        message: "Stored for a test".into(),
        priority: Priority::Normal,
        application: "hub".into(),
        link: None,
        date: state.clock.now(),
        read: false,
    };
    assert!(
        notifications.deliver(UserPk(user_pk), &notification).await.unwrap(),
        "a new notification"
    );
    id.0
}

/// The userPk of `username`.
pub async fn user_pk_of(app: &TestApp, username: &str) -> i64 {
    Accounts::new(app.environment.state.store.as_ref())
        .find_by_username(username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {username}"))
        .0
}

/// A name no other call of the test uses, starting with `prefix`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Status and JSON body (`Null` when empty).
pub async fn read(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("a body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (status, body)
}

/// Asserts the platform's error format and returns the `errors[].path` values.
pub fn error_paths(body: &Value) -> Vec<String> {
    assert!(body["message"].is_string(), "error without message: {body}");
    assert!(
        body["logref"].as_str().is_some_and(|l| !l.is_empty()),
        "error without logref: {body}"
    );
    body["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["path"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

/// Asserts an error answer `got` (status, body) of status `expected` with exactly one error,
/// naming the field at `field`, whose message says `says`; `asked` says what was asked.
pub fn assert_refused(got: (u16, &Value), expected: u16, field: &str, says: &str, asked: &str) {
    let (status, answer) = got;
    assert_eq!(
        (status, error_paths(answer)),
        (expected, vec![field.to_owned()]),
        "{asked}: {answer}"
    );
    assert_eq!(answer["errorCount"], 1, "{asked}: {answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{asked}: {message:?} does not say {says:?}");
}

/// Runs each listed async test function (taking a `TestApp`) once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $crate::on_the_embedded_backend!($($name),*);
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestApp::aws().await).await
                }
            )*
        }
    };
}

/// Declares each named `async fn(TestApp)` a test on the embedded backend only, for a
/// suite whose every check is decided before the store is reached (who may call what):
/// on the AWS backend it would add minutes of emulator time and no coverage, the adapters
/// being held to the same behaviour by the conformance suites and every other end-to-end
/// suite running on both.
#[macro_export]
macro_rules! on_the_embedded_backend {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestApp::embedded().await).await
                }
            )*
        }
    };
}

// ---------------------------------------------------------------------------
// Team helpers (users, team and concurrency tests): more methods, a new user's body.

impl TestApp {
    /// Sends `method` with an optional JSON body as `username`: status, `Location` header and JSON body.
    pub async fn send_as(&self, username: &str, method: Method, path: &str, body: Option<&Value>) -> (u16, Option<String>, Value) {
        let mut request = self.as_user(username, method, path).await;
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the stand-in answers");
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let (status, body) = read(response).await;
        (status, location, body)
    }

    /// POST a JSON body as `username`: status and JSON body.
    pub async fn post_as(&self, username: &str, path: &str, body: &Value) -> (u16, Value) {
        let (status, _, body) = self.send_as(username, Method::POST, path, Some(body)).await;
        (status, body)
    }

    /// DELETE as `username`: status and JSON body.
    pub async fn delete_as(&self, username: &str, path: &str) -> (u16, Value) {
        let (status, _, body) = self.send_as(username, Method::DELETE, path, None).await;
        (status, body)
    }

    /// Creates a user in `group` as `admin` (createCustomerUser), asserting 201: the new userPk.
    pub async fn create_user(&self, admin: &str, group: i64, body: &Value) -> i64 {
        let (status, created) = self.post_as(admin, &format!("/v1/customers/{group}/users"), body).await;
        assert_eq!(status, 201, "{admin} creating {body} in {group}: {created}");
        created["userPk"].as_i64().unwrap_or_else(|| panic!("no userPk in {created}"))
    }
}

/// Stores an ACTIVE user of `group` named `username` directly through the accounts
/// repository, for states no operation brings about: the user as `edit` leaves it, with
/// `password` as its stored password.
pub async fn stored_user(app: &TestApp, username: &str, group: i64, edit: impl FnOnce(&mut User), password: Option<PasswordRecord>) -> i64 {
    let accounts = Accounts::new(app.environment.state.store.as_ref());
    let user_pk = accounts.next_user_pk().await.unwrap();
    let mut user = User::new(
        user_pk,
        username,
        "Stored",
        "User",
        format!("{username}@e2e.test"),
        GroupPk(group),
        Timestamp::now(),
    );
    edit(&mut user);
    accounts
        .create(NewAccount {
            user,
            preferences: Preferences::defaults(),
            password,
            associations: vec![GroupPk(group)],
            capabilities: Vec::new(),
        })
        .await
        .unwrap();
    user_pk.0
}

/// Stores a new ACTIVE customer named `name` under `parent` (a top-level customer for
/// `None`) directly through the customers repository, since no operation creates one:
/// its groupPk, one no other customer of the app has.
pub async fn stored_customer(app: &TestApp, name: &str, parent: Option<i64>) -> i64 {
    static NEXT: AtomicI64 = AtomicI64::new(50_000);
    let customers = Customers::new(app.environment.state.store.as_ref());
    let ancestors = match parent {
        Some(parent) => {
            let parent = customers.get(GroupPk(parent)).await.unwrap().expect("the parent exists");
            std::iter::once(parent.group_pk).chain(parent.ancestors).collect()
        }
        None => Vec::new(),
    };
    let group = GroupPk(NEXT.fetch_add(1, Ordering::SeqCst));
    customers
        .create(&Customer::new(group, name, ancestors, Timestamp::now()))
        .await
        .unwrap();
    group.0
}

/// Stores an APPLICATION user directly (no operation creates one), with a client secret set at `secret`.
pub async fn application_user(app: &TestApp, username: &str, name: &str, group: i64, secret: Option<Timestamp>) -> i64 {
    let edit = |user: &mut User| {
        user.name = name.into();
        user.surname = "Robot".into();
        user.email = format!("{username}@robots.test");
        user.user_type = UserType::Application;
    };
    let secret = secret.map(|updated_at| PasswordRecord::new("not-a-real-hash".into(), updated_at, Timestamp::now()));
    stored_user(app, username, group, edit, secret).await
}

/// A valid createCustomerUser body for `username`, with e-mail `<username>@e2e.test`
/// and no application roles; edit it to ask for more.
pub fn new_user(username: &str) -> Value {
    serde_json::json!({
        "username": username,
        "name": "Test",
        "surname": "User",
        "email": format!("{username}@e2e.test"),
        "language": "en",
        "sex": "F",
    })
}
