//! Provisioning jobs end to end: customer care asks over HTTP, the stand-in's worker runs
//! the job off the queue, and what it did is read back through the API. Every job here
//! works on customers the test makes, never on the demo tenant's.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accountcentral_e2e::dkim::key_body;
use accountcentral_e2e::operations::{MISSING_CUSTOMER, MISSING_JOB, grant_body, prepare_deactivation};
use accountcentral_e2e::{RefusingQueue, TestApp, error_paths, new_user, on_both_backends, stored_customer, stored_user, unique};
use accountcentral_provisioning_worker::{ProvisioningWorker, run_job};
use async_trait::async_trait;
use serde_json::{Value, json};
use shared::api::provisioning::JobMessage;
use shared::app::AppState;
use shared::consumer::{Consumer, QueueMessage};
use shared::domain::ids::{GroupPk, UserPk};
use shared::domain::provisioning::{Job, ProvisioningOperation};
use shared::ports::clock::Clock;
use shared::ports::queue::{MessageQueue, OutgoingMessage, QueueError, ReceivedMessage};
use shared::ports::store::{Condition, Item, ItemStore, Key, Query, QueryPage, StoreError, WriteOp};
use shared::repositories::RepositoryError;
use shared::repositories::provisioning::Jobs;

on_both_backends!(
    preparing_lists_what_deactivating_then_does,
    one_unfinished_job_per_customer,
    bad_requests_and_listings,
    a_redelivered_job_repeats_no_finished_action,
    a_failed_action_fails_the_job_and_a_new_job_retries_it,
    a_job_the_queue_refuses_is_not_kept,
    a_large_subtree_is_deactivated_in_steps_of_one_transaction,
    a_run_out_of_time_queues_the_rest_of_its_job,
);

const JOBS: &str = "/v1/provisioning/jobs";

/// A subtree to deactivate: a customer and its child, a user of each, a user of the child
/// who also belongs to Globex (200) and holds ADMIN on both, and DKIM keys on both.
struct Subtree {
    root: i64,
    child: i64,
    /// (username, userPk) of the users of the subtree only.
    members: Vec<(String, i64)>,
    shared: (String, i64),
    keys: Vec<(i64, i64)>,
}

async fn subtree(app: &TestApp) -> Subtree {
    let root = stored_customer(app, "Closing Group", None).await;
    let child = stored_customer(app, "Closing Child", Some(root)).await;
    let mut members = Vec::new();
    for group in [root, child] {
        let username = unique("member");
        members.push((username.clone(), app.create_user("care", group, &new_user(&username)).await));
    }
    let shared_name = unique("shared");
    let shared = app.create_user("care", child, &new_user(&shared_name)).await;
    let (status, answer) = app.post_as("care", &format!("/v1/users/{shared}/customers"), &json!([200])).await;
    assert_eq!(status, 200, "{answer}");
    for group in [child, 200] {
        let (status, granted) = app
            .post_as(
                "care",
                &format!("/v1/users/{shared}/capabilities"),
                &grant_body("ADMIN", Some(group)),
            )
            .await;
        assert_eq!(status, 201, "{granted}");
    }
    let mut keys = Vec::new();
    for group in [root, root, child] {
        let domain = format!("{}.test", unique("closing"));
        let (status, key) = app
            .post_as("care", &format!("/v1/customers/{group}/dkims"), &key_body(&domain, "s1", true))
            .await;
        assert_eq!(status, 201, "{key}");
        keys.push((group, key["id"].as_i64().unwrap()));
    }
    Subtree {
        root,
        child,
        members,
        shared: (shared_name, shared),
        keys,
    }
}

/// Asks for a job as care: status and answer.
async fn create(app: &TestApp, group: i64, operation: &str) -> (u16, Value) {
    app.post_as("care", JOBS, &json!({"groupPk": group, "operation": operation})).await
}

/// The job once it has ended (COMPLETED or FAILED), polled as care.
async fn ended(app: &TestApp, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, job) = app.get_as("care", &format!("{JOBS}/{id}")).await;
        assert_eq!(status, 200, "{job}");
        if job["status"] == "COMPLETED" || job["status"] == "FAILED" {
            return job;
        }
        assert!(Instant::now() < deadline, "job {id} has not ended: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asks for a job and waits for it to end.
async fn run(app: &TestApp, group: i64, operation: &str) -> Value {
    let (status, job) = create(app, group, operation).await;
    assert_eq!(status, 202, "{job}");
    ended(app, job["id"].as_str().unwrap()).await
}

fn numbers(values: &Value) -> BTreeSet<i64> {
    values.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

fn types(job: &Value) -> Vec<&str> {
    job["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect()
}

/// Status of `GET /v1/user` with a token of `username`.
async fn me(app: &TestApp, username: &str) -> u16 {
    app.get_as(username, "/v1/user").await.0
}

async fn customer_status(app: &TestApp, group: i64) -> Value {
    app.get_as("care", &format!("/v1/customers/{group}")).await.1["status"].clone()
}

/// The keys of `group` as care lists them: (id, active, default).
async fn keys_of(app: &TestApp, group: i64) -> Vec<(i64, bool, bool)> {
    let (status, page) = app.get_as("care", &format!("/v1/customers/{group}/dkims")).await;
    assert_eq!(status, 200, "{page}");
    page["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["id"].as_i64().unwrap(),
                k["active"].as_bool().unwrap(),
                k["default"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// The types of the user's security events, newest first.
async fn event_types(app: &TestApp, user: i64) -> Vec<Value> {
    let (status, page) = app.get_as("care", &format!("/v1/users/{user}/security-events")).await;
    assert_eq!(status, 200, "{page}");
    page["elements"].as_array().unwrap().iter().map(|e| e["type"].clone()).collect()
}

async fn preparing_lists_what_deactivating_then_does(app: TestApp) {
    let tree = subtree(&app).await;
    let (admin_name, admin) = &tree.members[0];
    let (status, granted) = app
        .post_as(
            "care",
            &format!("/v1/users/{admin}/capabilities"),
            &grant_body("ADMIN", Some(tree.root)),
        )
        .await;
    assert_eq!(status, 201, "{granted}");

    // PREPARE_DEACTIVATION: the plan, the customer's administrators told, and nothing changes.
    let prepared = run(&app, tree.root, "PREPARE_DEACTIVATION").await;
    assert_eq!(prepared["status"], "COMPLETED", "{prepared}");
    assert_eq!(types(&prepared), ["PLAN", "NOTIFY_ADMINS"]);
    let notice = prepared["actions"][1]["targets"]["notification"].as_i64().expect("the notice's id");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let told = loop {
        let (status, listed) = app.get_as(admin_name, "/v1/notifications").await;
        assert_eq!(status, 200, "{listed}");
        if let Some(told) = listed.as_array().unwrap().iter().find(|n| n["id"] == notice) {
            break told.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "the administrator was not told: {listed}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(told["title"].as_str().unwrap().contains("Closing Group"), "{told}");
    let counts = format!("disable {} users", tree.members.len());
    assert!(told["message"].as_str().unwrap().contains(&counts), "{told}");
    let plan = &prepared["plan"];
    let members: BTreeSet<i64> = tree.members.iter().map(|(_, user)| *user).collect();
    assert_eq!(numbers(&plan["usersToDisable"]), members, "{plan}");
    assert_eq!(plan["usersToDetach"], json!([tree.shared.1]));
    let planned_keys: BTreeSet<(i64, i64)> = plan["dkimKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["groupPk"].as_i64().unwrap(), k["id"].as_i64().unwrap()))
        .collect();
    assert_eq!(planned_keys, tree.keys.iter().copied().collect());
    assert_eq!(numbers(&plan["customers"]), BTreeSet::from([tree.root, tree.child]));
    for (username, _) in tree.members.iter().chain([&tree.shared]) {
        assert_eq!(me(&app, username).await, 200, "{username} still works");
    }
    assert_eq!(customer_status(&app, tree.root).await, "ACTIVE");
    let root_keys = keys_of(&app, tree.root).await;
    assert!(root_keys.iter().all(|(_, active, _)| *active) && root_keys.iter().any(|(_, _, default)| *default));

    // DEACTIVATE: the same plan, carried out step by step.
    let deactivated = run(&app, tree.root, "DEACTIVATE").await;
    assert_eq!(deactivated["status"], "COMPLETED", "{deactivated}");
    assert_eq!(deactivated["plan"], *plan, "DEACTIVATE touches what PREPARE_DEACTIVATION listed");
    assert_eq!(
        types(&deactivated),
        [
            "PLAN",
            "DISABLE_USERS",
            "DETACH_USERS",
            "DEACTIVATE_DKIM_KEYS",
            "DEACTIVATE_CUSTOMERS"
        ]
    );
    for action in deactivated["actions"].as_array().unwrap() {
        assert_eq!((&action["status"], &action["message"]), (&json!("DONE"), &Value::Null), "{action}");
        assert!(action["startDate"].is_string() && action["endDate"].is_string(), "{action}");
    }

    // The users of the subtree only are disabled: their tokens are refused, their
    // representation says so, the roster lists them DISABLED, and each has its event.
    for (username, user) in &tree.members {
        assert_eq!(me(&app, username).await, 401, "{username} is disabled");
        let (_, details) = app.get_as("care", &format!("/v1/users/{user}")).await;
        assert_eq!(details["status"], "DISABLED", "{details}");
        assert_eq!(event_types(&app, *user).await, [json!("DISABLED")]);
    }
    let (_, roster) = app.get_as("care", &format!("/v1/customers/{}/users", tree.root)).await;
    let listed: Vec<(i64, &str)> = roster["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["userPk"].as_i64().unwrap(), u["status"].as_str().unwrap()))
        .collect();
    assert_eq!(listed.len(), 2, "the shared user left the subtree's roster: {roster}");
    assert!(listed.iter().all(|(user, status)| members.contains(user) && *status == "DISABLED"));

    // The shared user stays active, with Globex and what it holds there, and nothing in the subtree.
    let (shared_name, shared) = &tree.shared;
    assert_eq!(me(&app, shared_name).await, 200);
    assert!(event_types(&app, *shared).await.is_empty());
    let (_, customers) = app.get_as("care", &format!("/v1/users/{shared}/customers")).await;
    let groups: Vec<&Value> = customers["elements"].as_array().unwrap().iter().map(|c| &c["groupPk"]).collect();
    assert_eq!(groups, [&json!(200)], "{customers}");
    let (_, capabilities) = app
        .get_as("mta", &format!("/v1/internal/capabilities?username={shared_name}"))
        .await;
    let resources: Vec<Value> = capabilities
        .as_object()
        .unwrap()
        .values()
        .flat_map(|application| application["capabilities"].as_array().unwrap().clone())
        .map(|c| c["resource"].clone())
        .collect();
    assert_eq!(resources, [json!(["customers", "200"])], "{capabilities}");
    let (_, log) = app.get_as("care", &format!("/v1/users/{shared}/capabilities/log")).await;
    let revoked: Vec<(&Value, &Value)> = log["elements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "REVOKED")
        .map(|entry| (&entry["resource"], &entry["byUserPk"]))
        .collect();
    assert!(!revoked.is_empty(), "{log}");
    assert!(
        revoked
            .iter()
            .all(|revoked| *revoked == (&json!(["customers", tree.child.to_string()]), &json!(1))),
        "revoked by care, on the subtree only: {log}"
    );

    // Every key is inactive and none is the default; both customers are INACTIVE.
    for group in [tree.root, tree.child] {
        let mut keys = keys_of(&app, group).await;
        keys.sort();
        let expected: Vec<(i64, bool, bool)> = tree
            .keys
            .iter()
            .filter(|(of, _)| *of == group)
            .map(|(_, id)| (*id, false, false))
            .collect();
        assert_eq!(keys, expected);
        assert_eq!(customer_status(&app, group).await, "INACTIVE");
    }
    // The rest of the platform is untouched.
    assert_eq!(customer_status(&app, 200).await, "ACTIVE");
    assert_eq!(me(&app, "globex.admin").await, 200);
}

/// A job stored as `createProvisioningJob` stores it, but not queued: the test hands its
/// message to the worker itself. Its id and the message.
async fn unqueued(app: &TestApp, group: i64, operation: ProvisioningOperation) -> (String, QueueMessage) {
    let (job, actions) = Job::new(GroupPk(group), operation, UserPk(1), app.clock.now());
    Jobs::new(app.environment.state.store.as_ref())
        .create(&job, &actions)
        .await
        .unwrap();
    let body = serde_json::to_string(&JobMessage { job_id: job.id.clone() }).unwrap();
    let message = QueueMessage {
        id: unique("message"),
        body,
        tracing_id: None,
        receive_count: 1,
    };
    (job.id, message)
}

async fn one_unfinished_job_per_customer(app: TestApp) {
    let group = stored_customer(&app, "Busy", None).await;
    // Racing creations: the customer's lock is taken by exactly one.
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let store = app.environment.state.store.clone();
        let (job, actions) = Job::new(
            GroupPk(group),
            ProvisioningOperation::PrepareDeactivation,
            UserPk(1),
            app.clock.now(),
        );
        racing.spawn(async move { Jobs::new(store.as_ref()).create(&job, &actions).await.map(|()| job.id) });
    }
    let outcomes = racing.join_all().await;
    let winners: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let winner = winners[0].clone();
    for outcome in &outcomes {
        if let Err(error) = outcome {
            assert!(matches!(error, RepositoryError::Taken(m) if m.contains(&winner)), "{error:?}");
        }
    }

    // Over HTTP, whatever the operation: 409 in the error format, naming the job.
    for operation in ["PREPARE_DEACTIVATION", "DEACTIVATE"] {
        let (status, refused) = create(&app, group, operation).await;
        assert_eq!(status, 409, "{refused}");
        error_paths(&refused);
        assert!(refused["message"].as_str().unwrap().contains(&winner), "{refused}");
    }
    // Once the job has run, the customer takes another.
    let message = QueueMessage {
        id: unique("message"),
        body: serde_json::to_string(&JobMessage { job_id: winner.clone() }).unwrap(),
        tracing_id: None,
        receive_count: 1,
    };
    ProvisioningWorker.consume(&app.environment.state, &message).await.unwrap();
    assert_eq!(ended(&app, &winner).await["status"], "COMPLETED");
    let next = run(&app, group, "PREPARE_DEACTIVATION").await;
    assert_eq!(next["status"], "COMPLETED", "{next}");
}

async fn bad_requests_and_listings(app: TestApp) {
    let group = stored_customer(&app, "Listed", None).await;
    for (body, paths) in [
        (json!({"groupPk": group, "operation": "DELETE"}), vec!["/operation"]),
        (json!({}), vec!["/groupPk", "/operation"]),
        (json!({"groupPk": 0, "operation": "DEACTIVATE"}), vec!["/groupPk"]),
        (json!({"groupPk": "x", "operation": "DEACTIVATE"}), vec!["/groupPk"]),
        (json!({"groupPk": group, "operation": 3}), vec!["/operation"]),
    ] {
        let (status, refused) = app.post_as("care", JOBS, &body).await;
        assert_eq!(status, 400, "{body}: {refused}");
        assert_eq!(error_paths(&refused), paths, "{body}");
    }
    let (status, missing) = app.post_as("care", JOBS, &prepare_deactivation(Some(MISSING_CUSTOMER))).await;
    assert_eq!(status, 404, "{missing}");
    for id in [MISSING_JOB, "not-a-job"] {
        let (status, missing) = app.get_as("care", &format!("{JOBS}/{id}")).await;
        assert_eq!(status, 404, "{missing}");
        error_paths(&missing);
    }
    for query in ["groupPk=0", "groupPk=x", "size=101", "page=-1"] {
        let (status, refused) = app.get_as("care", &format!("{JOBS}?{query}")).await;
        assert_eq!(status, 400, "{query}: {refused}");
        assert_eq!(error_paths(&refused).len(), 1);
    }
    // Nothing was written by the refusals.
    assert_eq!(app.get_as("care", JOBS).await.1["page"]["totalElements"], 0);

    // Three jobs on two customers: newest first, by customer, a page at a time.
    let other = stored_customer(&app, "Also listed", None).await;
    let (status, created) = create(&app, group, "PREPARE_DEACTIVATION").await;
    assert_eq!(status, 202);
    assert_eq!(
        (&created["status"], &created["groupPk"], &created["createdBy"], &created["plan"]),
        (&json!("NEW"), &json!(group), &json!(1), &Value::Null)
    );
    assert_eq!(
        created["actions"],
        json!([
            {"type": "PLAN", "status": "PENDING", "targets": {"usersToDisable": [], "usersToDetach": [], "dkimKeys": [], "customers": []}, "message": null, "startDate": null, "endDate": null},
            {"type": "NOTIFY_ADMINS", "status": "PENDING", "targets": {"usersToDisable": [], "usersToDetach": [], "dkimKeys": [], "customers": []}, "message": null, "startDate": null, "endDate": null},
        ])
    );
    let first = ended(&app, created["id"].as_str().unwrap()).await;
    let second = run(&app, other, "PREPARE_DEACTIVATION").await;
    let third = run(&app, group, "DEACTIVATE").await;
    let ids = |page: &Value| -> Vec<Value> { page["elements"].as_array().unwrap().iter().map(|j| j["id"].clone()).collect() };
    let (_, all) = app.get_as("care", &format!("{JOBS}?size=2")).await;
    assert_eq!(ids(&all), [third["id"].clone(), second["id"].clone()]);
    assert_eq!(all["page"], json!({"size": 2, "number": 0, "totalElements": 3, "totalPages": 2}));
    let (_, rest) = app.get_as("care", &format!("{JOBS}?size=2&page=1")).await;
    assert_eq!(ids(&rest), [first["id"].clone()]);
    assert_eq!(rest["elements"][0], first, "a listed job is the job");
    let (_, past) = app.get_as("care", &format!("{JOBS}?page=3")).await;
    assert_eq!(ids(&past), Vec::<Value>::new());
    let (_, mine) = app.get_as("care", &format!("{JOBS}?groupPk={group}")).await;
    assert_eq!(ids(&mine), [third["id"].clone(), first["id"].clone()]);
    let (_, none) = app.get_as("care", &format!("{JOBS}?groupPk={MISSING_CUSTOMER}")).await;
    assert_eq!(none["page"]["totalElements"], 0);
}

/// The app's store, except that a transaction writing `key` fails: for a while
/// (unavailable) or for good (an invalid request).
struct FailingOn {
    inner: Arc<dyn ItemStore>,
    key: Key,
    transient: bool,
}

#[async_trait]
impl ItemStore for FailingOn {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.inner.batch_get(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<QueryPage, StoreError> {
        self.inner.query(query).await
    }
    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        self.inner.count(query).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let writes_key = ops.iter().any(|op| match op {
            WriteOp::Put { item, .. } => item.key == self.key,
            WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } | WriteOp::Add { key, .. } => *key == self.key,
        });
        match (writes_key, self.transient) {
            (true, true) => Err(StoreError::Unavailable("the test's store is down for a while".into())),
            (true, false) => Err(StoreError::Invalid("the test's store refuses this write".into())),
            (false, _) => self.inner.transact(ops).await,
        }
    }
    async fn increment(&self, key: &Key, by: u64) -> Result<u64, StoreError> {
        self.inner.increment(key, by).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

/// The app's state on a store that fails transactions writing customer `group`'s record.
fn failing_on_customer(app: &TestApp, group: i64, transient: bool) -> AppState {
    let mut state = app.environment.state.clone();
    state.store = Arc::new(FailingOn {
        inner: state.store.clone(),
        key: Key::new(format!("CUSTOMER#{group}"), "PROFILE"),
        transient,
    });
    state
}

async fn job(app: &TestApp, id: &str) -> Value {
    let (status, job) = app.get_as("care", &format!("{JOBS}/{id}")).await;
    assert_eq!(status, 200, "{job}");
    job
}

async fn a_redelivered_job_repeats_no_finished_action(app: TestApp) {
    let tree = subtree(&app).await;
    let (id, mut message) = unqueued(&app, tree.root, ProvisioningOperation::Deactivate).await;

    // The first delivery stops at the customers (the store is down for them): the message
    // is left to the queue, the job RUNNING with every action before that one DONE.
    let down = failing_on_customer(&app, tree.child, true);
    assert!(ProvisioningWorker.consume(&down, &message).await.is_err());
    let interrupted = job(&app, &id).await;
    assert_eq!(interrupted["status"], "RUNNING", "{interrupted}");
    let statuses: Vec<&Value> = interrupted["actions"].as_array().unwrap().iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, ["DONE", "DONE", "DONE", "DONE", "RUNNING"]);
    let (username, member) = &tree.members[0];
    assert_eq!(me(&app, username).await, 401);
    assert_eq!(event_types(&app, *member).await, [json!("DISABLED")]);

    // Received again: the finished actions are skipped (their dates and effects stay as
    // they were), the interrupted one completes.
    message.receive_count = 2;
    ProvisioningWorker.consume(&app.environment.state, &message).await.unwrap();
    let completed = job(&app, &id).await;
    assert_eq!(completed["status"], "COMPLETED", "{completed}");
    for (before, after) in interrupted["actions"].as_array().unwrap()[..4]
        .iter()
        .zip(completed["actions"].as_array().unwrap())
    {
        assert_eq!(before, after, "a finished action is not repeated");
    }
    assert_eq!(completed["actions"][4]["startDate"], interrupted["actions"][4]["startDate"]);
    assert_eq!(completed["actions"][4]["status"], "DONE");
    assert_eq!(event_types(&app, *member).await, [json!("DISABLED")], "one event, not two");
    assert_eq!(customer_status(&app, tree.root).await, "INACTIVE");

    // Received once more after the end: nothing at all changes.
    message.receive_count = 3;
    ProvisioningWorker.consume(&app.environment.state, &message).await.unwrap();
    assert_eq!(job(&app, &id).await, completed);
}

async fn a_failed_action_fails_the_job_and_a_new_job_retries_it(app: TestApp) {
    let tree = subtree(&app).await;
    let (id, message) = unqueued(&app, tree.root, ProvisioningOperation::Deactivate).await;

    // The customers' step cannot be written: the job fails, saying why, with its customers
    // untouched (the step is one transaction) and what was done before kept.
    let refusing = failing_on_customer(&app, tree.child, false);
    ProvisioningWorker.consume(&refusing, &message).await.unwrap();
    let failed = job(&app, &id).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let statuses: Vec<&Value> = failed["actions"].as_array().unwrap().iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, ["DONE", "DONE", "DONE", "DONE", "FAILED"]);
    let action = &failed["actions"][4];
    assert!(action["message"].as_str().unwrap().contains("refuses"), "{action}");
    assert!(action["endDate"].is_string());
    for group in [tree.root, tree.child] {
        assert_eq!(customer_status(&app, group).await, "ACTIVE");
    }
    assert_eq!(me(&app, &tree.members[0].0).await, 401, "done before the failure");

    // The customer is free again, and a new job plans only what is left and does it.
    let retried = run(&app, tree.root, "DEACTIVATE").await;
    assert_eq!(retried["status"], "COMPLETED", "{retried}");
    assert_eq!(types(&retried), ["PLAN", "DEACTIVATE_CUSTOMERS"]);
    assert_eq!(
        retried["plan"],
        json!({"usersToDisable": [], "usersToDetach": [], "dkimKeys": [], "customers": [tree.root, tree.child]})
    );
    for group in [tree.root, tree.child] {
        assert_eq!(customer_status(&app, group).await, "INACTIVE");
    }
    assert_eq!(event_types(&app, tree.members[0].1).await, [json!("DISABLED")]);
}

async fn a_job_the_queue_refuses_is_not_kept(app: TestApp) {
    let group = stored_customer(&app, "Unqueued", None).await;
    // The same API on the same data, in front of a provisioning queue that refuses.
    let base = app.variant(|state| state.queues.provisioning = Arc::new(RefusingQueue)).await;
    let refused = app
        .client
        .post(format!("{base}{JOBS}"))
        .bearer_auth(app.token("care").await)
        .json(&prepare_deactivation(Some(group)))
        .send()
        .await
        .unwrap();
    let status = refused.status().as_u16();
    let body: Value = refused.json().await.unwrap();
    assert_eq!(status, 503, "{body}");
    error_paths(&body);

    // Nothing was kept, and the customer is free for the next job.
    let (_, listed) = app.get_as("care", &format!("{JOBS}?groupPk={group}")).await;
    assert_eq!(listed["page"]["totalElements"], 0, "{listed}");
    let next = run(&app, group, "PREPARE_DEACTIVATION").await;
    assert_eq!(next["status"], "COMPLETED", "{next}");
}

async fn a_large_subtree_is_deactivated_in_steps_of_one_transaction(app: TestApp) {
    let root = stored_customer(&app, "Large", None).await;
    let child = stored_customer(&app, "Large Child", Some(root)).await;
    let mut members = BTreeSet::new();
    for _ in 0..60 {
        members.insert(stored_user(&app, &unique("many"), child, |_| {}, None).await);
    }
    // Users who also belong to Globex leave the subtree's rosters together: their
    // counters change in one transaction.
    let mut shared = BTreeSet::new();
    for _ in 0..3 {
        let user = stored_user(&app, &unique("both"), child, |_| {}, None).await;
        let (status, answer) = app.post_as("care", &format!("/v1/users/{user}/customers"), &json!([200])).await;
        assert_eq!(status, 200, "{answer}");
        shared.insert(user);
    }

    let job = run(&app, root, "DEACTIVATE").await;
    assert_eq!(job["status"], "COMPLETED", "{job}");
    let disabling: Vec<&Value> = job["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "DISABLE_USERS")
        .collect();
    assert!(disabling.len() >= 2, "60 users take more than one transaction: {job}");
    let mut disabled = BTreeSet::new();
    for action in &disabling {
        assert_eq!(action["status"], "DONE");
        disabled.extend(numbers(&action["targets"]["usersToDisable"]));
    }
    assert_eq!(disabled, members);
    assert_eq!(numbers(&job["plan"]["usersToDetach"]), shared);

    let (_, roster) = app.get_as("care", &format!("/v1/customers/{root}/users?size=100")).await;
    assert_eq!(
        roster["page"]["totalElements"], 60,
        "the shared users left the roster, counted: {roster}"
    );
    assert!(roster["elements"].as_array().unwrap().iter().all(|u| u["status"] == "DISABLED"));
    for user in &shared {
        let (_, details) = app.get_as("care", &format!("/v1/users/{user}")).await;
        assert_eq!(details["status"], "ACTIVE", "{details}");
    }
}

/// A queue that keeps what it is sent, for the test to deliver.
#[derive(Default)]
struct KeepingQueue(std::sync::Mutex<Vec<OutgoingMessage>>);

#[async_trait]
impl MessageQueue for KeepingQueue {
    async fn send(&self, message: OutgoingMessage) -> Result<String, QueueError> {
        self.0.lock().unwrap().push(message);
        Ok(unique("kept"))
    }
    async fn receive(&self, _: usize, _: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        Ok(Vec::new())
    }
    async fn delete(&self, _: &str) -> Result<(), QueueError> {
        Err(QueueError::InvalidReceipt)
    }
}

async fn a_run_out_of_time_queues_the_rest_of_its_job(app: TestApp) {
    let tree = subtree(&app).await;
    let (id, _) = unqueued(&app, tree.root, ProvisioningOperation::Deactivate).await;
    let queue = Arc::new(KeepingQueue::default());
    let mut state = app.environment.state.clone();
    state.queues.provisioning = queue.clone();

    // A run with no time to spare does one action, then hands the job on through the queue.
    run_job(&state, &id, "out-of-time", false, Duration::ZERO).await.unwrap();
    let handed_on = job(&app, &id).await;
    let statuses: Vec<&Value> = handed_on["actions"].as_array().unwrap().iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, ["DONE", "PENDING", "PENDING", "PENDING", "PENDING"], "{handed_on}");
    let sent = std::mem::take(&mut *queue.0.lock().unwrap());
    assert_eq!(sent.len(), 1);
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body, json!({"jobId": id}));
    assert_eq!(sent[0].attributes.get("X-Tracing-ID").map(String::as_str), Some("out-of-time"));

    // The message it queued goes on with the job and ends it.
    let message = QueueMessage {
        id: unique("message"),
        body: sent[0].body.clone(),
        tracing_id: Some("out-of-time".into()),
        receive_count: 1,
    };
    ProvisioningWorker.consume(&state, &message).await.unwrap();
    let finished = job(&app, &id).await;
    assert_eq!(finished["status"], "COMPLETED", "{finished}");
    assert_eq!(finished["actions"][0], handed_on["actions"][0], "the plan is not made twice");
    assert_eq!(customer_status(&app, tree.root).await, "INACTIVE");
    assert!(queue.0.lock().unwrap().is_empty(), "a run within its time queues nothing");
}
