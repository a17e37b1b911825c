//! Every function's IAM policy in template.yaml grants exactly what its code does on AWS
//! (docs/iam.md). The tests run on moto and the embedded store, neither of which enforces
//! IAM; so the stand-in serves each function on a state of its own, as each runs in a
//! Lambda function of its own, whose ports record the IAM permissions each call needs on
//! AWS (`shared::adapters::aws::permissions`). The authorization matrix drives every
//! operation as every caller (the consumers drain what it queues); then, per function,
//! every permission recorded must be granted by its statements, and every action of every
//! statement must have been needed by some call (least privilege both ways).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use accountcentral_e2e::operations::{Tokens, callers, customer_update, implemented_operations, notification_body};
use accountcentral_e2e::{TestApp, dkim, new_user, stored_customer, stored_user, unique};
use accountcentral_local::template::{Statement, Template};
use accountcentral_local::{CONSUMERS, FUNCTIONS};
use serde_json::json;
use shared::adapters::aws::permissions::{PHONE_NUMBER, Permission, PermissionLog, Recorded};
use shared::adapters::unwired::Unwired;
use shared::app::{AppState, Queues, StateFields, wiring};
use shared::domain::notification::CHUNK;
use shared::ports::queue::MessageQueue;

/// The template's names of what the ports reach.
const TABLE: &str = "Table";
const KEY: &str = "DkimKey";

/// The queues, each recording into `log` under the template's name of its queue.
fn recorded_queues(queues: &Queues, log: &PermissionLog) -> Queues {
    let queue =
        |queue: &Arc<dyn MessageQueue>, name: &str| -> Arc<dyn MessageQueue> { Arc::new(Recorded::new(queue.clone(), name, log.clone())) };
    Queues {
        notifications: queue(&queues.notifications, "NotificationQueue"),
        news: queue(&queues.news, "NewsQueue"),
        provisioning: queue(&queues.provisioning, "ProvisioningQueue"),
    }
}

/// A function's state: the ports its `wiring` names, recording into `log`, the others
/// unwired as in its Lambda function; caches of its own (a Lambda function's are its own).
fn recording_state(shared: &AppState, wiring: u8, log: &PermissionLog) -> AppState {
    let wired = |port: u8| wiring & port != 0;
    let unwired = |port: &'static str| Arc::new(Unwired(port));
    AppState::from(StateFields {
        store: Arc::new(Recorded::new(shared.store.clone(), TABLE, log.clone())),
        queues: if wired(wiring::QUEUES) {
            recorded_queues(&shared.queues, log)
        } else {
            Queues {
                notifications: unwired("the notification queue"),
                news: unwired("the news queue"),
                provisioning: unwired("the provisioning queue"),
            }
        },
        key_vault: if wired(wiring::KEY_VAULT) {
            Arc::new(Recorded::new(shared.key_vault.clone(), KEY, log.clone()))
        } else {
            unwired("the key vault")
        },
        sms: if wired(wiring::SMS) {
            Arc::new(Recorded::new(shared.sms.clone(), PHONE_NUMBER, log.clone()))
        } else {
            unwired("the SMS gateway")
        },
        feeds: if wired(wiring::FEEDS) {
            shared.feeds.clone()
        } else {
            unwired("the news feeds")
        },
        code_key: Arc::default(),
        ..StateFields::clone(shared)
    })
}

/// Each function's recorded permissions, by its binary's name.
type Logs = Arc<BTreeMap<&'static str, PermissionLog>>;

/// The stand-in with every function recording into its log.
async fn recording_app(logs: &Logs) -> TestApp {
    let (states, sources) = (logs.clone(), logs.clone());
    TestApp::embedded_per_function(
        move |binary, wiring, shared| recording_state(shared, wiring, &states[binary]),
        // On AWS the event source mapping receives and deletes with the function's role.
        move |consumer, queues| recorded_queues(queues, &sources[consumer.binary]),
    )
    .await
}

/// The operations that may make the verification-code key, which the first function to
/// need it on a deployment makes (the others open it): each drive starts on a fresh
/// deployment with one of them, so that each is seen making it.
const FIRST_CODE: [&str; 2] = ["requestMyVerificationCode", "requestUserVerificationCode"];

/// On a fresh deployment, the operation `first`, then every operation as every caller,
/// then the paths the matrix does not take.
async fn drive(logs: &Logs, first: &str) -> TestApp {
    let app = recording_app(logs).await;
    let tokens = Tokens::of_matrix_callers(&app).await;
    let (mut operations, rest): (Vec<_>, Vec<_>) = implemented_operations().into_iter().partition(|operation| operation.id == first);
    operations.extend(rest);
    for operation in operations {
        for user in callers() {
            operation.call_with(&app, &tokens, user).await;
        }
    }
    beyond_the_matrix(&app).await;
    app
}

/// Paths the matrix does not take (it changes nothing it reads back), each taken the way
/// a client takes it.
async fn beyond_the_matrix(app: &TestApp) {
    // A customer's gid moves: its old guard is deleted.
    let group = stored_customer(app, &unique("gid"), None).await;
    for _ in 0..2 {
        let (_, customer) = app.get_as("care", &format!("/v1/customers/{group}")).await;
        let mut body = customer_update(&customer);
        body["gid"] = json!(unique("G"));
        let (status, answer) = app.put_as("care", &format!("/v1/customers/{group}"), &body).await;
        assert_eq!(status, 200, "care moves the gid: {answer}");
    }

    // A user's e-mail address moves: its old uniqueness marker is deleted.
    let mover = unique("mover");
    app.create_user("care", 101, &new_user(&mover)).await;
    let (_, mut me) = app.get_as(&mover, "/v1/user").await;
    me["email"] = json!(format!("{}@moved.test", unique("m")));
    let (status, answer) = app.put_as(&mover, "/v1/user", &me).await;
    assert_eq!(status, 200, "the user moves its address: {answer}");

    // Failed logins lock a user out (a counter); a login lifts the lockout.
    let user = app.create_user("care", 101, &new_user(&unique("locked"))).await;
    for _ in 0..app.environment.state.security.lockout_threshold {
        let failure = json!({"type": "LOGIN_FAILED", "userPk": user, "application": "hub"});
        let (status, answer) = app.post_as("mta", "/v1/internal/security-events", &failure).await;
        assert_eq!(status, 201, "a failed login is recorded: {answer}");
    }
    let login = json!({"type": "LOGIN", "userPk": user, "application": "hub"});
    let (status, answer) = app.post_as("mta", "/v1/internal/security-events", &login).await;
    assert_eq!(status, 201, "a login is recorded: {answer}");

    // A notification to a customer of more users than one message names is fanned out
    // through the queue.
    let crowd = stored_customer(app, &unique("crowd"), None).await;
    for _ in 0..=CHUNK {
        stored_user(app, &unique("member"), crowd, |_| {}, None).await;
    }
    let notification = notification_body(json!({"type": "CUSTOMER", "groupPk": crowd}));
    let (status, answer) = app.post_as("mta", "/v1/notifications", &notification).await;
    assert_eq!(status, 202, "the notification is accepted: {answer}");

    // A customer with a user and a key is deactivated.
    let closing = stored_customer(app, &unique("closing"), None).await;
    app.create_user("care", closing, &new_user(&unique("leaving"))).await;
    let key = dkim::key_body(&format!("{}.test", unique("closing")), "s1", true);
    let (status, answer) = app.post_as("care", &format!("/v1/customers/{closing}/dkims"), &key).await;
    assert_eq!(status, 201, "care makes a key: {answer}");
    let job = json!({"groupPk": closing, "operation": "DEACTIVATE"});
    let (status, answer) = app.post_as("care", "/v1/provisioning/jobs", &job).await;
    assert_eq!(status, 202, "care deactivates the customer: {answer}");
}

/// Permissions of paths no driver takes at will, each with the path: they count as
/// performed (and so must be granted) without being recorded.
const UNDRIVEN: [(&str, &str, &str, &str); 3] = [
    (
        "accountcentral-news-import",
        "dynamodb:GetItem",
        TABLE,
        "two imports number the same new category at once: the one that loses reads the other's",
    ),
    (
        "accountcentral-provisioning",
        "dynamodb:DeleteItem",
        TABLE,
        "the queue refuses a new job: the job is withdrawn",
    ),
    (
        "accountcentral-provisioning-worker",
        "sqs:SendMessage",
        "ProvisioningQueue",
        "a job outlasts one run's budget (RUN_BUDGET, ten minutes): the rest of it is queued",
    ),
];

/// Each function's permissions: what its code asked for, and, for a consumer, what its
/// event source mapping does as it polls (it reads the queue's attributes too), and the
/// [`UNDRIVEN`] ones.
fn performed(logs: &Logs) -> BTreeMap<&'static str, BTreeSet<Permission>> {
    let event_sources = Template::of_this_repository().event_sources();
    logs.iter()
        .map(|(binary, log)| {
            let mut permissions = log.permissions();
            for (_, action, resource, _) in UNDRIVEN.iter().filter(|(undriven, ..)| undriven == binary) {
                permissions.insert(Permission {
                    action,
                    resource: (*resource).to_owned(),
                    context: Default::default(),
                });
            }
            for (_, queue) in event_sources.iter().filter(|(consumer, _)| consumer == binary) {
                permissions.insert(Permission {
                    action: "sqs:GetQueueAttributes",
                    resource: queue.clone(),
                    context: Default::default(),
                });
            }
            (*binary, permissions)
        })
        .collect()
}

/// What differs between the policies and the recorded calls, one line each.
fn findings(logs: &Logs) -> Vec<String> {
    let policies = Template::of_this_repository().policies();
    let mut findings = Vec::new();
    for (binary, permissions) in performed(logs) {
        let statements: &[Statement] = &policies[binary];
        for permission in &permissions {
            if !statements.iter().any(|statement| statement.allows(permission)) {
                findings.push(format!("{binary} is not granted {permission:?}"));
            }
        }
        for statement in statements {
            for action in &statement.actions {
                let used = permissions
                    .iter()
                    .any(|permission| permission.action == action && statement.allows(permission));
                if !used {
                    findings.push(format!("{binary}: no call needs {action} of statement {}", statement.sid));
                }
            }
        }
    }
    findings
}

/// Each function's actions, recorded and granted, as a table (the run's output).
fn table(logs: &Logs) -> String {
    let policies = Template::of_this_repository().policies();
    let mut lines = vec!["| function | recorded | granted |".to_owned(), "|---|---|---|".to_owned()];
    for (binary, permissions) in performed(logs) {
        let recorded: BTreeSet<String> = permissions.iter().map(|p| format!("{} {}", p.action, p.resource)).collect();
        let granted: BTreeSet<String> = policies[binary]
            .iter()
            .flat_map(|s| s.actions.iter().map(move |a| format!("{a} ({})", s.sid)))
            .collect();
        lines.push(format!(
            "| {binary} | {} | {} |",
            recorded.into_iter().collect::<Vec<_>>().join(", "),
            granted.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    lines.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_is_granted_exactly_what_its_calls_need() {
    let logs: Logs = Arc::new(
        FUNCTIONS
            .iter()
            .map(|function| function.binary)
            .chain(CONSUMERS.iter().map(|consumer| consumer.binary))
            .map(|binary| (binary, PermissionLog::default()))
            .collect(),
    );
    let mut apps = Vec::new();
    for first in FIRST_CODE {
        apps.push(drive(&logs, first).await);
    }
    // The consumers work on what the calls queued: poll until they have done what they will.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !findings(&logs).is_empty() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("{}", table(&logs));
    let findings = findings(&logs);
    assert!(findings.is_empty(), "{} findings:\n{}", findings.len(), findings.join("\n"));
}
