//! Provisioning jobs: work on a customer's whole subtree that customer care asks for and
//! a worker runs off the queue, one action at a time, each action recording its own
//! status.
//!
//! A job is `PREPARE_DEACTIVATION` or `DEACTIVATE`. Both start with a `PLAN` action that
//! works out what deactivating the subtree touches (see [`UserFate`] for the users; the
//! subtree's active DKIM keys; its customers not yet INACTIVE) and cuts it into steps of
//! at most one transaction each ([`chunk`]). A `PREPARE_DEACTIVATION` job keeps the plan
//! as its answer; a `DEACTIVATE` job runs one action per step, users first and the
//! customers last, so that a customer is INACTIVE only once everything in it is done.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::capability::AccountCentralRole;
use super::customer::{Customer, CustomerStatus};
use super::ids::{DkimId, GroupPk, NotificationId, UserPk};
use super::notification::{Content, Destination, NotificationRequest, Priority};
use super::user::UserStatus;
use super::validation::Violations;

/// What a job does to the customer's subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProvisioningOperation {
    /// Lists what `DEACTIVATE` would touch (and notifies the customer's admins); changes nothing.
    PrepareDeactivation,
    /// Disables the subtree's users, detaches those who belong elsewhere too, deactivates
    /// its DKIM keys and sets its customers INACTIVE.
    Deactivate,
}

/// A job's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    New,
    Running,
    Completed,
    Failed,
}

impl JobStatus {
    /// Whether the job will do nothing more.
    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed)
    }
}

/// An action's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionStatus {
    Pending,
    Running,
    Done,
    Failed,
}

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionType {
    /// Works out what deactivating the subtree touches.
    Plan,
    /// Sets users DISABLED, recording a DISABLED security event for each.
    DisableUsers,
    /// Removes users' associations with the subtree and their capabilities on it.
    DetachUsers,
    /// Deactivates DKIM keys (a deactivated default key stops being the default).
    DeactivateDkimKeys,
    /// Sets customers INACTIVE.
    DeactivateCustomers,
    /// Tells the customer's administrators what deactivating it would touch (PREPARE_DEACTIVATION).
    NotifyAdmins,
}

/// One of a customer's DKIM keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRef {
    pub group_pk: GroupPk,
    pub id: DkimId,
}

/// What an action touches, or what a whole plan does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Targets {
    /// Users associated with the subtree only: set DISABLED.
    #[serde(default)]
    pub users_to_disable: Vec<UserPk>,
    /// Users also associated with customers outside the subtree: they lose their
    /// associations with it and their capabilities on it, and stay as they are.
    #[serde(default)]
    pub users_to_detach: Vec<UserPk>,
    #[serde(default)]
    pub dkim_keys: Vec<KeyRef>,
    #[serde(default)]
    pub customers: Vec<GroupPk>,
    /// The notification sent to the administrators: its id is recorded before it is sent,
    /// so that a run repeated after a crash sends that notification again, not a second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<NotificationId>,
}

impl Targets {
    /// Adds `other`'s targets to these.
    pub fn extend(&mut self, other: &Targets) {
        self.users_to_disable.extend_from_slice(&other.users_to_disable);
        self.users_to_detach.extend_from_slice(&other.users_to_detach);
        self.dkim_keys.extend_from_slice(&other.dkim_keys);
        self.customers.extend_from_slice(&other.customers);
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub group_pk: GroupPk,
    pub operation: ProvisioningOperation,
    pub status: JobStatus,
    pub created_by: UserPk,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// How many actions the job has (the plan adds the steps of a DEACTIVATE).
    pub actions: u32,
    /// How many steps the plan has, once it is made.
    pub plan_steps: Option<u32>,
}

/// One action of a job, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// Its place in the job: actions run in this order.
    pub index: u32,
    #[serde(rename = "type")]
    pub action_type: ActionType,
    pub status: ActionStatus,
    pub targets: Targets,
    /// Why it failed.
    pub message: Option<String>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

/// One step of a plan: what one action does and touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    #[serde(rename = "type")]
    pub action_type: ActionType,
    pub targets: Targets,
}

impl Job {
    /// A NEW job on `group`, asked for by `by` at `now`, with its first action (the plan).
    pub fn new(group: GroupPk, operation: ProvisioningOperation, by: UserPk, now: Timestamp) -> (Job, Vec<Action>) {
        let mut actions = vec![Action::pending(0, ActionType::Plan, Targets::default())];
        if operation == ProvisioningOperation::PrepareDeactivation {
            actions.push(Action::pending(1, ActionType::NotifyAdmins, Targets::default()));
        }
        let job = Job {
            id: uuid::Uuid::new_v4().to_string(),
            group_pk: group,
            operation,
            status: JobStatus::New,
            created_by: by,
            created_at: now,
            updated_at: now,
            actions: actions.len() as u32,
            plan_steps: None,
        };
        (job, actions)
    }

    /// The job once it runs: RUNNING from NEW; as it was otherwise.
    pub fn started(&self, now: Timestamp) -> Job {
        match self.status {
            JobStatus::New => Job {
                status: JobStatus::Running,
                updated_at: now,
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// The job ended with `status` (COMPLETED or FAILED) at `now`.
    pub fn ended(&self, status: JobStatus, now: Timestamp) -> Job {
        debug_assert!(status.is_finished());
        Job {
            status,
            updated_at: now,
            ..self.clone()
        }
    }

    /// The job with `steps` planned at `now`: a DEACTIVATE job gains one action per step,
    /// numbered after its own (returned); a PREPARE_DEACTIVATION job keeps the plan as its answer.
    pub fn planned(&self, steps: &[Step], now: Timestamp) -> (Job, Vec<Action>) {
        let added: Vec<Action> = match self.operation {
            ProvisioningOperation::PrepareDeactivation => Vec::new(),
            ProvisioningOperation::Deactivate => (self.actions..)
                .zip(steps)
                .map(|(index, step)| Action::pending(index, step.action_type, step.targets.clone()))
                .collect(),
        };
        let job = Job {
            actions: self.actions + added.len() as u32,
            plan_steps: Some(steps.len() as u32),
            updated_at: now,
            ..self.clone()
        };
        (job, added)
    }
}

/// What the administrators of `group` (named `name`) are told when customer care prepares
/// its deactivation (job `job_id`), with what deactivating would touch (`steps`).
pub fn deactivation_notice(group: GroupPk, name: &str, job_id: &str, steps: &[Step]) -> NotificationRequest {
    let mut touched = Targets::default();
    steps.iter().for_each(|step| touched.extend(&step.targets));
    NotificationRequest {
        destination: Destination::Role {
            group_pk: group,
            role: AccountCentralRole::Admin,
        },
        notification: Content {
            title: format!("{name} may be deactivated"),
            message: format!(
                "Customer care is preparing the deactivation of {name} ({group}) and its sub-customers \
                 (provisioning job {job_id}). It would disable {} users, remove {} users who also belong \
                 to other customers, deactivate {} DKIM keys and {} customers. Nothing has changed yet.",
                touched.users_to_disable.len(),
                touched.users_to_detach.len(),
                touched.dkim_keys.len(),
                touched.customers.len(),
            ),
            priority: Priority::High,
            application: "accountcentral".into(),
            link: None,
        },
    }
}

impl Action {
    /// An action that has not run yet.
    pub fn pending(index: u32, action_type: ActionType, targets: Targets) -> Action {
        Action {
            index,
            action_type,
            status: ActionStatus::Pending,
            targets,
            message: None,
            started_at: None,
            ended_at: None,
        }
    }

    /// Whether it has finished well: a redelivered job skips it.
    pub fn is_done(&self) -> bool {
        self.status == ActionStatus::Done
    }

    /// The action running from `now` (again, when a run was cut short: it keeps its first start).
    pub fn started(&self, now: Timestamp) -> Action {
        Action {
            status: ActionStatus::Running,
            started_at: Some(self.started_at.unwrap_or(now)),
            message: None,
            ..self.clone()
        }
    }

    /// The action done at `now`.
    pub fn done(&self, now: Timestamp) -> Action {
        Action {
            status: ActionStatus::Done,
            ended_at: Some(now),
            ..self.clone()
        }
    }

    /// The action failed at `now`, saying why.
    pub fn failed(&self, message: String, now: Timestamp) -> Action {
        Action {
            status: ActionStatus::Failed,
            message: Some(message),
            ended_at: Some(now),
            ..self.clone()
        }
    }
}

/// A request for a job, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawJobRequest {
    pub group_pk: Option<i64>,
    pub operation: Option<String>,
}

/// A valid request for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobRequest {
    pub group: GroupPk,
    pub operation: ProvisioningOperation,
}

impl RawJobRequest {
    /// Checks both fields, naming each bad one.
    pub fn validate(self) -> Result<JobRequest, Violations> {
        let mut violations = Violations::new();
        let group = match self.group_pk {
            Some(group) if group >= 1 => Some(GroupPk(group)),
            Some(_) => {
                violations.body("/groupPk", "must be a positive integer");
                None
            }
            None => {
                violations.body("/groupPk", "is required");
                None
            }
        };
        let operation = match self.operation.as_deref() {
            Some("PREPARE_DEACTIVATION") => Some(ProvisioningOperation::PrepareDeactivation),
            Some("DEACTIVATE") => Some(ProvisioningOperation::Deactivate),
            Some(other) => {
                violations.body("/operation", format!("{other:?} is not one of PREPARE_DEACTIVATION, DEACTIVATE"));
                None
            }
            None => {
                violations.body("/operation", "is required");
                None
            }
        };
        match (group, operation) {
            (Some(group), Some(operation)) => violations.into_result(JobRequest { group, operation }),
            _ => Err(violations),
        }
    }
}

/// What deactivating a subtree does to one of its users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFate {
    /// Associated with the subtree only: disabled.
    Disable,
    /// Also associated with customers outside the subtree: loses its associations with the
    /// subtree and its capabilities on it, and stays as it is, since others rely on it.
    Detach,
    /// Nothing to do: already disabled, or no longer associated with the subtree.
    Untouched,
}

impl UserFate {
    /// The fate of a user in `status`, associated with `associations`, when the customers
    /// of `subtree` are deactivated.
    pub fn of(status: UserStatus, associations: &[GroupPk], subtree: &BTreeSet<GroupPk>) -> UserFate {
        let (inside, outside): (Vec<&GroupPk>, Vec<&GroupPk>) = associations.iter().partition(|group| subtree.contains(group));
        match (inside.is_empty(), outside.is_empty()) {
            (true, _) => UserFate::Untouched,
            (false, false) => UserFate::Detach,
            (false, true) if status == UserStatus::Disabled => UserFate::Untouched,
            (false, true) => UserFate::Disable,
        }
    }
}

/// The customers of the subtree that deactivation sets INACTIVE: those not INACTIVE yet.
pub fn customers_to_deactivate(subtree: &[Customer]) -> Vec<GroupPk> {
    subtree
        .iter()
        .filter(|customer| customer.status != CustomerStatus::Inactive)
        .map(|customer| customer.group_pk)
        .collect()
}

/// Cuts weighted items (an item and the writes it takes) into runs of at most `budget`
/// writes, in order; an item heavier than the budget makes a run of its own (its action
/// then fails, saying so, rather than half-applying it).
pub fn chunk<T>(items: impl IntoIterator<Item = (T, usize)>, budget: usize) -> Vec<Vec<T>> {
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut load = budget;
    for (item, writes) in items {
        match chunks.last_mut() {
            Some(last) if load + writes <= budget => last.push(item),
            _ => {
                chunks.push(vec![item]);
                load = 0;
            }
        }
        load += writes;
    }
    chunks
}

/// What deactivating a subtree touches, each target with the writes it takes.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    pub users_to_disable: Vec<(UserPk, usize)>,
    pub users_to_detach: Vec<(UserPk, usize)>,
    /// Each customer's keys to deactivate, and the writes that takes.
    pub dkim_keys: Vec<(Vec<KeyRef>, usize)>,
    pub customers: Vec<GroupPk>,
}

impl Survey {
    /// The plan's steps, each at most `budget` writes: users to disable, users to detach,
    /// keys, and the customers last.
    pub fn steps(self, budget: usize) -> Vec<Step> {
        let step = |action_type, targets| Step { action_type, targets };
        let mut steps = Vec::new();
        for users in chunk(self.users_to_disable, budget) {
            let targets = Targets {
                users_to_disable: users,
                ..Targets::default()
            };
            steps.push(step(ActionType::DisableUsers, targets));
        }
        for users in chunk(self.users_to_detach, budget) {
            let targets = Targets {
                users_to_detach: users,
                ..Targets::default()
            };
            steps.push(step(ActionType::DetachUsers, targets));
        }
        for keys in chunk(self.dkim_keys, budget) {
            let targets = Targets {
                dkim_keys: keys.into_iter().flatten().collect(),
                ..Targets::default()
            };
            steps.push(step(ActionType::DeactivateDkimKeys, targets));
        }
        for customers in chunk(self.customers.into_iter().map(|group| (group, 1)), budget) {
            let targets = Targets {
                customers,
                ..Targets::default()
            };
            steps.push(step(ActionType::DeactivateCustomers, targets));
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-05T10:00:00Z".parse().unwrap()
    }

    fn groups(keys: &[i64]) -> BTreeSet<GroupPk> {
        keys.iter().copied().map(GroupPk).collect()
    }

    #[test]
    fn users_of_the_subtree_only_are_disabled_and_shared_ones_detached() {
        let subtree = groups(&[101, 1011]);
        let fate = |status, associations: &[i64]| {
            let associations: Vec<GroupPk> = associations.iter().copied().map(GroupPk).collect();
            UserFate::of(status, &associations, &subtree)
        };
        assert_eq!(fate(UserStatus::Active, &[101]), UserFate::Disable);
        assert_eq!(fate(UserStatus::Suspended, &[101, 1011]), UserFate::Disable);
        assert_eq!(fate(UserStatus::Disabled, &[1011]), UserFate::Untouched, "already disabled");
        assert_eq!(fate(UserStatus::Active, &[101, 200]), UserFate::Detach);
        // The parent is outside the subtree: a user of both is relied on by the parent.
        assert_eq!(fate(UserStatus::Active, &[100, 1011]), UserFate::Detach);
        assert_eq!(fate(UserStatus::Disabled, &[101, 200]), UserFate::Detach);
        assert_eq!(fate(UserStatus::Active, &[200]), UserFate::Untouched);
    }

    #[test]
    fn chunks_stay_within_the_budget_in_order() {
        let chunks = chunk([("a", 40), ("b", 40), ("c", 30), ("d", 99), ("e", 150), ("f", 1)], 99);
        assert_eq!(chunks, [vec!["a", "b"], vec!["c"], vec!["d"], vec!["e"], vec!["f"]]);
        assert!(chunk(Vec::<(u8, usize)>::new(), 99).is_empty());
    }

    #[test]
    fn a_plan_runs_users_then_keys_then_customers() {
        let key = |group, id| KeyRef {
            group_pk: GroupPk(group),
            id: DkimId(id),
        };
        let survey = Survey {
            users_to_disable: (1..=30).map(|u| (UserPk(u), 5)).collect(),
            users_to_detach: vec![(UserPk(40), 7)],
            dkim_keys: vec![(vec![key(101, 1), key(101, 2)], 3), (vec![key(1011, 3)], 2)],
            customers: vec![GroupPk(101), GroupPk(1011)],
        };
        let steps = survey.steps(99);
        let types: Vec<ActionType> = steps.iter().map(|s| s.action_type).collect();
        assert_eq!(
            types,
            [
                ActionType::DisableUsers,
                ActionType::DisableUsers,
                ActionType::DetachUsers,
                ActionType::DeactivateDkimKeys,
                ActionType::DeactivateCustomers
            ]
        );
        assert_eq!(steps[0].targets.users_to_disable.len(), 19, "19 users of 5 writes fit in 99");
        assert_eq!(steps[3].targets.dkim_keys, [key(101, 1), key(101, 2), key(1011, 3)]);
        assert_eq!(steps[4].targets.customers, [GroupPk(101), GroupPk(1011)]);
    }

    #[test]
    fn a_deactivation_gains_an_action_per_step_and_a_preparation_keeps_the_plan() {
        let steps = vec![Step {
            action_type: ActionType::DeactivateCustomers,
            targets: Targets {
                customers: vec![GroupPk(101)],
                ..Targets::default()
            },
        }];
        let (job, actions) = Job::new(GroupPk(101), ProvisioningOperation::Deactivate, UserPk(1), now());
        assert_eq!(
            (job.status, job.actions, actions[0].action_type),
            (JobStatus::New, 1, ActionType::Plan)
        );
        let running = job.started(now());
        assert_eq!(running.status, JobStatus::Running);
        let (planned, added) = running.planned(&steps, now());
        assert_eq!((planned.actions, planned.plan_steps), (2, Some(1)));
        assert_eq!((added[0].index, added[0].status), (1, ActionStatus::Pending));

        // A preparation plans, then notifies the administrators; its plan adds nothing.
        let (job, actions) = Job::new(GroupPk(101), ProvisioningOperation::PrepareDeactivation, UserPk(1), now());
        let kinds: Vec<(u32, ActionType)> = actions.iter().map(|action| (action.index, action.action_type)).collect();
        assert_eq!(kinds, [(0, ActionType::Plan), (1, ActionType::NotifyAdmins)]);
        let (planned, added) = job.started(now()).planned(&steps, now());
        assert!(added.is_empty());
        assert_eq!((planned.actions, planned.plan_steps), (2, Some(1)));
        assert_eq!(planned.ended(JobStatus::Completed, now()).status, JobStatus::Completed);
    }

    #[test]
    fn an_interrupted_action_keeps_its_first_start() {
        let later = now() + jiff::SignedDuration::from_mins(5);
        let action = Action::pending(1, ActionType::DisableUsers, Targets::default()).started(now());
        let again = action.started(later);
        assert_eq!(again.started_at, Some(now()));
        assert!(again.done(later).is_done());
        let failed = again.failed("no".into(), later);
        assert_eq!((failed.status, failed.message.as_deref()), (ActionStatus::Failed, Some("no")));
    }

    #[test]
    fn a_request_names_each_bad_field() {
        let paths = |raw: RawJobRequest| -> Vec<String> { raw.validate().unwrap_err().iter().map(|e| e.path.to_string()).collect() };
        assert_eq!(paths(RawJobRequest::default()), ["/groupPk", "/operation"]);
        let bad = RawJobRequest {
            group_pk: Some(0),
            operation: Some("DELETE".into()),
        };
        assert_eq!(paths(bad), ["/groupPk", "/operation"]);
        let good = RawJobRequest {
            group_pk: Some(101),
            operation: Some("PREPARE_DEACTIVATION".into()),
        }
        .validate()
        .unwrap();
        assert_eq!(good.operation, ProvisioningOperation::PrepareDeactivation);
    }
}
